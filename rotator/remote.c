#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fault.h"
#include "common/file.h"
#include "common/log.h"
#include "rotator/git.h"
#include "rotator/keyrepo.h"
#include "rotator/remote.h"
#include "rotator/store.h"

#define UNPUSHED	".git/dkimrot.unpushed"

struct conf {
	struct dk_git_remote		rm;
	struct dk_git_remote_paths	paths;
};

static int
remote_of(const struct dk_keyrepo *r, struct conf *c)
{
	return dk_git_remote_conf(&c->rm, r->cfg, r->path, &c->paths);
}

int
dk_remote_configured(const struct dk_keyrepo *r)
{
	return r->cfg != NULL && r->cfg->git_remote[0] != '\0';
}

static int
stamp_path(const struct dk_keyrepo *r, char *buf, size_t size)
{
	return dk_path_join(buf, size, r->path, UNPUSHED);
}

static int
stamp_remove(const struct dk_keyrepo *r)
{
	char path[PATH_MAX];

	if (stamp_path(r, path, sizeof(path)) != 0)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT) {
		dk_error_set_errno(errno, "cannot remove '%s'", path);
		return -1;
	}
	return dk_dir_sync_parent(path);
}

int
dk_remote_begin(struct dk_keyrepo *r)
{
	char path[PATH_MAX], line[DK_GIT_ID_LEN + 1];
	int n;

	if (!dk_remote_configured(r))
		return 0;
	n = snprintf(line, sizeof(line), "%s\n", r->head_unborn ? "" :
	    r->head);
	if (stamp_path(r, path, sizeof(path)) != 0)
		return -1;
	return dk_file_replace(path, line, (size_t)n, 0600);
}

int
dk_remote_end(struct dk_keyrepo *r)
{
	return dk_remote_configured(r) ? stamp_remove(r) : 0;
}

/*
 * Back to base: the branch (if HEAD is still the one commit made on it)
 * and keys/, work tree and index.  Idempotent, so that a crash half-way
 * is finished by the next run; the stamp goes last.
 */
static int
drop(struct dk_keyrepo *r, const char *base)
{
	char head[DK_GIT_ID_LEN], parent[DK_GIT_ID_LEN];
	bool unborn;
	int rc;

	if (dk_git_head(r->git, head, &unborn) != 0)
		return -1;
	if (!unborn && strcmp(head, base) != 0) {
		rc = dk_git_resolve(r->git, "HEAD~1", parent);
		if (rc != 0 && rc != DK_ENOTFOUND)
			return -1;
		if ((rc == DK_ENOTFOUND ? base[0] == '\0' :
		    strcmp(parent, base) == 0)) {
			if (dk_git_reset_branch(r->git, r->cfg->git_branch,
			    base, head) != 0)
				return -1;
			dk_log_info("dropped %.12s, which the remote does not "
			    "have", head);
		} else
			/* Someone committed on top: theirs to sort out. */
			dk_log_warn("%.12s is not the unpushed commit on "
			    "%.12s any more; left as it is", head, base);
	}
	if (dk_git_restore(r->git, DK_STORE_KEYS_DIR) != 0 ||
	    dk_fs_sync(r->path) != 0 || stamp_remove(r) != 0)
		return -1;
	return dk_git_head(r->git, r->head, &r->head_unborn);
}

/* A run that died between its commit and the end of its push. */
static int
drop_unpushed(struct dk_keyrepo *r)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	int rc;

	if (stamp_path(r, path, sizeof(path)) != 0)
		return -1;
	if ((rc = dk_file_read(path, 64, &buf, &len)) == DK_ENOTFOUND)
		return 0;
	if (rc != 0)
		return -1;
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len != 0 && len != DK_GIT_ID_LEN - 1) {
		dk_error_set("'%s' is damaged; remove it after checking that "
		    "HEAD is what the remote has", path);
		free(buf);
		return -1;
	}
	dk_log_warn("a dkimrot run died before its commit reached the "
	    "remote; its commit is dropped");
	rc = drop(r, buf);
	free(buf);
	return rc;
}

int
dk_remote_sync(struct dk_keyrepo *r, int *moved)
{
	struct conf c;
	size_t ahead, behind;
	int rc;

	*moved = 0;
	if (!dk_remote_configured(r))
		return 0;
	if (remote_of(r, &c) != 0)
		return -1;
	if (dk_git_check_branch(r->git, c.rm.branch) != 0 ||
	    drop_unpushed(r) != 0)
		return -1;
	if ((rc = dk_git_fetch(r->git, &c.rm)) != 0 && rc != DK_ENOTFOUND)
		return rc;
	if (rc == DK_ENOTFOUND) {
		dk_log_debug("'%s' has no branch '%s' yet: the first push "
		    "makes it", c.rm.url, c.rm.branch);
		return 0;
	}
	if (dk_git_standing(r->git, c.rm.branch, &ahead, &behind) != 0)
		return -1;
	if (ahead > 0 && behind > 0) {
		dk_error_set("'%s' and the remote's '%s' have diverged (%zu "
		    "and %zu commits of their own); reconcile them with git "
		    "(git pull --rebase, git push) and run again", c.rm.branch,
		    c.rm.url, ahead, behind);
		return -1;
	}
	if (behind == 0)
		return 0;
	if (dk_git_fast_forward(r->git, c.rm.branch) != 0)
		return -1;
	dk_log_info("fast-forwarded '%s' by %zu commit%s from '%s'",
	    c.rm.branch, behind, behind == 1 ? "" : "s", c.rm.url);
	*moved = 1;
	return dk_git_head(r->git, r->head, &r->head_unborn);
}

int
dk_remote_push(struct dk_keyrepo *r)
{
	struct conf c;
	char base[DK_GIT_ID_LEN + 1], path[PATH_MAX], *buf = NULL;
	char why[512];
	size_t len;
	int rc;

	if (!dk_remote_configured(r))
		return 0;
	if (remote_of(r, &c) != 0)
		return -1;
	rc = dk_git_push(r->git, &c.rm);
	DK_FAULT("after-push");
	if (rc == 0) {
		dk_log_info("pushed %.12s to '%s'", r->head, c.rm.url);
		return stamp_remove(r);
	}
	snprintf(why, sizeof(why), "%s", dk_error_last());
	if (stamp_path(r, path, sizeof(path)) != 0 ||
	    dk_file_read(path, 64, &buf, &len) != 0)
		return -1;
	snprintf(base, sizeof(base), "%.*s", (int)strcspn(buf, "\n"), buf);
	free(buf);
	if (drop(r, base) != 0)
		return -1;
	if (rc == DK_GIT_REJECTED) {
		dk_error_set("another host pushed to '%s' first; this run's "
		    "commit and its new keys were dropped (%s)", c.rm.url, why);
		return DK_ERACE;
	}
	dk_error_set("%s; this run's commit and its new keys were dropped",
	    why);
	return rc;
}

int
dk_remote_standing(struct dk_keyrepo *r, struct dk_remote_standing *st)
{
	struct conf c;
	int rc;

	memset(st, 0, sizeof(*st));
	if (remote_of(r, &c) != 0)
		return -1;
	if ((rc = dk_git_fetch(r->git, &c.rm)) == 0 || rc == DK_ENOTFOUND)
		st->fetched = 1;
	else
		dk_log_warn("%s; as last fetched:", dk_error_last());
	rc = dk_git_standing(r->git, c.rm.branch, &st->ahead, &st->behind);
	if (rc != 0 && rc != DK_ENOTFOUND)
		return -1;
	if (rc == DK_ENOTFOUND)
		st->state = "not on the remote";
	else if (st->ahead > 0 && st->behind > 0)
		st->state = "diverged";
	else if (st->ahead > 0)
		st->state = "ahead";
	else if (st->behind > 0)
		st->state = "behind";
	else
		st->state = "up to date";
	return 0;
}

static void
pause_randomly(int attempt)
{
	struct timespec ts;
	unsigned ms;

	/* Hosts that lost together must not try again together. */
	ms = 200u * (unsigned)attempt + arc4random_uniform(800);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
dk_remote_again(int attempt)
{
	if (attempt >= DK_REMOTE_ATTEMPTS) {
		dk_log_error("other hosts pushed first %d times; giving up, "
		    "the next run tries again", DK_REMOTE_ATTEMPTS);
		return 0;
	}
	dk_log_warn("planning again from the remote's head (attempt %d of "
	    "%d)", attempt + 1, DK_REMOTE_ATTEMPTS);
	pause_randomly(attempt);
	return 1;
}

int
dk_remote_retry(int (*fn)(int, char **), int argc, char **argv)
{
	int attempt, rc;

	for (attempt = 1;; attempt++) {
		optind = 0;	/* glibc: parse argv afresh */
		if ((rc = fn(argc, argv)) != DK_EXIT_AGAIN)
			return rc;
		if (!dk_remote_again(attempt))
			return DK_EXIT_TEMP;
	}
}
