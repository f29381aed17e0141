/*
 * Running one git hook program (rotator/git_hook.c finds it).  Kept apart
 * from libgit2: this is plain fork+execve.
 */
#ifndef DK_HOOK_H
#define DK_HOOK_H

/*
 * Runs prog with no arguments, our environment, cwd dir, stdin
 * /dev/null and stdout sent to our stderr, and waits for it.  A file
 * without "#!" runs under /bin/sh, as git does.  0 when it ran: *status
 * is its exit status (128 + signal if killed), and when that is not 0 the
 * last-error buffer says so.  -1 when it could not be started.
 */
int	dk_hook_exec(const char *, const char *, int *);
/* The same for argv (argv[0] a path; no sh fallback). */
int	dk_hook_exec_argv(char *const [], const char *, int *);

#endif
