/*
 * A key repository shared through git.remote (docs/design.md §14): what
 * the changing commands (rotate, import, revoke) do around their own
 * work when dkimrot.yaml names a remote.
 *
 *   dk_remote_sync()   under the lock, before planning: drop a commit of
 *                      ours that never reached the remote, fetch, and
 *                      fast-forward; a diverged history is refused
 *   dk_remote_begin()  just before the commit: .git/dkimrot.unpushed
 *                      records the commit it is made on
 *   dk_remote_push()   just after it: push; if the remote refuses it
 *                      (another host pushed first) or cannot be reached,
 *                      the commit and its new key files are dropped
 *
 * No commit is ever pushed later than the run that made it: its times
 * (published, active_until) are the run's NOW, and a late push would
 * make a key look longer in DNS than it is (as for the rollback of an
 * interrupted run, rotator/keyrepo.h).  So a commit that was not pushed
 * is dropped, by the run itself or, if it died, by the next one, and
 * the keys are planned again from the remote's head.
 */
#ifndef DK_REMOTE_H
#define DK_REMOTE_H

struct dk_keyrepo;

/* Runs of one command before it gives up with DK_EXIT_TEMP. */
#define DK_REMOTE_ATTEMPTS	5

/* 1 when dkimrot.yaml names a remote. */
int	dk_remote_configured(const struct dk_keyrepo *);
/*
 * 0 when HEAD is now the remote's head or a descendant of it (r->head
 * updated; *moved tells whether the work tree changed, so that the
 * caller reads dkimrot.yaml again).  -1 for a diverged history, DK_ETEMP
 * when the remote cannot be reached.
 */
int	dk_remote_sync(struct dk_keyrepo *, int *);
int	dk_remote_begin(struct dk_keyrepo *);
/* No commit was made after all: the record goes. */
int	dk_remote_end(struct dk_keyrepo *);
/* 0 pushed; DK_ERACE another host pushed first; DK_ETEMP; -1. */
int	dk_remote_push(struct dk_keyrepo *);
/*
 * How the branch stands against the remote, for status: fetched first
 * (a failure is a warning; then *fetched is 0 and the counts are as
 * last fetched).  *state: "up to date", "ahead", "behind", "diverged"
 * or "not on the remote" (nothing of it there yet).
 */
struct dk_remote_standing {
	int		 fetched;
	size_t		 ahead, behind;
	const char	*state;
};
int	dk_remote_standing(struct dk_keyrepo *, struct dk_remote_standing *);
/*
 * After attempt (from 1) lost the race: 1, having waited a random
 * moment, when another may run; 0, having said so, after the last.
 */
int	dk_remote_again(int);
/*
 * Runs fn(argc, argv) until it returns anything but DK_EXIT_AGAIN, at
 * most DK_REMOTE_ATTEMPTS times, waiting a random moment in between;
 * then DK_EXIT_TEMP.
 */
int	dk_remote_retry(int (*)(int, char **), int, char **);

#endif
