/*
 * libarchive, in process: the ar and tar members of a .deb (deb.h).
 * With deb_read.c, which reads them back, the only module that
 * includes <archive.h>.
 *
 * Every member is written into memory and the .deb replaced atomically
 * (common/file.h): a private package's bytes are key material, wiped
 * from memory once written.
 */
#include <archive.h>
#include <archive_entry.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "packaging/deb.h"
#include "packaging/rpm.h"


/* One entry of data.tar: a file or directory of pkg, or a parent. */
struct entry {
	char			 path[4096];	/* "./etc/dkim-keys" */
	const struct dk_rpm_file *f;	/* NULL: a parent directory */
};

static la_ssize_t
to_buf(struct archive *a, void *arg, const void *data, size_t len)
{
	if (dk_buf_append(arg, data, len) == -1) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)len;
}

static int
la_fail(struct archive *a, const char *what)
{
	const char *why = archive_error_string(a);

	dk_error_set("cannot write %s: %s", what, why ? why : "libarchive");
	return -1;
}

/* A tar archive into b, compressed as compress (enum dk_compress). */
static struct archive *
tar_open(struct dk_buf *b, int compress, const char *what)
{
	struct archive *a;
	int r;

	if ((a = archive_write_new()) == NULL) {
		dk_error_set("out of memory");
		return NULL;
	}
	/* ustar: what dpkg reads since ever; paths up to 255 bytes. */
	r = archive_write_set_format_ustar(a);
	switch (compress) {
	case DK_COMPRESS_XZ:
		if (r == ARCHIVE_OK)
			r = archive_write_add_filter_xz(a);
		if (r == ARCHIVE_OK)
			r = archive_write_set_options(a,
			    "xz:compression-level=2,xz:threads=1");
		break;
	case DK_COMPRESS_ZSTD:
		if (r == ARCHIVE_OK)
			r = archive_write_add_filter_zstd(a);
		if (r == ARCHIVE_OK)
			r = archive_write_set_options(a,
			    "zstd:compression-level=9");
		break;
	default:
		/* No time in the gzip header: same input, same bytes. */
		if (r == ARCHIVE_OK)
			r = archive_write_add_filter_gzip(a);
		if (r == ARCHIVE_OK)
			r = archive_write_set_options(a,
			    "gzip:compression-level=9,gzip:!timestamp");
		break;
	}
	/* The compressor's output whole, not padded to 10240 bytes. */
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_in_last_block(a, 1);
	if (r == ARCHIVE_OK)
		r = archive_write_open(a, b, NULL, to_buf, NULL);
	if (r != ARCHIVE_OK) {
		la_fail(a, what);
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* One member: a file (data, len) or a directory (data NULL, dir set). */
static int
add(struct archive *a, const char *what, const char *path, mode_t mode,
    int dir, const void *data, size_t len, time_t t)
{
	struct archive_entry *e;
	int rc = -1;

	if ((e = archive_entry_new()) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, mode & 07777);
	archive_entry_set_size(e, dir ? 0 : (la_int64_t)len);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, t, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto done;
	if (!dir && len > 0 &&
	    archive_write_data(a, data, len) != (la_ssize_t)len)
		goto done;
	rc = 0;
done:
	if (rc == -1)
		la_fail(a, what);
	archive_entry_free(e);
	return rc;
}

static int
tar_close(struct archive *a, const char *what)
{
	int r = archive_write_close(a);

	if (r != ARCHIVE_OK)
		la_fail(a, what);
	archive_write_free(a);
	return r == ARCHIVE_OK ? 0 : -1;
}

static int
cmp_entry(const void *x, const void *y)
{
	return strcmp(((const struct entry *)x)->path,
	    ((const struct entry *)y)->path);
}

/* Appends path[0..len) to v (a copy), growing it. */
static int
push(struct entry **v, size_t *n, size_t *cap, const char *path,
    size_t len, const struct dk_rpm_file *f)
{
	struct entry *nv;

	if (len + 2 > sizeof((*v)->path)) {
		dk_error_set("path too long: '%s'", path);
		return DK_EUSAGE;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((nv = realloc(*v, *cap * sizeof(*nv))) == NULL) {
			dk_error_set("out of memory");
			return -1;
		}
		*v = nv;
	}
	(*v)[*n].path[0] = '.';
	memcpy((*v)[*n].path + 1, path, len);
	(*v)[*n].path[len + 1] = '\0';
	(*v)[*n].f = f;
	(*n)++;
	return 0;
}

/*
 * Every file and directory of pkg and every parent directory, once, in
 * path order (a parent before its children).
 */
static int
entries(const struct dk_rpm_pkg *pkg, struct entry **out, size_t *nout)
{
	struct entry *v = NULL;
	const char *path, *slash;
	size_t i, j, n = 0, cap = 0, w;
	int rc;

	for (i = 0; i < pkg->nfiles; i++) {
		path = pkg->files[i].path;
		if (dk_rpm_file_unloaded(&pkg->files[i])) {
			dk_error_set("'%s' in package: its contents are not "
			    "loaded", path);
			rc = -1;
			goto fail;
		}
		for (slash = strchr(path + 1, '/'); slash != NULL;
		    slash = strchr(slash + 1, '/'))
			if ((rc = push(&v, &n, &cap, path,
			    (size_t)(slash - path), NULL)) != 0)
				goto fail;
		if ((rc = push(&v, &n, &cap, path, strlen(path),
		    &pkg->files[i])) != 0)
			goto fail;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_entry);
	/* One of each path; what pkg lists wins over an implied parent. */
	for (i = 0, w = 0; i < n; i = j) {
		v[w] = v[i];
		for (j = i + 1; j < n && strcmp(v[j].path, v[i].path) == 0;
		    j++)
			if (v[j].f != NULL)
				v[w].f = v[j].f;
		w++;
	}
	*out = v;
	*nout = w;
	return 0;
fail:
	free(v);
	return rc;
}

static int
put_data(const struct dk_rpm_pkg *pkg, const struct entry *v, size_t n,
    struct dk_buf *b, size_t *kib)
{
	struct archive *a;
	const struct dk_rpm_file *f;
	size_t i;
	int rc = 0;

	*kib = 0;
	if ((a = tar_open(b, pkg->compress, "data.tar")) == NULL)
		return -1;
	/* The top directory first, as dpkg-deb writes it. */
	rc = add(a, "data.tar", "./", 0755, 1, NULL, 0, pkg->time);
	for (i = 0; rc == 0 && i < n; i++) {
		f = v[i].f;
		if (f == NULL || (f->flags & DK_RPM_DIR))
			rc = add(a, "data.tar", v[i].path, f ? f->mode : 0755,
			    1, NULL, 0, pkg->time);
		else
			rc = add(a, "data.tar", v[i].path, f->mode, 0,
			    f->data, f->len, pkg->time);
		*kib += f == NULL || (f->flags & DK_RPM_DIR) ? 1 :
		    (f->len + 1023) / 1024;
	}
	if (tar_close(a, "data.tar") != 0)
		rc = -1;
	return rc;
}

/* s in single quotes for sh: a quote inside becomes '\''. */
static int
put_quoted(struct dk_buf *b, const char *s)
{
	if (dk_buf_puts(b, "'") == -1)
		return -1;
	for (; *s != '\0'; s++)
		if ((*s == '\'' ? dk_buf_puts(b, "'\\''") :
		    dk_buf_append(b, s, 1)) == -1)
			return -1;
	return dk_buf_puts(b, "'");
}

static int
put_reload(struct dk_buf *b, const char *name, const char *cmd)
{
	if (dk_buf_puts(b, "\t/bin/sh -c ") == -1 || put_quoted(b, cmd) == -1)
		return -1;
	return dk_buf_printf(b, " ||\n\t    echo \"%s: reload command failed "
	    "(exit status $?); run it by hand\" >&2\n", name);
}

static int
is_root(const char *s)
{
	return s == NULL || strcmp(s, "root") == 0;
}

/*
 * postinst: the owners of the description, with chown (one xargs per
 * owner and group; the paths hold no blank or quote, spec.c checked),
 * then the reload.  Exits 0 whatever fails: a broken reload or a
 * missing user must not leave the package half-configured, which would
 * stop every later apt run; the warning names what to do.
 */
static int
put_postinst(struct dk_buf *b, const struct dk_rpm_pkg *pkg)
{
	const struct dk_rpm_file *f, *g;
	size_t i, j;

	if (dk_buf_printf(b, "#!/bin/sh\n# %s: written by dkimrot "
	    "(packaging/deb.c)\nif [ \"$1\" = configure ]; then\n",
	    pkg->name) == -1)
		return -1;
	for (i = 0; i < pkg->nfiles; i++) {
		f = &pkg->files[i];
		if (is_root(f->owner) && is_root(f->group))
			continue;
		/* The first file of each owner and group gathers them all. */
		for (j = 0; j < i; j++) {
			g = &pkg->files[j];
			if (strcmp(g->owner ? g->owner : "root",
			    f->owner ? f->owner : "root") == 0 &&
			    strcmp(g->group ? g->group : "root",
			    f->group ? f->group : "root") == 0)
				break;
		}
		if (j < i)
			continue;
		if (dk_buf_printf(b, "\txargs chown %s:%s <<'EOF' ||\n",
		    f->owner ? f->owner : "root",
		    f->group ? f->group : "root") == -1)
			return -1;
		for (j = i; j < pkg->nfiles; j++) {
			g = &pkg->files[j];
			if (strcmp(g->owner ? g->owner : "root",
			    f->owner ? f->owner : "root") != 0 ||
			    strcmp(g->group ? g->group : "root",
			    f->group ? f->group : "root") != 0)
				continue;
			if (dk_buf_printf(b, "%s\n", g->path) == -1)
				return -1;
		}
		if (dk_buf_printf(b, "EOF\n\t    echo \"%s: cannot give its "
		    "files to %s:%s; they stay root's until you do\" >&2\n",
		    pkg->name, f->owner ? f->owner : "root",
		    f->group ? f->group : "root") == -1)
			return -1;
	}
	if (pkg->post != NULL && *pkg->post != '\0' &&
	    put_reload(b, pkg->name, pkg->post) == -1)
		return -1;
	return dk_buf_puts(b, "fi\nexit 0\n");
}

/* postrm: the reload once the package is removed, not on upgrade. */
static int
put_postrm(struct dk_buf *b, const struct dk_rpm_pkg *pkg)
{
	if (dk_buf_printf(b, "#!/bin/sh\n# %s: written by dkimrot "
	    "(packaging/deb.c)\nif [ \"$1\" = remove ]; then\n",
	    pkg->name) == -1 || put_reload(b, pkg->name, pkg->post) == -1)
		return -1;
	return dk_buf_puts(b, "fi\nexit 0\n");
}

/* The Description's long lines: " text", an empty one " .". */
static int
put_long(struct dk_buf *b, const char *text)
{
	const char *p, *nl;
	size_t len;

	for (p = text; *p != '\0'; p = nl + (*nl != '\0')) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if ((len == 0 ? dk_buf_puts(b, " .\n") :
		    dk_buf_printf(b, " %.*s\n", (int)len, p)) == -1)
			return -1;
	}
	return 0;
}

static int
put_control(struct dk_buf *b, const struct dk_rpm_pkg *pkg,
    const char *summary, size_t kib)
{
	if (dk_buf_printf(b, "Package: %s\nVersion: %s\nArchitecture: all\n"
	    "Maintainer: %s\nInstalled-Size: %zu\nSection: misc\n"
	    "Priority: optional\n%s: %s\nDescription: %s\n", pkg->name,
	    pkg->version, pkg->packager ? pkg->packager :
	    "dkimrot <dkimrot@localhost>", kib, DK_DEB_COMMIT_FIELD,
	    pkg->vcs, summary) == -1)
		return -1;
	if (pkg->description != NULL && *pkg->description != '\0' &&
	    (put_long(b, pkg->description) == -1 ||
	    dk_buf_puts(b, " .\n") == -1))
		return -1;
	return dk_buf_printf(b, " Generated by dkimrot %s from commit\n %s "
	    "of the key repository.\n Do not edit the installed files: the "
	    "next version replaces them.\n", DKIMROT_VERSION, pkg->vcs);
}

static int
put_controltar(const struct dk_rpm_pkg *pkg, const char *summary,
    size_t kib, struct dk_buf *b)
{
	struct dk_buf ctl = { 0 }, conf = { 0 }, inst = { 0 }, rm = { 0 };
	struct archive *a = NULL;
	size_t i;
	int rc = -1;

	if (put_control(&ctl, pkg, summary, kib) == -1 ||
	    put_postinst(&inst, pkg) == -1 ||
	    (pkg->post != NULL && *pkg->post != '\0' &&
	    put_postrm(&rm, pkg) == -1))
		goto oom;
	for (i = 0; i < pkg->nfiles; i++)
		if ((pkg->files[i].flags & (DK_RPM_CONFIG | DK_RPM_DIR)) ==
		    DK_RPM_CONFIG && dk_buf_printf(&conf, "%s\n",
		    pkg->files[i].path) == -1)
			goto oom;
	if ((a = tar_open(b, DK_COMPRESS_GZIP, "control.tar")) == NULL)
		goto done;
	if (add(a, "control.tar", "./", 0755, 1, NULL, 0, pkg->time) ||
	    add(a, "control.tar", "./control", 0644, 0, ctl.data, ctl.len,
	    pkg->time) ||
	    (conf.len > 0 && add(a, "control.tar", "./conffiles", 0644, 0,
	    conf.data, conf.len, pkg->time)) ||
	    add(a, "control.tar", "./postinst", 0755, 0, inst.data, inst.len,
	    pkg->time) ||
	    (rm.len > 0 && add(a, "control.tar", "./postrm", 0755, 0,
	    rm.data, rm.len, pkg->time))) {
		archive_write_free(a);
		goto done;
	}
	rc = tar_close(a, "control.tar");
	goto done;
oom:
	dk_error_set("out of memory");
done:
	dk_buf_dispose(&ctl);
	dk_buf_dispose(&conf);
	dk_buf_dispose(&inst);
	dk_buf_dispose(&rm);
	return rc;
}

/* The ar archive: debian-binary, control.tar.gz, data.tar.X. */
static int
put_ar(struct dk_buf *out, const struct dk_buf *ctl,
    const struct dk_buf *data, int compress, time_t t)
{
	static const char version[] = "2.0\n";
	const char *dname = compress == DK_COMPRESS_XZ ? "data.tar.xz" :
	    compress == DK_COMPRESS_ZSTD ? "data.tar.zst" : "data.tar.gz";
	struct archive *a;
	int rc;

	if ((a = archive_write_new()) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	/* Not padded to a tar block: an ar archive ends with its member. */
	if (archive_write_set_format_ar_svr4(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, to_buf, NULL) != ARCHIVE_OK) {
		la_fail(a, "the .deb");
		archive_write_free(a);
		return -1;
	}
	rc = add(a, "the .deb", "debian-binary", 0644, 0, version,
	    sizeof(version) - 1, t);
	if (rc == 0)
		rc = add(a, "the .deb", "control.tar.gz", 0644, 0, ctl->data,
		    ctl->len, t);
	if (rc == 0)
		rc = add(a, "the .deb", dname, 0644, 0, data->data, data->len,
		    t);
	if (tar_close(a, "the .deb") != 0)
		rc = -1;
	return rc;
}

int
dk_deb_build(const struct dk_rpm_pkg *pkg, const char *summary,
    const char *outdir, char **out)
{
	struct dk_buf ctl = { 0 }, data = { 0 }, deb = { 0 };
	struct entry *v = NULL;
	char file[1024], path[4096], *spec = NULL;
	size_t n = 0, kib;
	int rc, len;

	if (out != NULL)
		*out = NULL;
	/* The values pass the checks of the RPM's spec, or none. */
	if ((rc = dk_rpm_spec_render(dk_spec_dkim_keys_public, pkg,
	    &spec)) != 0)
		return rc;
	free(spec);
	if (summary == NULL || strchr(summary, '\n') != NULL) {
		dk_error_set("invalid summary for '%s'", pkg->name);
		return DK_EUSAGE;
	}
	len = snprintf(file, sizeof(file), "%s_%s_all.deb", pkg->name,
	    pkg->version);
	if (len < 0 || (size_t)len >= sizeof(file) ||
	    dk_path_join(path, sizeof(path), outdir, file) == -1) {
		dk_error_set("package name too long");
		return DK_EUSAGE;
	}
	if ((rc = entries(pkg, &v, &n)) != 0)
		return rc;
	rc = -1;
	if (put_data(pkg, v, n, &data, &kib) != 0 ||
	    put_controltar(pkg, summary, kib, &ctl) != 0 ||
	    put_ar(&deb, &ctl, &data, pkg->compress, pkg->time) != 0)
		goto done;
	if (dk_file_replace(path, deb.data, deb.len,
	    pkg->rpm_mode ? pkg->rpm_mode : 0644) != 0)
		goto done;
	if (out != NULL && (*out = strdup(path)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	dk_log_debug("built '%s'", path);
	rc = 0;
done:
	free(v);
	dk_buf_dispose(&ctl);
	/* The private package's bytes are key material. */
	dk_buf_wipe(&data);
	dk_buf_wipe(&deb);
	return rc;
}
