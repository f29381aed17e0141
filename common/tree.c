/*
 * The walk below the key repository (common/tree.h): every component
 * opened from the one above with O_NOFOLLOW and looked at first.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/file_int.h"
#include "common/tree.h"

/*
 * The key repository's work tree.  Its files come from git, and git
 * checks out whatever was committed: a symbolic link to /etc, a FIFO
 * made by hand.  Every path below the repository is therefore walked
 * from a descriptor of the repository, one component at a time with
 * O_NOFOLLOW, and every component is looked at before it is used; the
 * repository's own path (-C, chosen by the operator) may hold links.
 * (openat2's RESOLVE_NO_SYMLINKS would do the walk in one call, but EL8's
 * kernel, 4.18, has no openat2.)
 */

#define TREE_ONLY	"the key repository holds only directories and " \
	"regular files"

int
dk_tree_refuse(const char *rel, const char *kind)
{
	dk_error_set("refusing '%s': %s (%s)", rel, kind, TREE_ONLY);
	return -1;
}

int
dk_tree_check(const char *rel, const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		return 0;
	case S_IFREG:
		break;
	case S_IFLNK:
		return dk_tree_refuse(rel, "a symbolic link");
	case S_IFIFO:
		return dk_tree_refuse(rel, "a FIFO");
	case S_IFSOCK:
		return dk_tree_refuse(rel, "a socket");
	case S_IFCHR:
	case S_IFBLK:
		return dk_tree_refuse(rel, "a device");
	default:
		return dk_tree_refuse(rel, "of an unknown type");
	}
	/*
	 * A file with a second name is refused too: its content may be
	 * another file's (a secret of someone else's, linked in), and our
	 * chmod (keys.yaml to 0644) or unlink would act on that other name
	 * as well.  git never checks out hard links, so only a hand (or an
	 * attacker) makes one; the fix is to copy the file.
	 */
	if (st->st_nlink > 1) {
		dk_error_set("refusing '%s': a hard link (its file has %ju "
		    "names; a file of the key repository has only one)", rel,
		    (uintmax_t)st->st_nlink);
		return -1;
	}
	return 0;
}

/* root/rel, for the messages that name a path as the operator would. */
static void
tree_name(char *buf, size_t size, const char *root, const char *rel)
{
	if (dk_path_join(buf, size, root != NULL ? root : "", rel) != 0)
		snprintf(buf, size, "%s", rel);
}

/*
 * The directory named by the first n bytes of rel below root, walked with
 * O_NOFOLLOW component by component; with mkmode, missing components are
 * made (mode mkmode, less the umask).  DK_ENOTFOUND when one is missing.
 */
static int
walk(const char *root, const char *rel, size_t n, mode_t mkmode, int *out)
{
	char sub[PATH_MAX], name[PATH_MAX];
	struct stat st;
	size_t i = 0, j;
	int fd, nfd, saved, rc = -1;

	*out = -1;
	if (n >= sizeof(sub)) {
		dk_error_set("path too long: '%s'", rel);
		return -1;
	}
	fd = open(root != NULL && root[0] != '\0' ? root : ".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		dk_error_set_errno(saved, "cannot open directory '%s'",
		    root != NULL && root[0] != '\0' ? root : ".");
		/* No root: nothing below it either. */
		return saved == ENOENT ? DK_ENOTFOUND : -1;
	}
	while (i < n) {
		while (i < n && rel[i] == '/')
			i++;
		for (j = i; j < n && rel[j] != '/'; j++)
			;
		if (j == i)
			break;
		/* sub: rel up to this component, which ends it. */
		memcpy(sub, rel, j);
		sub[j] = '\0';
		if ((j - i == 1 && rel[i] == '.') ||
		    (j - i == 2 && rel[i] == '.' && rel[i + 1] == '.')) {
			dk_error_set("invalid path '%s'", sub);
			goto done;
		}
		nfd = openat(fd, sub + i, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT && mkmode != 0) {
			if (mkdirat(fd, sub + i, mkmode) == -1 &&
			    errno != EEXIST) {
				saved = errno;
				tree_name(name, sizeof(name), root, sub);
				dk_error_set_errno(saved, "cannot create "
				    "directory '%s'", name);
				goto done;
			}
			nfd = openat(fd, sub + i, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		}
		if (nfd == -1) {
			saved = errno;
			tree_name(name, sizeof(name), root, sub);
			/* ELOOP: a symlink; ENOTDIR: anything else. */
			if ((saved == ELOOP || saved == ENOTDIR) &&
			    fstatat(fd, sub + i, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    dk_tree_check(sub, &st) != 0)
				goto done;
			if (saved == ENOENT) {
				dk_error_set("cannot open directory '%s': No "
				    "such file or directory", name);
				rc = DK_ENOTFOUND;
			} else
				dk_error_set_errno(saved, "cannot open "
				    "directory '%s'", name);
			goto done;
		}
		close(fd);
		fd = nfd;
		i = j;
	}
	*out = fd;
	fd = -1;
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	return rc;
}

int
dk_tree_dir(const char *root, const char *rel, mode_t mkmode, int *out)
{
	return walk(root, rel, strlen(rel), mkmode, out);
}

/* The directory holding rel, opened; *leaf: rel's last component. */
static int
parent(const char *root, const char *rel, int *dfd, const char **leaf)
{
	const char *slash;

	slash = strrchr(rel, '/');
	*leaf = slash != NULL ? slash + 1 : rel;
	if (**leaf == '\0' || strcmp(*leaf, ".") == 0 ||
	    strcmp(*leaf, "..") == 0) {
		*dfd = -1;
		dk_error_set("invalid path '%s'", rel);
		return -1;
	}
	return walk(root, rel, (size_t)(*leaf - rel), 0, dfd);
}

int
dk_tree_stat(const char *root, const char *rel, struct stat *st)
{
	const char *leaf;
	char name[PATH_MAX];
	int dfd, rc;

	if ((rc = parent(root, rel, &dfd, &leaf)) != 0)
		return rc;
	if (fstatat(dfd, leaf, st, AT_SYMLINK_NOFOLLOW) == -1) {
		tree_name(name, sizeof(name), root, rel);
		rc = errno == ENOENT ? DK_ENOTFOUND : -1;
		dk_error_set_errno(errno, "cannot check '%s'", name);
	} else
		rc = dk_tree_check(rel, st);
	close(dfd);
	return rc;
}

int
dk_tree_read(const char *root, const char *rel, size_t max, char **out,
    size_t *outlen)
{
	struct stat st, fst;
	const char *leaf;
	char name[PATH_MAX];
	int dfd, fd = -1, rc;

	*out = NULL;
	tree_name(name, sizeof(name), root, rel);
	if ((rc = parent(root, rel, &dfd, &leaf)) != 0) {
		if (rc == DK_ENOTFOUND)
			dk_error_set("cannot read '%s': No such file or "
			    "directory", name);
		return rc;
	}
	rc = -1;
	/*
	 * Looked at before it is opened (opening a device may do things),
	 * opened without following or blocking, and checked again to be
	 * the file looked at.
	 */
	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT) {
			dk_error_set("cannot read '%s': No such file or "
			    "directory", name);
			rc = DK_ENOTFOUND;
		} else
			dk_error_set_errno(errno, "cannot read '%s'", name);
		goto done;
	}
	if (dk_tree_check(rel, &st) != 0)
		goto done;
	fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		dk_error_set_errno(errno, "cannot read '%s'", name);
		goto done;
	}
	if (fstat(fd, &fst) == -1) {
		dk_error_set_errno(errno, "cannot read '%s'", name);
		goto done;
	}
	if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		dk_error_set("cannot read '%s': replaced while being read",
		    name);
		goto done;
	}
	if (dk_tree_check(rel, &fst) != 0)
		goto done;
	rc = dk_file_read_fd(fd, name, max, out, outlen);
done:
	if (fd != -1)
		close(fd);
	close(dfd);
	return rc;
}

/* A new file leaf in dfd, exclusive, not following a link. */
static int
create_at(int dfd, const char *leaf, const char *name, const void *data,
    size_t len, mode_t mode, bool sync)
{
	int fd;

	fd = openat(dfd, leaf, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY |
	    O_CLOEXEC, mode);
	if (fd == -1) {
		if (errno == EEXIST) {
			dk_error_set("cannot create '%s': File exists", name);
			return DK_EEXISTS;
		}
		dk_error_set_errno(errno, "cannot create '%s'", name);
		return -1;
	}
	return dk_file_fill(dfd, fd, leaf, name, data, len, mode, sync);
}

int
dk_tree_create(const char *root, const char *rel, const void *data,
    size_t len, mode_t mode, bool sync)
{
	const char *leaf;
	char name[PATH_MAX];
	int dfd, rc;

	if ((rc = parent(root, rel, &dfd, &leaf)) != 0)
		return rc;
	tree_name(name, sizeof(name), root, rel);
	rc = create_at(dfd, leaf, name, data, len, mode, sync);
	close(dfd);
	return rc;
}

/* A temporary name beside leaf in dfd, created; its name in tmp. */
static int
stage_at(int dfd, const char *rel, const char *leaf, const char *name,
    const void *data, size_t len, mode_t mode, bool sync, char *tmp,
    size_t size)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[6];
	size_t i, base;
	int tries, n, rc;

	n = snprintf(tmp, size, "%s.tmp.XXXXXX", rel);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", rel);
		return -1;
	}
	base = (size_t)n - 6;
	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			dk_error_set_errno(errno, "cannot create temporary "
			    "file for '%s'", name);
			return -1;
		}
		for (i = 0; i < sizeof(rnd); i++)
			tmp[base + i] = set[rnd[i] % (sizeof(set) - 1)];
		rc = create_at(dfd, tmp + (size_t)(leaf - rel), name, data,
		    len, mode, sync);
		if (rc != DK_EEXISTS)
			return rc;
	}
	dk_error_set("cannot create temporary file for '%s': File exists",
	    name);
	return -1;
}

int
dk_tree_stage(const char *root, const char *rel, const void *data,
    size_t len, mode_t mode, char *tmp, size_t size)
{
	const char *leaf;
	char name[PATH_MAX];
	int dfd, rc;

	if ((rc = parent(root, rel, &dfd, &leaf)) != 0)
		return rc;
	tree_name(name, sizeof(name), root, rel);
	rc = stage_at(dfd, rel, leaf, name, data, len, mode, false, tmp,
	    size);
	close(dfd);
	return rc;
}

/* rename tmp (a name in dfd) over leaf; tmp is removed if that fails. */
static int
publish_at(int dfd, const char *tmp, const char *leaf, const char *name)
{
	int saved;

	if (renameat(dfd, tmp, dfd, leaf) == -1) {
		saved = errno;
		unlinkat(dfd, tmp, 0);
		dk_error_set_errno(saved, "cannot write '%s'", name);
		return -1;
	}
	return 0;
}

int
dk_tree_publish(const char *root, const char *tmp, const char *rel)
{
	const char *leaf, *tleaf;
	char name[PATH_MAX];
	int dfd, rc;

	if ((rc = parent(root, rel, &dfd, &leaf)) != 0)
		return rc;
	tree_name(name, sizeof(name), root, rel);
	/* dk_tree_stage's name: rel's directory, rel's name and more. */
	tleaf = tmp + (size_t)(leaf - rel);
	if (strlen(tmp) <= (size_t)(leaf - rel) ||
	    strncmp(tmp, rel, (size_t)(leaf - rel)) != 0 ||
	    strchr(tleaf, '/') != NULL) {
		dk_error_set("cannot write '%s': '%s' is not beside it", name,
		    tmp);
		rc = -1;
	} else
		rc = publish_at(dfd, tleaf, leaf, name);
	close(dfd);
	return rc;
}

int
dk_tree_replace(const char *root, const char *rel, const void *data,
    size_t len, mode_t mode)
{
	char tmp[PATH_MAX], name[PATH_MAX];
	const char *leaf;
	int dfd, rc;

	if ((rc = parent(root, rel, &dfd, &leaf)) != 0)
		return rc;
	tree_name(name, sizeof(name), root, rel);
	if ((rc = stage_at(dfd, rel, leaf, name, data, len, mode, true, tmp,
	    sizeof(tmp))) == 0 &&
	    (rc = publish_at(dfd, tmp + (size_t)(leaf - rel), leaf,
	    name)) == 0 && fsync(dfd) == -1 && errno != EINVAL) {
		dk_error_set_errno(errno, "cannot sync directory of '%s'",
		    name);
		rc = -1;
	}
	close(dfd);
	return rc;
}

int
dk_tree_remove(const char *root, const char *rel)
{
	const char *leaf;
	char name[PATH_MAX];
	int dfd, rc;

	if ((rc = parent(root, rel, &dfd, &leaf)) != 0)
		return rc == DK_ENOTFOUND ? 0 : rc;
	if (unlinkat(dfd, leaf, 0) == -1 && errno != ENOENT) {
		tree_name(name, sizeof(name), root, rel);
		dk_error_set_errno(errno, "cannot remove '%s'", name);
		rc = -1;
	}
	close(dfd);
	return rc;
}

int
dk_tree_chmod(int dfd, const char *leaf, const char *rel, mode_t mode)
{
	struct stat st;
	int fd, rc = -1;

	/*
	 * On a descriptor of the file itself: fchmodat() follows a link
	 * (glibc's AT_SYMLINK_NOFOLLOW needs /proc, and EL8's has none).
	 */
	fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno == EACCES) {
		/*
		 * Not root and the file not readable to us (mode 0200):
		 * looked at without following, then changed by name.
		 */
		if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			dk_error_set_errno(errno, "cannot set the mode of "
			    "'%s'", rel);
			return -1;
		}
		if (dk_tree_check(rel, &st) != 0)
			return -1;
		if (!S_ISREG(st.st_mode) ||
		    fchmodat(dfd, leaf, mode, 0) == -1) {
			dk_error_set_errno(S_ISREG(st.st_mode) ? errno : EACCES,
			    "cannot set the mode of '%s'", rel);
			return -1;
		}
		return 0;
	}
	if (fd == -1) {
		if (errno == ELOOP)
			return dk_tree_refuse(rel, "a symbolic link");
		dk_error_set_errno(errno, "cannot set the mode of '%s'", rel);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		dk_error_set_errno(errno, "cannot set the mode of '%s'", rel);
		goto done;
	}
	if (dk_tree_check(rel, &st) != 0)
		goto done;
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) == -1) {
		dk_error_set_errno(errno, "cannot set the mode of '%s'", rel);
		goto done;
	}
	rc = 0;
done:
	close(fd);
	return rc;
}
