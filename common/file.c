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
#include "common/file_int.h"
#include "common/log.h"

/* common/file_int.h */
int
dk_file_read_fd(int fd, const char *name, size_t max, char **out,
    size_t *outlen)
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
	rc = dk_file_read_fd(fd, path, max, out, outlen);
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

/* common/file_int.h */
int
dk_file_fill(int dfd, int fd, const char *name, const char *path,
    const void *data, size_t len, mode_t mode, bool sync)
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
	return dk_file_fill(AT_FDCWD, fd, path, path, data, len, mode, sync);
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
	return dk_file_fill(AT_FDCWD, fd, tmp, path, data, len, mode, sync);
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
