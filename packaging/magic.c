#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <magic.h>

#include "common/error.h"
#include "common/file.h"
#include "packaging/magic.h"

/* A string no file of ours starts with: matches nothing we package. */
static const char rules[] = "0\tstring\t\\0dkimrot-none\tdkimrot-none\n";

/*
 * magic_compile() writes NAME.mgc into the working directory: do it in
 * a child, so this process's stays where it is.
 */
static int
compile(const char *dir)
{
	magic_t ms;
	pid_t pid;
	int status, rc;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		dk_error_set_errno(errno, "cannot fork");
		return -1;
	}
	if (pid == 0) {
		rc = 1;
		if (chdir(dir) == 0 && (ms = magic_open(MAGIC_NONE)) != NULL) {
			rc = magic_compile(ms, "none") == 0 ? 0 : 1;
			magic_close(ms);
		}
		_exit(rc);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		dk_error_set("cannot compile a magic database in '%s'", dir);
		return -1;
	}
	return 0;
}

int
dk_magic_none(const char *dir, char *path, size_t size)
{
	char src[4096];
	magic_t ms;
	int rc;

	if (dk_path_join(src, sizeof(src), dir, "none") != 0 ||
	    dk_path_join(path, size, dir, "none.mgc") != 0 ||
	    dk_file_create_nosync(src, rules, sizeof(rules) - 1, 0600) != 0 ||
	    compile(dir) != 0)
		return -1;
	/* As librpmbuild opens it (rpmfc.c): it must load, quietly. */
	if ((ms = magic_open(MAGIC_CHECK | MAGIC_COMPRESS |
	    MAGIC_NO_CHECK_TOKENS)) == NULL) {
		dk_error_set_errno(errno, "cannot open libmagic");
		return -1;
	}
	rc = magic_load(ms, path);
	if (rc != 0)
		dk_error_set("cannot load '%s': %s", path, magic_error(ms));
	magic_close(ms);
	return rc == 0 ? 0 : -1;
}
