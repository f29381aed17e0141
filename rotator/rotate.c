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
#include "rotator/rotate.h"
#include "rotator/store.h"

struct job {
	const struct dk_domain_conf *dc;
	struct dk_domain_keys	*dk;
	struct dk_plan		 plan;
	size_t			 req;	/* first key request of this domain */
	int			 rc;	/* 0, or why this domain failed */
	struct dk_buf		 line;	/* the changes, described before */
	struct dk_strlist	 mine;	/* paths it wrote */
	char			*tmp;	/* its staged keys.yaml */
	bool			 published;	/* its keys.yaml is */
	char			*err;	/* a failure, until reported */
};

/*
 * Plans one domain.  Where activation waits for DNS, asks the name
 * servers and plans again with what they said.
 */
static int
plan_domain(struct dk_keyrepo *r, struct job *j, const struct dk_rotate_opts *o,
    time_t now, struct dk_strlist *paths)
{
	const struct dk_plan_opts po = { .dns_verify = r->cfg->dns_verify,
	    .force = o->force, .start = o->start,
	    .dropped = dk_config_domain(r->cfg, j->dc->name) == NULL };
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
		}
		if (!asked)
			return 0;
	}
}

static const char *
state_of(const struct dk_domain_keys *dk, const char *sel)
{
	const struct dk_keyinfo *k = dk_domain_keys_find(dk, sel);

	return k != NULL ? dk_state_name(k->state) : "?";
}

/* "+SEL pending (rsa 2048); SEL active -> retiring" */
int
dk_rotate_describe(const struct dk_domain_keys *dk,
    const struct dk_plan *plan, struct dk_buf *line)
{
	const struct dk_action *a;
	const char *to;
	size_t i;
	int rc = 0, n = 0;

	for (i = 0; i < plan->n && rc == 0; i++) {
		a = &plan->actions[i];
		to = NULL;
		switch (a->type) {
		case DK_ACT_GENERATE:
			rc = dk_buf_printf(line, "%s+%s pending (%s %d)",
			    n++ ? "; " : "", a->selector, dk_alg_name(a->alg),
			    a->bits);
			continue;
		case DK_ACT_ACTIVATE:
			to = "active";
			break;
		case DK_ACT_DEACTIVATE:
			to = "retiring";
			break;
		case DK_ACT_RETIRE:
			to = "retired";
			break;
		case DK_ACT_REVOKE:
			to = "revoked";
			break;
		case DK_ACT_LEAVE:
		case DK_ACT_RESUME:
			/* Rule 8: "leaving", "back in dkimrot.yaml". */
			rc = dk_buf_printf(line, "%s%s", n++ ? "; " : "",
			    a->type == DK_ACT_LEAVE ? "leaving" :
			    "back in dkimrot.yaml");
			continue;
		default:
			continue;
		}
		rc = dk_buf_printf(line, "%s%s %s -> %s", n++ ? "; " : "",
		    a->selector, state_of(dk, a->selector), to);
	}
	return rc;
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
 * different domains (apply_jobs).
 */
static int
stage(struct dk_keyrepo *r, struct dk_domain_keys *dk,
    const struct dk_policy *pol, const struct dk_plan *plan,
    struct dk_keyreq *reqs, struct dk_strlist *mine, char **tmp)
{
	const struct dk_action *a;
	const struct dk_keyinfo *k;
	size_t i, req = 0;
	int rc = -1;

	for (i = 0; i < plan->n; i++) {
		a = &plan->actions[i];
		if (a->type == DK_ACT_GENERATE) {
			if (dk_keyrepo_write_key(r, dk->domain, a->selector,
			    reqs[req++].key, pol, mine) != 0)
				goto done;
		} else if (a->type == DK_ACT_REVOKE) {
			if ((k = dk_domain_keys_find(dk, a->selector)) ==
			    NULL || dk_keyrepo_write_revoked(r, dk->domain, k,
			    pol, mine) != 0)
				goto done;
		}
	}
	if (dk_plan_apply(dk, plan) != 0 ||
	    dk_keyrepo_stage_domain(r, dk, tmp) != 0)
		goto done;
	rc = 0;
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

/*
 * Once keys.yaml is published it names the new keys: they stay, and
 * what was written is committed even if tidying up fails.
 */
int
dk_rotate_apply(struct dk_keyrepo *r, struct dk_domain_keys *dk,
    const struct dk_policy *pol, const struct dk_plan *plan,
    struct dk_keyreq *reqs, struct dk_strlist *paths)
{
	struct dk_strlist mine = { 0 };
	char *tmp = NULL;
	int rc = -1;

	warn_plan(dk->domain, plan);
	if (stage(r, dk, pol, plan, reqs, &mine, &tmp) != 0)
		goto done;
	if (dk_keyrepo_sync(r) != 0) {
		dk_keyrepo_unstage(r, tmp);
		unwrite(r, dk->domain, plan);
		goto done;
	}
	if (dk_keyrepo_publish_domain(r, dk, tmp, &mine) != 0) {
		unwrite(r, dk->domain, plan);
		goto done;
	}
	if (dk_keyrepo_sync(r) == 0 && dk_keyrepo_tidy_domain(r, dk,
	    &mine) == 0)
		rc = 0;
	if (add_all(paths, &mine) != 0)
		rc = -1;
done:
	/* keys.yaml may be published already: keep the journal (keyrepo.h). */
	if (rc != 0)
		r->partial = true;
	free(tmp);
	dk_strlist_dispose(&mine);
	return rc;
}

/* One step of apply_jobs for every domain, on threads. */
struct apply {
	struct dk_keyrepo	*r;
	struct job		*jobs;
	struct dk_keyreq	*reqs;
	bool			 synced;
};

/* A failure, kept to be reported in order once the threads are done. */
static void
job_failed(struct apply *a, struct job *j, int rc)
{
	/* keys.yaml may be published already: keep the journal (keyrepo.h). */
	a->r->partial = true;
	j->rc = rc;
	free(j->err);
	j->err = strdup(dk_error_last());
}

static void
report(struct job *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (jobs[i].err == NULL)
			continue;
		dk_log_error("%s: %s", jobs[i].dc->name, jobs[i].err);
		free(jobs[i].err);
		jobs[i].err = NULL;
	}
}

static void
stage_job(size_t i, void *arg)
{
	struct apply *a = arg;
	struct job *j = &a->jobs[i];
	int rc;

	if (j->rc != 0 || j->line.len == 0)
		return;
	if ((rc = stage(a->r, j->dk, &j->dc->policy, &j->plan,
	    a->reqs + j->req, &j->mine, &j->tmp)) != 0)
		job_failed(a, j, rc);
}

static void
publish_job(size_t i, void *arg)
{
	struct apply *a = arg;
	struct job *j = &a->jobs[i];
	int rc = -1;

	if (j->rc != 0 || j->tmp == NULL)
		return;
	if (!a->synced) {
		dk_keyrepo_unstage(a->r, j->tmp);
		dk_error_set("keys.yaml not saved: the new keys could not be "
		    "synced");
	} else
		rc = dk_keyrepo_publish_domain(a->r, j->dk, j->tmp, &j->mine);
	if (rc != 0) {
		unwrite(a->r, j->dk->domain, &j->plan);
		job_failed(a, j, rc);
	}
}

static void
tidy_job(size_t i, void *arg)
{
	struct apply *a = arg;
	struct job *j = &a->jobs[i];
	int rc;

	if (j->rc != 0 || j->tmp == NULL)
		return;
	if (!a->synced) {
		dk_error_set("files keys.yaml no longer names were kept: its "
		    "new version could not be synced");
		job_failed(a, j, -1);
	} else if ((rc = dk_keyrepo_tidy_domain(a->r, j->dk, &j->mine)) != 0)
		job_failed(a, j, rc);
	j->published = true;
}

/*
 * Carries out the plans of every domain with changes, like
 * dk_rotate_apply() but with two syncs in all, not two per domain
 * (docs/design.md §8, rotator/keyrepo.h):
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
 * The commit (rotator/git_commit.c) syncs again before it moves the branch.
 * Steps 1, 3 and 5 wait on the disk, domain after domain (a rename over
 * a file frees its blocks; that took 2 ms each on a loaded VM), so they
 * run on a few threads; failures are reported in plan order after each.
 */
static int
apply_jobs(struct dk_keyrepo *r, struct job *jobs, size_t n,
    struct dk_keyreq *reqs, struct dk_strlist *paths)
{
	struct apply a = { r, jobs, reqs, false };
	size_t i, nstaged = 0;

	for (i = 0; i < n; i++)
		if (jobs[i].rc == 0 && jobs[i].line.len > 0)
			warn_plan(jobs[i].dk->domain, &jobs[i].plan);
	/* The journal before the threads change anything. */
	for (i = 0; i < n; i++)
		if (jobs[i].rc == 0 && jobs[i].line.len > 0)
			break;
	if (i < n && dk_keyrepo_begin(r) != 0)
		return -1;
	dk_pool_run(n, DK_POOL_IO, stage_job, &a);
	report(jobs, n);
	for (i = 0; i < n; i++)
		if (jobs[i].rc == 0 && jobs[i].tmp != NULL)
			nstaged++;
	if (nstaged == 0)
		return 0;
	if (!(a.synced = dk_keyrepo_sync(r) == 0))
		dk_log_error("%s", dk_error_last());
	dk_pool_run(n, DK_POOL_IO, publish_job, &a);
	report(jobs, n);
	if (a.synced && !(a.synced = dk_keyrepo_sync(r) == 0))
		dk_log_error("%s", dk_error_last());
	dk_pool_run(n, DK_POOL_IO, tidy_job, &a);
	report(jobs, n);
	/* Published: keys.yaml names these files, commit them. */
	for (i = 0; i < n; i++)
		if (jobs[i].published && add_all(paths, &jobs[i].mine) != 0)
			return -1;
	return 0;
}

/* Key requests for every GENERATE of every planned domain. */
static int
collect_requests(struct job *jobs, size_t n, struct dk_keyreq **out,
    size_t *nout)
{
	struct dk_keyreq *reqs = NULL, *p;
	size_t i, k, cap = 0, count = 0;

	for (i = 0; i < n; i++) {
		jobs[i].req = count;
		if (jobs[i].rc != 0)
			continue;
		for (k = 0; k < jobs[i].plan.n; k++) {
			if (jobs[i].plan.actions[k].type != DK_ACT_GENERATE)
				continue;
			if (count == cap) {
				cap = cap ? cap * 2 : 16;
				p = realloc(reqs, cap * sizeof(*reqs));
				if (p == NULL) {
					free(reqs);
					dk_error_set("out of memory");
					return -1;
				}
				reqs = p;
			}
			memset(&reqs[count], 0, sizeof(reqs[count]));
			reqs[count].alg = jobs[i].plan.actions[k].alg;
			reqs[count].bits = jobs[i].plan.actions[k].bits;
			count++;
		}
	}
	*out = reqs;
	*nout = count;
	return 0;
}

/*
 * Domains to visit: the ones asked for (each must be configured or
 * leaving), or all, the leaving ones last (rotator/leaving.h).
 */
static int
select_jobs(const struct dk_config *cfg, const struct dk_leaving *left,
    const struct dk_strlist *only, struct job **out, size_t *nout)
{
	const struct dk_domain_conf *dc;
	struct job *jobs;
	size_t i, n = only->n ? only->n : cfg->ndomains + left->n;

	if ((jobs = calloc(n ? n : 1, sizeof(*jobs))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		dc = !only->n ? i < cfg->ndomains ? &cfg->domains[i] :
		    &left->v[i - cfg->ndomains] :
		    dk_config_domain(cfg, only->v[i]) != NULL ?
		    dk_config_domain(cfg, only->v[i]) :
		    dk_leaving_find(left, only->v[i]);
		if (dc == NULL) {
			dk_error_set("domain '%s' is not in %s", only->v[i],
			    DK_CONFIG_FILE);
			free(jobs);
			return DK_EUSAGE;
		}
		jobs[i].dc = dc;
	}
	*out = jobs;
	*nout = n;
	return 0;
}

/*
 * Key directories of domains the configuration no longer lists, unless
 * they are leaving (dkimrot remove).
 */
static void
warn_unconfigured(struct dk_keyrepo *r, const struct dk_leaving *left)
{
	char **names = NULL;
	size_t i, n = 0;

	if (dk_store_domains(r->path, &names, &n) != 0) {
		dk_log_warn("%s", dk_error_last());
		return;
	}
	for (i = 0; i < n; i++)
		if (dk_config_domain(r->cfg, names[i]) == NULL &&
		    dk_leaving_find(left, names[i]) == NULL)
			dk_log_warn("%s: has keys but is not in %s; its keys "
			    "are left as they are", names[i], DK_CONFIG_FILE);
	dk_store_list_free(names, n);
}

static int
finish(struct dk_keyrepo *r, const struct dk_rotate_opts *o, time_t now,
    struct dk_strlist *paths, struct dk_buf *msg)
{
	char t[DK_TIME_LEN];
	struct dk_buf full = { 0 };
	bool committed = false;
	int rc = 0;

	if (o->dry_run)
		return 0;
	if (o->no_commit)
		return dk_keyrepo_keep(r);
	if (paths->n > 0) {
		dk_time_format(now, t);
		if (dk_buf_printf(&full, "dkimrot rotate at %s\n\n%s", t,
		    msg->len ? msg->data : "repaired the key store\n") != 0)
			return -1;
	}
	rc = dk_keyrepo_commit(r, paths, full.data, now, &committed);
	dk_buf_dispose(&full);
	/*
	 * No commit, no hook: if the run that made HEAD died before its
	 * hook built the packages, build them now.
	 */
	if (rc == 0 && !committed && dk_keyrepo_catch_up(r) != 0)
		dk_log_warn("%s", dk_error_last());
	return rc;
}

int
dk_rotate_run(const char *repo, const struct dk_rotate_opts *o, time_t now)
{
	struct dk_strlist paths = { 0 };
	struct dk_buf msg = { 0 };
	struct dk_keyreq *reqs = NULL;
	struct dk_keyrepo r;
	struct dk_leaving left = { 0 };
	struct job *jobs = NULL;
	size_t i, n = 0, nreq = 0;
	int rc, failed = 0, temp = 0;

	rc = dk_keyrepo_open(&r, repo, DK_KEYREPO_CONFIG |
	    (o->dry_run ? 0 : DK_KEYREPO_LOCK), o->wait);
	if (rc != 0) {
		dk_log_error("%s", dk_error_last());
		return dk_error_exit(rc);
	}
	if ((rc = dk_leaving_load(r.path, r.cfg, &left)) != 0 ||
	    (rc = select_jobs(r.cfg, &left, o->only, &jobs, &n)) != 0) {
		dk_log_error("%s", dk_error_last());
		dk_leaving_dispose(&left);
		dk_keyrepo_dispose(&r);
		return dk_error_exit(rc);
	}
	/* An emptied dkimrot.yaml would otherwise stop rotation silently. */
	if (r.cfg->ndomains == 0)
		dk_log_warn("%s lists no domains: nothing to rotate",
		    DK_CONFIG_FILE);
	if (o->only->n == 0)
		warn_unconfigured(&r, &left);
	for (i = 0; i < n; i++) {
		jobs[i].rc = plan_domain(&r, &jobs[i], o, now, &paths);
		if (jobs[i].rc != 0)
			dk_log_error("%s: %s", jobs[i].dc->name,
			    dk_error_last());
	}
	if (!o->dry_run) {
		if (collect_requests(jobs, n, &reqs, &nreq) != 0)
			goto fail;
		/* Failures are per key: their domains fail below. */
		dk_key_generate_batch(reqs, nreq, 0,
		    dk_log_level() >= DK_LOG_NORMAL);
	}
	/* Described before they are applied: the lines say "from -> to". */
	for (i = 0; i < n; i++) {
		if (jobs[i].rc != 0 || !dk_plan_has_changes(&jobs[i].plan))
			continue;
		if (dk_buf_printf(&jobs[i].line, "%s: ",
		    jobs[i].dc->name) != 0 || dk_rotate_describe(jobs[i].dk,
		    &jobs[i].plan, &jobs[i].line) != 0)
			goto fail;
	}
	if (!o->dry_run && apply_jobs(&r, jobs, n, reqs, &paths) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (jobs[i].rc != 0 || jobs[i].line.len == 0)
			continue;
		printf("%s\n", jobs[i].line.data);
		if (dk_buf_printf(&msg, "%s\n", jobs[i].line.data) != 0)
			goto fail;
	}
	if (finish(&r, o, now, &paths, &msg) != 0) {
		dk_log_error("%s", dk_error_last());
		failed = 1;
	}
	if (o->dry_run)
		dk_log_info("dry run: nothing was changed");
	goto out;
fail:
	dk_log_error("%s", dk_error_last());
	failed = 1;
out:
	for (i = 0; i < n; i++) {
		if (jobs[i].rc == DK_ETEMP || jobs[i].rc == DK_ELOCKED)
			temp = 1;
		else if (jobs[i].rc != 0)
			failed = 1;
		dk_plan_dispose(&jobs[i].plan);
		dk_domain_keys_free(jobs[i].dk);
		dk_buf_dispose(&jobs[i].line);
		dk_strlist_dispose(&jobs[i].mine);
		free(jobs[i].tmp);
		free(jobs[i].err);
	}
	for (i = 0; i < nreq; i++)
		dk_key_free(reqs[i].key);
	free(reqs);
	free(jobs);
	dk_buf_dispose(&msg);
	dk_strlist_dispose(&paths);
	dk_leaving_dispose(&left);
	dk_keyrepo_dispose(&r);
	if (failed)
		return DK_EXIT_FAIL;
	return temp ? DK_EXIT_TEMP : DK_EXIT_OK;
}
