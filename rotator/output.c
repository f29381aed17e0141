#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "rotator/output.h"

/* buf = dir, relative to repo unless absolute (or repo is NULL). */
static int
resolve(char *buf, size_t size, const char *repo, const char *dir)
{
	int n;

	if (dir[0] != '/' && repo != NULL)
		return dk_path_join(buf, size, repo, dir);
	n = snprintf(buf, size, "%s", dir);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	return 0;
}

/* a is b, or a directory below it (both as given, no symlinks read). */
static bool
within(const char *a, const char *b)
{
	size_t n = strlen(b);

	while (n > 1 && b[n - 1] == '/')
		n--;
	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

int
dk_output_dirs(const char *repo, const char *opt, const struct dk_config *cfg,
    struct dk_output *o)
{
	const struct dk_packaging_conf *pc = &cfg->packaging;

	if (opt != NULL) {
		if (resolve(o->top, sizeof(o->top), NULL, opt) != 0 ||
		    dk_path_join(o->priv, sizeof(o->priv), o->top,
		    "private") != 0 ||
		    dk_path_join(o->pub, sizeof(o->pub), o->top, "public") != 0)
			return -1;
		return 0;
	}
	if (resolve(o->top, sizeof(o->top), repo, pc->output) != 0)
		return -1;
	if ((pc->private_output != NULL && pc->private_output[0] != '\0' ?
	    resolve(o->priv, sizeof(o->priv), repo, pc->private_output) :
	    dk_path_join(o->priv, sizeof(o->priv), o->top, "private")) != 0)
		return -1;
	if ((pc->public_output != NULL && pc->public_output[0] != '\0' ?
	    resolve(o->pub, sizeof(o->pub), repo, pc->public_output) :
	    dk_path_join(o->pub, sizeof(o->pub), o->top, "public")) != 0)
		return -1;
	/* One repodata/ would index both packages again. */
	if (within(o->priv, o->pub) || within(o->pub, o->priv)) {
		dk_error_set("invalid packaging '%s' and '%s': the private "
		    "and the public repository must be separate directories",
		    o->priv, o->pub);
		return DK_EUSAGE;
	}
	return 0;
}

static const char *const part_names[DK_PARTS_MAX] = {
#define P(a) DK_PKG_PART #a "0", DK_PKG_PART #a "1", DK_PKG_PART #a "2", \
	DK_PKG_PART #a "3", DK_PKG_PART #a "4", DK_PKG_PART #a "5", \
	DK_PKG_PART #a "6", DK_PKG_PART #a "7", DK_PKG_PART #a "8", \
	DK_PKG_PART #a "9"
	P(0), P(1), P(2), P(3), P(4), P(5),
	DK_PKG_PART "60", DK_PKG_PART "61", DK_PKG_PART "62",
	DK_PKG_PART "63"
#undef P
};

const char *
dk_pkg_part_name(unsigned i)
{
	return i < DK_PARTS_MAX ? part_names[i] : NULL;
}

int
dk_pkg_part_index(const char *name)
{
	size_t n = sizeof(DK_PKG_PART) - 1;
	int i;

	if (strlen(name) != n + 2 || strncmp(name, DK_PKG_PART, n) != 0 ||
	    name[n] < '0' || name[n] > '9' || name[n + 1] < '0' ||
	    name[n + 1] > '9')
		return -1;
	i = (name[n] - '0') * 10 + (name[n + 1] - '0');
	return i < DK_PARTS_MAX ? i : -1;
}

bool
dk_pkg_private(const char *name)
{
	return strcmp(name, DK_PKG_PRIVATE) == 0 ||
	    dk_pkg_part_index(name) >= 0;
}

const char *
dk_output_pkg_dir(const struct dk_output *o, const char *name)
{
	return dk_pkg_private(name) ? o->priv : o->pub;
}

int
dk_output_rpm_path(char *buf, size_t size, const char *dir, const char *name,
    size_t version)
{
	int n;

	n = snprintf(buf, size, "%s/%s-%zu-1.noarch.rpm", dir, name, version);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	return 0;
}

size_t
dk_output_rpm_version(const char *file, const char *name)
{
	static const char tail[] = "-1.noarch.rpm";
	size_t n = strlen(name), v = 0;
	const char *p;

	if (strncmp(file, name, n) != 0 || file[n] != '-' ||
	    file[n + 1] < '1' || file[n + 1] > '9')
		return 0;
	for (p = file + n + 1; *p >= '0' && *p <= '9'; p++) {
		if (v > (SIZE_MAX - 9) / 10)
			return 0;
		v = v * 10 + (size_t)(*p - '0');
	}
	return strcmp(p, tail) == 0 ? v : 0;
}

bool
dk_output_built(const struct dk_output *o, size_t version)
{
	char path[PATH_MAX];

	return dk_output_rpm_path(path, sizeof(path), o->priv, DK_PKG_PRIVATE,
	    version) == 0 && access(path, F_OK) == 0 &&
	    dk_output_rpm_path(path, sizeof(path), o->pub, DK_PKG_PUBLIC,
	    version) == 0 && access(path, F_OK) == 0;
}

/* a is not older than b */
static bool
not_older(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
	    (a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec);
}

static bool
indexed(const char *dir, const char *name, size_t version)
{
	char path[PATH_MAX];
	struct stat md, pkg;

	return dk_path_join(path, sizeof(path), dir,
	    "repodata/repomd.xml") == 0 && stat(path, &md) == 0 &&
	    dk_output_rpm_path(path, sizeof(path), dir, name, version) == 0 &&
	    stat(path, &pkg) == 0 && not_older(&md, &pkg);
}

bool
dk_output_indexed(const struct dk_output *o, size_t version)
{
	return indexed(o->priv, DK_PKG_PRIVATE, version) &&
	    indexed(o->pub, DK_PKG_PUBLIC, version);
}

/* Cuts the last component off path p; its new length. */
static size_t
up(char *p)
{
	size_t n = strlen(p);

	while (n > 0 && p[n - 1] == '/')
		n--;
	while (n > 0 && p[n - 1] != '/')
		n--;
	while (n > 1 && p[n - 1] == '/')
		n--;
	p[n] = '\0';
	return n;
}

/*
 * dir exists (made with mode, its parents too).  An existing one keeps
 * its mode and group (a web server's group, set-group-ID so that new
 * files get it), but a private one that others may read is refused:
 * dkimrot never loosens nor silently mends what someone else set.
 */
static int
make_dir(const char *dir, mode_t mode, bool private)
{
	char p[PATH_MAX];
	struct stat st;
	size_t i, n, missing = 0;

	/*
	 * The umask is 077 (dkimrot.c) and would make every new directory
	 * 0700: a web server could serve neither repository.  What is made
	 * here gets its mode exactly; the deepest missing components are
	 * counted first, since dk_dir_make() makes them all at once.
	 */
	if ((n = strlen(dir)) >= sizeof(p)) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	memcpy(p, dir, n + 1);
	while (n > 0 && stat(p, &st) == -1 && errno == ENOENT) {
		missing++;
		n = up(p);
	}
	if (dk_dir_make(dir, mode) != 0)
		return -1;
	memcpy(p, dir, strlen(dir) + 1);
	for (i = 0; i < missing; i++) {
		if (chmod(p, mode) == -1) {
			dk_error_set_errno(errno, "cannot set the mode of "
			    "'%s'", p);
			return -1;
		}
		up(p);
	}
	if (stat(dir, &st) == -1) {
		dk_error_set_errno(errno, "cannot use repository '%s'", dir);
		return -1;
	}
	if (private && (st.st_mode & 0007) != 0) {
		dk_error_set("refusing the private repository '%s': mode %04o "
		    "lets every user read the private keys (chmod o-rwx '%s')",
		    dir, (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

/* One package of the old layout to its repository; 1 when moved. */
static int
move_old(const struct dk_output *o, const char *file)
{
	const char *name, *dir;
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;

	if (dk_output_rpm_version(file, DK_PKG_PRIVATE) != 0)
		name = DK_PKG_PRIVATE;
	else if (dk_output_rpm_version(file, DK_PKG_PUBLIC) != 0)
		name = DK_PKG_PUBLIC;
	else
		return 0;
	dir = dk_output_pkg_dir(o, name);
	if (dk_path_join(from, sizeof(from), o->top, file) != 0 ||
	    dk_path_join(to, sizeof(to), dir, file) != 0)
		return -1;
	if (lstat(from, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	if (access(to, F_OK) == 0) {
		/* Never replace what a repository already serves. */
		dk_log_warn("cannot move '%s': '%s' exists; left where it is",
		    from, to);
		return 0;
	}
	if (chmod(from, dir == o->priv ? 0640 : 0644) == -1 ||
	    rename(from, to) == -1) {
		dk_error_set_errno(errno, "cannot move '%s' to '%s'", from,
		    to);
		return -1;
	}
	return 1;
}

/*
 * The single-directory output of earlier versions: packages and
 * repodata/ directly in top.
 */
static int
migrate(const struct dk_output *o)
{
	char md[PATH_MAX], tmp[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t moved = 0;
	bool old_md;
	DIR *d;
	int rc;

	if (dk_path_join(md, sizeof(md), o->top, "repodata") != 0 ||
	    dk_path_join(tmp, sizeof(tmp), o->top, ".repodata.tmp") != 0)
		return -1;
	old_md = lstat(md, &st) == 0 && S_ISDIR(st.st_mode) &&
	    !within(o->priv, md) && !within(o->pub, md);
	if ((d = opendir(o->top)) == NULL) {
		if (errno == ENOENT)
			return 0;
		dk_error_set_errno(errno, "cannot read '%s'", o->top);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if ((rc = move_old(o, de->d_name)) == -1) {
			closedir(d);
			return -1;
		}
		moved += (size_t)rc;
	}
	closedir(d);
	if (moved == 0 && !old_md)
		return 0;
	if (old_md) {
		dk_dir_remove(md);
		dk_dir_remove(tmp);
	}
	if (dk_dir_sync(o->top) != 0 || dk_dir_sync(o->priv) != 0 ||
	    dk_dir_sync(o->pub) != 0)
		return -1;
	dk_log_warn("moved the single repository '%s' (%zu packages) into "
	    "'%s' and '%s'%s; point mail servers and name servers at their "
	    "own repository", o->top, moved, o->priv, o->pub, old_md ?
	    " and removed its repodata/" : "");
	return 0;
}

int
dk_output_prepare(const struct dk_output *o)
{
	/* Public first: its parents must stay open to everyone. */
	if (make_dir(o->pub, 0755, false) != 0 ||
	    make_dir(o->priv, 0750, true) != 0)
		return -1;
	/* Unless top is (inside) a repository itself: then it is no old one. */
	if (within(o->top, o->priv) || within(o->top, o->pub))
		return 0;
	return migrate(o);
}

#define STAMP	".git/dkimrot.packaged"

int
dk_output_stamp_write(const char *repo, const char *commit, size_t version)
{
	char path[PATH_MAX], line[128];
	int n;

	n = snprintf(line, sizeof(line), "%s %zu\n", commit, version);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		dk_error_set("commit id too long: '%s'", commit);
		return -1;
	}
	if (dk_path_join(path, sizeof(path), repo, STAMP) != 0)
		return -1;
	return dk_file_replace(path, line, (size_t)n, 0644);
}

int
dk_output_stamp_read(const char *repo, char *commit, size_t size,
    size_t *version)
{
	char path[PATH_MAX], *buf = NULL, *sp, *end;
	unsigned long long v;
	int rc;

	if (dk_path_join(path, sizeof(path), repo, STAMP) != 0)
		return -1;
	if ((rc = dk_file_read(path, 128, &buf, NULL)) != 0)
		return rc == DK_ENOTFOUND ? rc : -1;
	rc = DK_ENOTFOUND;
	if ((sp = strchr(buf, ' ')) == NULL || (size_t)(sp - buf) >= size)
		goto done;
	v = strtoull(sp + 1, &end, 10);
	if (end == sp + 1 || *end != '\n')
		goto done;
	memcpy(commit, buf, (size_t)(sp - buf));
	commit[sp - buf] = '\0';
	*version = (size_t)v;
	rc = 0;
done:
	free(buf);
	return rc;
}
