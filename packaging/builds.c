/*
 * The build ledger of one 'dkimrot package' run (packaging/builds.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "packaging/builds.h"
#include "packaging/ledger.h"
#include "packaging/output.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "rotator/git.h"

const char *
dk_builds_key(const struct dk_builds *lb, const char *name)
{
	return strcmp(name, DK_PKG_PRIVATE) == 0 ? lb->kpriv : lb->kpub;
}

int
dk_builds_file(char *buf, size_t size, const char *name, size_t version)
{
	int n;

	n = snprintf(buf, size, "%s-%zu-1.noarch.rpm", name, version);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", name);
		return -1;
	}
	return 0;
}

/*
 * An output made before the ledger (packages there, no ledger yet):
 * the packages whose VCS tag names a commit we hold, the rule of those
 * versions, are adopted once, with one warning; from then on only what
 * dkimrot builds counts.  Anyone who could plant a package before this
 * first run could have replaced one of ours with it just as well, so
 * this trusts nothing the old output did not already trust.
 */
static int
adopt(struct dk_git *g, const struct dk_output *o, struct dk_builds *lb)
{
	static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };
	char path[PATH_MAX], vcs[DK_GIT_ID_LEN + 8], sum[DK_SHA256_HEX];
	const char *dir;
	struct dirent *de;
	char *data;
	size_t i, v, len, adopted = 0;
	DIR *d;
	int rc;

	for (i = 0; i < 2; i++) {
		dir = dk_output_pkg_dir(o, names[i]);
		if ((d = opendir(dir)) == NULL) {
			dk_error_set_errno(errno, "cannot read repository "
			    "'%s'", dir);
			return -1;
		}
		rc = 0;
		while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
			if ((v = dk_output_rpm_version(de->d_name,
			    names[i])) == 0 || dk_path_join(path, sizeof(path),
			    dir, de->d_name) != 0 ||
			    dk_rpm_query_vcs(path, vcs, sizeof(vcs)) != 0)
				continue;
			if ((rc = dk_git_has_commit(g, vcs)) != 1) {
				rc = rc == -1 ? -1 : 0;
				continue;
			}
			/* A link, a FIFO, a second name: not adopted. */
			data = NULL;
			if (dk_tree_read(dir, de->d_name, DK_PKG_MAX, &data,
			    &len) != 0) {
				dk_log_warn("not adopting '%s': %s", path,
				    dk_error_last());
				continue;
			}
			if ((rc = dk_repo_sha256(data, len, sum)) == 0 &&
			    (rc = dk_ledger_set(&lb->l,
			    dk_builds_key(lb, names[i]), names[i], v, vcs,
			    sum)) == 0)
				adopted++;
			dk_ledger_bytes_free(data, len);
			/* Not a commit id as we write them: not adopted. */
			if (rc == DK_EUSAGE)
				rc = 0;
		}
		if (rc == 0 && errno != 0) {
			dk_error_set_errno(errno, "cannot read repository "
			    "'%s'", dir);
			rc = -1;
		}
		closedir(d);
		if (rc != 0)
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

/*
 * A run killed between the ledger and the copy into the output (a kept
 * build re-signed, packaging/sign.c; a new build, publish()) left in
 * the stage the bytes the ledger records: they are put in place now,
 * rather than leave a kept build "changed" for good.  Only a file of
 * the stage whose checksum is the ledger's for this run's repositories,
 * and only where the output holds other bytes.
 */
static int
roll_forward(const struct dk_output *o, struct dk_builds *lb)
{
	static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };
	char path[PATH_MAX], sum[DK_SHA256_HEX], *data;
	const struct dk_build *b;
	struct dirent *de;
	size_t i, len;
	DIR *d;
	int rc = 0;

	if ((d = opendir(lb->stage)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		for (i = 0; i < 2; i++)
			if (dk_output_rpm_version(de->d_name, names[i]) != 0)
				break;
		if (i == 2 || (b = dk_ledger_find(&lb->l, dk_builds_key(lb,
		    names[i]), de->d_name)) == NULL ||
		    dk_ledger_verify(b, dk_output_pkg_dir(o, names[i]), NULL,
		    NULL, NULL) == DK_BUILD_OURS)
			continue;
		data = NULL;
		if (dk_tree_read(lb->stage, de->d_name, DK_PKG_MAX, &data,
		    &len) != 0)
			continue;
		if (dk_repo_sha256(data, len, sum) == 0 &&
		    strcmp(sum, b->sha256) == 0 &&
		    (rc = dk_path_join(path, sizeof(path),
		    dk_output_pkg_dir(o, names[i]), de->d_name)) == 0 &&
		    (rc = dk_file_replace(path, data, len, i == 0 ? 0640 :
		    0644)) == 0)
			dk_log_info("finished the interrupted write of '%s'",
			    path);
		dk_ledger_bytes_free(data, len);
	}
	closedir(d);
	return rc;
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

