#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "packaging/output.h"

int
dk_output_dir(const char *repo, const char *opt, const struct dk_config *cfg,
    char *buf, size_t size)
{
	const char *dir = opt != NULL ? opt : cfg->packaging.output;
	int n;

	if (dir[0] != '/' && opt == NULL)
		return dk_path_join(buf, size, repo, dir);
	n = snprintf(buf, size, "%s", dir);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	return 0;
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

bool
dk_output_built(const char *dir, size_t version)
{
	char path[PATH_MAX];

	return dk_output_rpm_path(path, sizeof(path), dir, DK_PKG_PRIVATE,
	    version) == 0 && access(path, F_OK) == 0 &&
	    dk_output_rpm_path(path, sizeof(path), dir, DK_PKG_PUBLIC,
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

bool
dk_output_indexed(const char *dir, size_t version)
{
	static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };
	char path[PATH_MAX];
	struct stat md, pkg;
	size_t i;

	if (dk_path_join(path, sizeof(path), dir, "repodata/repomd.xml") != 0 ||
	    stat(path, &md) == -1)
		return false;
	for (i = 0; i < 2; i++) {
		if (dk_output_rpm_path(path, sizeof(path), dir, names[i],
		    version) != 0 || stat(path, &pkg) == -1 ||
		    !not_older(&md, &pkg))
			return false;
	}
	return true;
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
