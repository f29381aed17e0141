/*
 * What every command that changes the key repository does around its
 * own work: open the git repository and refuse odd states, take the
 * lock, read dkimrot.yaml from the work tree; at the end commit exactly
 * the paths it touched, let go of the lock and run the post-commit hook
 * (libgit2 runs none, docs/design.md §6).
 *
 * A run that dies half-way (crash, kill -9, power loss) must never be
 * half-published.  Before its first change to the work tree a run
 * writes the journal .git/dkimrot.dirty; it removes it once all it
 * changed is committed.  The next locked run that finds the journal
 * rolls keys/ back to HEAD, work tree and index (dk_git_restore()), and
 * plans afresh at its own NOW.  Rolling forward instead (committing the
 * dead run's keys.yaml) would publish times that never were: a key
 * recorded as published at the crash but first committed, i.e. first
 * in DNS, a day later would sign at once.  Packages come from commits
 * only, so nothing uncommitted was ever published and nothing is lost.
 */
#ifndef DK_KEYREPO_H
#define DK_KEYREPO_H

#include <stdbool.h>
#include <time.h>

#include "common/config.h"
#include "common/strlist.h"
#include "rotator/git.h"
#include "rotator/keys.h"

struct dk_git;
struct dk_key;
struct dk_lock;

#define DK_CONFIG_FILE	"dkimrot.yaml"

struct dk_keyrepo {
	const char	*path;
	struct dk_git	*git;
	struct dk_config *cfg;
	struct dk_lock	*lock;
	/* HEAD, while we hold the lock (no other run moves it then). */
	char		 head[DK_GIT_ID_LEN];
	bool		 head_unborn;
	/* The blob id of the dkimrot.yaml bytes read (rotator/due.h). */
	char		 cfg_id[DK_GIT_ID_LEN];
	bool		 journal;	/* this run wrote the journal */
	bool		 partial;	/* a change failed half-way */
	/*
	 * rotate --package (CI): after a commit (pushed, with a remote)
	 * this binary's 'package' builds it instead of the hook, and its
	 * failure fails the run.
	 */
	bool		 package;
};

/* Flags for dk_keyrepo_open(). */
#define DK_KEYREPO_LOCK	0x1	/* take the lock (changing commands) */
#define DK_KEYREPO_CONFIG	0x2	/* read the work tree's dkimrot.yaml */

/*
 * Opens the repository at path.  With DK_KEYREPO_LOCK, waits up to wait
 * seconds for the lock (DK_ELOCKED after that), then rolls back what an
 * interrupted run left (see above), with a warning.  Refuses a merge in
 * progress or a detached HEAD.  DK_EUSAGE for a bad configuration.
 */
int	dk_keyrepo_open(struct dk_keyrepo *, const char *, unsigned, int);
void	dk_keyrepo_dispose(struct dk_keyrepo *);
/*
 * Commits paths (sorted, deduplicated first) with message at now, drops
 * the journal (unless r->partial), lets go of the lock and runs the
 * post-commit hook, whose failure is only a warning: the commit stands.
 * *committed tells whether a commit was made (false: the tree did not
 * change).  With no paths, only the journal is dropped.
 */
int	dk_keyrepo_commit(struct dk_keyrepo *, struct dk_strlist *,
	    const char *, time_t, bool *);
/*
 * This run's changes stay uncommitted on purpose (rotate --no-commit):
 * drops the journal so that the next run keeps them.
 */
int	dk_keyrepo_keep(struct dk_keyrepo *);
/*
 * When HEAD has no packages yet in the output directory (the run that
 * committed it died before its hook, or the hook failed), lets go of
 * the lock and runs the post-commit hook, as after a commit.  For runs
 * that made no commit of their own.
 */
int	dk_keyrepo_catch_up(struct dk_keyrepo *);

/*
 * Writes a new key's files: keys/DOMAIN/SEL.private (0600, exclusive)
 * and SEL.txt (opendkim-genkey form), adding both paths (relative to the
 * repository) to paths.  On failure nothing of the key is left behind.
 * They are not synced: the save of the keys.yaml that names them syncs
 * first (a crash before that leaves debris, which the next run removes).
 * kid, unless NULL, gets the blob id of the key file.
 */
int	dk_keyrepo_write_key(struct dk_keyrepo *, const char *, const char *,
	    const struct dk_key *, const struct dk_policy *,
	    struct dk_strlist *, char kid[DK_GIT_ID_LEN]);
/* Rewrites SEL.txt as a revoked record (p= empty, RFC 6376 3.6.1). */
int	dk_keyrepo_write_revoked(struct dk_keyrepo *, const char *,
	    const struct dk_keyinfo *, const struct dk_policy *,
	    struct dk_strlist *);
/*
 * Saving keys.yaml, then letting the store remove what the new state no
 * longer needs, in steps, so that a run over thousands of domains syncs
 * twice in all instead of twice per domain (rotator/rotate.c):
 *
 *   stage    keys.yaml's new bytes in a temp file beside it, unsynced;
 *            *tmp (the caller frees it) names it; first the retired
 *            keys that leave keys.yaml, into retired.yaml's (*rtmp, or
 *            NULL when none leave; dk_store_stage_retired, whose check
 *            the bool is)
 *   sync     syncfs of the repository: every key file and staged
 *            keys.yaml written so far is on disk
 *   publish  rename the temp files over retired.yaml, then keys.yaml
 *            (removed on failure); their paths go to paths
 *   sync     the renames are on disk
 *   tidy     dk_store_repair: remove what the new keys.yaml no longer
 *            needs (files of retired keys), the removed paths to paths
 *
 * Each sync covers every domain staged (or published) before it.
 *
 * publish also adds every file keys.yaml names to paths: a commit of
 * keys.yaml always holds the files it needs, whatever an earlier
 * --no-commit run left.
 */
int	dk_keyrepo_stage_domain(struct dk_keyrepo *,
	    struct dk_domain_keys *, bool, char **, char **);
/* Removes a staged keys.yaml (its path, relative to the repository). */
void	dk_keyrepo_unstage(struct dk_keyrepo *, const char *);
int	dk_keyrepo_sync(struct dk_keyrepo *);
/*
 * Starts the journal (.git/dkimrot.dirty) before the first change; the
 * steps above start it too, but a caller about to run them on threads
 * calls this first.
 */
int	dk_keyrepo_begin(struct dk_keyrepo *);
int	dk_keyrepo_publish_domain(struct dk_keyrepo *,
	    const struct dk_domain_keys *, const char *, const char *,
	    struct dk_strlist *);
int	dk_keyrepo_tidy_domain(struct dk_keyrepo *,
	    const struct dk_domain_keys *, struct dk_strlist *);
/*
 * Loads a domain and repairs it (orphans removed, modes set), adding the
 * removed paths to paths (with keys.yaml and the files it names, as for
 * a save, when there were any).
 */
int	dk_keyrepo_load_domain(struct dk_keyrepo *, const char *,
	    struct dk_domain_keys **, struct dk_strlist *);

#endif
