/*
 * The key repository through libgit2: open/init, state checks, commits
 * of exactly the listed paths, hooks, and reading commits.  The only
 * file that includes git2.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "rotator/git.h"
#include "rotator/hook.h"

struct dk_git {
	git_repository	*repo;
	char		*workdir;	/* absolute, no trailing '/' */
	/*
	 * A commit's new blobs and trees are written here, in memory, and
	 * reach the repository as one pack (see flush_pack): made on the
	 * first commit.
	 */
	git_repository	*mem;
	git_odb_backend	*mempack;
	git_oid		*fresh;		/* the objects written there */
	size_t		 nfresh;
	size_t		 capfresh;
	struct trees	*trees;		/* of the commit read last */
};

/*
 * The trees of the directories last read from one commit.  libgit2
 * looks a path up from the root each time and, for keys/ of 10,000
 * domains, took 30 times as long as holding keys/ did: packaging read
 * each domain's files through it.  Reads come from the worker threads
 * of rotate too, hence the lock.
 */
#define TREES_SLOTS	4
struct trees {
	pthread_mutex_t	 lock;
	git_oid		 commit;
	git_tree	*root;
	struct {
		char		*dir;
		git_tree	*tree;
	}		 slot[TREES_SLOTS];
	size_t		 next;		/* the slot to replace next */
};

/* One path of a commit, as it is in the work tree. */
struct staged {
	git_index_entry	entry;	/* for S_FILE */
	enum {
		S_GONE,		/* no such path: remove it and all below */
		S_FILE,		/* a regular file: add it */
		S_DIR		/* a directory now: remove the file only */
	}		kind;
};

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
	 * packaging 10,000 domains.
	 */
	if (git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
	    (size_t)64 << 20) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0) < 0) {
		dk_error_set_git("cannot set libgit2 options");
		git_libgit2_shutdown();
		return -1;
	}
	return 0;
}

static void
trees_clear(struct trees *t)
{
	size_t i;

	for (i = 0; i < TREES_SLOTS; i++) {
		free(t->slot[i].dir);
		git_tree_free(t->slot[i].tree);
		t->slot[i].dir = NULL;
		t->slot[i].tree = NULL;
	}
	git_tree_free(t->root);
	t->root = NULL;
	t->next = 0;
}

static void
trees_free(struct trees *t)
{
	if (t == NULL)
		return;
	trees_clear(t);
	pthread_mutex_destroy(&t->lock);
	free(t);
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
	if ((g->trees = calloc(1, sizeof(*g->trees))) == NULL ||
	    pthread_mutex_init(&g->trees->lock, NULL) != 0) {
		free(g->trees);
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
	trees_free(g->trees);
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
	if (dk_dir_make(path, 0755) == -1 || lib_init() == -1)
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

/*
 * A path we commit: relative, '/'-separated, no empty, "." or ".."
 * component, nothing in .git (libgit2 refuses that too, less clearly).
 */
static int
path_check(const char *path)
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

/* HEAD's commit, or NULL on an unborn branch. */
static int
head_commit(struct dk_git *g, git_commit **out)
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

/*
 * The in-memory object store of a commit's new objects: loose objects
 * cost a file, a link and an unlink each, plus a scan of the pack
 * directory for each new one (8,000 objects for a rotation making 2,000
 * keys); in memory they cost nothing until flush_pack.
 */
static int
mem_open(struct dk_git *g)
{
	git_odb *odb = NULL;

	g->nfresh = 0;
	if (g->mem != NULL)
		return git_mempack_reset(g->mempack) < 0 ? -1 : 0;
	if (git_odb_new(&odb) < 0 || git_mempack_new(&g->mempack) < 0)
		goto fail;
	if (git_odb_add_backend(odb, g->mempack, 1) < 0) {
		g->mempack->free(g->mempack);
		goto fail;
	}
	if (git_repository_wrap_odb(&g->mem, odb) < 0)
		goto fail;
	git_odb_free(odb);	/* g->mem holds it */
	return 0;
fail:
	g->mempack = NULL;
	git_odb_free(odb);
	dk_error_set_git("cannot make an object store in memory");
	return -1;
}

/* Notes an object written to memory, for flush_pack. */
static int
fresh_add(struct dk_git *g, const git_oid *id)
{
	git_oid *p;
	size_t cap;

	if (g->nfresh == g->capfresh) {
		cap = g->capfresh ? g->capfresh * 2 : 256;
		if ((p = realloc(g->fresh, cap * sizeof(*p))) == NULL) {
			git_error_set_oom();
			return -1;
		}
		g->fresh = p;
		g->capfresh = cap;
	}
	git_oid_cpy(&g->fresh[g->nfresh++], id);
	return 0;
}

/*
 * The objects in memory into the repository as one pack (.pack and
 * .idx, fsynced by libgit2's indexer, see lib_init), before a commit
 * names them.  git gc --auto (the hook) merges the packs in time.
 */
static int
flush_pack(struct dk_git *g)
{
	git_odb_writepack *wp = NULL;
	git_packbuilder *pb = NULL;
	git_indexer_progress stats;
	size_t i;
	git_buf pack = { 0 };
	git_odb *odb;
	int rc = -1;

	memset(&stats, 0, sizeof(stats));
	/*
	 * git_mempack_dump() packs only commits and what they name.  The
	 * delta search uses every core (keys.yaml files delta well).
	 */
	if (git_packbuilder_new(&pb, g->mem) < 0)
		goto done;
	git_packbuilder_set_threads(pb, 0);
	for (i = 0; i < g->nfresh; i++)
		if (git_packbuilder_insert(pb, &g->fresh[i], NULL) < 0)
			goto done;
	if (git_packbuilder_write_buf(&pack, pb) < 0 ||
	    git_repository_odb(&odb, g->repo) < 0)
		goto done;
	if (git_odb_write_pack(&wp, odb, NULL, NULL) == 0 &&
	    wp->append(wp, pack.ptr, pack.size, &stats) == 0 &&
	    wp->commit(wp, &stats) == 0)
		rc = 0;
	if (wp != NULL)
		wp->free(wp);
	git_odb_free(odb);
done:
	if (rc != 0)
		dk_error_set_git("cannot write the new objects to '%s'",
		    g->workdir);
	git_buf_dispose(&pack);
	git_packbuilder_free(pb);
	git_mempack_reset(g->mempack);
	g->nfresh = 0;
	return rc;
}

/*
 * The blob of a work-tree file, as git add makes it.  libgit2's
 * git_blob_create_from_workdir() looks for .gitattributes in every
 * directory above the file first (some 40 system calls a file: most of
 * the time of a commit of thousands of key files).  The only filters
 * libgit2 applies on the way in are its built-in crlf and ident, which
 * change nothing in a file without '\r' and "$Id": such a file (every
 * file dkimrot writes) is stored as read; any other goes through
 * libgit2's filters.  Key files are read too: the copy is wiped.
 */
static int
blob_create(struct dk_git *g, const char *path, const char *full,
    const struct stat *st, git_oid *id)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	if ((size_t)st->st_size > DK_FILE_MAX ||
	    dk_file_read(full, DK_FILE_MAX, &buf, &len) != 0)
		return git_blob_create_from_workdir(id, g->repo, path);
	if (memchr(buf, '\r', len) == NULL &&
	    memmem(buf, len, "$Id", 3) == NULL)
		err = git_blob_create_from_buffer(id, g->mem, buf, len) < 0 ||
		    fresh_add(g, id) < 0 ? -1 : 0;
	else
		err = git_blob_create_from_workdir(id, g->repo, path);
	explicit_bzero(buf, len);
	free(buf);
	return err;
}

/*
 * Stats one listed path and, for a file, writes its blob (filtered as
 * git add would) and fills the index entry with the stat data taken
 * before reading, so that a change while we read shows in git status.
 */
static int
stage_one(struct dk_git *g, const char *path, struct staged *s)
{
	char full[PATH_MAX];
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->entry.path = path;
	if (dk_path_join(full, sizeof(full), g->workdir, path) == -1)
		return -1;
	if (lstat(full, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		dk_error_set_errno(errno, "cannot commit '%s'", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		s->kind = S_DIR;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		dk_error_set("cannot commit '%s': not a regular file", path);
		return -1;
	}
	s->kind = S_FILE;
	s->entry.ctime.seconds = (int32_t)st.st_ctim.tv_sec;
	s->entry.ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
	s->entry.mtime.seconds = (int32_t)st.st_mtim.tv_sec;
	s->entry.mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
	s->entry.dev = (uint32_t)st.st_dev;
	s->entry.ino = (uint32_t)st.st_ino;
	s->entry.uid = (uint32_t)st.st_uid;
	s->entry.gid = (uint32_t)st.st_gid;
	s->entry.file_size = (uint32_t)st.st_size;
	s->entry.mode = (st.st_mode & S_IXUSR) ?
	    GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
	if (blob_create(g, path, full, &st, &s->entry.id) < 0) {
		dk_error_set_git("cannot commit '%s'", path);
		return -1;
	}
	return 0;
}

/* Sorted by path, the changes below one directory are contiguous. */
static int
staged_cmp(const void *a, const void *b)
{
	return strcmp(((const struct staged *)a)->entry.path,
	    ((const struct staged *)b)->entry.path);
}

/*
 * The on-disk index gets exactly our paths, as committed, so that they
 * show clean while everything else the user staged stays staged.
 * Removals first, so that a file replaced by a directory of the same
 * name (or the reverse) goes in.
 */
static int
update_index(struct dk_git *g, const struct staged *s, size_t n)
{
	git_index *idx = NULL;
	const char *path;
	size_t i;
	int rc = -1;

	if (git_repository_index(&idx, g->repo) < 0 ||
	    git_index_read(idx, 1) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		path = s[i].entry.path;
		if (s[i].kind != S_FILE &&
		    git_index_remove_bypath(idx, path) < 0)
			goto fail;
		if (s[i].kind == S_GONE &&
		    git_index_remove_directory(idx, path, 0) < 0)
			goto fail;
	}
	for (i = 0; i < n; i++)
		if (s[i].kind == S_FILE && git_index_add(idx, &s[i].entry) < 0)
			goto fail;
	if (git_index_write(idx) < 0)
		goto fail;
	rc = 0;
	goto done;
fail:
	dk_error_set_git("cannot update the index of '%s'", g->workdir);
done:
	git_index_free(idx);
	return rc;
}

static int	edit_tree(struct dk_git *, const git_tree *, struct staged *,
		    size_t, size_t, git_oid *, int *);

/* One listed path that is a file name in this directory. */
static int
edit_leaf(git_treebuilder *bld, const git_tree *base, const struct staged *s,
    const char *name)
{
	const git_tree_entry *e;

	switch (s->kind) {
	case S_FILE:
		return git_treebuilder_insert(NULL, bld, name, &s->entry.id,
		    (git_filemode_t)s->entry.mode) < 0 ? -1 : 0;
	case S_GONE:
		if (git_treebuilder_get(bld, name) == NULL)
			return 0;
		return git_treebuilder_remove(bld, name) < 0 ? -1 : 0;
	default:
		/*
		 * A directory stands only for the file it replaced; its
		 * files are listed one by one (we never add a whole tree).
		 */
		e = base != NULL ? git_tree_entry_byname(base, name) : NULL;
		if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
			dk_error_set("cannot commit '%s': a directory (list "
			    "its files)", s->entry.path);
			return -2;
		}
		e = git_treebuilder_get(bld, name);
		if (e == NULL || git_tree_entry_type(e) == GIT_OBJECT_TREE)
			return 0;
		return git_treebuilder_remove(bld, name) < 0 ? -1 : 0;
	}
}

/* The changes s[0..n), all below subdirectory name of this directory. */
static int
edit_subdir(struct dk_git *g, git_treebuilder *bld, const git_tree *base,
    const char *name, struct staged *s, size_t n, size_t off)
{
	const git_tree_entry *e;
	git_tree *sub = NULL;
	git_oid id;
	int empty, rc = -1;

	e = base != NULL ? git_tree_entry_byname(base, name) : NULL;
	if (e != NULL && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&sub, g->repo, git_tree_entry_id(e)) < 0)
		goto done;
	if ((rc = edit_tree(g, sub, s, n, off, &id, &empty)) != 0)
		goto done;
	rc = -1;
	e = git_treebuilder_get(bld, name);
	if (empty && (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_TREE))
		rc = 0;
	else if (empty)
		rc = git_treebuilder_remove(bld, name) < 0 ? -1 : 0;
	else
		rc = git_treebuilder_insert(NULL, bld, name, &id,
		    GIT_FILEMODE_TREE) < 0 ? -1 : 0;
done:
	git_tree_free(sub);
	return rc;
}

/*
 * Writes tree base (NULL: none) with the sorted changes s[0..n) applied;
 * their paths continue below this directory at offset off.  Only the
 * directories on the listed paths are read and rewritten, never the
 * whole tree.  *empty when nothing is left; a subtree is then not
 * written (git has no empty directories), the top one is.  -1 for a
 * libgit2 error, -2 for one already in the last-error buffer.
 */
static int
edit_tree(struct dk_git *g, const git_tree *base, struct staged *s,
    size_t n, size_t off, git_oid *id, int *empty)
{
	git_treebuilder *bld = NULL;
	char name[PATH_MAX];
	const char *rest, *slash;
	size_t i, j, len;
	int rc = -1;

	/* Reads from the repository, writes to memory (flush_pack). */
	if (git_treebuilder_new(&bld, g->mem, base) < 0)
		goto done;
	/* Subdirectories first, so that a file replacing one wins. */
	for (i = 0; i < n; i = j) {
		j = i + 1;
		rest = s[i].entry.path + off;
		if ((slash = strchr(rest, '/')) == NULL)
			continue;
		len = (size_t)(slash - rest);
		while (j < n && strncmp(s[j].entry.path + off, rest,
		    len + 1) == 0)
			j++;
		memcpy(name, rest, len);
		name[len] = '\0';
		if ((rc = edit_subdir(g, bld, base, name, s + i, j - i,
		    off + len + 1)) != 0)
			goto done;
	}
	rc = -1;
	for (i = 0; i < n; i++) {
		rest = s[i].entry.path + off;
		if (strchr(rest, '/') == NULL &&
		    (rc = edit_leaf(bld, base, &s[i], rest)) != 0)
			goto done;
	}
	rc = -1;
	*empty = git_treebuilder_entrycount(bld) == 0;
	if ((!*empty || off == 0) && (git_treebuilder_write(id, bld) < 0 ||
	    fresh_add(g, id) < 0))
		goto done;
	rc = 0;
done:
	git_treebuilder_free(bld);
	return rc;
}

/* The tree of HEAD with the listed paths applied, written to memory. */
static int
build_tree(struct dk_git *g, git_commit *parent, const char *const *paths,
    struct staged *s, size_t n, git_oid *tree_id, int *empty)
{
	git_tree *tree = NULL;
	size_t i;
	int rc = -1;

	if (mem_open(g) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (stage_one(g, paths[i], &s[i]) == -1)
			return -1;
	qsort(s, n, sizeof(*s), staged_cmp);
	if (parent != NULL && git_commit_tree(&tree, parent) < 0) {
		dk_error_set_git("cannot read HEAD's tree in '%s'",
		    g->workdir);
		return -1;
	}
	if ((rc = edit_tree(g, tree, s, n, 0, tree_id, empty)) == -1)
		dk_error_set_git("cannot build the new tree in '%s'",
		    g->workdir);
	git_tree_free(tree);
	return rc == 0 ? 0 : -1;
}

static int
make_commit(struct dk_git *g, git_commit *parent, const git_oid *tree_id,
    const char *name, const char *email, time_t when, const char *message,
    git_oid *id)
{
	const git_commit *parents[1] = { parent };
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_buf msg = { 0 };
	int rc = -1;

	if (git_signature_new(&sig, name, email, (git_time_t)when, 0) < 0) {
		dk_error_set_git("invalid commit author '%s <%s>'", name,
		    email);
		goto done;
	}
	if (git_message_prettify(&msg, message, 0, '#') < 0) {
		dk_error_set_git("invalid commit message");
		goto done;
	}
	if (msg.size == 0) {
		dk_error_set("cannot commit: empty commit message");
		goto done;
	}
	/* Updating "HEAD" fails if the branch moved since we read it. */
	if (git_tree_lookup(&tree, g->repo, tree_id) < 0 ||
	    git_commit_create(id, g->repo, "HEAD", sig, sig, NULL, msg.ptr,
	    tree, parent != NULL ? 1 : 0, parents) < 0) {
		dk_error_set_git("cannot commit in '%s'", g->workdir);
		goto done;
	}
	rc = 0;
done:
	git_buf_dispose(&msg);
	git_tree_free(tree);
	git_signature_free(sig);
	return rc;
}

int
dk_git_commit(struct dk_git *g, const char *const *paths, size_t n,
    const char *name, const char *email, time_t when, const char *message,
    char id[DK_GIT_ID_LEN])
{
	git_commit *parent = NULL;
	struct staged *s = NULL;
	git_oid tree_id, cid;
	int empty, rc = -1;
	size_t i;

	id[0] = '\0';
	if (dk_git_check_state(g) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (path_check(paths[i]) == -1)
			return -1;
	if ((s = calloc(n > 0 ? n : 1, sizeof(*s))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	if (head_commit(g, &parent) == -1 ||
	    build_tree(g, parent, paths, s, n, &tree_id, &empty) == -1)
		goto done;
	if (parent != NULL ?
	    git_oid_equal(&tree_id, git_commit_tree_id(parent)) : empty) {
		if (parent != NULL)
			git_oid_tostr(id, DK_GIT_ID_LEN, git_commit_id(parent));
		dk_error_set("nothing to commit in '%s'", g->workdir);
		rc = DK_GIT_UNCHANGED;
		goto done;
	}
	if (flush_pack(g) == -1 || make_commit(g, parent, &tree_id, name,
	    email, when, message, &cid) == -1)
		goto done;
	git_oid_tostr(id, DK_GIT_ID_LEN, &cid);
	if (update_index(g, s, n) == -1)
		dk_log_warn("%s; committed %.12s, but the index still "
		    "has the old versions of its paths ('git reset -q -- "
		    "PATH...' fixes that)", dk_error_last(), id);
	rc = 0;
done:
	git_commit_free(parent);
	free(s);
	return rc;
}

int
dk_git_restore(struct dk_git *g, const char *dir)
{
	git_checkout_options co;
	char *pathv[1] = { (char *)dir };
	git_strarray ps = { pathv, 1 };
	git_commit *head = NULL;
	int rc = -1;

	if (path_check(dir) == -1 || head_commit(g, &head) == -1)
		return -1;
	/*
	 * The index first: a crash between a commit and its index update
	 * leaves entries that would undo the commit on the next 'git
	 * commit -a'.  Then the work tree from that index.
	 */
	if (git_reset_default(g->repo, (git_object *)head, &ps) < 0) {
		dk_error_set_git("cannot reset '%s' in the index of '%s'", dir,
		    g->workdir);
		goto done;
	}
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE |
	    GIT_CHECKOUT_REMOVE_UNTRACKED | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
	co.paths = ps;
	co.file_mode = 0600;
	co.dir_mode = 0700;
	if (git_checkout_index(g->repo, NULL, &co) < 0) {
		dk_error_set_git("cannot restore '%s' in '%s'", dir,
		    g->workdir);
		goto done;
	}
	rc = 0;
done:
	git_commit_free(head);
	return rc;
}

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
	if (dk_dir_make(own, 0755) == -1)
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

/* A full commit id (as dk_git_resolve() gives) to its commit. */
static int
lookup(struct dk_git *g, const char *id, git_commit **out)
{
	git_oid oid;
	int err;

	*out = NULL;
	if (strlen(id) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, id) < 0) {
		git_error_clear();
		dk_error_set("invalid commit id '%s'", id);
		return -1;
	}
	if ((err = git_commit_lookup(out, g->repo, &oid)) < 0) {
		dk_error_set_git("cannot read commit '%s'", id);
		return err == GIT_ENOTFOUND ? DK_ENOTFOUND : -1;
	}
	return 0;
}

static int
commit_tree(struct dk_git *g, const char *id, git_tree **out)
{
	git_commit *c = NULL;
	int err;

	*out = NULL;
	if ((err = lookup(g, id, &c)) != 0)
		return err;
	err = git_commit_tree(out, c);
	git_commit_free(c);
	if (err < 0) {
		dk_error_set_git("cannot read the tree of commit '%s'", id);
		return -1;
	}
	return 0;
}

int
dk_git_commit_time(struct dk_git *g, const char *id, time_t *out)
{
	git_commit *c = NULL;
	int rc;

	*out = 0;
	if ((rc = lookup(g, id, &c)) != 0)
		return rc;
	*out = (time_t)git_commit_time(c);
	git_commit_free(c);
	return 0;
}

static int	entry_refused(const git_tree_entry *, const char *, size_t);
static int	list_refused(const git_tree_entry *, const char *);

/* The entry of dir named by n bytes of name; NULL if there is none. */
static const git_tree_entry *
entry_named(const git_tree *dir, const char *name, size_t n)
{
	char buf[PATH_MAX];

	if (n == 0 || n >= sizeof(buf))
		return NULL;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return git_tree_entry_byname(dir, buf);
}

/*
 * The tree of directory dir (len bytes, no trailing '/', "" the root) in
 * the commit of g->trees, held there: DK_ENOTFOUND when there is none.
 * A tree it returns stays valid until the next insertion but three:
 * each caller is done with it before it inserts its own.
 */
static int
dir_tree(struct dk_git *g, const char *dir, size_t len, git_tree **out)
{
	struct trees *t = g->trees;
	const git_tree_entry *e;
	git_tree *parent, *tree = NULL;
	size_t i, plen;
	char *copy;
	int rc;

	if (len == 0) {
		*out = t->root;
		return 0;
	}
	for (i = 0; i < TREES_SLOTS; i++)
		if (t->slot[i].dir != NULL &&
		    strncmp(t->slot[i].dir, dir, len) == 0 &&
		    t->slot[i].dir[len] == '\0') {
			*out = t->slot[i].tree;
			return 0;
		}
	for (plen = len; plen > 0 && dir[plen - 1] != '/'; plen--)
		;
	if ((rc = dir_tree(g, dir, plen > 0 ? plen - 1 : 0, &parent)) != 0)
		return rc;
	if ((e = entry_named(parent, dir + plen, len - plen)) != NULL &&
	    entry_refused(e, dir, len) != 0)
		return DK_EUSAGE;
	if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return DK_ENOTFOUND;
	if (git_tree_lookup(&tree, g->repo, git_tree_entry_id(e)) < 0 ||
	    (copy = strndup(dir, len)) == NULL) {
		git_tree_free(tree);
		return -1;
	}
	free(t->slot[t->next].dir);
	git_tree_free(t->slot[t->next].tree);
	t->slot[t->next].dir = copy;
	t->slot[t->next].tree = tree;
	t->next = (t->next + 1) % TREES_SLOTS;
	*out = tree;
	return 0;
}

/* The entry path in commit id, which must be of type want. */
static int
commit_entry(struct dk_git *g, const char *id, const char *path,
    git_object_t want, git_tree_entry **out)
{
	struct trees *t = g->trees;
	const git_tree_entry *e;
	const char *base;
	git_tree *dir;
	git_oid oid;
	size_t len;
	int rc;

	*out = NULL;
	len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		len--;
	for (base = path + len; base > path && base[-1] != '/'; base--)
		;
	pthread_mutex_lock(&t->lock);
	if (t->root == NULL || git_oid_fromstr(&oid, id) < 0 ||
	    !git_oid_equal(&oid, &t->commit)) {
		trees_clear(t);
		if ((rc = commit_tree(g, id, &t->root)) != 0)
			goto done;
		git_oid_fromstr(&t->commit, id);
	}
	rc = dir_tree(g, path, base > path ? (size_t)(base - path - 1) : 0,
	    &dir);
	/* The entry's name: from base to len, no '/'; "" names none. */
	if (rc == 0 && (e = entry_named(dir, base,
	    len - (size_t)(base - path))) == NULL)
		rc = DK_ENOTFOUND;
	else if (rc == 0 && entry_refused(e, path, len) != 0)
		rc = DK_EUSAGE;
	else if (rc == 0 && git_tree_entry_dup(out, e) < 0)
		rc = -1;
	if (rc == DK_ENOTFOUND) {
		git_error_clear();
		dk_error_set("no '%s' in commit '%s'", path, id);
	} else if (rc == -1)
		dk_error_set_git("cannot read '%s' in commit '%s'", path, id);
	if (rc == 0 && git_tree_entry_type(*out) != want) {
		dk_error_set("'%s' in commit '%s' is not a %s", path, id,
		    want == GIT_OBJECT_TREE ? "directory" : "file");
		git_tree_entry_free(*out);
		*out = NULL;
		rc = -1;
	}
	/* Refused (entry_refused, here or in dir_tree): said so already. */
	if (rc == DK_EUSAGE)
		rc = -1;
done:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int
dk_git_read_file(struct dk_git *g, const char *id, const char *path,
    char **out, size_t *len)
{
	git_tree_entry *ent = NULL;
	git_blob *blob = NULL;
	git_object_size_t size;
	int rc;

	*out = NULL;
	if ((rc = commit_entry(g, id, path, GIT_OBJECT_BLOB, &ent)) != 0)
		return rc;
	rc = -1;
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(ent)) < 0) {
		dk_error_set_git("cannot read '%s' in commit '%s'", path, id);
		goto done;
	}
	if ((size = git_blob_rawsize(blob)) > DK_FILE_MAX) {
		dk_error_set("cannot read '%s' in commit '%s': larger than "
		    "%u bytes", path, id, DK_FILE_MAX);
		goto done;
	}
	if ((*out = malloc((size_t)size + 1)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	memcpy(*out, git_blob_rawcontent(blob), (size_t)size);
	(*out)[size] = '\0';
	if (len != NULL)
		*len = (size_t)size;
	rc = 0;
done:
	git_blob_free(blob);
	git_tree_entry_free(ent);
	return rc;
}

int
dk_git_list_dir(struct dk_git *g, const char *id, const char *dir,
    int (*fn)(const char *, bool, void *), void *arg)
{
	git_tree_entry *ent = NULL;
	const git_tree_entry *e;
	git_tree *tree = NULL;
	size_t i, n;
	int rc;

	if (dir[0] == '\0')
		rc = commit_tree(g, id, &tree);
	else if ((rc = commit_entry(g, id, dir, GIT_OBJECT_TREE, &ent)) == 0 &&
	    git_tree_lookup(&tree, g->repo, git_tree_entry_id(ent)) < 0) {
		dk_error_set_git("cannot read '%s' in commit '%s'", dir, id);
		rc = -1;
	}
	if (rc != 0)
		goto done;
	n = git_tree_entrycount(tree);
	for (i = 0; i < n && rc == 0; i++) {
		e = git_tree_entry_byindex(tree, i);
		if ((rc = list_refused(e, dir)) != 0)
			break;
		rc = fn(git_tree_entry_name(e),
		    git_tree_entry_type(e) == GIT_OBJECT_TREE, arg);
	}
done:
	git_tree_free(tree);
	git_tree_entry_free(ent);
	return rc;
}

int
dk_git_count_first_parent(struct dk_git *g, const char *id, size_t *out)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	size_t n = 0;
	int err, rc = -1;

	*out = 0;
	if (strlen(id) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, id) < 0) {
		git_error_clear();
		dk_error_set("invalid commit id '%s'", id);
		return -1;
	}
	if (git_revwalk_new(&walk, g->repo) < 0 ||
	    git_revwalk_simplify_first_parent(walk) < 0 ||
	    git_revwalk_push(walk, &oid) < 0) {
		dk_error_set_git("cannot walk the history of '%s'", id);
		goto done;
	}
	while ((err = git_revwalk_next(&oid, walk)) == 0)
		n++;
	if (err != GIT_ITEROVER) {
		dk_error_set_git("cannot walk the history of '%s'", id);
		goto done;
	}
	git_error_clear();
	*out = n;
	rc = 0;
done:
	git_revwalk_free(walk);
	return rc;
}

int
dk_git_resolve(struct dk_git *g, const char *rev, char id[DK_GIT_ID_LEN])
{
	git_object *obj = NULL, *c = NULL;
	int err, rc = -1;

	id[0] = '\0';
	if ((err = git_revparse_single(&obj, g->repo, rev)) < 0) {
		if (err == GIT_ENOTFOUND) {
			git_error_clear();
			dk_error_set("unknown revision '%s' in '%s'", rev,
			    g->workdir);
			return DK_ENOTFOUND;
		}
		dk_error_set_git("invalid revision '%s'", rev);
		return -1;
	}
	if (git_object_peel(&c, obj, GIT_OBJECT_COMMIT) < 0) {
		dk_error_set_git("revision '%s' is not a commit", rev);
		goto done;
	}
	git_oid_tostr(id, DK_GIT_ID_LEN, git_object_id(c));
	rc = 0;
done:
	git_object_free(c);
	git_object_free(obj);
	return rc;
}

int
dk_git_head(struct dk_git *g, char id[DK_GIT_ID_LEN], bool *unborn)
{
	git_commit *c = NULL;

	id[0] = '\0';
	if (unborn != NULL)
		*unborn = false;
	if (head_commit(g, &c) == -1)
		return -1;
	if (c == NULL) {
		if (unborn != NULL) {
			*unborn = true;
			return 0;
		}
		dk_error_set("no commit yet in '%s'", g->workdir);
		return DK_ENOTFOUND;
	}
	git_oid_tostr(id, DK_GIT_ID_LEN, git_commit_id(c));
	git_commit_free(c);
	return 0;
}

int
dk_git_last_commit_time(struct dk_git *g, time_t *out)
{
	git_commit *c = NULL;

	*out = 0;
	if (head_commit(g, &c) == -1)
		return -1;
	if (c == NULL) {
		dk_error_set("no commit yet in '%s'", g->workdir);
		return DK_ENOTFOUND;
	}
	*out = (time_t)git_commit_time(c);
	git_commit_free(c);
	return 0;
}

/*
 * A committed symbolic link or submodule (gitlink) where dkimrot reads a
 * file or a directory is refused as in the work tree (common/file.h): a
 * link's blob is its target's name, never the content meant.  path: len
 * bytes naming the entry.
 */
static int
entry_refused(const git_tree_entry *e, const char *path, size_t len)
{
	char rel[PATH_MAX];
	git_filemode_t mode;

	mode = git_tree_entry_filemode(e);
	if (mode != GIT_FILEMODE_LINK && mode != GIT_FILEMODE_COMMIT)
		return 0;
	snprintf(rel, sizeof(rel), "%.*s", (int)len, path);
	return dk_tree_refuse(rel, mode == GIT_FILEMODE_LINK ?
	    "a symbolic link" : "a submodule");
}

/* entry_refused for e, an entry of directory dir ("" the root). */
static int
list_refused(const git_tree_entry *e, const char *dir)
{
	char rel[PATH_MAX];
	int n;

	n = snprintf(rel, sizeof(rel), "%s%s%s", dir, dir[0] != '\0' ?
	    "/" : "", git_tree_entry_name(e));
	if (n < 0 || (size_t)n >= sizeof(rel))
		n = (int)sizeof(rel) - 1;
	return entry_refused(e, rel, (size_t)n);
}

/*
 * Added at the end while git.c is being split (c-repo): whether id
 * names a commit object the repository holds.  'package' indexes only
 * packages whose VCS tag passes this, and counts only them for the next
 * version.  Reads the object database only: no walk, no work tree.
 */
int
dk_git_has_commit(struct dk_git *g, const char *id)
{
	git_commit *c = NULL;
	git_oid oid;
	int err;

	if (strlen(id) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, id) < 0) {
		git_error_clear();
		return 0;
	}
	if ((err = git_commit_lookup(&c, g->repo, &oid)) < 0) {
		if (err == GIT_ENOTFOUND || err == GIT_EINVALIDSPEC) {
			git_error_clear();
			return 0;
		}
		dk_error_set_git("cannot look up commit '%s'", id);
		return -1;
	}
	git_commit_free(c);
	return 1;
}
