/*
 * The apt repository of one package (apt.h): Packages, Release and
 * InRelease written by us, the .deb files read through packaging/deb.h,
 * the digests through packaging/rpm.h, the signature through
 * common/gpg.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gpg.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/tree.h"
#include "packaging/apt.h"
#include "packaging/deb.h"
#include "packaging/rpm.h"

#define DEB_MAX_SIZE	(1024u * 1024 * 1024)

struct deb {
	char	 file[NAME_MAX + 1];
	size_t	 version;
	char	*control;
	size_t	 size;			/* of the bytes read, */
	char	 sha256[72];		/* and their digest */
};

int
dk_apt_deb_path(char *buf, size_t size, const char *dir, const char *name,
    size_t version)
{
	int n = snprintf(buf, size, "%s/%s_%zu_all.deb", dir, name, version);

	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	return 0;
}

/* The version of NAME_VERSION_all.deb named file, 0 if not so named. */
static size_t
version_of(const char *file, const char *name)
{
	size_t n = strlen(name), v = 0;
	const char *p;

	if (strncmp(file, name, n) != 0 || file[n] != '_')
		return 0;
	for (p = file + n + 1; *p >= '0' && *p <= '9'; p++) {
		if (v > ((size_t)-1 - 9) / 10)
			return 0;
		v = v * 10 + (size_t)(*p - '0');
	}
	if (p == file + n + 1 || file[n + 1] == '0' ||
	    strcmp(p, "_all.deb") != 0)
		return 0;
	return v;
}

static int
cmp_version(const void *a, const void *b)
{
	const struct deb *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

static void
free_debs(struct deb *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].control);
	free(v);
}

/*
 * The .deb file of dir read once: its control, size and SHA-256 into e,
 * the very bytes that accept() judges and Packages names.  1 when it is
 * indexed, 0 when it is left alone (with a warning).
 */
static int
read_deb(const char *dir, const char *file, size_t ver,
    const struct dk_apt_opts *o, struct deb *e)
{
	char path[PATH_MAX], want[32], got[32], *data = NULL;
	size_t len = 0;
	int rc = 0;

	e->control = NULL;
	if (dk_path_join(path, sizeof(path), dir, file) != 0)
		return -1;
	/* A link, a FIFO, a second name: refused (common/tree.h). */
	if (dk_tree_read(dir, file, DEB_MAX_SIZE, &data, &len) != 0 ||
	    dk_rpm_sha256(data, len, e->sha256, sizeof(e->sha256)) != 0) {
		dk_log_warn("not indexing '%s': %s", path, dk_error_last());
		goto done;
	}
	/* accept() gives its own warning; a stranger's is never parsed. */
	if (o->accept != NULL && !o->accept(file, e->sha256, o->arg))
		goto done;
	if (dk_deb_control_mem(data, len, &e->control) != 0) {
		dk_log_warn("not indexing '%s': cannot read package '%s': %s",
		    path, path, dk_error_last());
		goto done;
	}
	/* A copy under another name would index a wrong version. */
	snprintf(want, sizeof(want), "%zu", ver);
	if (dk_deb_field(e->control, "Version", got, sizeof(got)) != 0 ||
	    strcmp(got, want) != 0) {
		dk_log_warn("not indexing '%s': its control names another "
		    "version", path);
		goto done;
	}
	snprintf(e->file, sizeof(e->file), "%s", file);
	e->version = ver;
	e->size = len;
	rc = 1;
done:
	if (rc != 1) {
		free(e->control);
		e->control = NULL;
	}
	/* A private package is key material. */
	dk_secret_free(data, len);
	return rc;
}

/* Our builds in dir, oldest first. */
static int
scan(const char *dir, const struct dk_apt_opts *o, struct deb **out,
    size_t *nout)
{
	struct deb *v = NULL, *nv;
	struct dirent *de;
	size_t n = 0, cap = 0, ver;
	DIR *d;
	int rc = -1, k;

	if ((d = opendir(dir)) == NULL) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if ((ver = version_of(de->d_name, o->name)) == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				dk_error_set("out of memory");
				goto done;
			}
			v = nv;
		}
		/* A foreign file is neither indexed nor removed. */
		if ((k = read_deb(dir, de->d_name, ver, o, &v[n])) == -1)
			goto done;
		n += (size_t)k;
	}
	if (errno != 0) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		goto done;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_version);
	*out = v;
	*nout = n;
	v = NULL;
	n = 0;
	rc = 0;
done:
	closedir(d);
	free_debs(v, n);
	return rc;
}

/* One stanza of Packages: the control file and where the .deb is. */
static int
stanza(struct dk_buf *b, const struct deb *e)
{
	size_t clen;

	clen = strlen(e->control);
	while (clen > 0 && e->control[clen - 1] == '\n')
		clen--;
	if (dk_buf_append(b, e->control, clen) == -1 ||
	    dk_buf_printf(b, "\nFilename: ./%s\nSize: %zu\nSHA256: %s\n\n",
	    e->file, e->size, e->sha256) == -1) {
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

/* Release: what the signature covers, Packages by size and digest. */
static int
release(struct dk_buf *b, const struct dk_apt_opts *o,
    const struct dk_buf *packages)
{
	char date[64], hex[72];
	struct tm tm;

	if (gmtime_r(&o->time, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S UTC",
	    &tm) == 0) {
		dk_error_set("cannot format the date of Release");
		return -1;
	}
	if (dk_rpm_sha256(packages->data, packages->len, hex,
	    sizeof(hex)) != 0)
		return -1;
	if (dk_buf_printf(b, "Origin: dkimrot\nLabel: %s\nDate: %s\n"
	    "SHA256:\n %s %zu Packages\n", o->name, date, hex,
	    packages->len) == -1) {
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

static int
write_in(const char *dir, const char *file, const struct dk_buf *b,
    mode_t mode)
{
	char path[PATH_MAX];

	if (dk_path_join(path, sizeof(path), dir, file) != 0)
		return -1;
	return dk_file_replace(path, b->data ? b->data : "", b->len, mode);
}

/*
 * The signature and the key.  InRelease is written last of all: apt
 * reads it first, and until it is replaced the older index is whole.
 */
static int
sign(const char *dir, const struct dk_apt_opts *o)
{
	char rel[PATH_MAX], in[PATH_MAX], tmp[PATH_MAX], key[PATH_MAX];
	int n;

	if (dk_path_join(rel, sizeof(rel), dir, "Release") != 0 ||
	    dk_path_join(in, sizeof(in), dir, "InRelease") != 0 ||
	    dk_path_join(key, sizeof(key), dir, DK_APT_KEY_FILE) != 0)
		return -1;
	n = snprintf(tmp, sizeof(tmp), "%s/.InRelease.tmp", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	if (dk_gpg_export(o->signer->key, o->signer->home, key) != 0 ||
	    dk_gpg_sign_clear(o->signer, rel, tmp) != 0)
		return -1;
	if (chmod(tmp, o->mode) == -1 || rename(tmp, in) == -1) {
		dk_error_set_errno(errno, "cannot replace '%s'", in);
		unlink(tmp);
		return -1;
	}
	return dk_dir_sync(dir);
}

int
dk_apt_update(const char *dir, const struct dk_apt_opts *o)
{
	struct dk_buf pk = { 0 }, rel = { 0 };
	struct deb *v = NULL;
	char path[PATH_MAX];
	size_t n = 0, i, first;
	int rc = -1;

	if (scan(dir, o, &v, &n) != 0)
		return -1;
	/* The newest keep_builds are kept; the older ones removed. */
	first = o->keep_builds > 0 && n > (size_t)o->keep_builds ?
	    n - (size_t)o->keep_builds : 0;
	for (i = first; i < n; i++)
		if (stanza(&pk, &v[i]) != 0)
			goto done;
	if (release(&rel, o, &pk) != 0 ||
	    write_in(dir, "Packages", &pk, o->mode) != 0 ||
	    write_in(dir, "Release", &rel, o->mode) != 0)
		goto done;
	if (o->signer != NULL && o->signer->key != NULL) {
		if (sign(dir, o) != 0)
			goto done;
	} else {
		if (dk_path_join(path, sizeof(path), dir, "InRelease") != 0)
			goto done;
		/* An old signature would vouch for another index. */
		if (unlink(path) == -1 && errno != ENOENT) {
			dk_error_set_errno(errno, "cannot remove '%s'", path);
			goto done;
		}
	}
	for (i = 0; i < first; i++) {
		if (dk_path_join(path, sizeof(path), dir, v[i].file) != 0)
			goto done;
		if (unlink(path) == -1 && errno != ENOENT) {
			dk_error_set_errno(errno, "cannot remove '%s'", path);
			goto done;
		}
		dk_log_debug("removed '%s'", path);
		if (o->pruned != NULL)
			o->pruned(v[i].file, o->arg);
	}
	rc = 0;
done:
	free_debs(v, n);
	dk_buf_dispose(&pk);
	dk_buf_dispose(&rel);
	return rc;
}
