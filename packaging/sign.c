/*
 * Which key signs a repository, and the packages of one repository
 * directory signed by it, kept builds included (packaging/sign.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
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

/* A build of ours: NAME-VERSION-RELEASE.noarch.rpm, a regular file. */
static int
ours(const char *dir, const char *file)
{
	static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };
	char path[PATH_MAX];
	struct stat st;
	size_t i, n = strlen(file), l;

	if (file[0] == '.' || n < 5 || strcmp(file + n - 4, ".rpm") != 0)
		return 0;
	for (i = 0; i < 2; i++) {
		l = strlen(names[i]);
		if (strncmp(file, names[i], l) == 0 && file[l] == '-' &&
		    file[l + 1] >= '0' && file[l + 1] <= '9')
			break;
	}
	if (i == 2 || dk_path_join(path, sizeof(path), dir, file) == -1 ||
	    lstat(path, &st) == -1)
		return 0;
	return S_ISREG(st.st_mode);
}

int
dk_sign_dir(const char *dir, const struct dk_gpg_signer *s, int *changed)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = -1, one;

	*changed = 0;
	if (s->key == NULL)
		return 0;
	if ((d = opendir(dir)) == NULL) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!ours(dir, de->d_name))
			continue;
		if (dk_path_join(path, sizeof(path), dir, de->d_name) == -1 ||
		    (rc = dk_rpm_sign(path, s, &one)) != 0)
			goto done;
		rc = -1;
		if (one) {
			dk_log_info("re-signed '%s' with key '%s'", path,
			    s->key);
			*changed = 1;
		}
	}
	if (errno != 0) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		goto done;
	}
	if (dk_path_join(path, sizeof(path), dir, DK_GPG_KEY_FILE) == -1 ||
	    (rc = dk_gpg_export(s->key, s->home, path)) != 0)
		goto done;
	rc = 0;
done:
	closedir(d);
	return rc;
}
