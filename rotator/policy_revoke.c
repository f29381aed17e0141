/*
 * Rule 6 of the policy (rotator/policy.h, docs/design.md §4): revoke a
 * key and, when it signed, give its track a signing key at once.  Pure.
 */
#include <stdbool.h>
#include <string.h>

#include "common/error.h"
#include "rotator/policy.h"
#include "rotator/policy_int.h"

/* Rule 6: the revoked active key's track gets a signing key at once. */
static int
replace_revoked(struct ctx *c, enum dk_alg alg, const char *old)
{
	char sel[DK_SELECTOR_MAX + 1];
	struct dk_action *a;
	struct dbuf d1, d2;
	long long ago;
	long p;

	if ((p = dk_policy_newest(c->work, alg, DK_STATE_PENDING)) >= 0) {
		memcpy(sel, c->work->keys[p].selector, sizeof(sel));
		ago = c->now - c->work->keys[p].published;
		if (dk_policy_deactivate_others(c, alg, sel) != 0 ||
		    (a = dk_plan_add(c->plan, DK_ACT_ACTIVATE, alg, sel,
		    "activated early: replaces revoked %s; published %s ago "
		    "(publish_lead %s), DNS not checked", old, dk_policy_dfmt(&d1, ago),
		    dk_policy_dfmt(&d2, c->pol->publish_lead))) == NULL)
			return -1;
		a->warn = true;
		return dk_policy_commit(c, a);
	}
	if (dk_policy_pick_selector(c, alg, sel, sizeof(sel)) != 0 ||
	    (a = dk_plan_add(c->plan, DK_ACT_GENERATE, alg, sel,
	    "replaces revoked %s", old)) == NULL)
		return -1;
	a->bits = alg == DK_ALG_RSA ? c->pol->rsa_bits : 256;
	if (dk_policy_commit(c, a) != 0 || (a = dk_plan_add(c->plan, DK_ACT_ACTIVATE,
	    alg, sel, "activated at once: replaces revoked %s; mail it signs "
	    "fails verification until its record is in DNS", old)) == NULL)
		return -1;
	a->warn = true;
	return dk_policy_commit(c, a);
}

int
dk_policy_revoke(const struct dk_domain_keys *dk, const char *sel,
    const struct dk_policy *pol, time_t now, struct dk_plan *out)
{
	struct ctx c = { .pol = pol, .plan = out, .now = now };
	const struct dk_keyinfo *k;
	struct dk_action *a;
	enum dk_alg alg;
	bool was_active, configured;
	int rc = -1;

	dk_plan_dispose(out);
	if ((k = dk_domain_keys_find(dk, sel)) == NULL) {
		dk_error_set("cannot revoke key '%s': %s has no such key", sel,
		    dk->domain);
		return DK_ENOTFOUND;
	}
	if (k->state == DK_STATE_RETIRED) {
		dk_error_set("cannot revoke key '%s' of %s: it is retired and "
		    "no longer published", sel, dk->domain);
		return DK_ENOTFOUND;
	}
	if (k->state == DK_STATE_REVOKED) {
		dk_error_set("key '%s' of %s is already revoked", sel,
		    dk->domain);
		return DK_EEXISTS;
	}
	if (dk_policy_check_input(dk) != 0)
		return DK_EUSAGE;
	alg = k->alg;
	was_active = k->state == DK_STATE_ACTIVE;
	/* A leaving domain has no active key; it never gets a new one. */
	configured = dk->leaving == 0 &&
	    (pol->algorithms & DK_ALG_BIT(alg)) != 0;
	if (dk_policy_start(dk, now, out, &c.work) != 0)
		return -1;
	/* RFC 6376 3.6.1: an empty p= tells verifiers the key is revoked. */
	if ((a = dk_plan_add(out, DK_ACT_REVOKE, alg, sel,
	    "revoked by the operator")) == NULL)
		goto done;
	if (was_active && !configured) {
		a->warn = true;
		dk_policy_say(a->reason, "revoked by the "
		    "operator; no %s key signs for %s now (algorithm no longer "
		    "configured)", dk_alg_name(alg), dk->domain);
	}
	if (dk_policy_commit(&c, a) != 0)
		goto done;
	if (was_active && configured && replace_revoked(&c, alg, sel) != 0)
		goto done;
	rc = 0;
done:
	dk_domain_keys_free(c.work);
	if (rc != 0)
		dk_plan_dispose(out);
	return rc;
}
