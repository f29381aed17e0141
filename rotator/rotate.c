/*
 * The library of a rotation run (rotator/rotate.h): plan every domain,
 * generate the keys, write them by the one write protocol, commit.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/log.h"
#include "common/pool.h"
#include "common/strlist.h"
#include "keygen/batch.h"
#include "keygen/key.h"
#include "rotator/dnsgate.h"
#include "rotator/policy.h"
#include "rotator/keyrepo.h"
#include "rotator/leaving.h"
#include "rotator/records.h"
#include "rotator/rotate.h"
#include "rotator/store.h"

/*
 * Plans one domain.  Where activation waits for DNS, asks the name
 * servers and plans again with what they said.
 */
static struct dk_plan_opts
plan_opts(const struct dk_keyrepo *r, const struct dk_rotate_job *j,
    const struct dk_rotate_opts *o)
{
	/* Rule 8: a leaving domain dkimrot.yaml no longer lists stays so. */
	const struct dk_plan_opts po = { .dns_verify = r->cfg->dns_verify,
	    .force = o->force, .start = o->start,
	    .dropped = dk_config_domain(r->cfg, j->dc->name) == NULL };

	return po;
}

int
dk_rotate_replan(const struct dk_rotate *run, const struct dk_rotate_job *j,
    time_t now, struct dk_plan *out)
{
	const struct dk_plan_opts po = plan_opts(&run->r, j, run->o);

	return dk_policy_plan_opts(j->dk, &j->dc->policy, &po, now, out);
}

static int
plan_domain(struct dk_keyrepo *r, struct dk_rotate_job *j,
    const struct dk_rotate_opts *o, time_t now, struct dk_strlist *paths)
{
	const struct dk_plan_opts po = plan_opts(r, j, o);
	const struct dk_action *a;
	struct dk_keyinfo *k;
	char why[512];
	size_t i;
	int rc, asked = 0;

	if (o->dry_run)
		rc = dk_store_load(r->path, j->dc->name, &j->dk);
	else
		rc = dk_keyrepo_load_domain(r, j->dc->name, &j->dk, paths);
	if (rc != 0)
		return rc;
	for (;;) {
		rc = dk_policy_plan_opts(j->dk, &j->dc->policy, &po, now,
		    &j->plan);
		if (rc != 0 || asked)
			return rc;
		for (i = 0; i < j->plan.n; i++) {
			a = &j->plan.actions[i];
			if (a->type != DK_ACT_NEED_DNS)
				continue;
			k = dk_domain_keys_find(j->dk, a->selector);
			if (k == NULL)
				continue;
			rc = dk_dnsgate_check(r->cfg, r->path, j->dk->domain,
			    k, why, sizeof(why));
			if (rc != 0)
				return rc;
			if (k->dns != DK_DNS_OK)
				dk_log_info("%s: %s waits for DNS: %s",
				    j->dk->domain, k->selector, why);
			asked = 1;
			j->asked = true;
		}
		if (!asked)
			return 0;
	}
}

/*
 * Removes the new keys' files of a domain whose keys.yaml was not saved:
 * they would be orphans; better now than at the next run.
 */
static void
unwrite(struct dk_keyrepo *r, const char *domain, const struct dk_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		if (plan->actions[i].type == DK_ACT_GENERATE)
			dk_store_remove_key_files(r->path, domain,
			    plan->actions[i].selector,
			    DK_STORE_PRIVATE | DK_STORE_TXT);
}

/* The warnings a plan carries (a key that signs before DNS has it). */
static void
warn_plan(const char *domain, const struct dk_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		if (plan->actions[i].warn)
			dk_log_warn("%s: %s", domain, plan->actions[i].reason);
}

/*
 * The first half of carrying out a plan: the files it needs (new keys
 * unsynced), the plan applied to dk, keys.yaml staged (*tmp).  On
 * failure the new keys' files are removed again.  Thread-safe for
 * different domains (apply).
 */
static int
stage(struct dk_keyrepo *r, struct dk_domain_keys *dk,
    const struct dk_policy *pol, const struct dk_plan *plan,
    struct dk_keyreq *reqs, bool check, struct dk_strlist *mine, char **tmp,
    char **rtmp)
{
	const time_t latest = dk_domain_keys_latest(dk);
	const struct dk_action *a;
	const struct dk_keyinfo *k;
	size_t i, req = 0;
	int rc = -1;

	for (i = 0; i < plan->n; i++) {
		a = &plan->actions[i];
		if (a->type == DK_ACT_GENERATE) {
			if (dk_keyrepo_write_key(r, dk->domain, a->selector,
			    reqs[req].key, pol, mine, reqs[req].kid) != 0)
				goto done;
			req++;
		} else if (a->type == DK_ACT_REVOKE) {
			if ((k = dk_domain_keys_find(dk, a->selector)) ==
			    NULL || dk_keyrepo_write_revoked(r, dk->domain, k,
			    pol, mine) != 0)
				goto done;
		}
	}
	if (dk_plan_apply(dk, plan) != 0)
		goto done;
	/* A new key no later than the last event: retired.yaml may clash. */
	for (i = 0; i < plan->n; i++)
		if (plan->actions[i].type == DK_ACT_GENERATE &&
		    (k = dk_domain_keys_find(dk, plan->actions[i].selector)) !=
		    NULL && k->created <= latest)
			check = true;
	rc = dk_keyrepo_stage_domain(r, dk, check, tmp, rtmp);
done:
	if (rc != 0)
		unwrite(r, dk->domain, plan);
	return rc;
}

static int
add_all(struct dk_strlist *to, const struct dk_strlist *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		if (dk_strlist_add(to, from->v[i]) != 0)
			return -1;
	return 0;
}

/* One domain's part of the write protocol (apply). */
struct write {
	struct dk_domain_keys	*dk;
	const struct dk_policy	*pol;
	const struct dk_plan	*plan;
	struct dk_keyreq	*reqs;	/* its first key */
	int			 rc;	/* 0, or why it failed */
	struct dk_strlist	 mine;	/* paths it wrote */
	char			*tmp;	/* its staged keys.yaml */
	char			*rtmp;	/* its staged retired.yaml, or NULL */
	bool			 check;	/* keys may clash with retired.yaml */
	bool			 published;	/* its keys.yaml is */
	char			*err;	/* a failure, until reported */
};

/* One step of apply for every domain, on threads. */
struct apply {
	struct dk_keyrepo	*r;
	struct write		*w;
	size_t			 n;
	bool			 synced;
	bool			 quiet;	/* failures kept in w->err, not logged */
};

/* A failure, kept to be reported in order once the threads are done. */
static void
failed(struct apply *a, struct write *w, int rc)
{
	/* keys.yaml may be published already: keep the journal (keyrepo.h). */
	a->r->partial = true;
	w->rc = rc;
	free(w->err);
	w->err = strdup(dk_error_last());
}

static void
report(struct apply *a)
{
	size_t i;

	if (a->quiet)
		return;
	for (i = 0; i < a->n; i++) {
		if (a->w[i].err == NULL)
			continue;
		dk_log_error("%s: %s", a->w[i].dk->domain, a->w[i].err);
		free(a->w[i].err);
		a->w[i].err = NULL;
	}
}

static void
stage_one(size_t i, void *arg)
{
	struct apply *a = arg;
	struct write *w = &a->w[i];
	int rc;

	if ((rc = stage(a->r, w->dk, w->pol, w->plan, w->reqs, w->check,
	    &w->mine, &w->tmp, &w->rtmp)) != 0)
		failed(a, w, rc);
}

static void
publish_one(size_t i, void *arg)
{
	struct apply *a = arg;
	struct write *w = &a->w[i];
	int rc = -1;

	if (w->rc != 0 || w->tmp == NULL)
		return;
	if (!a->synced) {
		dk_keyrepo_unstage(a->r, w->tmp);
		if (w->rtmp != NULL)
			dk_keyrepo_unstage(a->r, w->rtmp);
		dk_error_set("keys.yaml not saved: the new keys could not be "
		    "synced");
	} else
		rc = dk_keyrepo_publish_domain(a->r, w->dk, w->tmp, w->rtmp,
		    &w->mine);
	if (rc != 0) {
		unwrite(a->r, w->dk->domain, w->plan);
		failed(a, w, rc);
	}
}

static void
tidy_one(size_t i, void *arg)
{
	struct apply *a = arg;
	struct write *w = &a->w[i];
	int rc;

	if (w->rc != 0 || w->tmp == NULL)
		return;
	if (!a->synced) {
		dk_error_set("files keys.yaml no longer names were kept: its "
		    "new version could not be synced");
		failed(a, w, -1);
	} else if ((rc = dk_keyrepo_tidy_domain(a->r, w->dk, &w->mine)) != 0)
		failed(a, w, rc);
	w->published = true;
}

/*
 * The write protocol (docs/design.md §8, rotator/keyrepo.h), for the
 * plans of n domains at once: two syncs in all, not two per domain.
 *
 *   1. per domain: new key files (unsynced), keys.yaml staged
 *   2. sync: every new key file and staged keys.yaml is on disk
 *   3. per domain: the staged keys.yaml renamed over keys.yaml.  A crash
 *      from here on leaves keys.yaml naming only keys already on disk.
 *   4. sync: the renames are on disk
 *   5. per domain: files the new keys.yaml no longer needs are removed
 *      (never before 4: a crash would leave the old keys.yaml naming a
 *      removed file)
 *
 * The commit (rotator/git_commit.c) syncs again before it moves the
 * branch.  Steps 1, 3 and 5 wait on the disk, domain after domain (a
 * rename over a file frees its blocks; that took 2 ms each on a loaded
 * VM), so they run on a few threads; failures are reported in plan
 * order after each.  Once keys.yaml is published it names the new keys:
 * they stay, and what was written goes to paths, to be committed even
 * if tidying up failed.
 */
static int
apply(struct apply *a, struct dk_strlist *paths)
{
	size_t i, nstaged = 0;

	for (i = 0; i < a->n; i++)
		warn_plan(a->w[i].dk->domain, a->w[i].plan);
	/* The journal before the threads change anything. */
	if (a->n > 0 && dk_keyrepo_begin(a->r) != 0)
		return -1;
	dk_pool_run(a->n, DK_POOL_IO, stage_one, a);
	report(a);
	for (i = 0; i < a->n; i++)
		if (a->w[i].rc == 0 && a->w[i].tmp != NULL)
			nstaged++;
	if (nstaged == 0)
		return 0;
	if (!(a->synced = dk_keyrepo_sync(a->r) == 0))
		dk_log_error("%s", dk_error_last());
	dk_pool_run(a->n, DK_POOL_IO, publish_one, a);
	report(a);
	if (a->synced && !(a->synced = dk_keyrepo_sync(a->r) == 0))
		dk_log_error("%s", dk_error_last());
	dk_pool_run(a->n, DK_POOL_IO, tidy_one, a);
	report(a);
	/* Published: keys.yaml names these files, commit them. */
	for (i = 0; i < a->n; i++)
		if (a->w[i].published && add_all(paths, &a->w[i].mine) != 0)
			return -1;
	return 0;
}

static void
write_dispose(struct write *w)
{
	dk_strlist_dispose(&w->mine);
	free(w->tmp);
	free(w->rtmp);
	free(w->err);
}

int
dk_rotate_apply(struct dk_keyrepo *r, struct dk_domain_keys *dk,
    const struct dk_policy *pol, const struct dk_plan *plan,
    struct dk_keyreq *reqs, struct dk_strlist *paths)
{
	/* Import names its selectors: any may be a retired key's. */
	struct write w = { .dk = dk, .pol = pol, .plan = plan, .reqs = reqs,
	    .check = true };
	struct apply a = { .r = r, .w = &w, .n = 1, .quiet = true };
	int rc;

	if ((rc = apply(&a, paths)) == 0 && (rc = w.rc) != 0)
		dk_error_set("%s", w.err);
	write_dispose(&w);
	return rc;
}

int
dk_rotate_write(struct dk_rotate *run)
{
	struct apply a = { .r = &run->r };
	struct dk_rotate_job *j;
	struct write *w;
	size_t i;
	int rc;

	if ((w = calloc(run->n ? run->n : 1, sizeof(*w))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < run->n; i++) {
		j = &run->jobs[i];
		if (j->rc != 0 || !dk_plan_has_changes(&j->plan))
			continue;
		w[a.n++] = (struct write){ .dk = j->dk, .pol = &j->dc->policy,
		    .plan = &j->plan, .reqs = run->reqs + j->req };
	}
	a.w = w;
	rc = apply(&a, &run->paths);
	/* Whatever failed: the domains that did not still commit. */
	if (dk_rotate_keys_written(run) != 0 && rc == 0)
		rc = -1;
	/* Back to their jobs, which are in the same order. */
	for (i = 0, j = run->jobs; i < a.n; i++, j++) {
		while (j->dk != w[i].dk)
			j++;
		if (w[i].rc != 0)
			j->rc = w[i].rc;
		write_dispose(&w[i]);
	}
	free(w);
	return rc;
}

/* The entry of an asked-for domain: configured, else leaving, else NULL. */
static const struct dk_domain_conf *
find_domain(const struct dk_config *cfg, const struct dk_leaving *left,
    const char *name)
{
	const struct dk_domain_conf *dc;

	if ((dc = dk_config_domain(cfg, name)) != NULL)
		return dc;
	return dk_leaving_find(left, name);
}

/*
 * Domains to visit: the ones asked for (each must be configured or
 * leaving), or all, the leaving ones last (rotator/leaving.h).
 */
static int
select_jobs(struct dk_rotate *run, time_t now)
{
	const struct dk_config *cfg = run->r.cfg;
	const struct dk_leaving *left = &run->left;
	const struct dk_strlist *only = run->o->only;
	const struct dk_domain_conf *dc;
	size_t i, n = only->n ? only->n : cfg->ndomains + left->n;

	if ((run->jobs = calloc(n ? n : 1, sizeof(*run->jobs))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (only->n)
			dc = find_domain(cfg, left, only->v[i]);
		else if (i < cfg->ndomains)
			dc = &cfg->domains[i];
		else
			dc = &left->v[i - cfg->ndomains];
		if (dc == NULL) {
			dk_error_set("domain '%s' is not in %s", only->v[i],
			    DK_CONFIG_FILE);
			return DK_EUSAGE;
		}
		if (run->indexed && !dk_rotate_due(run, dc->name, now)) {
			run->skipped++;
			continue;
		}
		run->jobs[run->n++].dc = dc;
	}
	if (run->indexed)
		dk_log_debug("the due index: %zu of %zu domains due", run->n,
		    run->n + run->skipped);
	return 0;
}

int
dk_rotate_open(struct dk_rotate *run, const char *repo,
    const struct dk_rotate_opts *o, time_t now)
{
	int rc;

	memset(run, 0, sizeof(*run));
	run->o = o;
	if ((rc = dk_keyrepo_open(&run->r, repo, DK_KEYREPO_CONFIG |
	    (o->dry_run ? 0 : DK_KEYREPO_LOCK), o->wait)) != 0)
		return rc;
	run->opened = true;
	run->r.package = o->package;
	if ((rc = dk_rotate_due_open(run, now)) != 0 || (!run->indexed &&
	    (rc = dk_leaving_load(run->r.path, run->r.cfg, &run->left,
	    &run->unconfigured)) != 0))
		return rc;
	return select_jobs(run, now);
}

void
dk_rotate_plan(struct dk_rotate *run, time_t now)
{
	struct dk_rotate_job *j;
	size_t i;

	for (i = 0; i < run->n; i++) {
		j = &run->jobs[i];
		j->rc = plan_domain(&run->r, j, run->o, now, &run->paths);
		if (j->rc != 0)
			dk_log_error("%s: %s", j->dc->name, dk_error_last());
	}
}

int
dk_rotate_commit(struct dk_rotate *run, time_t now)
{
	char t[DK_TIME_LEN];
	struct dk_buf msg = { 0 };
	bool committed = false, changed = false;
	size_t i;
	int rc = -1;

	if (run->o->dry_run)
		return 0;
	if (run->o->no_commit)
		return dk_keyrepo_keep(&run->r);
	if (run->paths.n > 0) {
		dk_time_format(now, t);
		if (dk_buf_printf(&msg, "dkimrot rotate at %s\n\n", t) != 0)
			goto done;
		for (i = 0; i < run->n; i++) {
			if (run->jobs[i].rc != 0 || run->jobs[i].line.len == 0)
				continue;
			if (dk_buf_printf(&msg, "%s\n",
			    run->jobs[i].line.data) != 0)
				goto done;
			changed = true;
		}
		/* Only files an interrupted run left were removed. */
		if (!changed && dk_buf_printf(&msg,
		    "repaired the key store\n") != 0)
			goto done;
	}
	dk_rotate_keys_remember(run);
	rc = dk_keyrepo_commit(&run->r, &run->paths, msg.data, now,
	    &committed);
	/*
	 * No commit, no hook: if the run that made HEAD died before its
	 * hook built the packages, build them now.
	 */
	if (rc == 0 && !committed && dk_keyrepo_catch_up(&run->r) != 0) {
		if (run->r.package)
			rc = -1;	/* rotate --package: it is the job */
		else
			dk_log_warn("%s", dk_error_last());
	}
done:
	dk_buf_dispose(&msg);
	return rc;
}

int
dk_rotate_status(const struct dk_rotate *run)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < run->n; i++) {
		if (run->jobs[i].rc == DK_ETEMP ||
		    run->jobs[i].rc == DK_ELOCKED)
			rc = rc == 0 ? DK_ETEMP : rc;
		else if (run->jobs[i].rc != 0)
			rc = -1;
	}
	return rc;
}

void
dk_rotate_dispose(struct dk_rotate *run)
{
	size_t i;

	for (i = 0; i < run->n; i++) {
		dk_plan_dispose(&run->jobs[i].plan);
		dk_domain_keys_free(run->jobs[i].dk);
		dk_buf_dispose(&run->jobs[i].line);
	}
	for (i = 0; i < run->nreq; i++)
		dk_key_free(run->reqs[i].key);
	free(run->reqs);
	dk_records_dispose(&run->made);
	free(run->jobs);
	dk_strlist_dispose(&run->paths);
	dk_leaving_dispose(&run->left);
	dk_strlist_dispose(&run->unconfigured);
	dk_due_dispose(&run->due);
	if (run->opened)
		dk_keyrepo_dispose(&run->r);
	memset(run, 0, sizeof(*run));
}
