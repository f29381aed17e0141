#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/log.h"

/*
 * Reads the regular file open at fd (named name in messages) whole, at
 * most max bytes.  fd is the caller's to close.
 */
static int
read_fd(int fd, const char *name, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int rc = -1;

	*out = NULL;
	if (fstat(fd, &st) == -1) {
		dk_error_set_errno(errno, "cannot read '%s'", name);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		dk_error_set("cannot read '%s': not a regular file", name);
		goto done;
	}
	if ((size_t)st.st_size > max) {
		dk_error_set("cannot read '%s': larger than %zu bytes", name,
		    max);
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			dk_error_set_errno(errno, "cannot read '%s'", name);
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	if (outlen != NULL)
		*outlen = len;
	buf = NULL;
	rc = 0;
done:
	free(buf);
	return rc;
}

int
dk_file_read(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, rc;

	*out = NULL;
	/* O_NONBLOCK: a FIFO must not hang the run; read_fd refuses it. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			dk_error_set("cannot read '%s': No such file or "
			    "directory", path);
			return DK_ENOTFOUND;
		}
		dk_error_set_errno(errno, "cannot read '%s'", path);
		return -1;
	}
	rc = read_fd(fd, path, max, out, outlen);
	close(fd);
	return rc;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
dk_path_join(char *buf, size_t size, const char *a, const char *b)
{
	int n;

	if (a[0] == '\0')
		n = snprintf(buf, size, "%s", b);
	else
		n = snprintf(buf, size, "%s%s%s", a,
		    a[strlen(a) - 1] == '/' ? "" : "/", b);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s/%s'", a, b);
		return -1;
	}
	return 0;
}

int
dk_dir_sync(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		dk_error_set_errno(errno, "cannot open directory '%s'", dir);
		return -1;
	}
	if (fsync(fd) == -1 && errno != EINVAL) {
		dk_error_set_errno(errno, "cannot sync directory '%s'", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
dk_dir_sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash;
	size_t n;

	if ((slash = strrchr(path, '/')) == NULL)
		return dk_dir_sync(".");
	n = (size_t)(slash - path);
	if (n == 0)
		return dk_dir_sync("/");
	if (n >= sizeof(dir)) {
		dk_error_set("path too long: '%s'", path);
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return dk_dir_sync(dir);
}

/*
 * Writes data to the new file fd (at name), fsynced when sync, and closes
 * it.  On failure name is removed and the error names path, the file the
 * caller meant to write.
 */
static int
fill(int dfd, int fd, const char *name, const char *path, const void *data,
    size_t len, mode_t mode, bool sync)
{
	int saved;

	/* The umask may have narrowed the mode; make it exact. */
	if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 ||
	    (sync && fsync(fd) == -1)) {
		saved = errno;
		close(fd);
		unlinkat(dfd, name, 0);
		dk_error_set_errno(saved, "cannot write '%s'", path);
		return -1;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlinkat(dfd, name, 0);
		dk_error_set_errno(saved, "cannot write '%s'", path);
		return -1;
	}
	return 0;
}

static int
create(const char *path, const void *data, size_t len, mode_t mode, bool sync)
{
	int fd;

	fd = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		if (errno == EEXIST) {
			dk_error_set("cannot create '%s': File exists", path);
			return DK_EEXISTS;
		}
		dk_error_set_errno(errno, "cannot create '%s'", path);
		return -1;
	}
	return fill(AT_FDCWD, fd, path, path, data, len, mode, sync);
}

int
dk_file_create(const char *path, const void *data, size_t len, mode_t mode)
{
	return create(path, data, len, mode, true);
}

int
dk_file_create_nosync(const char *path, const void *data, size_t len,
    mode_t mode)
{
	return create(path, data, len, mode, false);
}

/* A temporary file beside path holding data, fsynced when sync. */
static int
stage(const char *path, const void *data, size_t len, mode_t mode, bool sync,
    char *tmp, size_t size)
{
	int fd, n;

	n = snprintf(tmp, size, "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		dk_error_set_errno(errno, "cannot create temporary file for "
		    "'%s'", path);
		return -1;
	}
	return fill(AT_FDCWD, fd, tmp, path, data, len, mode, sync);
}

int
dk_file_stage(const char *path, const void *data, size_t len, mode_t mode,
    char *tmp, size_t size)
{
	return stage(path, data, len, mode, false, tmp, size);
}

int
dk_file_publish(const char *tmp, const char *path)
{
	int saved;

	if (rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		dk_error_set_errno(saved, "cannot write '%s'", path);
		return -1;
	}
	return 0;
}

int
dk_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];

	if (stage(path, data, len, mode, true, tmp, sizeof(tmp)) != 0 ||
	    dk_file_publish(tmp, path) != 0)
		return -1;
	return dk_dir_sync_parent(path);
}

int
dk_fs_sync(const char *path)
{
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		dk_error_set_errno(errno, "cannot open directory '%s'", path);
		return -1;
	}
	/*
	 * syncfs: one journal commit for everything written, where a
	 * fsync per file costs one each.  Linux >= 5.8 reports writeback
	 * errors of the filesystem here.
	 */
	if (syncfs(fd) == -1) {
		saved = errno;
		close(fd);
		dk_error_set_errno(saved, "cannot sync the filesystem of '%s'",
		    path);
		return -1;
	}
	close(fd);
	return 0;
}

static int
rmentry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) == -1)
		dk_log_warn("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

void
dk_dir_remove(const char *dir)
{
	nftw(dir, rmentry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Where path p (of len bytes) is cut to make its parent; 0: none. */
static size_t
parent_end(const char *p, size_t len)
{
	while (len > 0 && p[len - 1] == '/')
		len--;
	while (len > 0 && p[len - 1] != '/')
		len--;
	/* Just past a '/' now; "/x" has the root for parent: nothing to do. */
	return len > 1 ? len - 1 : 0;
}

/*
 * mkdir with mode exactly: dkimrot runs with umask 077 (dkimrot.c), which
 * would make a public repository's 0755 a 0700 no web server can read.
 * -1 with errno as mkdir's, EEXIST included.
 */
static int
mkdir_exact(const char *p, mode_t mode)
{
	if (mkdir(p, mode) == -1)
		return -1;
	if ((mode & 077) != 0 && chmod(p, mode) == -1)
		return -1;
	return 0;
}

/*
 * mkdir -p, from the leaf: when the parents exist (nearly always: a new
 * domain's directory under keys/), one mkdir, not one per component; an
 * existing directory costs a stat, without mkdir's lock of its parent.
 */
int
dk_dir_make(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	struct stat st;
	size_t i, n;

	n = strlen(path);
	if (n == 0 || n >= sizeof(p)) {
		dk_error_set("invalid directory '%s'", path);
		return -1;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	memcpy(p, path, n + 1);
	/* Up to the deepest directory that exists or can be made... */
	i = n;
	while (mkdir_exact(p, mode) == -1) {
		if (errno == EEXIST)
			break;
		if (errno != ENOENT || (i = parent_end(p, i)) == 0) {
			dk_error_set_errno(errno, "cannot create directory "
			    "'%s'", p);
			return -1;
		}
		p[i] = '\0';
	}
	/* ...then down again, putting back each '/' that was cut. */
	while (i < n) {
		p[i] = '/';
		i += strlen(p + i);
		if (mkdir_exact(p, mode) == -1 && errno != EEXIST) {
			dk_error_set_errno(errno, "cannot create directory "
			    "'%s'", p);
			return -1;
		}
	}
	return 0;
}

int
dk_tmp_make(char *buf, size_t size, const char *dir, const char *prefix)
{
	int n;

	n = snprintf(buf, size, "%s/%s.%ld.XXXXXX", dir, prefix,
	    (long)getpid());
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("temporary directory path too long: '%s'", dir);
		buf[0] = '\0';
		return -1;
	}
	if (mkdtemp(buf) == NULL) {
		dk_error_set_errno(errno, "cannot create a directory in '%s'",
		    dir);
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* The PID in NAME = PREFIX.PID.XXXXXX, or 0 if NAME is not such a name. */
static long
tmp_pid(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p;
	char *end;
	long pid;

	if (strncmp(name, prefix, n) != 0 || name[n] != '.' ||
	    name[n + 1] < '1' || name[n + 1] > '9')
		return 0;
	errno = 0;
	pid = strtol(name + n + 1, &end, 10);
	if (errno != 0 || *end != '.' || strlen(end + 1) != 6)
		return 0;
	for (p = end + 1; *p != '\0'; p++)
		if (*p == '/' || *p == '.')
			return 0;
	return pid;
}

void
dk_tmp_sweep(const char *dir, const char *prefix)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;
	long pid;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if ((pid = tmp_pid(e->d_name, prefix)) <= 0 ||
		    pid == (long)getpid() ||
		    dk_path_join(path, sizeof(path), dir, e->d_name) != 0 ||
		    lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		/* Alive, or not ours to judge (EPERM): leave it. */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		dk_log_warn("removing '%s', left by process %ld, which was "
		    "stopped before it could", path, pid);
		dk_dir_remove(path);
	}
	closedir(d);
}

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
	rc = read_fd(fd, name, max, out, outlen);
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
	return fill(dfd, fd, leaf, name, data, len, mode, sync);
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
