/*
 * The build ledger of one 'dkimrot package' run (packaging/builds.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/tree.h"
#include "packaging/builds.h"
#include "packaging/deb.h"
#include "packaging/ledger.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "rotator/git.h"
#include "rotator/output.h"

static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };

const char *
dk_builds_key(const struct dk_builds *lb, const char *name)
{
	return dk_pkg_private(name) ? lb->kpriv : lb->kpub;
}

const char *
dk_builds_apt_key(const struct dk_builds *lb, const char *name)
{
	return dk_pkg_private(name) ? lb->kapriv : lb->kapub;
}

int
dk_builds_file(char *buf, size_t size, const char *name, size_t version)
{
	return dk_ledger_file(buf, size, DK_BUILD_RPM, name, version);
}

int
dk_builds_apt_dir(char *buf, size_t size, const struct dk_output *o,
    const char *name)
{
	return dk_path_join(buf, size, dk_output_pkg_dir(o, name), "apt");
}

/* The version of file, a build of name in format; 0 when it is none. */
static size_t
version_of(const char *file, const char *name, int format)
{
	char want[NAME_MAX + 1];
	size_t n = strlen(name);
	unsigned long long v;

	if (format == DK_BUILD_RPM)
		return dk_output_rpm_version(file, name);
	if (strncmp(file, name, n) != 0 || file[n] != '_' ||
	    file[n + 1] < '1' || file[n + 1] > '9')
		return 0;
	errno = 0;
	v = strtoull(file + n + 1, NULL, 10);
	if (errno != 0 || v > SIZE_MAX || dk_ledger_file(want, sizeof(want),
	    DK_BUILD_DEB, name, (size_t)v) != 0 || strcmp(want, file) != 0)
		return 0;
	return (size_t)v;
}

int
dk_builds_where(const struct dk_output *o, const struct dk_builds *lb,
    const char *name, int format, char *dir, size_t size, const char **key)
{
	int n;

	if (format == DK_BUILD_DEB) {
		*key = dk_builds_apt_key(lb, name);
		return dk_builds_apt_dir(dir, size, o, name);
	}
	*key = dk_builds_key(lb, name);
	n = snprintf(dir, size, "%s", dk_output_pkg_dir(o, name));
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", dk_output_pkg_dir(o, name));
		return -1;
	}
	return 0;
}

/* The commit a build of ours names: its VCS tag, its Dkimrot-Commit. */
static int
commit_of(const char *path, int format, const char *data, size_t len,
    char *buf, size_t size)
{
	char *control = NULL;
	int rc;

	if (format == DK_BUILD_RPM)
		return dk_rpm_query_vcs(path, buf, size);
	if (dk_deb_control_mem(data, len, &control) != 0)
		return -1;
	rc = dk_deb_field(control, DK_DEB_COMMIT_FIELD, buf, size);
	free(control);
	return rc;
}

/*
 * One file of an older output: 1 when adopted (it names a commit of
 * g), 0 when not, -1 on an error.
 */
static int
adopt_one(struct dk_git *g, struct dk_builds *lb, const char *dir,
    const char *key, const char *file, size_t i, int format)
{
	char path[PATH_MAX], vcs[DK_GIT_ID_LEN + 8], sum[DK_SHA256_HEX];
	char *data = NULL;
	size_t v, len = 0;
	int rc;

	if ((v = version_of(file, names[i], format)) == 0 ||
	    dk_path_join(path, sizeof(path), dir, file) != 0)
		return 0;
	/* A link, a FIFO, a second name: not adopted. */
	if (dk_tree_read(dir, file, DK_PKG_MAX, &data, &len) != 0) {
		dk_log_warn("not adopting '%s': %s", path, dk_error_last());
		return 0;
	}
	rc = 0;
	if (commit_of(path, format, data, len, vcs, sizeof(vcs)) != 0 ||
	    (rc = dk_git_has_commit(g, vcs)) != 1)
		goto done;
	if ((rc = dk_repo_sha256(data, len, sum)) == 0)
		rc = format == DK_BUILD_DEB ? dk_ledger_set_deb(&lb->l, key,
		    names[i], v, vcs, sum) : dk_ledger_set(&lb->l, key,
		    names[i], v, vcs, sum);
	/* Not a commit id as we write them: not adopted. */
	rc = rc == 0 ? 1 : rc == DK_EUSAGE ? 0 : -1;
done:
	dk_ledger_bytes_free(data, len);
	return rc;
}

/*
 * An output made before the ledger (packages there, no ledger yet):
 * the packages whose VCS tag (the .deb files: Dkimrot-Commit) names a
 * commit we hold, the rule of those versions, are adopted once, with
 * one warning; from then on only what dkimrot builds counts.  Anyone
 * who could plant a package before this first run could have replaced
 * one of ours with it just as well, so this trusts nothing the old
 * output did not already trust.
 */
static int
adopt(struct dk_git *g, const struct dk_output *o, struct dk_builds *lb)
{
	char dir[PATH_MAX];
	const char *key;
	struct dirent *de;
	size_t i, adopted = 0;
	DIR *d;
	int f, rc;

	for (i = 0; i < 4; i++) {
		f = i < 2 ? DK_BUILD_RPM : DK_BUILD_DEB;
		if (dk_builds_where(o, lb, names[i % 2], f, dir, sizeof(dir),
		    &key) != 0)
			return -1;
		if ((d = opendir(dir)) == NULL) {
			/* No apt repository: formats has no deb. */
			if (f == DK_BUILD_DEB && errno == ENOENT)
				continue;
			dk_error_set_errno(errno, "cannot read repository "
			    "'%s'", dir);
			return -1;
		}
		rc = 0;
		while (rc != -1 && (errno = 0, de = readdir(d)) != NULL)
			if ((rc = adopt_one(g, lb, dir, key, de->d_name, i % 2,
			    f)) == 1)
				adopted++;
		if (rc != -1 && errno != 0) {
			dk_error_set_errno(errno, "cannot read repository "
			    "'%s'", dir);
			rc = -1;
		}
		closedir(d);
		if (rc == -1)
			return -1;
	}
	if (dk_ledger_save(&lb->l, lb->repo) != 0)
		return -1;
	if (adopted > 0)
		dk_log_warn("no build ledger yet: adopted %zu packages already "
		    "in the output; from now on only packages dkimrot builds "
		    "are indexed", adopted);
	return 0;
}

/* The build named file of the stage: its package's name and format. */
static int
staged(const char *file, const char **name, int *format)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		*format = i < 2 ? DK_BUILD_RPM : DK_BUILD_DEB;
		*name = names[i % 2];
		if (version_of(file, *name, *format) != 0)
			return 1;
	}
	*format = DK_BUILD_RPM;
	for (i = 0; (*name = dk_pkg_part_name((unsigned)i)) != NULL; i++)
		if (version_of(file, *name, *format) != 0)
			return 1;
	return 0;
}

/*
 * A run killed between the ledger and the copy into the output (a kept
 * build re-signed, packaging/sign.c; a new build, dk_builds_publish())
 * left in the stage the bytes the ledger records: they are put in
 * place now, rather than leave a kept build "changed" for good.  Only
 * a file of the stage whose checksum is the ledger's for this run's
 * repositories, and only where the output holds other bytes.
 */
static int
roll_forward(const struct dk_output *o, struct dk_builds *lb)
{
	char dir[PATH_MAX], path[PATH_MAX], sum[DK_SHA256_HEX], *data;
	const struct dk_build *b;
	const char *key, *name;
	struct dirent *de;
	size_t len;
	DIR *d;
	int f, rc = 0;

	if ((d = opendir(lb->stage)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!staged(de->d_name, &name, &f) ||
		    dk_builds_where(o, lb, name, f, dir, sizeof(dir),
		    &key) != 0 ||
		    (b = dk_ledger_find(&lb->l, key, de->d_name)) == NULL ||
		    dk_ledger_verify(b, dir, NULL, NULL, NULL) ==
		    DK_BUILD_OURS)
			continue;
		data = NULL;
		if (dk_tree_read(lb->stage, de->d_name, DK_PKG_MAX, &data,
		    &len) != 0)
			continue;
		if (dk_repo_sha256(data, len, sum) == 0 &&
		    strcmp(sum, b->sha256) == 0 &&
		    (rc = dk_path_join(path, sizeof(path), dir,
		    de->d_name)) == 0 &&
		    (rc = dk_file_replace(path, data, len,
		    dk_pkg_private(name) ? 0640 : 0644)) == 0)
			dk_log_info("finished the interrupted write of '%s'",
			    path);
		dk_ledger_bytes_free(data, len);
	}
	closedir(d);
	return rc;
}

/*
 * The apt repository below the yum one named top into key: its
 * realpath(3), or top/apt while it does not exist.
 */
static int
apt_key(const char *top, char *key)
{
	char dir[PATH_MAX];

	if (dk_path_join(dir, sizeof(dir), top, "apt") != 0)
		return -1;
	if (realpath(dir, key) != NULL)
		return 0;
	if (errno == ENOENT) {
		memcpy(key, dir, sizeof(dir));
		return 0;
	}
	dk_error_set_errno(errno, "cannot use repository '%s'", dir);
	return -1;
}

/* What the stage holds of file, read to be copied out. */
static int
stage_read(struct dk_builds *lb, const char *file, char **data,
    size_t *len, char *sum)
{
	*data = NULL;
	*len = 0;
	if (dk_tree_read(lb->stage, file, DK_PKG_MAX, data, len) != 0 ||
	    dk_repo_sha256(*data, *len, sum) != 0)
		return -1;
	return 0;
}

int
dk_builds_publish(const struct dk_output *o, struct dk_builds *lb,
    size_t version, const char *commit, int debs,
    const char *const *parts, size_t nparts)
{
	struct staged_file {
		const char	*name;
		int		 format;
		char		 file[NAME_MAX + 1];
		char		*data;
		size_t		 len;
	} *s;
	char dir[PATH_MAX], path[PATH_MAX], sum[DK_SHA256_HEX];
	const char *key;
	size_t i, n = nparts + (debs ? 4 : 2);
	int rc = -1;

	if ((s = calloc(n, sizeof(*s))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	/* The parts first: dkim-keys-private names them. */
	for (i = 0; i < n; i++) {
		s[i].name = i < nparts ? parts[i] : names[(i - nparts) % 2];
		s[i].format = i < nparts + 2 ? DK_BUILD_RPM : DK_BUILD_DEB;
	}
	for (i = 0; i < n; i++) {
		if (dk_ledger_file(s[i].file, sizeof(s[i].file), s[i].format,
		    s[i].name, version) != 0 || dk_builds_where(o, lb,
		    s[i].name, s[i].format, dir, sizeof(dir), &key) != 0 ||
		    stage_read(lb, s[i].file, &s[i].data, &s[i].len,
		    sum) != 0 || (s[i].format == DK_BUILD_DEB ?
		    dk_ledger_set_deb(&lb->l, key, s[i].name, version, commit,
		    sum) : dk_ledger_set(&lb->l, key, s[i].name, version,
		    commit, sum)) != 0)
			goto done;
	}
	if (dk_ledger_save(&lb->l, lb->repo) != 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (dk_builds_where(o, lb, s[i].name, s[i].format, dir,
		    sizeof(dir), &key) != 0 || dk_path_join(path,
		    sizeof(path), dir, s[i].file) != 0 ||
		    dk_file_replace(path, s[i].data, s[i].len,
		    dk_pkg_private(s[i].name) ? 0640 : 0644) != 0)
			goto done;
		/* One copy fewer of a private package. */
		if (dk_path_join(path, sizeof(path), lb->stage, s[i].file) == 0)
			unlink(path);
	}
	rc = 0;
done:
	for (i = 0; i < n; i++)
		if (s[i].data != NULL)
			dk_ledger_bytes_free(s[i].data, s[i].len);
	free(s);
	return rc;
}

int
dk_builds_accept(const char *file, const char *sha256, void *arg)
{
	struct dk_builds *lb = arg;
	const struct dk_build *b;

	if ((b = dk_ledger_find(&lb->l, lb->key, file)) == NULL) {
		dk_log_warn("not indexing '%s/%s': dkimrot did not build it "
		    "(it is not in the build ledger)", lb->dir, file);
		return 0;
	}
	if (strcmp(b->sha256, sha256) != 0) {
		dk_log_warn("not indexing '%s/%s': its bytes changed since "
		    "dkimrot built it (the SHA-256 is not the build ledger's)",
		    lb->dir, file);
		return 0;
	}
	return 1;
}

void
dk_builds_pruned(const char *file, void *arg)
{
	struct dk_builds *lb = arg;

	lb->pruned |= dk_ledger_remove(&lb->l, lb->key, file);
}

/* The ledger (adopting an older output) and the stage, made empty. */
int
dk_builds_open(struct dk_git *g, const struct dk_output *o,
    struct dk_builds *lb)
{
	int rc;

	lb->repo = dk_git_workdir(g);
	if (realpath(o->priv, lb->kpriv) == NULL) {
		dk_error_set_errno(errno, "cannot use repository '%s'",
		    o->priv);
		return -1;
	}
	if (realpath(o->pub, lb->kpub) == NULL) {
		dk_error_set_errno(errno, "cannot use repository '%s'",
		    o->pub);
		return -1;
	}
	/* The apt repositories, below them (made when formats has deb). */
	if (apt_key(lb->kpriv, lb->kapriv) != 0 ||
	    apt_key(lb->kpub, lb->kapub) != 0)
		return -1;
	if (dk_path_join(lb->stage, sizeof(lb->stage), lb->repo,
	    ".git/dkimrot-stage") != 0)
		return -1;
	if ((rc = dk_ledger_load(&lb->l, lb->repo)) != 0 &&
	    rc != DK_ENOTFOUND)
		return rc;
	if (rc == 0 && roll_forward(o, lb) != 0)
		return -1;
	/* The rest is debris of a killed run. */
	dk_dir_remove(lb->stage);
	if (mkdir(lb->stage, 0700) == -1) {
		dk_error_set_errno(errno, "cannot create '%s'", lb->stage);
		return -1;
	}
	return rc == DK_ENOTFOUND ? adopt(g, o, lb) : 0;
}

void
dk_builds_close(struct dk_builds *lb)
{
	if (lb->stage[0] != '\0')
		dk_dir_remove(lb->stage);
	dk_ledger_dispose(&lb->l);
}

