/*
 * Safe file I/O.  Files that matter are replaced atomically (temp file in
 * the same directory, write, fsync, rename, fsync the directory); secrets
 * are created exclusively with mode 0600 and never follow a symlink.
 */
#ifndef DK_FILE_H
#define DK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct stat;

/* Largest file dk_file_read() accepts unless told otherwise. */
#define DK_FILE_MAX	(16u * 1024 * 1024)

/*
 * Reads a whole file (at most max bytes) into a NUL-terminated buffer the
 * caller frees.  DK_ENOTFOUND if it does not exist.
 */
int	dk_file_read(const char *, size_t, char **, size_t *);
/* Atomic replace with the given mode. */
int	dk_file_replace(const char *, const void *, size_t, mode_t);
/*
 * Exclusive create: O_CREAT|O_EXCL|O_NOFOLLOW, mode exact (umask ignored),
 * fsynced.  DK_EEXISTS if the path exists; a partly written file is removed.
 */
int	dk_file_create(const char *, const void *, size_t, mode_t);

/*
 * Durability in batches.  A fsync costs a journal commit; thousands of
 * them (one per key file of a large rotation) cost minutes.  These write
 * without fsync; the caller makes a whole batch durable with one
 * dk_fs_sync() at the point where its ordering needs it (e.g. every key
 * file before the keys.yaml that names it, rotator/rotate.c).
 *
 *   dk_file_create_nosync    dk_file_create without the fsync
 *   dk_file_stage            the first half of a replace: data in a new
 *                            temp file beside path (its name to tmp)
 *   dk_file_publish          the second half: rename tmp over path (tmp
 *                            is removed if that fails)
 *   dk_fs_sync               syncfs(2) of the filesystem holding the
 *                            directory path: every file and directory
 *                            written there so far is on disk
 *
 * A staged file published before a dk_fs_sync() may be empty after a
 * crash: sync between staging and publishing what must not be.
 */
int	dk_file_create_nosync(const char *, const void *, size_t, mode_t);
int	dk_file_stage(const char *, const void *, size_t, mode_t, char *,
	    size_t);
int	dk_file_publish(const char *, const char *);
int	dk_fs_sync(const char *);
/* mkdir -p with exactly the given mode (umask aside) for the directories
 * it makes. */
int	dk_dir_make(const char *, mode_t);
/*
 * rm -rf: removes dir and everything below it, following no symlink.
 * Best effort, for temporary trees: what cannot be removed is logged as a
 * warning and skipped.
 */
void	dk_dir_remove(const char *);
/*
 * Temporary trees named PREFIX.PID.XXXXXX (dk_tmp_make) that a killed
 * process left in dir: dk_tmp_sweep removes those of ours whose PID is
 * gone, and says so.  A process killed while it held private keys in
 * such a tree (a package build) leaves them there only until the next.
 */
int	dk_tmp_make(char *, size_t, const char *, const char *);
void	dk_tmp_sweep(const char *, const char *);
/* fsync a directory so that renames and creations in it are durable. */
int	dk_dir_sync(const char *);
/* fsync the directory that holds a path. */
int	dk_dir_sync_parent(const char *);
/* Joins a and b with one '/', checking for truncation: -1 if too long. */
int	dk_path_join(char *, size_t, const char *, const char *);

#endif
