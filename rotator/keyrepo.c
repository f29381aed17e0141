#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/fault.h"
#include "common/file.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/strlist.h"
#include "common/tree.h"
#include "keygen/key.h"
#include "rotator/git.h"
#include "rotator/hook.h"
#include "rotator/keyrepo.h"
#include "rotator/output.h"
#include "rotator/remote.h"
#include "rotator/store.h"
#include "rotator/vault.h"

#define JOURNAL	".git/dkimrot.dirty"

static int
journal_path(const struct dk_keyrepo *r, char *buf, size_t size)
{
	return dk_path_join(buf, size, r->path, JOURNAL);
}

/*
 * Makes the rollback durable before the journal goes: restored files
 * that never reached the disk would be worse than the crash they undo.
 */
static int
sync_repo(const char *path)
{
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    syncfs(fd) == -1) {
		dk_error_set_errno(errno, "cannot sync '%s'", path);
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	return rc;
}

/* -1 if keys/ or a directory in it is not a directory (a link). */
static int
linked_keys(struct dk_keyrepo *r)
{
	struct dk_strlist list = { 0 };
	int rc;

	rc = dk_store_domains(r->path, &list);
	dk_strlist_dispose(&list);
	/* A stray regular file is no danger to the checkout. */
	return rc == DK_EUSAGE ? 0 : rc;
}

/* An earlier run died before committing: back to HEAD (keyrepo.h). */
static int
recover(struct dk_keyrepo *r)
{
	char path[PATH_MAX], *pid = NULL;
	int rc;

	if (journal_path(r, path, sizeof(path)) != 0)
		return -1;
	if ((rc = dk_file_read(path, 64, &pid, NULL)) == DK_ENOTFOUND)
		return 0;
	dk_log_warn("a dkimrot run (pid %ld) was interrupted; its "
	    "uncommitted changes under %s/ are rolled back to HEAD", rc == 0 ?
	    strtol(pid, NULL, 10) : 0L, DK_STORE_KEYS_DIR);
	free(pid);
	/*
	 * libgit2's checkout writes by path: a keys or keys/DOMAIN made a
	 * link since would be written through.  The listing refuses both.
	 */
	if (linked_keys(r) != 0 ||
	    dk_git_restore(r->git, DK_STORE_KEYS_DIR) != 0 ||
	    sync_repo(r->path) != 0)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT) {
		dk_error_set_errno(errno, "cannot remove '%s'", path);
		return -1;
	}
	return dk_dir_sync_parent(path);
}

/* Before the first change to the work tree. */
static int
journal_begin(struct dk_keyrepo *r)
{
	char path[PATH_MAX], pid[32];
	int n;

	if (r->journal)
		return 0;
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (journal_path(r, path, sizeof(path)) != 0 ||
	    dk_file_replace(path, pid, (size_t)n, 0600) != 0)
		return -1;
	r->journal = true;
	return 0;
}

static int
journal_end(struct dk_keyrepo *r)
{
	char path[PATH_MAX];

	if (!r->journal || r->partial)
		return 0;
	if (journal_path(r, path, sizeof(path)) != 0)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT) {
		dk_error_set_errno(errno, "cannot remove '%s'", path);
		return -1;
	}
	r->journal = false;
	return dk_dir_sync_parent(path);
}

int
dk_keyrepo_keep(struct dk_keyrepo *r)
{
	return journal_end(r);
}

static int
read_config(struct dk_keyrepo *r)
{
	char cfgpath[PATH_MAX], *buf = NULL;
	size_t len;
	int rc;

	dk_config_free(r->cfg);
	r->cfg = NULL;
	if ((rc = dk_path_join(cfgpath, sizeof(cfgpath), r->path,
	    DK_CONFIG_FILE)) != 0)
		return rc;
	/* Read below the repository: not through a link or a FIFO. */
	if ((rc = dk_tree_read(r->path, DK_CONFIG_FILE, DK_CONFIG_MAX_SIZE,
	    &buf, &len)) != 0)
		return rc;
	rc = dk_config_parse(buf, len, cfgpath, &r->cfg);
	if (rc == 0)
		rc = dk_git_hash(buf, len, r->cfg_id);
	free(buf);
	return rc;
}

int
dk_keyrepo_open(struct dk_keyrepo *r, const char *path, unsigned flags,
    int wait)
{
	int rc, moved = 0;

	memset(r, 0, sizeof(*r));
	r->path = path;
	if ((rc = dk_git_open(&r->git, path)) != 0)
		goto fail;
	if ((rc = dk_vault_check(path)) != 0)
		goto fail;
	if ((rc = dk_git_check_state(r->git)) != 0)
		goto fail;
	if ((flags & DK_KEYREPO_LOCK) &&
	    ((rc = dk_lock_acquire(path, wait, &r->lock)) != 0 ||
	    (rc = recover(r)) != 0 ||
	    (rc = dk_git_head(r->git, r->head, &r->head_unborn)) != 0))
		goto fail;
	if ((flags & DK_KEYREPO_CONFIG) && (rc = read_config(r)) != 0)
		goto fail;
	/*
	 * With a remote, plan from its head (rotator/remote.h), under the
	 * configuration that came with it.
	 */
	if ((flags & DK_KEYREPO_LOCK) && (flags & DK_KEYREPO_CONFIG) &&
	    ((rc = dk_remote_sync(r, &moved)) != 0 ||
	    (moved && (rc = read_config(r)) != 0)))
		goto fail;
	return 0;
fail:
	dk_keyrepo_dispose(r);
	return rc;
}

void
dk_keyrepo_dispose(struct dk_keyrepo *r)
{
	dk_lock_release(r->lock);
	dk_config_free(r->cfg);
	dk_git_free(r->git);
	memset(r, 0, sizeof(*r));
}

/*
 * rotate --package: this binary's 'package' of exactly the commit made,
 * as the hook init writes would run it, its output on our stderr.
 */
static int
run_package(struct dk_keyrepo *r)
{
	char self[PATH_MAX], id[DK_GIT_ID_LEN];
	char *argv[] = { self, "-C", ".", "package", "--rev", id, "--wait",
	    "600", NULL };
	ssize_t n;
	int status;

	memcpy(id, r->head, sizeof(id));
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1) {
		dk_error_set_errno(errno, "cannot find this program");
		return -1;
	}
	self[n] = '\0';
	if (dk_hook_exec_argv(argv, dk_git_workdir(r->git), &status) != 0)
		return -1;
	if (status != 0) {
		dk_error_set("packaging %.12s failed (exit %d)", id, status);
		return -1;
	}
	return 0;
}

/*
 * Lets go of the lock (the hook takes it itself) and runs the hook, or
 * with r->package builds the packages itself.
 */
static int
run_hook(struct dk_keyrepo *r)
{
	int rc, status;

	dk_lock_release(r->lock);
	r->lock = NULL;
	if (r->package)
		return run_package(r);
	rc = dk_git_run_hook(r->git, "post-commit", &status);
	if (rc == 0 && status != 0)
		dk_log_warn("post-commit hook failed (exit %d); the commit "
		    "stands; see .git/dkimrot-package.log", status);
	else if (rc == -1)
		dk_log_warn("%s", dk_error_last());
	return 0;
}

int
dk_keyrepo_commit(struct dk_keyrepo *r, struct dk_strlist *paths,
    const char *msg, time_t now, bool *committed)
{
	char id[DK_GIT_ID_LEN];
	int rc;

	*committed = false;
	if (paths->n == 0)
		return journal_end(r);
	dk_strlist_uniq(paths);
	DK_FAULT("before-commit");
	if (dk_remote_begin(r) != 0)
		return -1;
	rc = dk_git_commit(r->git, (const char *const *)paths->v, paths->n,
	    r->cfg->git_name, r->cfg->git_email, now, msg, id);
	if (rc != 0 && dk_remote_end(r) != 0)
		dk_log_warn("%s", dk_error_last());
	if (rc == DK_GIT_UNCHANGED)
		return journal_end(r);
	if (rc != 0)
		return rc;
	*committed = true;
	memcpy(r->head, id, sizeof(r->head));
	r->head_unborn = false;
	dk_log_info("committed %.12s", id);
	DK_FAULT("after-commit");
	if (journal_end(r) != 0)
		dk_log_warn("%s", dk_error_last());
	/* Nothing is packaged from a commit the remote lacks. */
	if ((rc = dk_remote_push(r)) != 0) {
		*committed = false;
		return rc;
	}
	/*
	 * Another run may commit between our release and the hook; the
	 * hook builds the commit it is given, so that is harmless.
	 */
	return run_hook(r);
}

int
dk_keyrepo_catch_up(struct dk_keyrepo *r)
{
	char id[DK_GIT_ID_LEN], stamp[DK_GIT_ID_LEN];
	struct dk_output out;
	size_t version;
	bool unborn;
	int rc;

	if ((rc = dk_git_head(r->git, id, &unborn)) != 0 || unborn)
		return rc;
	if ((rc = dk_output_dirs(r->path, NULL, r->cfg, &out)) != 0)
		return rc;
	rc = dk_output_stamp_read(r->path, stamp, sizeof(stamp), &version);
	if (rc == 0 && strcmp(stamp, id) == 0 &&
	    dk_output_built(&out, version) && dk_output_indexed(&out, version))
		return 0;
	if (rc != 0 && rc != DK_ENOTFOUND)
		dk_log_warn("%s", dk_error_last());
	dk_log_debug("%.12s has no packages in '%s' yet", id, out.top);
	memcpy(r->head, id, sizeof(r->head));
	return run_hook(r);
}

static int
relpath(char *buf, size_t size, const char *domain, const char *sel,
    const char *ext)
{
	return dk_store_key_path(NULL, domain, sel, ext, buf, size);
}

/* SEL.txt: replaced and synced (revoked keys) or created unsynced. */
static int
write_txt(struct dk_keyrepo *r, const char *domain, const char *sel,
    const char *value, bool sync, struct dk_strlist *paths)
{
	char owner[DK_SELECTOR_MAX + 16], rel[PATH_MAX];
	char *zone = NULL;
	int n, rc = -1;

	n = snprintf(owner, sizeof(owner), "%s._domainkey", sel);
	if (n < 0 || (size_t)n >= sizeof(owner)) {
		dk_error_set("selector too long: '%s'", sel);
		return -1;
	}
	if (relpath(rel, sizeof(rel), domain, sel, "txt") != 0)
		return -1;
	if (dk_record_zone(owner, 0, value, sel, domain, &zone) != 0)
		goto done;
	/* A new key's record is new: created, like its private key. */
	if ((sync ? dk_tree_replace(r->path, rel, zone, strlen(zone), 0644) :
	    dk_tree_create(r->path, rel, zone, strlen(zone), 0644,
	    false)) != 0)
		goto done;
	rc = dk_strlist_add(paths, rel);
done:
	free(zone);
	return rc;
}

int
dk_keyrepo_write_key(struct dk_keyrepo *r, const char *domain, const char *sel,
    const struct dk_key *key, const struct dk_policy *pol,
    struct dk_strlist *paths, char kid[DK_GIT_ID_LEN])
{
	char rel[PATH_MAX];
	struct dk_record_opts o;
	struct dk_buf pem = { 0 };
	char *value = NULL;
	int rc = -1;

	if (dk_store_mkdir(r->path, domain) != 0 ||
	    relpath(rel, sizeof(rel), domain, sel, "private") != 0)
		return -1;
	dk_record_opts_of(pol, &o);
	if (dk_record_value(key, &o, &value) != 0 || journal_begin(r) != 0)
		goto done;
	/* Not synced: dk_keyrepo_sync() syncs them all at once. */
	if ((rc = dk_key_to_pem(key, &pem)) != 0 ||
	    (rc = dk_tree_create(r->path, rel, pem.data, pem.len, 0600,
	    false)) != 0 ||
	    (kid != NULL && (rc = dk_git_hash(pem.data, pem.len, kid)) != 0))
		goto done;
	DK_FAULT("after-key-write");
	if ((rc = write_txt(r, domain, sel, value, false, paths)) != 0) {
		dk_tree_remove(r->path, rel);
		goto done;
	}
	DK_FAULT("after-key-write");
	rc = dk_strlist_add(paths, rel);
done:
	dk_buf_wipe(&pem);
	free(value);
	return rc;
}

int
dk_keyrepo_write_revoked(struct dk_keyrepo *r, const char *domain,
    const struct dk_keyinfo *k, const struct dk_policy *pol,
    struct dk_strlist *paths)
{
	struct dk_record_opts o;
	char *value = NULL;
	int rc;

	dk_record_opts_of(pol, &o);
	o.revoked = true;
	if (journal_begin(r) != 0 ||
	    dk_record_value_revoked(k->alg, &o, &value) != 0)
		return -1;
	/*
	 * Synced: this replaces the record of a key keys.yaml still names
	 * as published, which a crash must not leave empty.
	 */
	rc = write_txt(r, domain, k->selector, value, true, paths);
	free(value);
	return rc;
}

static int
add_removed(struct dk_strlist *paths, const struct dk_strlist *removed)
{
	size_t i;

	for (i = 0; i < removed->n; i++) {
		dk_log_debug("removed '%s'", removed->v[i]);
		if (dk_strlist_add(paths, removed->v[i]) != 0)
			return -1;
	}
	return 0;
}

/*
 * A keys.yaml that HEAD has but the work tree lacks was deleted by
 * someone: repairing would then remove every key file of the domain as
 * debris.  Refuse instead.
 */
static int
committed_yaml(struct dk_keyrepo *r, const char *domain)
{
	char id[DK_GIT_ID_LEN], path[PATH_MAX], *buf = NULL;
	bool unborn;
	int rc;

	/* Asked once per new domain: under the lock, HEAD is known. */
	if (r->lock != NULL) {
		memcpy(id, r->head, sizeof(id));
		unborn = r->head_unborn;
	} else if ((rc = dk_git_head(r->git, id, &unborn)) != 0)
		return rc;
	if (unborn ||
	    dk_store_yaml_path(NULL, domain, path, sizeof(path)) != 0)
		return unborn ? 0 : -1;
	rc = dk_git_read_file(r->git, id, path, &buf, NULL);
	free(buf);
	if (rc == DK_ENOTFOUND)
		return 0;
	if (rc == 0)
		dk_error_set("'%s' is missing but committed; restore it "
		    "('git checkout -- %s') before rotating", path, path);
	return -1;
}

/*
 * keys.yaml and every file it names, so that a commit of the domain is
 * whole even when an earlier --no-commit run or a hand left some of
 * them uncommitted; unchanged files cost a hash, not a tree entry.
 */
static int
domain_files(const struct dk_domain_keys *dk, struct dk_strlist *paths)
{
	char rel[PATH_MAX];
	size_t i;

	if (dk_store_yaml_path(NULL, dk->domain, rel, sizeof(rel)) != 0 ||
	    dk_strlist_add(paths, rel) != 0)
		return -1;
	for (i = 0; i < dk->n; i++) {
		if (dk_state_published(dk->keys[i].state) &&
		    (relpath(rel, sizeof(rel), dk->domain,
		    dk->keys[i].selector, "private") != 0 ||
		    dk_strlist_add(paths, rel) != 0))
			return -1;
		if ((dk_state_published(dk->keys[i].state) ||
		    dk->keys[i].state == DK_STATE_REVOKED) &&
		    (relpath(rel, sizeof(rel), dk->domain,
		    dk->keys[i].selector, "txt") != 0 ||
		    dk_strlist_add(paths, rel) != 0))
			return -1;
	}
	return 0;
}

int
dk_keyrepo_load_domain(struct dk_keyrepo *r, const char *domain,
    struct dk_domain_keys **out, struct dk_strlist *paths)
{
	struct dk_strlist removed = { 0 };
	struct dk_domain_keys *dk = NULL;
	int rc;

	*out = NULL;
	if ((rc = dk_store_load(r->path, domain, &dk)) != 0)
		return rc;
	if (!dk->exists && (rc = committed_yaml(r, domain)) != 0) {
		dk_domain_keys_free(dk);
		return rc;
	}
	rc = dk_store_repair(r->path, dk, &removed);
	if (removed.n > 0 && dk_log_level() >= 1)
		dk_log_info("%s: removed %zu file%s no keys.yaml names "
		    "(left by an interrupted run)", domain, removed.n,
		    removed.n == 1 ? "" : "s");
	/* The removals are changes to commit like any other. */
	if (rc == 0 && removed.n > 0)
		rc = journal_begin(r);
	if (rc == 0)
		rc = add_removed(paths, &removed);
	if (rc == 0 && removed.n > 0 && dk->exists)
		rc = domain_files(dk, paths);
	dk_strlist_dispose(&removed);
	if (rc != 0) {
		dk_domain_keys_free(dk);
		return rc;
	}
	*out = dk;
	return 0;
}

int
dk_keyrepo_begin(struct dk_keyrepo *r)
{
	return journal_begin(r);
}

int
dk_keyrepo_sync(struct dk_keyrepo *r)
{
	return dk_fs_sync(r->path);
}

/* A staged file's path, for the caller to free; removed on failure. */
static int
staged(struct dk_keyrepo *r, const char *path, char **tmp)
{
	if ((*tmp = strdup(path)) == NULL) {
		dk_tree_remove(r->path, path);
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

int
dk_keyrepo_stage_domain(struct dk_keyrepo *r, struct dk_domain_keys *dk,
    bool check, char **tmp, char **rtmp)
{
	char path[PATH_MAX];
	int rc;

	*tmp = *rtmp = NULL;
	if ((rc = dk_store_stage_retired(r->path, dk, check, path,
	    sizeof(path))) != 0)
		return rc;
	if (path[0] != '\0' && staged(r, path, rtmp) != 0)
		return -1;
	if (dk_store_stage(r->path, dk, path, sizeof(path)) != 0 ||
	    staged(r, path, tmp) != 0) {
		if (*rtmp != NULL)
			dk_keyrepo_unstage(r, *rtmp);
		free(*rtmp);
		*rtmp = NULL;
		return -1;
	}
	return 0;
}

void
dk_keyrepo_unstage(struct dk_keyrepo *r, const char *tmp)
{
	dk_tree_remove(r->path, tmp);
}

int
dk_keyrepo_publish_domain(struct dk_keyrepo *r,
    const struct dk_domain_keys *dk, const char *tmp, const char *rtmp,
    struct dk_strlist *paths)
{
	char rel[PATH_MAX], rrel[PATH_MAX];

	if (dk_store_yaml_path(NULL, dk->domain, rel, sizeof(rel)) != 0 ||
	    dk_store_retired_path(NULL, dk->domain, rrel, sizeof(rrel)) != 0 ||
	    journal_begin(r) != 0) {
		dk_keyrepo_unstage(r, tmp);
		if (rtmp != NULL)
			dk_keyrepo_unstage(r, rtmp);
		return -1;
	}
	/* retired.yaml first: a crash between leaves keys in both. */
	if (rtmp != NULL) {
		if (dk_tree_publish(r->path, rtmp, rrel) != 0) {
			dk_keyrepo_unstage(r, tmp);
			return -1;
		}
		DK_FAULT("after-retired-yaml");
		if (dk_strlist_add(paths, rrel) != 0)
			return -1;
	}
	if (dk_tree_publish(r->path, tmp, rel) != 0)
		return -1;
	DK_FAULT("after-keys-yaml");
	if (domain_files(dk, paths) != 0)
		return -1;
	return dk_strlist_add(paths, rel);
}

int
dk_keyrepo_tidy_domain(struct dk_keyrepo *r, const struct dk_domain_keys *dk,
    struct dk_strlist *paths)
{
	struct dk_strlist removed = { 0 };
	int rc;

	rc = dk_store_repair(r->path, dk, &removed);
	if (rc == 0)
		rc = add_removed(paths, &removed);
	dk_strlist_dispose(&removed);
	return rc;
}
