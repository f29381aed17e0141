/*
 * Why these three directories: git writes its objects (loose and packed,
 * 0444 under umask 022) below .git/objects, and every other file of the
 * repository that holds key material is below the top directory.  A
 * directory that group or others can search is enough to read what is
 * below it, so any bit of 077 is refused, not only read.
 *
 * Why the owner: whoever owns the directory can chmod it open again,
 * read every key, and replace .git/hooks/post-commit, which dkimrot runs
 * itself.  A root run in a repository owned by another user would hand
 * that user the keys and root.  Like StrictModes, root's ownership is
 * accepted too (a repository under sudo, read by its owner).
 *
 * Nothing is fixed here: a mode we did not set may be an attacker's, and
 * the admin has to look (and maybe rotate every key).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "rotator/vault.h"

static int
check_dir(int fd, const char *shown, const char *repo)
{
	struct stat st;
	const char *what;
	mode_t loose;

	if (fstat(fd, &st) == -1) {
		dk_error_set_errno(errno, "cannot check key repository '%s'",
		    shown);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		dk_error_set("key repository '%s' is owned by another user "
		    "(uid %lu): run chown -R %lu '%s'", shown,
		    (unsigned long)st.st_uid, (unsigned long)geteuid(), repo);
		return -1;
	}
	if ((loose = st.st_mode & 077) == 0)
		return 0;
	if (loose & 044)
		what = "readable";
	else if (loose & 022)
		what = "writable";
	else
		what = "searchable";
	dk_error_set("key repository '%s' is %s by group or others (mode "
	    "%04o): run chmod -R go-rwx '%s'", shown, what,
	    (unsigned)(st.st_mode & 07777), repo);
	return -1;
}

/* Opens name below dirfd as a directory, never through a symlink. */
static int
open_below(int dirfd, const char *name, const char *shown)
{
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && (errno == ENOTDIR || errno == ELOOP))
		dk_error_set("key repository '%s' is not a directory (a "
		    "symlink or a file); the key repository keeps its "
		    "history inside itself", shown);
	else if (fd == -1)
		dk_error_set_errno(errno, "cannot check key repository '%s'",
		    shown);
	return fd;
}

int
dk_vault_check(const char *repo)
{
	char shown[PATH_MAX];
	int top = -1, git = -1, obj = -1, rc = -1;

	if ((top = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		dk_error_set_errno(errno, "cannot check key repository '%s'",
		    repo);
		goto done;
	}
	if (check_dir(top, repo, repo) != 0)
		goto done;
	if ((size_t)snprintf(shown, sizeof(shown), "%s/.git", repo) >=
	    sizeof(shown)) {
		dk_error_set("path too long: '%s/.git'", repo);
		goto done;
	}
	if ((git = open_below(top, ".git", shown)) == -1 ||
	    check_dir(git, shown, repo) != 0)
		goto done;
	if ((size_t)snprintf(shown, sizeof(shown), "%s/.git/objects",
	    repo) >= sizeof(shown)) {
		dk_error_set("path too long: '%s/.git/objects'", repo);
		goto done;
	}
	if ((obj = open_below(git, "objects", shown)) == -1 ||
	    check_dir(obj, shown, repo) != 0)
		goto done;
	rc = 0;
done:
	if (obj != -1)
		close(obj);
	if (git != -1)
		close(git);
	if (top != -1)
		close(top);
	return rc;
}
