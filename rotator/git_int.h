/*
 * Private to rotator/git*.c, the only files that include git2.h: the
 * handle of rotator/git.h and the helpers its files share.  The handle's
 * jobs are one file each: git.c opens, creates and checks it; git_commit.c
 * commits listed paths and restores them; git_hook.c finds and installs
 * hooks; git_read.c reads commits, never the work tree.
 */
#ifndef DK_GIT_INT_H
#define DK_GIT_INT_H

#include <git2.h>

#include "rotator/git.h"

struct trees;

struct dk_git {
	git_repository	*repo;
	char		*workdir;	/* absolute, no trailing '/' */
	/*
	 * A commit's new blobs and trees are written here, in memory, and
	 * reach the repository as one pack (git_commit.c: flush_pack):
	 * made on the first commit.
	 */
	git_repository	*mem;
	git_odb_backend	*mempack;
	git_oid		*fresh;		/* the objects written there */
	size_t		 nfresh;
	size_t		 capfresh;
	struct trees	*trees;		/* of the commit read last */
};

/* One path of a commit, as it is in the work tree. */
struct staged {
	git_index_entry	entry;	/* for S_FILE */
	enum {
		S_GONE,		/* no such path: remove it and all below */
		S_FILE,		/* a regular file: add it */
		S_DIR		/* a directory now: remove the file only */
	}		kind;
	int		in_mem;	/* its blob went to the in-memory backend */
};

/*
 * git_cred.c: the callbacks of one fetch or push, with what they need;
 * err says why a callback refused (libgit2's message would not).
 */
struct dk_git_cred {
	const struct dk_git_remote *rm;
	int		 tries;
	char		 err[512];
	void		*push;		/* git_remote.c's push report */
};
void		 dk_git_callbacks(git_remote_callbacks *cb,
		    struct dk_git_cred *c);

/* git.c */
/*
 * A path we commit or restore: relative, '/'-separated, no empty, "."
 * or ".." component, nothing in .git.
 */
int		 dk_git_path_check(const char *path);
/* HEAD's commit, or NULL on an unborn branch. */
int		 dk_git_head_commit(struct dk_git *g, git_commit **out);

/* git_commit.c: notes an object written to memory, for its pack. */
int		 dk_git_fresh_add(struct dk_git *g, const git_oid *id);

/*
 * git_stage.c: s[i] for paths[i], each read from the work tree (its blob
 * written to memory, or through libgit2's filters to the repository).
 */
int		 dk_git_stage(struct dk_git *g, const char *const *paths,
		    struct staged *s, size_t n);

/*
 * git_pack.c: objects ids[0..n) (no two alike; the pack keeps their
 * order) read from src
 * (the in-memory backend: read on every core, past libgit2's cache)
 * into g's repository as one new pack and its index, on disk before it
 * returns.
 */
int		 dk_git_pack_write(struct dk_git *g, git_odb_backend *src,
		    const git_oid *ids, size_t n);

/* git_read.c: the cache of the trees last read from one commit. */
int		 dk_git_trees_new(struct trees **out);
void		 dk_git_trees_free(struct trees *t);

#endif
