/*
 * Repository metadata with libcreaterepo_c (the only user of it).  The
 * library reads packages with librpm, so every call runs between
 * dk_rpm_enter() and dk_rpm_leave() (packaging/rpm.c owns librpm).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <createrepo_c/createrepo_c.h>

#include "common/error.h"
#include "common/fault.h"
#include "common/file.h"
#include "common/gpg.h"
#include "common/log.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "rotator/output.h"

#define TMP_DIR		".repodata.tmp"
#define OLD_DIR		".repodata.old"
#define CHANGELOGS	10	/* entries in other.xml, as createrepo_c */

struct entry {
	char		*file;		/* name in the directory */
	cr_Package	*pkg;
	int		 keep;
};

static void
glog(const gchar *domain, GLogLevelFlags level, const gchar *msg,
    gpointer data)
{
	dk_log_debug("createrepo_c: %s", msg);
}

/* Takes the GError's message as ours and frees it. */
static int
gfail(GError **err, const char *what, const char *subject)
{
	dk_error_set("cannot %s '%s': %s", what, subject,
	    *err != NULL ? (*err)->message : "unknown error");
	g_clear_error(err);
	return -1;
}

static int
is_package(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	size_t n = strlen(name);

	if (name[0] == '.' || n < 5 || strcmp(name + n - 4, ".rpm") != 0)
		return 0;
	if (dk_path_join(path, sizeof(path), dir, name) == -1 ||
	    lstat(path, &st) == -1)
		return 0;
	return S_ISREG(st.st_mode);
}

static void
free_entries(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].file);
		cr_package_free(e[i].pkg);
	}
	free(e);
}

static int
read_entry(const char *dir, struct entry *e)
{
	char path[PATH_MAX];
	GError *err = NULL;

	if (dk_path_join(path, sizeof(path), dir, e->file) == -1)
		return -1;
	e->pkg = cr_package_from_rpm(path, CR_CHECKSUM_SHA256, e->file, NULL,
	    CHANGELOGS, NULL, CR_HDRR_NONE, &err);
	if (e->pkg == NULL)
		return gfail(&err, "read package", path);
	return 0;
}

/* The names of the packages in dir, nothing read yet. */
static int
scan(const char *dir, struct entry **out, size_t *nout)
{
	struct entry *e = NULL, *ne;
	struct dirent *de;
	size_t n = 0, cap = 0;
	DIR *d;
	int rc = -1;

	if ((d = opendir(dir)) == NULL) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!is_package(dir, de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((ne = realloc(e, cap * sizeof(*e))) == NULL) {
				dk_error_set("out of memory");
				goto done;
			}
			e = ne;
		}
		memset(&e[n], 0, sizeof(e[n]));
		if ((e[n].file = strdup(de->d_name)) == NULL) {
			dk_error_set("out of memory");
			goto done;
		}
		n++;
	}
	if (errno != 0) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		goto done;
	}
	*out = e;
	*nout = n;
	e = NULL;
	n = 0;
	rc = 0;
done:
	free_entries(e, n);
	closedir(d);
	return rc;
}

/* Drops entry i, keeping the order of the others. */
static void
drop(struct entry *e, size_t *n, size_t i)
{
	free(e[i].file);
	cr_package_free(e[i].pkg);
	memmove(&e[i], &e[i + 1], (*n - i - 1) * sizeof(*e));
	(*n)--;
}

/* Reads every header; with a filter, a wrong one is left out. */
/* A package named pkg belongs in the repository of name: its parts too. */
static bool
belongs(const char *pkg, const char *name)
{
	return strcmp(pkg, name) == 0 || (strcmp(name, DK_PKG_PRIVATE) == 0 &&
	    dk_pkg_part_index(pkg) >= 0);
}

static int
read_entries(const char *dir, const struct dk_repo_opts *o, struct entry *e,
    size_t *n)
{
	size_t i = 0;

	while (i < *n) {
		if (read_entry(dir, &e[i]) == -1) {
			if (o->accept == NULL && o->name == NULL)
				return -1;
			dk_log_warn("not indexing it: %s", dk_error_last());
			drop(e, n, i);
			continue;
		}
		if (o->name != NULL && !belongs(e[i].pkg->name, o->name)) {
			dk_log_warn("not indexing '%s/%s': a package named "
			    "'%s' has no place in the %s repository", dir,
			    e[i].file, e[i].pkg->name, o->name);
			drop(e, n, i);
			continue;
		}
		/*
		 * Only packages this key repository built are indexed:
		 * anyone who can write into the directory could otherwise
		 * plant a dkim-keys-private-99 whose %post runs as root on
		 * every mail server.  pkgId is the SHA-256 of the bytes
		 * read, the ones primary.xml will vouch for.
		 */
		if (o->accept != NULL && !o->accept(e[i].file, e[i].pkg->pkgId,
		    o->arg)) {
			drop(e, n, i);
			continue;
		}
		i++;
	}
	return 0;
}

/* By name, newest first (rpm's version order), then by file name. */
static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->pkg->name, y->pkg->name)) != 0)
		return c;
	if ((c = cr_cmp_evr(y->pkg->epoch, y->pkg->version, y->pkg->release,
	    x->pkg->epoch, x->pkg->version, x->pkg->release)) != 0)
		return c;
	return strcmp(x->file, y->file);
}

/* NULL and "" alike: a missing epoch or release. */
static const char *
evr(const char *s, const char *none)
{
	return s != NULL && s[0] != '\0' ? s : none;
}

/* Whether a kept dkim-keys-private requires exactly the build part. */
static bool
required(const struct entry *e, size_t n, const cr_Package *part)
{
	const cr_Dependency *d;
	const GSList *l;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!e[i].keep || strcmp(e[i].pkg->name, DK_PKG_PRIVATE) != 0)
			continue;
		for (l = e[i].pkg->requires; l != NULL; l = l->next) {
			d = l->data;
			if (strcmp(d->name, part->name) == 0 &&
			    d->flags != NULL && strcmp(d->flags, "EQ") == 0 &&
			    cr_cmp_evr(evr(d->epoch, "0"), d->version,
			    evr(d->release, ""), evr(part->epoch, "0"),
			    part->version, evr(part->release, "")) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Marks the keep newest of each name; returns how many are kept.  A
 * part of dkim-keys-private (packaging/parts.h) is kept while a kept
 * build of dkim-keys-private requires it, at its exact version: the
 * closure of what the kept builds install, and nothing older.  A part
 * changes about once a rotate_every, its dkim-keys-private every day,
 * so keep newest of each part held builds that no kept build names
 * (after a year of 10,000 domains in 30 parts, 99 of the 137 files,
 * read, hashed and listed in filelists.xml by every run and downloaded
 * by every client).  The newest build of each part in use is always
 * required by the newest dkim-keys-private, and a part no kept build
 * requires (parts turned off or fewer) leaves with the last one that
 * did.  Without a kept dkim-keys-private here (not built yet, or not
 * indexed) the parts keep their keep newest.
 */
static size_t
mark(struct entry *e, size_t n, int keep)
{
	size_t i, kept = 0;
	bool mains = false;
	int rank = 0;

	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_entry);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(e[i].pkg->name, e[i - 1].pkg->name) != 0)
			rank = 0;
		e[i].keep = keep == 0 || rank++ < keep;
		if (e[i].keep && strcmp(e[i].pkg->name, DK_PKG_PRIVATE) == 0)
			mains = true;
	}
	for (i = 0; i < n; i++) {
		if (keep != 0 && mains &&
		    dk_pkg_part_index(e[i].pkg->name) >= 0)
			e[i].keep = required(e, n, e[i].pkg);
		kept += e[i].keep;
	}
	return kept;
}

/* One of primary/filelists/other, compressed, named by its checksum. */
static int
write_xml(const char *tmp, cr_XmlFileType type, const char *name,
    struct entry *e, size_t n, size_t kept, cr_Repomd *md)
{
	char path[PATH_MAX], file[64];
	cr_ContentStat *stat = NULL;
	cr_RepomdRecord *rec = NULL;
	cr_XmlFile *f = NULL;
	GError *err = NULL;
	size_t i;
	int w, rc = -1;

	w = snprintf(file, sizeof(file), "%s.xml.gz", name);
	if (w < 0 || (size_t)w >= sizeof(file) ||
	    dk_path_join(path, sizeof(path), tmp, file) == -1)
		return -1;
	if ((stat = cr_contentstat_new(CR_CHECKSUM_SHA256, &err)) == NULL ||
	    (f = cr_xmlfile_sopen(path, type, CR_CW_GZ_COMPRESSION, stat,
	    &err)) == NULL ||
	    cr_xmlfile_set_num_of_pkgs(f, (long)kept, &err) != CRE_OK) {
		gfail(&err, "write", path);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (e[i].keep && cr_xmlfile_add_pkg(f, e[i].pkg, &err) !=
		    CRE_OK) {
			gfail(&err, "write", path);
			goto done;
		}
	}
	w = cr_xmlfile_close(f, &err);
	f = NULL;
	if (w != CRE_OK) {
		gfail(&err, "write", path);
		goto done;
	}
	rec = cr_repomd_record_new(name, path);
	cr_repomd_record_load_contentstat(rec, stat);
	if (cr_repomd_record_fill(rec, CR_CHECKSUM_SHA256, &err) != CRE_OK ||
	    cr_repomd_record_rename_file(rec, &err) != CRE_OK) {
		gfail(&err, "write", path);
		goto done;
	}
	cr_repomd_set_record(md, rec);
	rec = NULL;
	rc = 0;
done:
	if (f != NULL)
		cr_xmlfile_close(f, NULL);
	cr_repomd_record_free(rec);
	if (stat != NULL)
		cr_contentstat_free(stat, NULL);
	return rc;
}

/* Every file mode (a web server serves them) and on disk before swap. */
static int
sync_files(const char *dir, mode_t mode)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd, rc = -1;

	if ((d = opendir(dir)) == NULL) {
		dk_error_set_errno(errno, "cannot read '%s'", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (dk_path_join(path, sizeof(path), dir, de->d_name) == -1)
			goto done;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 || fchmod(fd, mode) == -1 || fsync(fd) == -1) {
			dk_error_set_errno(errno, "cannot write '%s'", path);
			if (fd != -1)
				close(fd);
			goto done;
		}
		close(fd);
	}
	rc = dk_dir_sync(dir);
done:
	closedir(d);
	return rc;
}

static int
write_metadata(const char *tmp, struct entry *e, size_t n, size_t kept,
    mode_t mode, const struct dk_gpg_signer *s)
{
	static const struct { cr_XmlFileType type; const char *name; } x[] = {
		{ CR_XMLFILE_PRIMARY, "primary" },
		{ CR_XMLFILE_FILELISTS, "filelists" },
		{ CR_XMLFILE_OTHER, "other" },
	};
	char path[PATH_MAX], asc[PATH_MAX], *xml = NULL;
	cr_Repomd *md;
	GError *err = NULL;
	size_t i;
	int rc = -1;

	md = cr_repomd_new();
	/*
	 * x wherever r: 0644 gives 0755, 0640 gives 0750; chmod too, as the
	 * umask (077, dkimrot.c) narrows what mkdir makes.
	 */
	if (mkdir(tmp, mode | (mode & 0444) >> 2) == -1 ||
	    chmod(tmp, mode | (mode & 0444) >> 2) == -1) {
		dk_error_set_errno(errno, "cannot create '%s'", tmp);
		goto done;
	}
	for (i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		if (write_xml(tmp, x[i].type, x[i].name, e, n, kept, md) == -1)
			goto done;
	cr_repomd_sort_records(md);
	if ((xml = cr_xml_dump_repomd(md, &err)) == NULL) {
		gfail(&err, "write", "repomd.xml");
		goto done;
	}
	if (dk_path_join(path, sizeof(path), tmp, "repomd.xml") == -1 ||
	    dk_file_create(path, xml, strlen(xml), mode) != 0)
		goto done;
	/*
	 * repo_gpgcheck: the signature is made here, before the swap, so
	 * a client never sees a repomd.xml without its own signature.
	 */
	if (s != NULL && s->key != NULL &&
	    (dk_path_join(asc, sizeof(asc), tmp, "repomd.xml.asc") == -1 ||
	    dk_gpg_sign_detached(s, path, asc) == -1))
		goto done;
	if (sync_files(tmp, mode) == -1)
		goto done;
	rc = 0;
done:
	g_free(xml);
	cr_repomd_free(md);
	return rc;
}

/* repodata/ becomes tmp's contents in one step; the old one is removed. */
static int
swap(const char *dir, const char *tmp, const char *final)
{
	char old[PATH_MAX];

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
		dk_dir_remove(tmp);
		return dk_dir_sync(dir);
	}
	if (errno == ENOENT) {
		if (rename(tmp, final) == -1)
			goto fail;
		return dk_dir_sync(dir);
	}
	if (errno != EINVAL && errno != ENOSYS)
		goto fail;
	/* No RENAME_EXCHANGE here: two renames, a short window. */
	if (dk_path_join(old, sizeof(old), dir, OLD_DIR) == -1)
		return -1;
	dk_dir_remove(old);
	if (rename(final, old) == -1 || rename(tmp, final) == -1)
		goto fail;
	dk_dir_remove(old);
	return dk_dir_sync(dir);
fail:
	dk_error_set_errno(errno, "cannot replace '%s'", final);
	return -1;
}

/* After the swap no metadata names them: the old builds can go. */
static void
prune(const char *dir, const struct dk_repo_opts *o, struct entry *e,
    size_t n)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].keep)
			continue;
		if (dk_path_join(path, sizeof(path), dir, e[i].file) == -1)
			continue;
		if (unlink(path) == -1)
			dk_log_warn("cannot remove old package '%s': %s", path,
			    strerror(errno));
		else {
			dk_log_info("removed old package '%s'", path);
			if (o->pruned != NULL)
				o->pruned(e[i].file, o->arg);
		}
	}
}

int
dk_repo_update(const char *dir, int keep_builds,
    const struct dk_gpg_signer *s)
{
	struct dk_repo_opts o;

	memset(&o, 0, sizeof(o));
	o.keep_builds = keep_builds;
	o.mode = 0644;
	o.signer = s;
	return dk_repo_update_opts(dir, &o);
}

int
dk_repo_update_opts(const char *dir, const struct dk_repo_opts *o)
{
	static int inited;
	int keep_builds = o->keep_builds;
	char tmp[PATH_MAX], final[PATH_MAX];
	struct entry *e = NULL;
	size_t n = 0, kept;
	int locked = 0, rc = -1;

	if (keep_builds < 0) {
		dk_error_set("invalid keep_builds %d: must be 0 (all) or more",
		    keep_builds);
		return DK_EUSAGE;
	}
	if (dk_path_join(tmp, sizeof(tmp), dir, TMP_DIR) == -1 ||
	    dk_path_join(final, sizeof(final), dir, "repodata") == -1)
		return -1;
	if (scan(dir, &e, &n) == -1)
		return -1;
	if (dk_rpm_enter() == -1)
		goto done;
	locked = 1;
	if (!inited) {
		g_log_set_handler("C_CREATEREPOLIB", G_LOG_LEVEL_MASK |
		    G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, glog, NULL);
		/* Once per process: the library keeps its rpmts till exit. */
		cr_xml_dump_init();
		cr_package_parser_init();
		inited = 1;
	}
	/* Debris of an interrupted run. */
	dk_dir_remove(tmp);
	if (read_entries(dir, o, e, &n) == -1)
		goto done;
	kept = mark(e, n, keep_builds);
	if (write_metadata(tmp, e, n, kept, o->mode != 0 ? o->mode : 0644,
	    o->signer) == -1)
		goto done;
	DK_FAULT("mid-repodata");
	if (swap(dir, tmp, final) == -1)
		goto done;
	prune(dir, o, e, n);
	if (kept < n && dk_dir_sync(dir) == -1)
		goto done;
	dk_log_debug("repository '%s': %zu packages", dir, kept);
	rc = 0;
done:
	if (locked) {
		if (rc != 0)
			dk_dir_remove(tmp);
		dk_rpm_leave();
	}
	free_entries(e, n);
	return rc;
}

int
dk_repo_sha256(const void *data, size_t len, char out[65])
{
	cr_ChecksumCtx *ctx;
	GError *err = NULL;
	char *hex;

	if ((ctx = cr_checksum_new(CR_CHECKSUM_SHA256, &err)) == NULL)
		return gfail(&err, "compute", "SHA-256");
	if (cr_checksum_update(ctx, data, len, &err) != CRE_OK) {
		g_free(cr_checksum_final(ctx, NULL));
		return gfail(&err, "compute", "SHA-256");
	}
	if ((hex = cr_checksum_final(ctx, &err)) == NULL)
		return gfail(&err, "compute", "SHA-256");
	if (strlen(hex) != 64) {
		g_free(hex);
		dk_error_set("cannot compute 'SHA-256': %s",
		    "not 64 hex digits");
		return -1;
	}
	memcpy(out, hex, 65);
	g_free(hex);
	return 0;
}
