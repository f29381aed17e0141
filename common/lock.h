/*
 * One lock per key repository: flock(2) on .git/dkimrot.lock, held by
 * every command that changes the repository or its packages, so two runs
 * (cron and a human, or two hooks) never interleave.  The kernel drops
 * the lock when the holder dies, so a crash never leaves it stuck.
 */
#ifndef DK_LOCK_H
#define DK_LOCK_H

struct dk_lock;

/*
 * Takes the lock of the repository at path, waiting up to wait_seconds
 * (0: do not wait).  DK_ELOCKED, with a message naming the holder's pid,
 * when it is still held then.
 */
int	dk_lock_acquire(const char *, int, struct dk_lock **);
void	dk_lock_release(struct dk_lock *);

#endif
