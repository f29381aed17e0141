#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
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
