/*
 * Plans: the list of actions the policy decides, and applying them to the
 * keys in memory.  Every transition is checked here once, so a stale or
 * hand-made plan cannot break the lifecycle (rule 4 of policy.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/grow.h"
#include "rotator/policy.h"

static const char *act_names[] = {
	[DK_ACT_GENERATE] = "generate",
	[DK_ACT_ACTIVATE] = "activate",
	[DK_ACT_DEACTIVATE] = "deactivate",
	[DK_ACT_RETIRE] = "retire",
	[DK_ACT_REVOKE] = "revoke",
	[DK_ACT_NEED_DNS] = "check DNS for",
	[DK_ACT_WAIT] = "wait for",
	[DK_ACT_LEAVE] = "remove",
	[DK_ACT_RESUME] = "resume",
};

const char *
dk_act_name(enum dk_act t)
{
	return (unsigned)t < sizeof(act_names) / sizeof(act_names[0]) ?
	    act_names[t] : "unknown";
}

void
dk_plan_dispose(struct dk_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->actions);
	memset(plan, 0, sizeof(*plan));
}

bool
dk_plan_has_changes(const struct dk_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		if (plan->actions[i].type != DK_ACT_WAIT &&
		    plan->actions[i].type != DK_ACT_NEED_DNS)
			return true;
	return false;
}

const struct dk_action *
dk_plan_find(const struct dk_plan *plan, enum dk_act type, enum dk_alg alg,
    const char *sel)
{
	const struct dk_action *a;
	size_t i;

	for (i = 0; i < plan->n; i++) {
		a = &plan->actions[i];
		if (a->type == type && a->alg == alg &&
		    strcmp(a->selector, sel) == 0)
			return a;
	}
	return NULL;
}

struct dk_action *
dk_plan_add(struct dk_plan *plan, enum dk_act type, enum dk_alg alg,
    const char *sel, const char *fmt, ...)
{
	struct dk_action *a;
	va_list ap;

	if (strlen(sel) > DK_SELECTOR_MAX) {
		dk_error_set("invalid selector '%s': too long", sel);
		return NULL;
	}
	/*
	 * Room for two at first (most plans hold one or two actions of
	 * some 350 bytes, and a run holds every domain's plan at once).
	 */
	if (dk_grow(&plan->actions, &plan->cap, plan->n,
	    sizeof(*plan->actions), 2) != 0)
		return NULL;
	a = &plan->actions[plan->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->alg = alg;
	memcpy(a->selector, sel, strlen(sel) + 1);
	va_start(ap, fmt);
	/* A reason cut short is still a reason: truncation is fine here. */
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	return a;
}

static int
generate(struct dk_domain_keys *dk, const struct dk_action *a, time_t now)
{
	struct dk_keyinfo key;

	if (dk_name_selector_check(a->selector) != 0) {
		dk_error_prefix("cannot generate a key for %s", dk->domain);
		return -1;
	}
	if (dk_domain_keys_find(dk, a->selector) != NULL) {
		dk_error_set("cannot generate key '%s' for %s: the selector "
		    "exists", a->selector, dk->domain);
		return -1;
	}
	memset(&key, 0, sizeof(key));
	memcpy(key.selector, a->selector, sizeof(key.selector));
	key.alg = a->alg;
	key.bits = a->bits;
	key.state = DK_STATE_PENDING;
	key.created = key.published = now;
	return dk_domain_keys_add(dk, &key);
}

/*
 * Rule 8: the domain leaves (the signing keys must have stopped first:
 * the policy deactivates them before) or comes back.
 */
static int
leave(struct dk_domain_keys *dk, const struct dk_action *a, time_t now)
{
	size_t i;

	if (a->type == DK_ACT_RESUME) {
		if (dk->leaving == 0) {
			dk_error_set("cannot resume %s: it is not leaving",
			    dk->domain);
			return -1;
		}
		dk->leaving = 0;
		return 0;
	}
	if (dk->leaving != 0) {
		dk_error_set("cannot remove %s: it is leaving already",
		    dk->domain);
		return -1;
	}
	for (i = 0; i < dk->n; i++)
		if (dk->keys[i].state == DK_STATE_ACTIVE ||
		    dk->keys[i].state == DK_STATE_PENDING) {
			dk_error_set("cannot remove %s: key '%s' is still %s",
			    dk->domain, dk->keys[i].selector,
			    dk_state_name(dk->keys[i].state));
			return -1;
		}
	dk->leaving = now;
	return 0;
}

/* The active key of alg other than k, or NULL. */
static const struct dk_keyinfo *
other_active(const struct dk_domain_keys *dk, const struct dk_keyinfo *k)
{
	size_t i;

	for (i = 0; i < dk->n; i++)
		if (&dk->keys[i] != k && dk->keys[i].alg == k->alg &&
		    dk->keys[i].state == DK_STATE_ACTIVE)
			return &dk->keys[i];
	return NULL;
}

int
dk_plan_apply_action(struct dk_domain_keys *dk, const struct dk_action *a,
    time_t now)
{
	const struct dk_keyinfo *o;
	struct dk_keyinfo *k;

	if (a->type == DK_ACT_WAIT || a->type == DK_ACT_NEED_DNS)
		return 0;
	if (a->type == DK_ACT_GENERATE)
		return generate(dk, a, now);
	if (a->type == DK_ACT_LEAVE || a->type == DK_ACT_RESUME)
		return leave(dk, a, now);
	if ((k = dk_domain_keys_find(dk, a->selector)) == NULL) {
		dk_error_set("cannot %s key '%s' of %s: no such key",
		    dk_act_name(a->type), a->selector, dk->domain);
		return -1;
	}
	if (k->alg != a->alg) {
		dk_error_set("cannot %s key '%s' of %s: it is %s, not %s",
		    dk_act_name(a->type), a->selector, dk->domain,
		    dk_alg_name(k->alg), dk_alg_name(a->alg));
		return -1;
	}
	switch (a->type) {
	case DK_ACT_ACTIVATE:
		/* Rule 4: only a pending key signs, one per track. */
		if (k->state != DK_STATE_PENDING)
			goto bad;
		if ((o = other_active(dk, k)) != NULL) {
			dk_error_set("cannot activate key '%s' of %s: '%s' is "
			    "still active", k->selector, dk->domain,
			    o->selector);
			return -1;
		}
		k->state = DK_STATE_ACTIVE;
		k->active_from = now;
		break;
	case DK_ACT_DEACTIVATE:
		if (k->state != DK_STATE_ACTIVE && k->state != DK_STATE_PENDING)
			goto bad;
		k->state = DK_STATE_RETIRING;
		k->active_until = now;
		break;
	case DK_ACT_RETIRE:
		/* Rule 4: the active key is never retired. */
		if (k->state != DK_STATE_RETIRING &&
		    k->state != DK_STATE_REVOKED)
			goto bad;
		k->state = DK_STATE_RETIRED;
		k->retired = now;
		break;
	case DK_ACT_REVOKE:
		if (!dk_state_published(k->state))
			goto bad;
		if (k->state == DK_STATE_ACTIVE)
			k->active_until = now;
		k->state = DK_STATE_REVOKED;
		k->revoked = now;
		break;
	default:
		dk_error_set("unknown action %d", (int)a->type);
		return -1;
	}
	return 0;
bad:
	dk_error_set("cannot %s key '%s' of %s: it is %s",
	    dk_act_name(a->type), k->selector, dk->domain,
	    dk_state_name(k->state));
	return -1;
}

int
dk_plan_apply(struct dk_domain_keys *dk, const struct dk_plan *plan)
{
	struct dk_domain_keys *work = NULL;
	size_t i;
	int rc = -1;

	if (strcmp(dk->domain, plan->domain) != 0) {
		dk_error_set("cannot apply a plan for %s to %s", plan->domain,
		    dk->domain);
		return -1;
	}
	/* On a copy: a failure leaves the caller's keys as they were. */
	if (dk_domain_keys_dup(dk, &work) != 0)
		return -1;
	for (i = 0; i < plan->n; i++)
		if (dk_plan_apply_action(work, &plan->actions[i],
		    plan->now) != 0)
			goto done;
	free(dk->keys);
	dk->keys = work->keys;
	dk->n = work->n;
	dk->cap = work->cap;
	dk->leaving = work->leaving;
	work->keys = NULL;
	rc = 0;
done:
	dk_domain_keys_free(work);
	return rc;
}
