/*
 * Fault injection for the crash tests (tests/sim, tests/cli/crash.sh).
 * DK_FAULT("name") marks a point where a crash or a power loss must leave a
 * repository the next run repairs (docs/design.md §8).  It compiles to nothing
 * unless built with -DDK_FAULTS: only the test binary dkimrot-faults has the
 * points, never the one that is installed.
 *
 * In that binary, with DKIMROT_FAULT=name (or name:N, the N-th time the
 * point is reached, counted per process; its worker pools run on one
 * thread, so the N-th is the same every run), the process dies there at
 * once with _exit(99): no cleanup, no atexit handler, no stdio flushed,
 * the lock dropped by the kernel, as after kill -9.  The variable is
 * inherited, so a hook's 'dkimrot package' reaches its points too.
 */
#ifndef DK_FAULT_H
#define DK_FAULT_H

#ifdef DK_FAULTS
#define DK_FAULT(name)	dk_fault(name)
#else
#define DK_FAULT(name)	((void)0)
#endif

/* Dies with _exit(99) if DKIMROT_FAULT names this point (and count). */
void	dk_fault(const char *);

#endif
