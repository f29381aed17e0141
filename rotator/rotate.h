/*
 * The rotation run behind 'dkimrot rotate' (docs/design.md §4, §8): the
 * library half.  rotator/cmd_rotate.c sequences it, prints the plan and
 * turns the outcome into an exit code.
 *
 *   dk_rotate_open       the repository (locked unless a dry run) and
 *                        the domains to visit
 *   dk_rotate_plan       load, repair and plan every domain, asking the
 *                        name servers where activation waits for DNS
 *   dk_rotate_generate   every key the plans ask for, in one batch
 *                        (rotator/rotate_keys.c)
 *   dk_rotate_describe_jobs  each changing domain's line, "from -> to"
 *   dk_rotate_write      the write protocol (§8) for every domain with
 *                        changes
 *   dk_rotate_commit     one commit of it all, then the hook
 *   dk_rotate_status     how the domains fared
 *
 * A domain that fails is logged ("dkimrot: DOMAIN: reason") where it
 * fails and its job->rc set; the run goes on with the others.  The
 * calls return -1 only for a failure of the run as a whole.
 */
#ifndef DK_ROTATE_H
#define DK_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/buf.h"
#include "common/strlist.h"
#include "rotator/due.h"
#include "rotator/keyrepo.h"
#include "rotator/leaving.h"
#include "rotator/policy.h"
#include "rotator/records.h"

struct dk_domain_conf;
struct dk_domain_keys;
struct dk_keyreq;

struct dk_rotate_opts {
	bool			 dry_run;	/* plan only, change nothing */
	bool			 no_commit;	/* change files, no commit */
	bool			 force;		/* act though the clock went back */
	bool			 package;	/* build, not the hook (CI) */
	bool			 start;		/* begin a rotation now (rule 7) */
	int			 wait;		/* seconds to wait for the lock */
	const struct dk_strlist	*only;		/* domains; empty = all */
};

/* One domain of a run. */
struct dk_rotate_job {
	const struct dk_domain_conf *dc;
	struct dk_domain_keys	*dk;
	struct dk_plan		 plan;
	size_t			 req;	/* its first key in run->reqs */
	int			 rc;	/* 0, or why this domain failed */
	bool			 asked;	/* its plan asked the name servers */
	struct dk_buf		 line;	/* "DOMAIN: changes"; empty: none */
	/* dk_rotate_settle(): when it is next due; plan and dk are gone */
	bool			 settled;
	long long		 due;
};

struct dk_rotate {
	struct dk_keyrepo	 r;
	bool			 opened;
	const struct dk_rotate_opts *o;
	struct dk_leaving	 left;	/* leaving domains, planned last */
	/* keys/ directories of domains neither configured nor leaving */
	struct dk_strlist	 unconfigured;
	/*
	 * The due index (rotator/due.h) when it holds: only the domains it
	 * says are due at now are jobs.
	 */
	struct dk_due		 due;
	bool			 indexed;
	size_t			 skipped;	/* domains not due */
	struct dk_rotate_job	*jobs;
	size_t			 n;
	struct dk_keyreq	*reqs;
	size_t			 nreq;
	/*
	 * The public keys of the keys written, for the record cache
	 * (rotator/records.h); the keys themselves are freed once written.
	 */
	struct dk_records	 made;
	struct dk_strlist	 paths;	/* what the commit holds */
};

/*
 * Opens the repository at repo for a run at now with options o (kept; o
 * must outlive run) and loads the leaving domains.  A run of every
 * domain (no --domain, --start, --force or --dry-run) whose due index
 * holds visits only the domains due at now.  0, DK_ELOCKED,
 * DK_EUSAGE (a domain of o->only is neither configured nor leaving; a
 * bad configuration) or -1.  dk_rotate_dispose() frees run whatever
 * this returned.
 */
int	dk_rotate_open(struct dk_rotate *run, const char *repo,
	    const struct dk_rotate_opts *o, time_t now);
void	dk_rotate_plan(struct dk_rotate *run, time_t now);
int	dk_rotate_generate(struct dk_rotate *run);
int	dk_rotate_describe_jobs(struct dk_rotate *run);
int	dk_rotate_write(struct dk_rotate *run);
/*
 * rotator/rotate_keys.c, for rotate.c: after the write, each written
 * key's public half into run->made and every key freed; before the
 * commit, run->made into the record cache (best effort).
 */
int	dk_rotate_keys_written(struct dk_rotate *run);
void	dk_rotate_keys_remember(const struct dk_rotate *run);
/*
 * Commits what was written, "dkimrot rotate at NOW" and every changing
 * domain's line (nothing for a dry run; --no-commit keeps the journal).
 * A run that commits nothing builds the packages of HEAD if the run
 * that made it died before its hook did.  With git.remote the commit is
 * pushed before the hook (or rotate --package) runs; DK_ERACE when
 * another host pushed first and the commit was dropped: plan again.
 */
int	dk_rotate_commit(struct dk_rotate *run, time_t now);
/*
 * 0 when every domain is done, DK_ETEMP when the worst was temporary (a
 * name server did not answer, a lock), -1 when any failed.
 */
int	dk_rotate_status(const struct dk_rotate *run);
/*
 * After the run (ok: it and its commit succeeded), the due index for
 * the next (rotator/rotate_due.c): written for a run of every domain,
 * removed when such a run failed, left alone by the others.
 */
void	dk_rotate_index(struct dk_rotate *run, time_t now, bool ok);
/*
 * Once the run's files are written and its lines described: each job's
 * due time for the index, and its plan and keys let go before the
 * commit, the run's largest part (70 MB at 100,000 new domains).
 */
void	dk_rotate_settle(struct dk_rotate *run, time_t now);
/*
 * Plans job j's keys again at now (after dk_rotate_write(): its new
 * state) with the options it was planned with.
 */
int	dk_rotate_replan(const struct dk_rotate *run,
	    const struct dk_rotate_job *j, time_t now, struct dk_plan *out);
void	dk_rotate_dispose(struct dk_rotate *run);

/*
 * rotate.c's use of the index (rotator/rotate_due.c): load it when the
 * run may use it (run->indexed; the leaving and unconfigured domains
 * from it); whether a domain is due at now.
 */
int	dk_rotate_due_open(struct dk_rotate *run, time_t now);
bool	dk_rotate_due(const struct dk_rotate *run, const char *domain,
	    time_t now);

/*
 * Carries out a plan for one domain, by the protocol dk_rotate_write()
 * runs for many: writes the key files of each GENERATE (the keys are
 * reqs[0..], in plan order) and the p= empty record of each REVOKE,
 * applies the plan, saves keys.yaml and drops the files the new state
 * no longer needs.  Every path touched goes to paths.  On failure the
 * new keys' files are removed again and the reason is the last error.
 * A key of dk whose selector retired.yaml holds is refused (DK_EUSAGE):
 * import names its selectors.
 */
int	dk_rotate_apply(struct dk_keyrepo *r, struct dk_domain_keys *dk,
	    const struct dk_policy *pol, const struct dk_plan *plan,
	    struct dk_keyreq *reqs, struct dk_strlist *paths);
/* The plan's changes in one line: "+SEL pending (rsa 2048); ...". */
int	dk_rotate_describe(const struct dk_domain_keys *dk,
	    const struct dk_plan *plan, struct dk_buf *line);

#endif
