/* Files below the key repository, walked without following a link. */
#ifndef DK_TREE_H
#define DK_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct stat;

/*
 * The key repository's work tree: paths rel below a root directory (the
 * repository; NULL or "" the current directory; its own path may hold
 * symlinks).  Each component of rel is opened relative to the one above
 * with O_NOFOLLOW and looked at (fstatat AT_SYMLINK_NOFOLLOW) before it
 * is used; files are read by descriptor, opened O_NONBLOCK after they
 * were seen to be regular, so no FIFO can hang a run.  A symbolic link,
 * FIFO, socket or device anywhere on the way, or a regular file with
 * more than one name (a hard link), is refused, and nothing is read,
 * written, removed or re-moded through it:
 *
 *   dkimrot: refusing 'keys/a.example': a symbolic link (the key
 *   repository holds only directories and regular files)
 *
 * (kinds: a symbolic link, a FIFO, a socket, a device; a hard link has
 * its own wording).  Other errors name root/rel, as dk_file_* do.
 *
 *   dk_tree_dir       opens directory rel (mkmode != 0: makes missing
 *                     components, mode mkmode less the umask); the
 *                     descriptor is the caller's to close
 *   dk_tree_stat      lstat of rel, refused kinds refused
 *   dk_tree_read      dk_file_read of rel
 *   dk_tree_create    dk_file_create (sync) or _nosync of rel
 *   dk_tree_stage     dk_file_stage of rel; tmp: the temporary's path
 *                     relative to root, for dk_tree_publish or _remove
 *   dk_tree_publish   renames tmp over rel (tmp removed if that fails)
 *   dk_tree_replace   dk_file_replace of rel
 *   dk_tree_remove    unlink of rel; already gone: 0
 *   dk_tree_chmod     sets the mode of leaf, an entry of the directory
 *                     dfd named rel in messages, through a descriptor
 *                     of the file itself; refused kinds refused
 *   dk_tree_check     the refusal for a stat of rel: 0 for a directory
 *                     or a regular file with one name, else -1
 *   dk_tree_refuse    -1 and "refusing 'REL': KIND (the key ...)"
 *
 * Missing components: DK_ENOTFOUND (but dk_tree_remove).
 */
int	dk_tree_dir(const char *, const char *, mode_t, int *);
int	dk_tree_stat(const char *, const char *, struct stat *);
int	dk_tree_read(const char *, const char *, size_t, char **, size_t *);
int	dk_tree_create(const char *, const char *, const void *, size_t,
	    mode_t, bool);
int	dk_tree_stage(const char *, const char *, const void *, size_t,
	    mode_t, char *, size_t);
int	dk_tree_publish(const char *, const char *, const char *);
int	dk_tree_replace(const char *, const char *, const void *, size_t,
	    mode_t);
int	dk_tree_remove(const char *, const char *);
int	dk_tree_chmod(int, const char *, const char *, mode_t);
int	dk_tree_check(const char *, const struct stat *);
int	dk_tree_refuse(const char *, const char *);

#endif
