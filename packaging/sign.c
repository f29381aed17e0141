/*
 * Which key signs a repository, and the packages of one repository
 * directory signed by it, kept builds included (packaging/sign.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/fault.h"
#include "common/file.h"
#include "common/log.h"
#include "packaging/ledger.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "packaging/sign.h"
#include "rotator/output.h"

int
dk_sign_setup(const char *repo, const struct dk_packaging_conf *pc,
    struct dk_gpg_signer *s)
{
	char home[PATH_MAX];
	const char *h = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	if (pc->sign_key == NULL || pc->sign_key[0] == '\0') {
		dk_log_warn("packages and repository metadata are not signed "
		    "(packaging.sign_key is empty): clients cannot use "
		    "gpgcheck");
		return 0;
	}
	if (pc->gnupg_home != NULL && pc->gnupg_home[0] != '\0') {
		if (pc->gnupg_home[0] == '/')
			rc = snprintf(home, sizeof(home), "%s",
			    pc->gnupg_home) >= (int)sizeof(home) ? -1 : 0;
		else
			rc = dk_path_join(home, sizeof(home), repo,
			    pc->gnupg_home);
		if (rc != 0) {
			dk_error_set("gnupg home '%s' is too long",
			    pc->gnupg_home);
			return -1;
		}
		h = home;
	}
	return dk_gpg_signer_open(s, pc->sign_key, h);
}

/*
 * A copy of dir/file (its bytes checked against the build ledger, b)
 * signed in the vault's stage, then put back into dir in one rename:
 * gpg signs only bytes that were checked, never a file someone with a
 * writable output directory may swap between a check and the
 * signature.  The ledger learns the new checksum before the new bytes
 * are in dir, so a crash between the two leaves the old file "changed"
 * (left out) and the next build of its commit repairs it.  *one: it
 * was signed now.
 */
static int
sign_one(const char *dir, const struct dk_build *b, const char *data,
    size_t len, const struct dk_gpg_signer *s, struct dk_ledger *l,
    const char *repo, const char *stage, int *one)
{
	char tmp[PATH_MAX], path[PATH_MAX], sum[DK_SHA256_HEX], *sig = NULL;
	size_t n = 0;
	int rc = -1;

	*one = 0;
	if (dk_path_join(tmp, sizeof(tmp), stage, b->file) != 0 ||
	    dk_path_join(path, sizeof(path), dir, b->file) != 0)
		return -1;
	unlink(tmp);
	if (dk_file_create_nosync(tmp, data, len, 0600) != 0 ||
	    dk_rpm_sign(tmp, s, one) != 0)
		goto done;
	if (!*one) {
		rc = 0;
		goto done;
	}
	/*
	 * On disk before the ledger names it: after a crash the next run
	 * finds it there and finishes the copy (cmd_package.c).
	 */
	if (dk_file_read(tmp, len + (64u << 10) + len / 2, &sig, &n) != 0 ||
	    dk_fs_sync(stage) != 0 || dk_repo_sha256(sig, n, sum) != 0 ||
	    dk_ledger_set(l, b->dir, b->name, b->version, b->commit,
	    sum) != 0 || dk_ledger_save(l, repo) != 0)
		goto done;
	DK_FAULT("mid-resign");
	if (dk_file_replace(path, sig, n, dk_pkg_private(b->name) ?
	    0640 : 0644) != 0)
		goto done;
	rc = 0;
done:
	if (sig != NULL)
		dk_ledger_bytes_free(sig, n);
	unlink(tmp);
	return rc;
}

int
dk_sign_dir(const char *dir, const char *key, const struct dk_gpg_signer *s,
    struct dk_ledger *l, const char *repo, const char *stage, int *changed)
{
	char path[PATH_MAX], *data;
	struct dk_build b;
	size_t i, len;
	int one, rc;

	*changed = 0;
	if (s->key == NULL)
		return 0;
	for (i = 0; i < l->n; i++) {
		/* A .deb is not signed: its apt index is (apt.h). */
		if (strcmp(l->b[i].dir, key) != 0 ||
		    l->b[i].format != DK_BUILD_RPM)
			continue;
		/*
		 * Anything else (not ours, changed, gone) is never signed;
		 * the index leaves it out with its warning.
		 */
		data = NULL;
		if (dk_ledger_verify(&l->b[i], dir, NULL, &data, &len) !=
		    DK_BUILD_OURS)
			continue;
		/* A copy: sign_one() rewrites the line. */
		b = l->b[i];
		rc = dk_path_join(path, sizeof(path), dir, b.file) != 0 ? -1 :
		    sign_one(dir, &b, data, len, s, l, repo, stage, &one);
		dk_ledger_bytes_free(data, len);
		if (rc != 0)
			return -1;
		if (one) {
			dk_log_info("re-signed '%s' with key '%s'", path,
			    s->key);
			*changed = 1;
		}
	}
	if (dk_path_join(path, sizeof(path), dir, DK_GPG_KEY_FILE) == -1 ||
	    dk_gpg_export(s->key, s->home, path) != 0)
		return -1;
	return 0;
}
