/*
 * Commits of exactly the listed paths (rotator/git.h: dk_git_commit) and
 * the restore of a directory to HEAD.  The new objects are written to
 * memory first and reach the repository as one pack.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "rotator/git_int.h"

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

int
dk_git_fresh_add(struct dk_git *g, const git_oid *id)
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

/* g->fresh[a] against g->fresh[b], by id and then by when it came. */
static int
fresh_cmp(const void *a, const void *b, void *arg)
{
	const git_oid *fresh = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = git_oid_cmp(&fresh[i], &fresh[j]);

	return c != 0 ? c : i < j ? -1 : i > j;
}

/*
 * The objects in memory into the repository as one pack (git_pack.c),
 * before a commit names them, each once and in the order they were
 * written: the blobs by path, then the trees below before the trees
 * above, so that a reader walking the new tree reads the pack from
 * front to back (rotator/git_read.c; libgit2's mapped windows stay
 * few).  git gc --auto (the hook) merges the packs in time.
 */
static int
flush_pack(struct dk_git *g)
{
	size_t *by_id = NULL, i, n = 0;
	unsigned char *dup = NULL;
	int rc = -1;

	if (g->nfresh > 1) {
		if ((by_id = malloc(g->nfresh * sizeof(*by_id))) == NULL ||
		    (dup = calloc(g->nfresh, 1)) == NULL) {
			dk_error_set("out of memory");
			goto done;
		}
		for (i = 0; i < g->nfresh; i++)
			by_id[i] = i;
		qsort_r(by_id, g->nfresh, sizeof(*by_id), fresh_cmp,
		    g->fresh);
		for (i = 1; i < g->nfresh; i++)
			if (git_oid_equal(&g->fresh[by_id[i - 1]],
			    &g->fresh[by_id[i]]))
				dup[by_id[i]] = 1;
	}
	for (i = 0; i < g->nfresh; i++)
		if (dup == NULL || !dup[i])
			git_oid_cpy(&g->fresh[n++], &g->fresh[i]);
	rc = dk_git_pack_write(g, g->mempack, g->fresh, n);
done:
	free(by_id);
	free(dup);
	git_mempack_reset(g->mempack);
	g->nfresh = 0;
	return rc;
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
	    dk_git_fresh_add(g, id) < 0))
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

	if (mem_open(g) != 0 || dk_git_stage(g, paths, s, n) != 0)
		return -1;
	qsort(s, n, sizeof(*s), staged_cmp);
	/* The pack's first objects, in the order of the tree (flush_pack). */
	for (i = 0; i < n; i++)
		if (s[i].in_mem && dk_git_fresh_add(g, &s[i].entry.id) != 0)
			return -1;
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

/*
 * Whether commit id is on disk and HEAD names it, asked of a fresh
 * object database and reference: with the disk full, libgit2 (1.5) has
 * been seen to report a commit made whose object and branch never
 * reached the disk (docs/bad-input.md F4).
 */
static int
landed(struct dk_git *g, const git_oid *id)
{
	git_odb *odb = NULL;
	git_oid head;
	char dir[PATH_MAX];
	int ok;

	ok = dk_path_join(dir, sizeof(dir), git_repository_path(g->repo),
	    "objects") == 0 && git_odb_open(&odb, dir) == 0 &&
	    git_odb_exists(odb, id) == 1 &&
	    git_reference_name_to_id(&head, g->repo, "HEAD") == 0 &&
	    git_oid_equal(&head, id);
	git_odb_free(odb);
	if (!ok) {
		dk_error_set("cannot commit in '%s': the commit did not reach "
		    "the disk (is it full?)", g->workdir);
		return -1;
	}
	return 0;
}

/*
 * The message as git stripspace leaves it, in one pass: trailing white
 * space (git's: space, tab, CR) off every line, runs of blank lines made one,
 * none at the start or the end, a newline at the end.  It is what
 * git_message_prettify() (without comments) gives, which rescans the
 * whole output for every line: 12 s for the 100,000-line message of a
 * first rotation of 100,000 domains.  An empty result is an error.
 */
static int
message_clean(const char *in, struct dk_buf *out)
{
	const char *p = in, *eol, *end;
	int blank = 0;

	while (*p != '\0') {
		eol = strchrnul(p, '\n');
		for (end = eol; end > p && (end[-1] == ' ' ||
		    end[-1] == '\t' || end[-1] == '\r'); end--)
			;
		if (end == p)
			blank = out->len > 0;
		else if ((blank && dk_buf_append(out, "\n", 1) != 0) ||
		    dk_buf_append(out, p, (size_t)(end - p)) != 0 ||
		    dk_buf_append(out, "\n", 1) != 0)
			return -1;
		else
			blank = 0;
		p = *eol != '\0' ? eol + 1 : eol;
	}
	if (out->len == 0) {
		dk_error_set("cannot commit: empty commit message");
		return -1;
	}
	return 0;
}

static int
make_commit(struct dk_git *g, git_commit *parent, const git_oid *tree_id,
    const char *name, const char *email, time_t when, const char *message,
    git_oid *id)
{
	const git_commit *parents[1] = { parent };
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	struct dk_buf msg = { 0 };
	int rc = -1;

	if (git_signature_new(&sig, name, email, (git_time_t)when, 0) < 0) {
		dk_error_set_git("invalid commit author '%s <%s>'", name,
		    email);
		goto done;
	}
	if (message_clean(message, &msg) != 0)
		goto done;
	/* Updating "HEAD" fails if the branch moved since we read it. */
	if (git_tree_lookup(&tree, g->repo, tree_id) < 0 ||
	    git_commit_create(id, g->repo, "HEAD", sig, sig, NULL, msg.data,
	    tree, parent != NULL ? 1 : 0, parents) < 0) {
		dk_error_set_git("cannot commit in '%s'", g->workdir);
		goto done;
	}
	rc = landed(g, id);
done:
	dk_buf_dispose(&msg);
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
		if (dk_git_path_check(paths[i]) == -1)
			return -1;
	if ((s = calloc(n > 0 ? n : 1, sizeof(*s))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	if (dk_git_head_commit(g, &parent) == -1 ||
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

	if (dk_git_path_check(dir) == -1 || dk_git_head_commit(g, &head) == -1)
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
