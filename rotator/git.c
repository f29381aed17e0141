/*
 * The key repository through libgit2: the handle (open, init, free) and
 * the checks every change makes first (the repository's state, the paths
 * it may touch, HEAD).  Commits, hooks and reads are in git_commit.c,
 * git_hook.c and git_read.c, behind rotator/git_int.h.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/file.h"
#include "rotator/git_int.h"

void
dk_error_set_git(const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char ctx[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	dk_error_set("%s: %s", ctx, e != NULL && e->message != NULL ?
	    e->message : "unknown libgit2 error");
	git_error_clear();
}

#define CACHE_MAX	(4 << 20)	/* libgit2's object cache, bytes */
#define MWINDOW		((size_t)16 << 20)	/* pack bytes mapped at once */
#define MWINDOW_MAX	((size_t)48 << 20)	/* in all windows */

/*
 * Every handle holds one libgit2 reference; dk_git_free() drops it, so
 * the last one out shuts libgit2 down.
 */

static int
lib_init(void)
{
	if (git_libgit2_init() < 0) {
		dk_error_set_git("cannot initialize libgit2");
		return -1;
	}
	/*
	 * Strict creation checks that every object a new tree names
	 * exists: one odb lookup per subtree, 10,000 of them under keys/.
	 * Ours come from HEAD's tree or were just written.  fsync: the
	 * repository is the source of truth, and a crash must not leave a
	 * branch naming objects that never reached the disk.  A commit's
	 * blobs and trees come as one pack (flush_pack): two fsyncs.
	 */
	/*
	 * Trees over 4 KiB are not cached by default: keys/ of 10,000
	 * domains (400 KiB) was inflated and parsed again for every file
	 * read from a commit (packaging: 80 s instead of seconds).  Objects
	 * read are not hashed again, as git does not either (fsck does;
	 * zlib's checksum still catches a damaged object): a tenth of
	 * packaging 10,000 domains.  The whole cache is capped at
	 * CACHE_MAX of objects (libgit2's default: 256 MiB), counted as
	 * libgit2 counts them (their raw size; parsed, a small tree takes
	 * four times that): reading 100,000 domains' files from a commit
	 * left each domain's tree cached, 78 MB of heap that nothing read
	 * again (git_read.c holds the trees it reads from).  Packs are
	 * mapped MWINDOW at a time, at most MWINDOW_MAX in all (libgit2's
	 * default on 64 bits: 1 GiB windows, 8 GiB): package of 100,000
	 * domains walked the whole 72 MB pack of their first commit and
	 * kept every page of it, 60 MB of its peak.  That costs no time
	 * because the reads go through the pack from front to back
	 * (git_commit.c: flush_pack writes it in the tree's order); with
	 * the pack in id order it doubled package's time.  A pack of git
	 * gc's, with deltas, is read less in order: after a year of 10,000
	 * domains, 2 MiB windows and 16 MiB in all made package 1.2 times
	 * slower; these sizes cost nothing measurable there.
	 */
	if (git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
	    (size_t)64 << 20) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)CACHE_MAX) <
	    0 ||
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, MWINDOW) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, MWINDOW_MAX) <
	    0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0) < 0) {
		dk_error_set_git("cannot set libgit2 options");
		git_libgit2_shutdown();
		return -1;
	}
	return 0;
}

static int
handle_new(struct dk_git **out, git_repository *repo)
{
	struct dk_git *g;
	const char *wd = git_repository_workdir(repo);
	size_t n;

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->workdir = strdup(wd)) == NULL) {
		free(g);
		dk_error_set("out of memory");
		return -1;
	}
	n = strlen(g->workdir);
	while (n > 1 && g->workdir[n - 1] == '/')
		g->workdir[--n] = '\0';
	if (dk_git_trees_new(&g->trees) == -1) {
		free(g->workdir);
		free(g);
		dk_error_set("out of memory");
		return -1;
	}
	g->repo = repo;
	*out = g;
	return 0;
}

void
dk_git_free(struct dk_git *g)
{
	if (g == NULL)
		return;
	dk_git_trees_free(g->trees);
	git_repository_free(g->mem);	/* frees its odb and the mempack */
	free(g->fresh);
	git_repository_free(g->repo);
	free(g->workdir);
	free(g);
	git_libgit2_shutdown();
}

const char *
dk_git_workdir(const struct dk_git *g)
{
	return g->workdir;
}

/* Is wd (libgit2's work tree) the directory path itself? */
static int
same_dir(const char *path, const char *wd)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (realpath(path, a) == NULL || realpath(wd, b) == NULL)
		return 0;
	return strcmp(a, b) == 0;
}

int
dk_git_open(struct dk_git **out, const char *path)
{
	git_repository *repo = NULL;
	int err, rc = -1;

	*out = NULL;
	if (lib_init() == -1)
		return -1;
	err = git_repository_open_ext(&repo, path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (err == GIT_ENOTFOUND) {
		dk_error_set("'%s' is not a git repository (run 'dkimrot "
		    "init')", path);
		rc = DK_ENOTFOUND;
		goto done;
	}
	if (err < 0) {
		dk_error_set_git("cannot open repository '%s'", path);
		goto done;
	}
	if (git_repository_is_bare(repo)) {
		dk_error_set("'%s' is a bare git repository; the key "
		    "repository needs a work tree", path);
		goto done;
	}
	if (!same_dir(path, git_repository_workdir(repo))) {
		dk_error_set("'%s' is not the top of its git work tree '%s'",
		    path, git_repository_workdir(repo));
		goto done;
	}
	if (handle_new(out, repo) == -1)
		goto done;
	repo = NULL;
	rc = 0;
done:
	git_repository_free(repo);
	git_error_clear();
	if (rc != 0)
		git_libgit2_shutdown();
	return rc;
}

int
dk_git_init(struct dk_git **out, const char *path)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	char dotgit[PATH_MAX];
	struct stat st;
	int err, rc = -1;

	*out = NULL;
	if (dk_path_join(dotgit, sizeof(dotgit), path, ".git") == -1)
		return -1;
	if (lstat(dotgit, &st) == 0) {
		dk_error_set("'%s' is already a git repository", path);
		return DK_EEXISTS;
	}
	if (dk_dir_make(path, 0700) == -1 || lib_init() == -1)
		return -1;
	git_repository_init_options_init(&opts,
	    GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_NO_REINIT | GIT_REPOSITORY_INIT_MKDIR;
	opts.initial_head = DK_GIT_BRANCH;
	if ((err = git_repository_init_ext(&repo, path, &opts)) < 0) {
		if (err == GIT_EEXISTS) {
			dk_error_set("'%s' is already a git repository", path);
			rc = DK_EEXISTS;
		} else
			dk_error_set_git("cannot create repository '%s'",
			    path);
		goto done;
	}
	if (handle_new(out, repo) == -1)
		goto done;
	repo = NULL;
	rc = 0;
done:
	git_repository_free(repo);
	if (rc != 0)
		git_libgit2_shutdown();
	return rc;
}

static const char *
state_name(int state)
{
	switch (state) {
	case GIT_REPOSITORY_STATE_MERGE:
		return "a merge";
	case GIT_REPOSITORY_STATE_REVERT:
	case GIT_REPOSITORY_STATE_REVERT_SEQUENCE:
		return "a revert";
	case GIT_REPOSITORY_STATE_CHERRYPICK:
	case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE:
		return "a cherry-pick";
	case GIT_REPOSITORY_STATE_BISECT:
		return "a bisect";
	case GIT_REPOSITORY_STATE_REBASE:
	case GIT_REPOSITORY_STATE_REBASE_INTERACTIVE:
	case GIT_REPOSITORY_STATE_REBASE_MERGE:
		return "a rebase";
	case GIT_REPOSITORY_STATE_APPLY_MAILBOX:
		return "'git am'";
	default:
		return "'git am' or a rebase";
	}
}

int
dk_git_check_state(struct dk_git *g)
{
	int state, detached;

	state = git_repository_state(g->repo);
	if (state != GIT_REPOSITORY_STATE_NONE) {
		dk_error_set("cannot change the key repository '%s': %s is "
		    "in progress (finish or abort it first)", g->workdir,
		    state_name(state));
		return -1;
	}
	if ((detached = git_repository_head_detached(g->repo)) < 0) {
		dk_error_set_git("cannot read HEAD of '%s'", g->workdir);
		return -1;
	}
	if (detached) {
		dk_error_set("cannot change the key repository '%s': HEAD is "
		    "detached (check out a branch first)", g->workdir);
		return -1;
	}
	return 0;
}

/* libgit2 refuses a path in .git too, less clearly. */
int
dk_git_path_check(const char *path)
{
	const char *p = path, *e;
	size_t n;

	if (*p == '\0')
		goto bad;
	for (;;) {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.') ||
		    (n == 4 && strncasecmp(p, ".git", 4) == 0))
			goto bad;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
bad:
	dk_error_set("cannot commit '%s': not a plain relative path in the "
	    "work tree", path);
	return -1;
}

int
dk_git_head_commit(struct dk_git *g, git_commit **out)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int err;

	*out = NULL;
	if ((err = git_repository_head(&ref, g->repo)) == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return 0;
	}
	if (err < 0 || git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
		git_reference_free(ref);
		dk_error_set_git("cannot read HEAD of '%s'", g->workdir);
		return -1;
	}
	git_reference_free(ref);
	*out = (git_commit *)obj;
	return 0;
}
