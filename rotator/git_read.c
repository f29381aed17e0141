/*
 * Reading commits, never the work tree: resolving revisions, HEAD, commit
 * times, the files and directories of a commit's tree, the first-parent
 * count.  The trees last read are held (struct trees) for packaging's
 * many reads from one commit.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/file.h"
#include "common/tree.h"
#include "rotator/git_int.h"

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

void
dk_git_trees_free(struct trees *t)
{
	if (t == NULL)
		return;
	trees_clear(t);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int
dk_git_trees_new(struct trees **out)
{
	struct trees *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return -1;
	}
	*out = t;
	return 0;
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

/*
 * A committed symbolic link or submodule (gitlink) where dkimrot reads a
 * file or a directory is refused as in the work tree (common/tree.h): a
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
 * A tree it returns stays valid until the next insertion but two:
 * each caller is done with it before it inserts its own, and an
 * insertion never replaces the parent it was found in.
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
	/*
	 * Never the parent's slot: keys/ stays held while its domains
	 * come and go (libgit2 caches few trees: rotator/git.c).
	 */
	if (t->slot[t->next].tree == parent)
		t->next = (t->next + 1) % TREES_SLOTS;
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
dk_git_file_id(struct dk_git *g, const char *id, const char *path,
    char blob[DK_GIT_ID_LEN])
{
	git_tree_entry *ent = NULL;
	int rc;

	if ((rc = commit_entry(g, id, path, GIT_OBJECT_BLOB, &ent)) != 0)
		return rc;
	git_oid_tostr(blob, DK_GIT_ID_LEN, git_tree_entry_id(ent));
	git_tree_entry_free(ent);
	return 0;
}

/* The contents of blob oid, the file path where it is ("in commit ID"). */
static int
blob_copy(struct dk_git *g, const git_oid *oid, const char *path,
    const char *where, char **out, size_t *len)
{
	git_blob *b = NULL;
	git_object_size_t size;
	int rc = -1;

	*out = NULL;
	if (git_blob_lookup(&b, g->repo, oid) < 0) {
		dk_error_set_git("cannot read '%s' %s", path, where);
		goto done;
	}
	if ((size = git_blob_rawsize(b)) > DK_FILE_MAX) {
		dk_error_set("cannot read '%s' %s: larger than %u bytes",
		    path, where, DK_FILE_MAX);
		goto done;
	}
	if ((*out = malloc((size_t)size + 1)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	memcpy(*out, git_blob_rawcontent(b), (size_t)size);
	(*out)[size] = '\0';
	if (len != NULL)
		*len = (size_t)size;
	rc = 0;
done:
	git_blob_free(b);
	return rc;
}

int
dk_git_read_blob(struct dk_git *g, const char *blob, const char *path,
    char **out, size_t *len)
{
	char where[32];
	git_oid oid;

	*out = NULL;
	if (strlen(blob) != DK_GIT_ID_LEN - 1 ||
	    git_oid_fromstr(&oid, blob) < 0) {
		dk_error_set("cannot read '%s': '%s' is not a blob id", path,
		    blob);
		return -1;
	}
	snprintf(where, sizeof(where), "(blob %.12s)", blob);
	return blob_copy(g, &oid, path, where, out, len);
}

int
dk_git_read_file(struct dk_git *g, const char *id, const char *path,
    char **out, size_t *len)
{
	git_tree_entry *ent = NULL;
	char where[DK_GIT_ID_LEN + 16];
	int rc;

	*out = NULL;
	if ((rc = commit_entry(g, id, path, GIT_OBJECT_BLOB, &ent)) != 0)
		return rc;
	snprintf(where, sizeof(where), "in commit '%.40s'", id);
	rc = blob_copy(g, git_tree_entry_id(ent), path, where, out, len);
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
dk_git_count_first_parent(struct dk_git *g, const char *id,
    const char *known, size_t known_n, size_t *out)
{
	git_revwalk *walk = NULL;
	git_oid oid, stop;
	size_t n = 0;
	int err, rc = -1;

	*out = 0;
	if (strlen(id) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, id) < 0) {
		git_error_clear();
		dk_error_set("invalid commit id '%s'", id);
		return -1;
	}
	if (known != NULL && (strlen(known) != GIT_OID_HEXSZ ||
	    git_oid_fromstr(&stop, known) < 0)) {
		git_error_clear();
		known = NULL;
	}
	if (git_revwalk_new(&walk, g->repo) < 0 ||
	    git_revwalk_simplify_first_parent(walk) < 0 ||
	    git_revwalk_push(walk, &oid) < 0) {
		dk_error_set_git("cannot walk the history of '%s'", id);
		goto done;
	}
	while ((err = git_revwalk_next(&oid, walk)) == 0) {
		if (known != NULL && git_oid_equal(&oid, &stop)) {
			n += known_n;
			err = GIT_ITEROVER;
			break;
		}
		n++;
	}
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
	if (dk_git_head_commit(g, &c) == -1)
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
	if (dk_git_head_commit(g, &c) == -1)
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
 * Whether id names a commit object the repository holds: 'package'
 * indexes only packages whose VCS tag passes this, and counts only them
 * for the next version.  Reads the object database only: no walk, no
 * work tree.
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

int
dk_git_hash(const void *buf, size_t len, char id[DK_GIT_ID_LEN])
{
	git_oid oid;

	if (git_odb_hash(&oid, buf, len, GIT_OBJECT_BLOB) != 0) {
		dk_error_set("cannot hash %zu bytes", len);
		return -1;
	}
	git_oid_tostr(id, DK_GIT_ID_LEN, &oid);
	return 0;
}
