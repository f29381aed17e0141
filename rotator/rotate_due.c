/*
 * A rotation run and its due index (rotator/due.h): which domains a run
 * visits, and the index it leaves for the next.
 */
#include <stdbool.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "rotator/due.h"
#include "rotator/policy.h"
#include "rotator/rotate.h"

/* A run of every domain by the policy as it stands: it may use an index. */
static bool
plain(const struct dk_rotate_opts *o)
{
	return !o->dry_run && !o->no_commit && !o->force && !o->start &&
	    o->only->n == 0;
}

int
dk_rotate_due_open(struct dk_rotate *run, time_t now)
{
	const struct dk_due_entry *e;
	size_t i;
	int rc;

	run->indexed = false;
	if (!plain(run->o))
		return 0;
	if ((rc = dk_due_load(&run->r, now, &run->due)) == DK_ENOTFOUND)
		return 0;
	if (rc != 0)
		return -1;
	for (i = 0; i < run->due.n; i++) {
		e = &run->due.v[i];
		if ((e->kind == DK_DUE_LEAVING &&
		    dk_leaving_add(&run->left, run->r.cfg, e->name) != 0) ||
		    (e->kind == DK_DUE_UNCONFIGURED &&
		    dk_strlist_add(&run->unconfigured, e->name) != 0))
			return -1;
	}
	run->indexed = true;
	return 0;
}

bool
dk_rotate_due(const struct dk_rotate *run, const char *domain, time_t now)
{
	const struct dk_due_entry *e = dk_due_find(&run->due, domain);

	/* keys/DOMAIN changed by hand: planned, and its checks made. */
	return e == NULL || e->kind == DK_DUE_UNCONFIGURED ||
	    e->due <= (long long)now || !dk_due_unchanged(&run->due, e);
}

/* When job j is next due, from its plan or, if it changed, its new one. */
static long long
job_due(const struct dk_rotate *run, const struct dk_rotate_job *j,
    time_t now)
{
	struct dk_plan again = { 0 };
	long long due;

	if (j->rc != 0 || j->asked || j->dk == NULL)
		return now;
	if (!dk_plan_has_changes(&j->plan))
		return dk_due_of_plan(&j->plan, now);
	due = dk_rotate_replan(run, j, now, &again) == 0 ?
	    dk_due_of_plan(&again, now) : now;
	dk_plan_dispose(&again);
	dk_error_clear();
	return due;
}

/*
 * The due time of domain dc: its job's when it was visited (jobs are in
 * the order of the domains, *k the next to look at), else the index's.
 */
static long long
domain_due(const struct dk_rotate *run, const struct dk_domain_conf *dc,
    size_t *k, time_t now)
{
	const struct dk_due_entry *e;

	if (*k < run->n && run->jobs[*k].dc == dc) {
		if (run->jobs[*k].settled)
			return run->jobs[(*k)++].due;
		return job_due(run, &run->jobs[(*k)++], now);
	}
	if ((e = dk_due_find(&run->due, dc->name)) != NULL)
		return e->due;
	return now;
}

void
dk_rotate_settle(struct dk_rotate *run, time_t now)
{
	struct dk_rotate_job *j;
	size_t i;

	for (i = 0; i < run->n; i++) {
		j = &run->jobs[i];
		j->due = job_due(run, j, now);
		j->settled = true;
		dk_plan_dispose(&j->plan);
		dk_domain_keys_free(j->dk);
		j->dk = NULL;
	}
}

void
dk_rotate_index(struct dk_rotate *run, time_t now, bool ok)
{
	const struct dk_config *cfg = run->r.cfg;
	struct dk_due next = { 0 };
	size_t i, k = 0;
	int rc = 0;

	if (!plain(run->o))
		return;
	if (!ok) {
		dk_due_drop(&run->r);
		return;
	}
	/* Nothing was due and nothing changed: the index still holds. */
	if (run->indexed && run->n == 0)
		return;
	for (i = 0; rc == 0 && i < cfg->ndomains; i++)
		rc = dk_due_add(&next, cfg->domains[i].name,
		    domain_due(run, &cfg->domains[i], &k, now),
		    DK_DUE_CONFIGURED);
	for (i = 0; rc == 0 && i < run->left.n; i++)
		rc = dk_due_add(&next, run->left.v[i].name,
		    domain_due(run, &run->left.v[i], &k, now),
		    DK_DUE_LEAVING);
	for (i = 0; rc == 0 && i < run->unconfigured.n; i++)
		rc = dk_due_add(&next, run->unconfigured.v[i], 0,
		    DK_DUE_UNCONFIGURED);
	if (rc == 0)
		dk_due_save(&run->r, &next, now);
	else
		dk_due_drop(&run->r);
	dk_due_dispose(&next);
}
