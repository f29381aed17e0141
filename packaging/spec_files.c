/*
 * The %files section of a spec (packaging/spec.c renders the rest): each
 * file validated, then listed in as few lines as rpm needs to give every
 * file exactly the mode, owner and flags described.  dkimrot writes its
 * packages without it (packaging/rpm_write.c takes the files as given);
 * the spec with its %files is what `rpmbuild -bb` needs to build the same
 * package from a build root of those files, as tests/e2e/rpm_header.sh
 * and the bench's reference do.
 *
 * Why few lines: librpmbuild 4.18 appends each %files line with
 * argvAdd(), which counts the whole list every time, so its parse is
 * quadratic in lines: at 100,000 domains (200,000 lines) it was a fifth
 * of all samples of a build.  A directory whose whole subtree has one
 * owner and group, one mode for its directories, one for its files and
 * one set of flags is listed once, under a %defattr that says them, and
 * rpm walks the build root below it.  That walk finds exactly the
 * entries described when the build root holds the files listed and
 * their parents, since a subtree is only taken whole when each directory
 * in it is listed itself.  rpm gives the files of the line its %config
 * and the directories none, as a %dir line has none, so the package's
 * headers are the same; not so %config(noreplace), which rpm also sets
 * on the directory: such files keep a line each.  Everything else is one
 * line as before, under %defattr(-,root,root,-), where each line's %attr
 * says it all.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "packaging/rpm.h"
#include "packaging/spec_int.h"

#define PATH_MAX_LEN	1024
#define DEPTH_MAX	(PATH_MAX_LEN / 2)	/* "/a" per component */
#define ALL_FLAGS	(DK_RPM_DIR | DK_RPM_CONFIG | DK_RPM_NOREPLACE)

static int
isalnum_ascii(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Absolute, components of [A-Za-z0-9._+-@], no "." or "..". */
static int
check_path(const char *path)
{
	const char *p, *comp;
	size_t n;

	n = strlen(path);
	if (path[0] != '/' || n < 2 || n > PATH_MAX_LEN)
		goto bad;
	for (comp = p = path + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			n = (size_t)(p - comp);
			if (n == 0 || (n == 1 && comp[0] == '.') ||
			    (n == 2 && comp[0] == '.' && comp[1] == '.'))
				goto bad;
			if (*p == '\0')
				return 0;
			comp = p + 1;
			continue;
		}
		/* '@': systemd's template units (opendkim@.service). */
		if (!isalnum_ascii((unsigned char)*p) &&
		    strchr("._+-@", *p) == NULL)
			goto bad;
	}
bad:
	dk_error_set("invalid file path '%s' in package: an absolute path "
	    "of letters, digits and '._+-@' is required", path);
	return DK_EUSAGE;
}

int
dk_rpm_file_unloaded(const struct dk_rpm_file *f)
{
	return !(f->flags & DK_RPM_DIR) && f->data == NULL && f->source != NULL;
}

int
dk_spec_check_file(const struct dk_rpm_file *f)
{
	int rc;

	if ((rc = check_path(f->path)) != 0 ||
	    (rc = dk_spec_check_user("owner", f->owner)) != 0 ||
	    (rc = dk_spec_check_user("group", f->group)) != 0)
		return rc;
	if (dk_rpm_file_unloaded(f)) {
		dk_error_set("'%s' in package: its contents are not loaded",
		    f->path);
		return -1;
	}
	if ((f->mode & ~(mode_t)0777) != 0 || (f->flags & ~ALL_FLAGS) ||
	    ((f->flags & DK_RPM_NOREPLACE) && !(f->flags & DK_RPM_CONFIG))) {
		dk_error_set("invalid mode or flags for '%s' in package",
		    f->path);
		return DK_EUSAGE;
	}
	return 0;
}

/*
 * Path order with '/' below every other character: a directory's
 * subtree comes right after it, before "DIR.x" or "DIR-x".
 */
static int
by_path(const void *a, const void *b)
{
	const unsigned char *p = (const unsigned char *)
	    (*(const struct dk_rpm_file *const *)a)->path;
	const unsigned char *q = (const unsigned char *)
	    (*(const struct dk_rpm_file *const *)b)->path;
	int c, d;

	for (; *p == *q; p++, q++)
		if (*p == '\0')
			return 0;
	c = *p == '/' ? 1 : *p == '\0' ? 0 : *p + 1;
	d = *q == '/' ? 1 : *q == '\0' ? 0 : *q + 1;
	return c - d;
}

static const char *
user(const char *s)
{
	return s != NULL ? s : "root";
}

/* p is below the directory dir (of length n). */
static int
below(const char *p, const char *dir, size_t n)
{
	return strncmp(p, dir, n) == 0 && p[n] == '/';
}

/*
 * The end of v[i]'s subtree when it can be one line (see the top), with
 * its files' model in *file (NULL: no files); 0 when it cannot.
 */
static size_t
whole(const struct dk_rpm_file *const *v, size_t i, size_t n,
    const struct dk_rpm_file **file)
{
	const struct dk_rpm_file *d = v[i], *f, *fm = NULL;
	const char *dir[DEPTH_MAX];
	size_t len[DEPTH_MAX], top = 0, j, plen;

	if (d->flags != DK_RPM_DIR)
		return 0;
	dir[0] = d->path;
	len[0] = strlen(d->path);
	for (j = i + 1; j < n && below(v[j]->path, d->path, len[0]); j++) {
		f = v[j];
		/* The nearest directory listed above f: its parent? */
		while (!below(f->path, dir[top], len[top]))
			top--;
		plen = (size_t)(strrchr(f->path, '/') - f->path);
		if (plen != len[top] || strcmp(user(f->owner),
		    user(d->owner)) != 0 || strcmp(user(f->group),
		    user(d->group)) != 0)
			return 0;
		if (f->flags & DK_RPM_DIR) {
			if (f->flags != DK_RPM_DIR || f->mode != d->mode ||
			    top + 1 == DEPTH_MAX)
				return 0;
			dir[++top] = f->path;
			len[top] = strlen(f->path);
		} else if (fm == NULL)
			fm = f;
		else if (f->mode != fm->mode || f->flags != fm->flags)
			return 0;
	}
	/*
	 * A directory alone stays a %dir line.  %config(noreplace) on a
	 * directory line marks the directory itself noreplace (flags 16)
	 * where a %dir line has none: such files are listed one by one.
	 */
	if (j == i + 1 || (fm != NULL && (fm->flags & DK_RPM_NOREPLACE)))
		return 0;
	*file = fm;
	return j;
}

/* The %config part of a line with these flags. */
static const char *
config(unsigned flags)
{
	return flags & DK_RPM_NOREPLACE ? "%config(noreplace) " :
	    flags & DK_RPM_CONFIG ? "%config " : "";
}

static int
put_whole(struct dk_buf *b, const struct dk_rpm_file *d,
    const struct dk_rpm_file *f)
{
	/* No file below: no file mode to say. */
	if (f == NULL)
		return dk_buf_printf(b, "%%defattr(-,%s,%s,%04o)\n%s\n",
		    user(d->owner), user(d->group), (unsigned)d->mode,
		    d->path);
	return dk_buf_printf(b, "%%defattr(%04o,%s,%s,%04o)\n%s%s\n",
	    (unsigned)f->mode, user(d->owner), user(d->group),
	    (unsigned)d->mode, config(f->flags), d->path);
}

int
dk_spec_put_files(struct dk_buf *b, const struct dk_rpm_pkg *pkg)
{
	const struct dk_rpm_file **v = NULL, *f, *model;
	size_t i, end, n = pkg->nfiles;
	int rc, reset = 0;

	for (i = 0; i < n; i++)
		if ((rc = dk_spec_check_file(&pkg->files[i])) != 0)
			return rc;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		v[i] = &pkg->files[i];
	/* Sorted, not pairwise: 20,000 files took seconds the other way. */
	qsort(v, n, sizeof(*v), by_path);
	rc = 0;
	for (i = 1; i < n && rc == 0; i++) {
		if (strcmp(v[i - 1]->path, v[i]->path) == 0) {
			dk_error_set("file '%s' listed twice in package",
			    v[i]->path);
			rc = DK_EUSAGE;
		}
	}
	for (i = 0; i < n && rc == 0; ) {
		f = v[i];
		if ((end = whole(v, i, n, &model)) != 0) {
			rc = put_whole(b, f, model);
			reset = 1;
			i = end;
			continue;
		}
		if (reset && (rc = dk_buf_puts(b,
		    "%defattr(-,root,root,-)\n")) != 0)
			break;
		reset = 0;
		rc = dk_buf_printf(b, "%s%s%%attr(%04o,%s,%s) %s\n",
		    f->flags & DK_RPM_DIR ? "%dir " : "", config(f->flags),
		    (unsigned)f->mode, user(f->owner), user(f->group),
		    f->path);
		i++;
	}
	free(v);
	return rc;
}
