/* The rotation run behind 'dkimrot rotate' (docs/design.md §4, §8). */
#ifndef DK_ROTATE_H
#define DK_ROTATE_H

#include <stdbool.h>
#include <time.h>

struct dk_buf;
struct dk_domain_keys;
struct dk_keyreq;
struct dk_plan;
struct dk_policy;
struct dk_keyrepo;
struct dk_strlist;

struct dk_rotate_opts {
	bool			 dry_run;	/* plan only, change nothing */
	bool			 no_commit;	/* change files, no commit */
	bool			 force;		/* act though the clock went back */
	bool			 start;		/* begin a rotation now (rule 7) */
	int			 wait;		/* seconds to wait for the lock */
	const struct dk_strlist	*only;		/* domains; empty = all */
};

/*
 * Rotates the repository at repo at now.  Prints the plan on stdout, one
 * line per domain that changes.  Returns an exit code: 0 (also when
 * nothing was due), 1 when any domain failed (the others are done and
 * committed), 2 for usage or configuration errors, 75 when the lock is
 * held or a name server did not answer.
 */
int	dk_rotate_run(const char *, const struct dk_rotate_opts *, time_t);

/*
 * Carries out a plan for one domain: writes the key files of each
 * GENERATE (the keys are reqs[0..], in plan order) and the p= empty
 * record of each REVOKE, applies the plan, saves keys.yaml and drops the
 * files the new state no longer needs.  Every path touched goes to
 * paths.  On failure the new keys' files are removed again.
 */
int	dk_rotate_apply(struct dk_keyrepo *, struct dk_domain_keys *,
	    const struct dk_policy *, const struct dk_plan *,
	    struct dk_keyreq *, struct dk_strlist *);
/* The plan's changes in one line: "+SEL pending (rsa 2048); ...". */
int	dk_rotate_describe(const struct dk_domain_keys *,
	    const struct dk_plan *, struct dk_buf *);

#endif
