/*
 * The key repository as a git repository (docs/design.md §2, §3, §8).  The only
 * user of libgit2: everything here speaks our conventions (0, -1 or an expected
 * code from common/error.h, the message in the last-error buffer).
 *
 * A handle belongs to one thread at a time.  Each handle holds one
 * reference on libgit2's global state (git_libgit2_init() counts), so the
 * last dk_git_free() shuts libgit2 down and a process that frees its
 * handles leaks nothing.
 *
 * Commit ids are 40 lower-case hex digits plus NUL (DK_GIT_ID_LEN).
 */
#ifndef DK_GIT_H
#define DK_GIT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define DK_GIT_ID_LEN	41
#define DK_GIT_BRANCH	"main"	/* the branch dk_git_init() starts */

/* dk_git_commit(): the tree did not change; no commit was made. */
#define DK_GIT_UNCHANGED	1

struct dk_git;

/*
 * Opens the key repository whose work tree is exactly path: no search in
 * parent directories (a key repository inside another repository is still
 * its own), and path must be the top of the work tree, not a directory
 * below it nor the .git directory.  DK_ENOTFOUND with "'PATH' is not a git
 * repository (run 'dkimrot init')" when there is none; -1 for a bare
 * repository or any other failure.
 */
int		 dk_git_open(struct dk_git **out, const char *path);
/*
 * Makes path (mode 0755, parents too) if missing and a new repository in
 * it whose HEAD is the unborn branch "main".  DK_EEXISTS if path already
 * holds a repository (it is left untouched; dk_git_open() it instead).
 */
int		 dk_git_init(struct dk_git **out, const char *path);
void		 dk_git_free(struct dk_git *g);
/* The work tree, absolute, without a trailing '/'. */
const char	*dk_git_workdir(const struct dk_git *g);

/*
 * -1 with a message saying what to finish first when a merge, rebase,
 * cherry-pick, revert, bisect or am is in progress, or HEAD is detached.
 * An unborn branch (no commit yet) is fine.  dk_git_commit() checks this
 * too; call it early to refuse before doing any work.
 */
int		 dk_git_check_state(struct dk_git *g);

/*
 * Commits exactly the n listed paths (relative to the work tree, '/'
 * separated, no "." or ".." components, nothing under .git) on top of HEAD,
 * or as the root commit of an unborn branch, and moves HEAD's branch to it.
 * Each path is taken as it is in the work tree now: a regular file is
 * added (100755 if executable, else 100644; ignore rules do not apply, as
 * with `git add -f`), a missing path is removed (with everything below it
 * if it was a directory).  A directory is only accepted where HEAD has a
 * file it replaced (that file is removed; list the directory's files
 * too); a symlink or other non-regular file is an error.  Nothing else in
 * the work tree or the index is read or committed: the user's other
 * staged and unstaged changes stay as they were, and git status shows the
 * listed paths clean afterwards (the index entries of exactly those paths
 * are replaced by the committed ones).  Only the directories on the
 * listed paths are rewritten, so the cost follows the change, not the
 * size of the tree.
 *
 * Author and committer are name <email> at when (UTC, offset +0000).  The
 * message is cleaned as git does (trailing spaces, blank lines; comments
 * kept) and ends with a newline.  The new commit's id goes to id.
 *
 * DK_GIT_UNCHANGED (> 0) when the tree would equal HEAD's (nothing to
 * commit): nothing is written and id gets HEAD's id ("" if unborn).  -1 if
 * the state is wrong (dk_git_check_state()) or the branch moved meanwhile.
 * If the commit was made but the index could not be updated (another git
 * holds index.lock), this warns and still returns 0: the commit stands.
 */
int		 dk_git_commit(struct dk_git *g, const char *const *paths,
		    size_t n, const char *name, const char *email, time_t when,
		    const char *message, char id[DK_GIT_ID_LEN]);

/*
 * Makes dir (a path relative to the work tree, e.g. "keys") and all
 * below it what HEAD has, in the index and in the work tree: modified
 * and deleted files are restored (created 0600 in 0700 directories: the
 * caller sets the modes it wants), files HEAD lacks are removed, staged
 * changes dropped.  On an unborn branch everything below dir goes.
 * Nothing outside dir is touched.  For undoing the uncommitted changes
 * of a run that died (rotator/keyrepo.h).
 */
int		 dk_git_restore(struct dk_git *g, const char *dir);

/*
 * Runs hook name (e.g. "post-commit") as git would: from core.hooksPath
 * when set (relative to the work tree; "~/" expanded), else .git/hooks.
 * Only an executable regular file runs; a non-executable one is ignored
 * with a warning, as git does.  It runs with fork+execve, no arguments,
 * cwd the work tree, stdin /dev/null, stdout sent to our stderr (stdout is
 * for results), our environment unchanged.  We wait for it.
 *
 * 0 when it ran: *status is its exit status (128 + signal if killed); when
 * not 0 the last-error buffer says so, for the caller to warn with.
 * DK_ENOTFOUND when there is no executable hook; -1 when it could not be
 * started.
 */
int		 dk_git_run_hook(struct dk_git *g, const char *name,
		    int *status);
/*
 * Writes hook name with content atomically, mode 0755, into .git/hooks
 * (made if missing).  -1 if core.hooksPath points anywhere else: a hook
 * there could be shared by other repositories, and one in .git/hooks
 * would never run.
 */
int		 dk_git_install_hook(struct dk_git *g, const char *name,
		    const char *content);

/*
 * Reading commits, never the work tree (packaging, docs/design.md §7).
 */

/* The commit rev names ("HEAD", "main", "HEAD~1", an id); DK_ENOTFOUND. */
int		 dk_git_resolve(struct dk_git *g, const char *rev,
		    char id[DK_GIT_ID_LEN]);
/*
 * HEAD's commit id.  On an unborn branch *unborn is true, id is "" and
 * 0 is returned.  unborn may be NULL: then an unborn HEAD is DK_ENOTFOUND.
 */
int		 dk_git_head(struct dk_git *g, char id[DK_GIT_ID_LEN],
		    bool *unborn);
/*
 * The id git gives len bytes of buf as a blob (git hash-object): a
 * name for content, such as the due index's for dkimrot.yaml.
 */
int		 dk_git_hash(const void *buf, size_t len,
		    char id[DK_GIT_ID_LEN]);
/* The committer time of commit id (full id); DK_ENOTFOUND. */
int		 dk_git_commit_time(struct dk_git *g, const char *id,
		    time_t *out);
/* HEAD's committer time; DK_ENOTFOUND on an unborn branch. */
int		 dk_git_last_commit_time(struct dk_git *g, time_t *out);
/*
 * The file path in the tree of commit id (a full 40-digit id, e.g. from
 * dk_git_resolve()) as stored, no filters applied, at most DK_FILE_MAX
 * bytes.  *out is a NUL-terminated copy the caller frees; len may be
 * NULL.  For a private key the caller wipes it before freeing
 * (dk_secret_wipe, common/secret.h); libgit2's own transient copy of the
 * object is freed unwiped (the key is in the object store anyway).
 * DK_ENOTFOUND if there is no such file; -1 if path is a directory.
 */
int		 dk_git_read_file(struct dk_git *g, const char *id,
		    const char *path, char **out, size_t *len);
/*
 * The two halves of dk_git_read_file(): the blob id of file path in
 * commit id (the same errors), and the contents of blob (40 hex digits;
 * path names it in errors), as dk_git_read_file() gives them.  A render
 * that may not need a key's contents takes its id first (packaging/
 * render.h, "deferred").
 */
int		 dk_git_file_id(struct dk_git *g, const char *id,
		    const char *path, char blob[DK_GIT_ID_LEN]);
int		 dk_git_read_blob(struct dk_git *g, const char *blob,
		    const char *path, char **out, size_t *len);
/*
 * Calls fn(name, is_dir, arg) for every entry of directory dir ("" for the
 * top) in the tree of commit id, in git's tree order (byte order, a
 * directory sorting as if its name ended in '/').  Submodule entries are
 * skipped.  A non-zero return of fn stops the walk and is returned.
 * DK_ENOTFOUND if there is no such directory; -1 if dir is a file.
 */
int		 dk_git_list_dir(struct dk_git *g, const char *id,
		    const char *dir,
		    int (*fn)(const char *name, bool is_dir, void *arg),
		    void *arg);
/*
 * The number of commits on the first-parent chain of commit id, itself
 * included: `git rev-list --first-parent --count ID`, the RPM Version.
 * known, when not NULL, is a commit id whose count is known_n: the walk
 * stops there when it meets it (an id names its whole history, so its
 * count never changes), and reads the whole chain when it does not.
 */
int		 dk_git_count_first_parent(struct dk_git *g, const char *id,
		    const char *known, size_t known_n, size_t *out);
/*
 * 1 when id (40 hex digits) names a commit object of the repository, 0
 * when it does not (a tree or blob id, an unknown object, not an id at
 * all), -1 when the object database cannot be read.
 */
int		 dk_git_has_commit(struct dk_git *g, const char *id);

/*
 * A shared remote (rotator/git_remote.c, docs/design.md §14).  The
 * branch has the same name locally and on the remote; what was last
 * fetched from or pushed to it is refs/remotes/dkimrot/BRANCH.
 */
struct dk_git_remote {
	const char	*url;		/* git.remote */
	const char	*branch;	/* git.branch */
	/* absolute paths, "" = none (git_cred.c) */
	const char	*ssh_key;	/* git.ssh_key */
	const char	*known_hosts;	/* git.known_hosts */
	const char	*credentials;	/* git.credentials */
	const char	*ca_file;	/* git.ca_file */
};

struct dk_config;
/* rm's files, absolute: filled in by dk_git_remote_conf(). */
#define DK_GIT_PATH_MAX	4096	/* PATH_MAX */
struct dk_git_remote_paths {
	char	key[DK_GIT_PATH_MAX], hosts[DK_GIT_PATH_MAX];
	char	cred[DK_GIT_PATH_MAX], ca[DK_GIT_PATH_MAX];
};
/* rm from the configuration, its files made absolute below repo in p. */
int		 dk_git_remote_conf(struct dk_git_remote *rm,
		    const struct dk_config *cfg, const char *repo,
		    struct dk_git_remote_paths *p);

/* dk_git_push(): the remote has commits we lack (another host pushed). */
#define DK_GIT_REJECTED	2

/* -1 "HEAD of 'W' is on 'X', not on git.branch 'B'" unless it is. */
int		 dk_git_check_branch(struct dk_git *g, const char *branch);
/*
 * Fetches the remote's branch into the tracking ref.  DK_ENOTFOUND when
 * the remote has no such branch (an empty remote; the tracking ref is
 * deleted), DK_ETEMP when the remote cannot be reached (network, ssh,
 * https), -1 otherwise.  Never prompts.
 */
int		 dk_git_fetch(struct dk_git *g, const struct dk_git_remote *rm);
/*
 * How many commits the local branch has that the tracking ref lacks,
 * and the other way round.  DK_ENOTFOUND when nothing is tracked (then
 * *ahead counts every local commit).
 */
int		 dk_git_standing(struct dk_git *g, const char *branch,
		    size_t *ahead, size_t *behind);
/*
 * Moves the branch (HEAD's; it may be unborn) to the tracking ref, which
 * must descend from it, and checks out what changed.  -1 when a file
 * with uncommitted changes would be overwritten (nothing is changed).
 */
int		 dk_git_fast_forward(struct dk_git *g, const char *branch);
/*
 * Pushes the local branch to the remote, never forced; on success the
 * tracking ref moves to it.  DK_GIT_REJECTED when the remote's branch
 * is not an ancestor (another host pushed first), DK_ETEMP when the
 * remote cannot be reached, -1 otherwise.
 */
int		 dk_git_push(struct dk_git *g, const struct dk_git_remote *rm);
/* 1 when commit id is the tracking ref or one of its ancestors, else 0. */
int		 dk_git_pushed(struct dk_git *g, const char *branch,
		    const char *id);
/*
 * For packaging: 0 when the configuration names no remote or commit id
 * is on it (fetched again when the tracking ref lacks it: a push by
 * hand), else -1 "commit ID is not on the remote 'URL'".
 */
int		 dk_git_check_pushed(struct dk_git *g,
		    const struct dk_config *cfg, const char *id);
/*
 * Moves the branch from expect to id ("" = back to unborn), refs only:
 * the caller restores the files (dk_git_restore()).  -1 if the branch
 * is not at expect.
 */
int		 dk_git_reset_branch(struct dk_git *g, const char *branch,
		    const char *id, const char *expect);

/*
 * dk_error_set() with ": " and libgit2's last error message appended
 * (which is then cleared).
 */
void		 dk_error_set_git(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#endif
