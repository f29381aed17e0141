/*
 * The hooks of the key repository: where git looks for them, running one
 * (rotator/hook.c starts it) and installing one in .git/hooks.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "rotator/git_int.h"
#include "rotator/hook.h"

/* A hook name: letters, digits and '-' ("post-commit"), nothing else. */
static int
hook_name_check(const char *name)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			break;
	if (p == name || *p != '\0') {
		dk_error_set("invalid hook name '%s'", name);
		return -1;
	}
	return 0;
}

/*
 * Where git looks for hooks: core.hooksPath (relative to the work tree,
 * where hooks run) if set, else .git/hooks.  *custom says which.
 */
static int
hooks_dir(struct dk_git *g, char *dir, size_t size, int *custom)
{
	git_config *cfg = NULL;
	git_buf p = { 0 };
	int err, n, rc = -1;

	*custom = 0;
	if (git_repository_config_snapshot(&cfg, g->repo) < 0) {
		dk_error_set_git("cannot read the configuration of '%s'",
		    g->workdir);
		goto done;
	}
	err = git_config_get_path(&p, cfg, "core.hooksPath");
	if (err == 0 && p.size > 0) {
		*custom = 1;
		if (p.ptr[0] == '/')
			n = snprintf(dir, size, "%s", p.ptr);
		else
			n = snprintf(dir, size, "%s/%s", g->workdir, p.ptr);
	} else if (err == 0 || err == GIT_ENOTFOUND) {
		git_buf_dispose(&p);
		if (git_repository_item_path(&p, g->repo,
		    GIT_REPOSITORY_ITEM_HOOKS) < 0) {
			dk_error_set_git("cannot find the hooks of '%s'",
			    g->workdir);
			goto done;
		}
		n = snprintf(dir, size, "%s", p.ptr);
	} else {
		dk_error_set_git("cannot read core.hooksPath of '%s'",
		    g->workdir);
		goto done;
	}
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("hooks directory of '%s' too long", g->workdir);
		goto done;
	}
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	rc = 0;
done:
	git_error_clear();
	git_buf_dispose(&p);
	git_config_free(cfg);
	return rc;
}

int
dk_git_run_hook(struct dk_git *g, const char *name, int *status)
{
	char dir[PATH_MAX], prog[PATH_MAX];
	struct stat st;
	int custom;

	*status = 0;
	if (hook_name_check(name) == -1 ||
	    hooks_dir(g, dir, sizeof(dir), &custom) == -1 ||
	    dk_path_join(prog, sizeof(prog), dir, name) == -1)
		return -1;
	if (stat(prog, &st) == -1 || !S_ISREG(st.st_mode)) {
		dk_error_set("no hook '%s'", prog);
		return DK_ENOTFOUND;
	}
	if (access(prog, X_OK) == -1) {
		dk_log_warn("hook '%s' ignored: not executable", prog);
		dk_error_set("hook '%s' is not executable", prog);
		return DK_ENOTFOUND;
	}
	return dk_hook_exec(prog, g->workdir, status);
}

int
dk_git_install_hook(struct dk_git *g, const char *name, const char *content)
{
	char dir[PATH_MAX], own[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	char path[PATH_MAX];
	git_buf p = { 0 };
	int custom, n;

	if (hook_name_check(name) == -1 ||
	    hooks_dir(g, dir, sizeof(dir), &custom) == -1)
		return -1;
	if (git_repository_item_path(&p, g->repo,
	    GIT_REPOSITORY_ITEM_HOOKS) < 0) {
		dk_error_set_git("cannot find the hooks of '%s'", g->workdir);
		return -1;
	}
	n = snprintf(own, sizeof(own), "%s", p.ptr);
	git_buf_dispose(&p);
	if (n < 0 || (size_t)n >= sizeof(own)) {
		dk_error_set("hooks directory of '%s' too long", g->workdir);
		return -1;
	}
	if (dk_dir_make(own, 0700) == -1)
		return -1;
	if (custom && (realpath(dir, a) == NULL || realpath(own, b) == NULL ||
	    strcmp(a, b) != 0)) {
		dk_error_set("cannot install hook '%s': core.hooksPath of "
		    "'%s' is '%s', where git runs hooks instead of '%s'",
		    name, g->workdir, dir, own);
		return -1;
	}
	if (dk_path_join(path, sizeof(path), own, name) == -1)
		return -1;
	return dk_file_replace(path, content, strlen(content), 0755);
}
