/*
 * The key repository against a shared remote (docs/design.md §14): fetch
 * into a tracking ref of our own, how the branch stands against it,
 * fast-forward, push, and the drop of a commit the remote refused.
 *
 * The tracking ref is refs/remotes/dkimrot/BRANCH, not origin's: the
 * remote is git.remote of dkimrot.yaml, whatever the clone calls it, and
 * a 'git fetch' of the admin's own must not move what dkimrot decided was
 * pushed.  Remotes are anonymous (nothing is written to .git/config).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "rotator/git_int.h"

#define TRACKING	"refs/remotes/dkimrot/"

struct pushed {
	const char	*ref;
	char		 status[256];	/* the remote's reason, "" = taken */
	bool		 seen;
};

static int
refname(char *buf, size_t size, const char *prefix, const char *branch)
{
	int n = snprintf(buf, size, "%s%s", prefix, branch);

	if (n < 0 || (size_t)n >= size) {
		dk_error_set("branch name too long: '%s'", branch);
		return -1;
	}
	return 0;
}

/*
 * A remote that cannot be reached (network, ssh, https) is temporary:
 * the next run tries again.  Anything else (no repository at that path,
 * a refused key) wants a person.
 */
static int
net_error(const char *what, const struct dk_git_cred *c)
{
	const git_error *e = git_error_last();
	const char *u = c->rm->url;
	int local = u[0] == '/' || strncmp(u, "file://", 7) == 0;
	/* A refused connection is GIT_ERROR_OS (libgit2's socket stream). */
	int temp = e != NULL && (e->klass == GIT_ERROR_NET ||
	    e->klass == GIT_ERROR_SSH || e->klass == GIT_ERROR_HTTP ||
	    (e->klass == GIT_ERROR_OS && !local));

	/* A refused credential or host key wants a person. */
	if (c->err[0] != '\0') {
		git_error_clear();
		dk_error_set("cannot %s '%s': %s", what, c->rm->url, c->err);
		return -1;
	}
	dk_error_set_git("cannot %s '%s'", what, c->rm->url);
	return temp ? DK_ETEMP : -1;
}

static int
remote_open(struct dk_git *g, const struct dk_git_remote *rm,
    git_remote **out)
{
	/*
	 * An internal CA: the only CAs trusted for this run (libgit2's
	 * setting is per process; this process talks to one remote).
	 */
	if (rm->ca_file[0] != '\0' && git_libgit2_opts(
	    GIT_OPT_SET_SSL_CERT_LOCATIONS, rm->ca_file, NULL) < 0) {
		dk_error_set_git("cannot use git.ca_file '%s'", rm->ca_file);
		return -1;
	}
	if (git_remote_create_anonymous(out, g->repo, rm->url) < 0) {
		dk_error_set_git("cannot use remote '%s'", rm->url);
		return -1;
	}
	return 0;
}

/* A file of git.*: absolute, or relative to the repository. */
static int
conf_path(char *buf, const char *repo, const char *path)
{
	int n;

	if (path[0] == '\0' || path[0] == '/')
		n = snprintf(buf, DK_GIT_PATH_MAX, "%s", path);
	else
		n = snprintf(buf, DK_GIT_PATH_MAX, "%s/%s", repo, path);
	if (n < 0 || n >= DK_GIT_PATH_MAX) {
		dk_error_set("path too long: '%s'", path);
		return -1;
	}
	return 0;
}

int
dk_git_remote_conf(struct dk_git_remote *rm, const struct dk_config *cfg,
    const char *repo, struct dk_git_remote_paths *p)
{
	rm->url = cfg->git_remote;
	rm->branch = cfg->git_branch;
	rm->ssh_key = p->key;
	rm->known_hosts = p->hosts;
	rm->credentials = p->cred;
	rm->ca_file = p->ca;
	return conf_path(p->key, repo, cfg->git_ssh_key) != 0 ||
	    conf_path(p->hosts, repo, cfg->git_known_hosts) != 0 ||
	    conf_path(p->cred, repo, cfg->git_credentials) != 0 ||
	    conf_path(p->ca, repo, cfg->git_ca_file) != 0 ? -1 : 0;
}

int
dk_git_check_branch(struct dk_git *g, const char *branch)
{
	git_reference *head = NULL;
	const char *target;
	char want[256];
	int rc = -1;

	if (refname(want, sizeof(want), "refs/heads/", branch) != 0)
		return -1;
	if (git_reference_lookup(&head, g->repo, "HEAD") < 0) {
		dk_error_set_git("cannot read HEAD of '%s'", g->workdir);
		return -1;
	}
	target = git_reference_symbolic_target(head);
	if (target == NULL || strcmp(target, want) != 0)
		dk_error_set("HEAD of '%s' is on '%s', not on git.branch '%s' "
		    "(git switch %s)", g->workdir, target != NULL &&
		    strncmp(target, "refs/heads/", 11) == 0 ? target + 11 :
		    "(detached)", branch, branch);
	else
		rc = 0;
	git_reference_free(head);
	return rc;
}

int
dk_git_fetch(struct dk_git *g, const struct dk_git_remote *rm)
{
	struct dk_git_cred cred = { rm, 0, "", NULL };
	git_fetch_options fo;
	git_remote *remote = NULL;
	const git_remote_head **heads;
	git_reference *ref = NULL;
	char spec[600], theirs[256], track[256];
	char *specv[1] = { spec };
	git_strarray specs = { specv, 1 };
	size_t i, n;
	int rc = -1, found = 0;

	if (refname(theirs, sizeof(theirs), "refs/heads/", rm->branch) != 0 ||
	    refname(track, sizeof(track), TRACKING, rm->branch) != 0)
		return -1;
	snprintf(spec, sizeof(spec), "+%s:%s", theirs, track);
	if (remote_open(g, rm, &remote) != 0)
		return -1;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	dk_git_callbacks(&fo.callbacks, &cred);
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (git_remote_fetch(remote, &specs, &fo, "dkimrot: fetch") < 0) {
		rc = net_error("fetch from", &cred);
		goto done;
	}
	/* The heads stay readable after the fetch disconnected. */
	if (git_remote_ls(&heads, &n, remote) < 0) {
		dk_error_set_git("cannot list the branches of '%s'", rm->url);
		goto done;
	}
	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, theirs) == 0)
			found = 1;
	rc = 0;
	if (!found) {
		/* An empty remote, or the branch is gone: nothing tracked. */
		if (git_reference_lookup(&ref, g->repo, track) == 0 &&
		    git_reference_delete(ref) < 0) {
			dk_error_set_git("cannot delete '%s'", track);
			rc = -1;
		} else
			rc = DK_ENOTFOUND;
		git_error_clear();
	}
done:
	git_reference_free(ref);
	git_remote_free(remote);
	return rc;
}

/* The tracking ref's commit; DK_ENOTFOUND when there is none. */
static int
tracked(struct dk_git *g, const char *branch, git_oid *out)
{
	char track[256];

	if (refname(track, sizeof(track), TRACKING, branch) != 0)
		return -1;
	if (git_reference_name_to_id(out, g->repo, track) == 0)
		return 0;
	if (git_error_last() != NULL &&
	    git_error_last()->klass == GIT_ERROR_REFERENCE) {
		git_error_clear();
		return DK_ENOTFOUND;
	}
	dk_error_set_git("cannot read '%s'", track);
	return -1;
}

/* The local branch's commit; DK_ENOTFOUND when it is unborn. */
static int
local(struct dk_git *g, const char *branch, git_oid *out)
{
	char ref[256];
	int e;

	if (refname(ref, sizeof(ref), "refs/heads/", branch) != 0)
		return -1;
	if ((e = git_reference_name_to_id(out, g->repo, ref)) == 0)
		return 0;
	if (e == GIT_ENOTFOUND) {
		git_error_clear();
		return DK_ENOTFOUND;
	}
	dk_error_set_git("cannot read '%s'", ref);
	return -1;
}

/* Commits reachable from id: all of them are behind an unborn branch. */
static int
count_commits(struct dk_git *g, const git_oid *id, size_t *out)
{
	git_revwalk *w = NULL;
	git_oid o;
	int e;

	*out = 0;
	if (git_revwalk_new(&w, g->repo) < 0 || git_revwalk_push(w, id) < 0) {
		git_revwalk_free(w);
		dk_error_set_git("cannot walk the history of '%s'", g->workdir);
		return -1;
	}
	while ((e = git_revwalk_next(&o, w)) == 0)
		(*out)++;
	git_revwalk_free(w);
	if (e != GIT_ITEROVER) {
		dk_error_set_git("cannot walk the history of '%s'", g->workdir);
		return -1;
	}
	return 0;
}

int
dk_git_standing(struct dk_git *g, const char *branch, size_t *ahead,
    size_t *behind)
{
	git_oid mine, theirs;
	int rc;

	*ahead = *behind = 0;
	if ((rc = tracked(g, branch, &theirs)) != 0) {
		/* Nothing on the remote: every local commit is ahead. */
		if (rc == DK_ENOTFOUND && local(g, branch, &mine) == 0 &&
		    count_commits(g, &mine, ahead) != 0)
			return -1;
		return rc;
	}
	if ((rc = local(g, branch, &mine)) == DK_ENOTFOUND)
		return count_commits(g, &theirs, behind);
	if (rc != 0)
		return rc;
	if (git_graph_ahead_behind(ahead, behind, g->repo, &mine,
	    &theirs) < 0) {
		dk_error_set_git("cannot compare '%s' with the remote's",
		    branch);
		return -1;
	}
	return 0;
}

int
dk_git_fast_forward(struct dk_git *g, const char *branch)
{
	git_checkout_options co;
	git_commit *to = NULL, *from = NULL;
	git_tree *base = NULL;
	git_reference *ref = NULL;
	git_oid theirs, mine;
	char name[256];
	int rc = -1, born;

	if (refname(name, sizeof(name), "refs/heads/", branch) != 0 ||
	    tracked(g, branch, &theirs) != 0)
		return -1;
	if ((born = local(g, branch, &mine)) != 0 && born != DK_ENOTFOUND)
		return -1;
	born = born == 0;
	if (git_commit_lookup(&to, g->repo, &theirs) < 0 || (born &&
	    (git_commit_lookup(&from, g->repo, &mine) < 0 ||
	    git_commit_tree(&base, from) < 0))) {
		dk_error_set_git("cannot read the commits of '%s'", branch);
		goto done;
	}
	/*
	 * Safe: a file the admin changed and did not commit is never
	 * overwritten; the fast-forward is refused instead.  Only files
	 * that differ between the two commits are written.
	 */
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	co.baseline = base;
	if (git_checkout_tree(g->repo, (git_object *)to, &co) < 0) {
		dk_error_set_git("cannot fast-forward '%s' in '%s' (commit or "
		    "undo the local changes)", branch, g->workdir);
		goto done;
	}
	if (git_reference_create_matching(&ref, g->repo, name, &theirs, born,
	    born ? &mine : NULL, "dkimrot: fast-forward") < 0) {
		dk_error_set_git("cannot fast-forward '%s'", branch);
		goto done;
	}
	rc = 0;
done:
	git_reference_free(ref);
	git_tree_free(base);
	git_commit_free(from);
	git_commit_free(to);
	return rc;
}

static int
push_status(const char *ref, const char *status, void *payload)
{
	struct pushed *p = ((struct dk_git_cred *)payload)->push;

	if (strcmp(ref, p->ref) != 0)
		return 0;
	p->seen = true;
	if (status != NULL)
		snprintf(p->status, sizeof(p->status), "%s", status);
	return 0;
}

static int
is_local(const char *url)
{
	return url[0] == '/' || strncmp(url, "file://", 7) == 0;
}

/*
 * Through file:// or a path, libgit2's transport writes the remote's
 * refs with no compare-and-swap: of two hosts pushing at once, the
 * second would silently replace the first's commit, which may be
 * packaged already.  So the objects the remote lacks go in as one pack,
 * and the branch moves only if it is still at base (none: it must not
 * exist), under the ref's lock as git's receive-pack moves it.
 */
static int
local_push(struct dk_git *g, const struct dk_git_remote *rm,
    const char *name, const git_oid *mine, const git_oid *base)
{
	const char *path = strncmp(rm->url, "file://", 7) == 0 ?
	    rm->url + 7 : rm->url;
	git_repository *r = NULL;
	git_reference *ref = NULL;
	git_packbuilder *pb = NULL;
	git_revwalk *w = NULL;
	char dir[PATH_MAX];
	int rc = -1, e;

	if (git_repository_open(&r, path) < 0) {
		dk_error_set_git("cannot push to '%s'", rm->url);
		return -1;
	}
	e = snprintf(dir, sizeof(dir), "%sobjects/pack",
	    git_repository_path(r));
	if (e < 0 || (size_t)e >= sizeof(dir)) {
		dk_error_set("path too long: '%s'", path);
		goto done;
	}
	if (git_packbuilder_new(&pb, g->repo) < 0 ||
	    git_revwalk_new(&w, g->repo) < 0 || git_revwalk_push(w, mine) < 0 ||
	    (base != NULL && git_revwalk_hide(w, base) < 0) ||
	    git_packbuilder_insert_walk(pb, w) < 0 ||
	    (git_packbuilder_object_count(pb) > 0 &&
	    git_packbuilder_write(pb, dir, 0, NULL, NULL) < 0)) {
		dk_error_set_git("cannot push to '%s'", rm->url);
		goto done;
	}
	e = base != NULL ? git_reference_create_matching(&ref, r, name, mine,
	    1, base, "dkimrot: push") : git_reference_create(&ref, r, name,
	    mine, 0, "dkimrot: push");
	/* Locked: another host is moving it right now. */
	if (e == GIT_EMODIFIED || e == GIT_EEXISTS || e == GIT_ELOCKED) {
		git_error_clear();
		dk_error_set("push to '%s' rejected: the branch moved",
		    rm->url);
		rc = DK_GIT_REJECTED;
	} else if (e < 0)
		dk_error_set_git("cannot update '%s' in '%s'", name, path);
	else
		rc = 0;
done:
	git_revwalk_free(w);
	git_packbuilder_free(pb);
	git_reference_free(ref);
	git_repository_free(r);
	return rc;
}

int
dk_git_push(struct dk_git *g, const struct dk_git_remote *rm)
{
	struct dk_git_cred cred = { rm, 0, "", NULL };
	git_push_options po;
	git_remote *remote = NULL;
	git_reference *ref = NULL;
	struct pushed p;
	char spec[600], name[256], track[256];
	char *specv[1] = { spec };
	git_strarray specs = { specv, 1 };
	git_oid mine, base;
	int rc = -1, e, based;

	if (refname(name, sizeof(name), "refs/heads/", rm->branch) != 0 ||
	    refname(track, sizeof(track), TRACKING, rm->branch) != 0 ||
	    local(g, rm->branch, &mine) != 0)
		return -1;
	if ((based = tracked(g, rm->branch, &base)) != 0 &&
	    based != DK_ENOTFOUND)
		return -1;
	if (is_local(rm->url)) {
		if ((rc = local_push(g, rm, name, &mine, based == 0 ? &base :
		    NULL)) != 0)
			return rc;
		goto pushed;
	}
	/* No '+': the remote's branch only ever moves forward. */
	snprintf(spec, sizeof(spec), "%s:%s", name, name);
	memset(&p, 0, sizeof(p));
	p.ref = name;
	if (remote_open(g, rm, &remote) != 0)
		return -1;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	cred.push = &p;
	dk_git_callbacks(&po.callbacks, &cred);
	po.callbacks.push_update_reference = push_status;
	if ((e = git_remote_push(remote, &specs, &po)) < 0) {
		/*
		 * libgit2 refuses a push that is not a fast-forward of what
		 * the remote showed when we connected.
		 */
		if (e == GIT_ENONFASTFORWARD) {
			dk_error_set_git("push to '%s' rejected", rm->url);
			rc = DK_GIT_REJECTED;
		} else
			rc = net_error("push to", &cred);
		goto done;
	}
	/*
	 * The remote checks the old value under its ref lock: of two hosts
	 * that connected before either pushed, one is refused here.
	 */
	if (!p.seen || p.status[0] != '\0') {
		dk_error_set("push to '%s' rejected: %s", rm->url,
		    p.seen ? p.status : "the remote did not report the branch");
		rc = p.seen ? DK_GIT_REJECTED : -1;
		goto done;
	}
pushed:
	rc = -1;
	if (git_reference_create(&ref, g->repo, track, &mine, 1,
	    "dkimrot: push") < 0) {
		dk_error_set_git("pushed, but cannot update '%s'", track);
		goto done;
	}
	rc = 0;
done:
	git_reference_free(ref);
	git_remote_free(remote);
	return rc;
}

int
dk_git_pushed(struct dk_git *g, const char *branch, const char *id)
{
	git_oid theirs, o;
	int rc;

	if (git_oid_fromstr(&o, id) < 0) {
		dk_error_set("not a commit id: '%s'", id);
		return -1;
	}
	if ((rc = tracked(g, branch, &theirs)) == DK_ENOTFOUND)
		return 0;
	if (rc != 0)
		return -1;
	if (git_oid_equal(&o, &theirs))
		return 1;
	if ((rc = git_graph_descendant_of(g->repo, &theirs, &o)) < 0) {
		dk_error_set_git("cannot compare '%s' with the remote's",
		    branch);
		return -1;
	}
	return rc;
}

int
dk_git_check_pushed(struct dk_git *g, const struct dk_config *cfg,
    const char *id)
{
	struct dk_git_remote rm;
	struct dk_git_remote_paths paths;
	int rc;

	if (cfg->git_remote[0] == '\0')
		return 0;
	if (dk_git_remote_conf(&rm, cfg, g->workdir, &paths) != 0)
		return -1;
	if ((rc = dk_git_pushed(g, rm.branch, id)) == 0 &&
	    (rc = dk_git_fetch(g, &rm)) != DK_ENOTFOUND) {
		if (rc != 0)
			return rc;
		rc = dk_git_pushed(g, rm.branch, id);
	}
	if (rc == 1)
		return 0;
	if (rc == 0 || rc == DK_ENOTFOUND)
		dk_error_set("commit %.12s is not on the remote '%s'; not "
		    "packaged (a commit is packaged once it is pushed)", id,
		    rm.url);
	return -1;
}

int
dk_git_reset_branch(struct dk_git *g, const char *branch, const char *id,
    const char *expect)
{
	git_reference *ref = NULL, *moved = NULL;
	git_oid to, was, now;
	char name[256];
	int rc = -1;

	if (refname(name, sizeof(name), "refs/heads/", branch) != 0)
		return -1;
	if (git_oid_fromstr(&was, expect) < 0 ||
	    (id[0] != '\0' && git_oid_fromstr(&to, id) < 0)) {
		dk_error_set("not a commit id: '%s'", id[0] ? id : expect);
		return -1;
	}
	if (local(g, branch, &now) != 0 || !git_oid_equal(&now, &was)) {
		dk_error_set("'%s' moved meanwhile; not reset", branch);
		return -1;
	}
	if (id[0] == '\0') {
		/* Back to unborn: the first commit was never pushed. */
		if (git_reference_lookup(&ref, g->repo, name) < 0 ||
		    git_reference_delete(ref) < 0)
			dk_error_set_git("cannot delete '%s'", name);
		else
			rc = 0;
	} else if (git_reference_create_matching(&moved, g->repo, name, &to,
	    1, &was, "dkimrot: drop a commit the remote refused") < 0)
		dk_error_set_git("cannot reset '%s'", branch);
	else
		rc = 0;
	git_reference_free(ref);
	git_reference_free(moved);
	return rc;
}
