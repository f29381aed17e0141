/*
 * The lifecycle policy (docs/design.md §4): (keys, policy, NOW) -> plan.  Pure:
 * no clock, no files, no globals.  The rules are in policy.h.
 *
 * The planner works on a copy of the keys and applies each action to it
 * as soon as it decides it, so that later rules see the earlier ones'
 * outcome (a key activated now no longer counts as pending, a retirement
 * counts against keep_published) exactly as dk_plan_apply() will.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dktime.h"
#include "common/error.h"
#include "rotator/policy.h"
#include "rotator/policy_int.h"


/* A reason (DK_REASON_MAX bytes); one cut short is still a reason. */
void __attribute__((format(printf, 2, 3)))
dk_policy_say(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, DK_REASON_MAX, fmt, ap);
	va_end(ap);
}

static const char *
tfmt(struct tbuf *b, time_t t)
{
	dk_time_format(t, b->s);
	return b->s;
}

/*
 * Durations as operators write them in dkimrot.yaml: days, not weeks
 * ("30d", "1d12h"), so a reason quotes the setting as it was written.
 */
const char *
dk_policy_dfmt(struct dbuf *b, long long secs)
{
	static const struct { long long n; char u; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	size_t i, len = 0;
	int n;

	if (secs <= 0)
		return "0s";
	b->s[0] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs < units[i].n)
			continue;
		n = snprintf(b->s + len, sizeof(b->s) - len, "%lld%c",
		    secs / units[i].n, units[i].u);
		if (n < 0 || (size_t)n >= sizeof(b->s) - len)
			break;	/* cannot happen: 32 bytes hold any */
		len += (size_t)n;
		secs %= units[i].n;
	}
	return b->s;
}

/* Newest first: later creation, then the greater selector. */
static bool
newer(const struct dk_keyinfo *a, const struct dk_keyinfo *b)
{
	if (a->created != b->created)
		return a->created > b->created;
	return strcmp(a->selector, b->selector) > 0;
}

/* Index of the newest key of alg in state s, or -1. */
long
dk_policy_newest(const struct dk_domain_keys *w, enum dk_alg alg,
    enum dk_state s)
{
	long best = -1;
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (w->keys[i].alg != alg || w->keys[i].state != s)
			continue;
		if (best < 0 || newer(&w->keys[i], &w->keys[best]))
			best = (long)i;
	}
	return best;
}

static int
count_published(const struct dk_domain_keys *w, enum dk_alg alg)
{
	size_t i;
	int n = 0;

	for (i = 0; i < w->n; i++)
		if (w->keys[i].alg == alg &&
		    dk_state_published(w->keys[i].state))
			n++;
	return n;
}

static bool
has_keys(const struct dk_domain_keys *w, enum dk_alg alg)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->keys[i].alg == alg)
			return true;
	return false;
}

/* Decided: apply it to the working copy at once. */
int
dk_policy_commit(struct ctx *c, struct dk_action *a)
{
	if (a == NULL)
		return -1;
	return dk_plan_apply_action(c->work, a, c->now);
}

/* Nothing to do yet: sel (or the track, "") waits to become "to". */
static int __attribute__((format(printf, 6, 7)))
wait_for(struct ctx *c, enum dk_alg alg, const char *sel, enum dk_state to,
    time_t at, const char *fmt, ...)
{
	struct dk_action *a;
	va_list ap;

	if ((a = dk_plan_add(c->plan, DK_ACT_WAIT, alg, sel, "-")) == NULL)
		return -1;
	a->to = to;
	a->at = at;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* Rule 2, the other keys' side: the active and older pending keys. */
int
dk_policy_deactivate_others(struct ctx *c, enum dk_alg alg, const char *sel)
{
	struct dk_keyinfo *k;
	size_t i;

	for (i = 0; i < c->work->n; i++) {
		k = &c->work->keys[i];
		if (k->alg != alg || strcmp(k->selector, sel) == 0)
			continue;
		if (k->state == DK_STATE_ACTIVE && dk_policy_commit(c, dk_plan_add(
		    c->plan, DK_ACT_DEACTIVATE, alg, k->selector,
		    "replaced by %s", sel)) != 0)
			return -1;
		if (k->state == DK_STATE_PENDING && dk_policy_commit(c, dk_plan_add(
		    c->plan, DK_ACT_DEACTIVATE, alg, k->selector,
		    "superseded by %s before it signed", sel)) != 0)
			return -1;
	}
	return 0;
}

/* Rule 2: the newest pending key signs once published long enough. */
static int
activate_step(struct ctx *c, enum dk_alg alg)
{
	char sel[DK_SELECTOR_MAX + 1];
	struct dk_keyinfo *k;
	struct tbuf tb;
	struct dbuf d1, d2;
	long long pub, ready;
	long p;

	if ((p = dk_policy_newest(c->work, alg, DK_STATE_PENDING)) < 0)
		return 0;
	k = &c->work->keys[p];
	memcpy(sel, k->selector, sizeof(sel));
	pub = k->published != 0 ? k->published : k->created;
	ready = pub + c->pol->publish_lead;
	if (c->now < ready)
		return wait_for(c, alg, sel, DK_STATE_ACTIVE, (time_t)ready,
		    "%s waits for publish_lead until %s", sel,
		    tfmt(&tb, (time_t)ready));
	if (c->dns_verify && k->dns == DK_DNS_UNCHECKED)
		return dk_plan_add(c->plan, DK_ACT_NEED_DNS, alg, sel,
		    "%s is due to sign: check that DNS serves its record",
		    sel) == NULL ? -1 : 0;
	if (c->dns_verify && k->dns != DK_DNS_OK)
		return wait_for(c, alg, sel, DK_STATE_ACTIVE, 0, "%s waiting "
		    "for DNS: not every name server serves its record yet",
		    sel);
	if (dk_policy_deactivate_others(c, alg, sel) != 0)
		return -1;
	return dk_policy_commit(c, dk_plan_add(c->plan, DK_ACT_ACTIVATE, alg, sel,
	    "published %s ago (publish_lead %s)%s",
	    dk_policy_dfmt(&d1, c->now - pub),
	    dk_policy_dfmt(&d2, c->pol->publish_lead),
	    c->dns_verify ? ", served by DNS" : ""));
}

/* Rule 1: a name from the clock; on a clash the name's time moves on. */
int
dk_policy_pick_selector(struct ctx *c, enum dk_alg alg, char *sel, size_t size)
{
	char ts[DK_SELECTOR_TIME_LEN];
	bool suffix;
	size_t tries;
	time_t t;
	int n;

	suffix = __builtin_popcount(c->pol->algorithms) > 1;
	for (tries = 0, t = c->now; tries <= c->work->n; tries++, t++) {
		dk_time_selector(t, ts);
		if (suffix)
			n = snprintf(sel, size, "%s%c", ts, dk_alg_suffix(alg));
		else
			n = snprintf(sel, size, "%s", ts);
		if (n < 0 || (size_t)n >= size) {
			dk_error_set("selector too long");
			return -1;
		}
		if (dk_domain_keys_find(c->work, sel) == NULL)
			return 0;
	}
	dk_error_set("cannot find a free selector for %s", c->work->domain);
	return -1;
}

/* " less stagger 3d4h", or "" */
static const char *
lfmt(struct dbuf *b, long long stagger)
{
	struct dbuf d;

	if (stagger == 0)
		return "";
	snprintf(b->s, sizeof(b->s), " less stagger %s", dk_policy_dfmt(&d, stagger));
	return b->s;
}

/*
 * "; rsa_bits 4096 takes effect then" when the active key k is not what
 * the configuration asks for now (rule 7: rotate --start brings it on).
 */
struct cbuf {
	char	s[64];
};

static const char *
changed(struct cbuf *b, const struct dk_keyinfo *k,
    const struct dk_policy *pol)
{
	if (dk_policy_current(k, pol))
		return "";
	snprintf(b->s, sizeof(b->s), "; rsa_bits %d takes effect then",
	    pol->rsa_bits);
	return b->s;
}

/* Rule 1: a pending successor once the active key is rotate_every old. */
static int
generate_step(struct ctx *c, enum dk_alg alg)
{
	char sel[DK_SELECTOR_MAX + 1], why[DK_REASON_MAX];
	const struct dk_keyinfo *k;
	struct dk_action *a;
	struct tbuf tb;
	struct dbuf d1, d2, d3;
	struct cbuf cb;
	long long due, stagger;
	long i;

	if ((i = dk_policy_newest(c->work, alg, DK_STATE_PENDING)) >= 0 &&
	    (!c->start || dk_policy_current(&c->work->keys[i], c->pol)))
		return 0;
	if (i >= 0) {
		/* Rule 7: a pending key made before rsa_bits changed. */
		k = &c->work->keys[i];
		dk_policy_say(why, "rotation started by the operator: pending %s has "
		    "%d bits, rsa_bits is %d", k->selector, k->bits,
		    c->pol->rsa_bits);
	} else if ((i = dk_policy_newest(c->work, alg, DK_STATE_ACTIVE)) >= 0) {
		k = &c->work->keys[i];
		due = dk_policy_due(c->work, k, c->pol, &stagger);
		if (c->start && k->active_from == c->now &&
		    dk_policy_current(k, c->pol))
			return 0;	/* rule 7: this plan rotated it */
		if (c->start)
			dk_policy_say(why, "rotation started by the operator: active "
			    "key %s is %s old (rotate_every %s)", k->selector,
			    dk_policy_dfmt(&d1, c->now - k->created),
			    dk_policy_dfmt(&d2, c->pol->rotate_every));
		else if (c->now < due)
			return wait_for(c, alg, "", DK_STATE_PENDING,
			    (time_t)due, "next %s key due at %s (rotate_every "
			    "%s%s after %s)%s", dk_alg_name(alg),
			    tfmt(&tb, (time_t)due),
			    dk_policy_dfmt(&d1, c->pol->rotate_every),
			    lfmt(&d2, stagger), k->selector,
			    changed(&cb, k, c->pol));
		else
			dk_policy_say(why, "active key %s is %s old (rotate_every %s%s)",
			    k->selector, dk_policy_dfmt(&d1, c->now - k->created),
			    dk_policy_dfmt(&d2, c->pol->rotate_every),
			    lfmt(&d3, stagger));
	} else if (has_keys(c->work, alg))
		dk_policy_say(why, "no active or pending %s key", dk_alg_name(alg));
	else
		dk_policy_say(why, "first %s key of %s", dk_alg_name(alg),
		    c->work->domain);
	if (dk_policy_pick_selector(c, alg, sel, sizeof(sel)) != 0)
		return -1;
	if ((a = dk_plan_add(c->plan, DK_ACT_GENERATE, alg, sel, "%s",
	    why)) == NULL)
		return -1;
	a->bits = alg == DK_ALG_RSA ? c->pol->rsa_bits : 256;
	return dk_policy_commit(c, a);
}

/*
 * Rule 5: an algorithm gone from the configuration stops signing; rule
 * 8: so does every algorithm of a domain that leaves.
 */
static int
drop_step(struct ctx *c, enum dk_alg alg)
{
	struct dk_keyinfo *k;
	size_t i;

	for (i = 0; i < c->work->n; i++) {
		k = &c->work->keys[i];
		if (k->alg != alg || (k->state != DK_STATE_ACTIVE &&
		    k->state != DK_STATE_PENDING))
			continue;
		if (dk_policy_commit(c, dk_plan_add(c->plan, DK_ACT_DEACTIVATE, alg,
		    k->selector, "%s", c->leaving ? "domain removed" :
		    "algorithm no longer configured")) != 0)
			return -1;
	}
	return 0;
}

static int
retire_revoked(struct ctx *c, const struct dk_keyinfo *k)
{
	struct tbuf tb;
	struct dbuf d1, d2;
	long long due;

	due = k->revoked + c->pol->drain;
	if (c->now >= due)
		return dk_policy_commit(c, dk_plan_add(c->plan, DK_ACT_RETIRE, k->alg,
		    k->selector, "revoked %s ago (drain %s)",
		    dk_policy_dfmt(&d1, c->now - k->revoked),
		    dk_policy_dfmt(&d2, c->pol->drain)));
	return wait_for(c, k->alg, k->selector, DK_STATE_RETIRED, (time_t)due,
	    "%s (revoked) waits for drain until %s", k->selector,
	    tfmt(&tb, (time_t)due));
}

/* Rule 3 for one retiring key. */
static int
retire_one(struct ctx *c, const struct dk_keyinfo *k, bool configured)
{
	struct tbuf tb;
	struct dbuf d1, d2, d3, d4;
	long long until, old_at, drain_at, at;
	int left;

	/* A retiring key always has active_until; be safe if not. */
	until = k->active_until != 0 ? k->active_until : k->created;
	old_at = k->created + c->pol->min_age;
	drain_at = until + c->pol->drain;
	at = old_at > drain_at ? old_at : drain_at;
	left = count_published(c->work, k->alg) - 1;
	/*
	 * keep_published first: while it holds the key, the min_age or
	 * drain date is no date at all (status would show a retirement
	 * that does not come then), and only a newer published key of the
	 * track frees it.
	 */
	if (configured && left < c->pol->keep_published)
		return wait_for(c, k->alg, k->selector, DK_STATE_RETIRED, 0,
		    "%s waits: keep_published %d %s keys stay published; it "
		    "retires once another is published%s%s", k->selector,
		    c->pol->keep_published, dk_alg_name(k->alg),
		    c->now < at ? ", not before " : "",
		    c->now < at ? tfmt(&tb, (time_t)at) : "");
	if (c->now < at)
		return wait_for(c, k->alg, k->selector, DK_STATE_RETIRED,
		    (time_t)at, "%s waits for %s until %s", k->selector,
		    old_at > drain_at ? "min_age" : "drain",
		    tfmt(&tb, (time_t)at));
	return dk_policy_commit(c, dk_plan_add(c->plan, DK_ACT_RETIRE, k->alg,
	    k->selector, "%s old (min_age %s), not signing for %s (drain %s)%s",
	    dk_policy_dfmt(&d1, c->now - k->created),
	    dk_policy_dfmt(&d2, c->pol->min_age),
	    dk_policy_dfmt(&d3, c->now - until), dk_policy_dfmt(&d4, c->pol->drain),
	    configured ? "" : c->leaving ? "; domain removed" :
	    "; algorithm no longer configured"));
}

static int
by_age(const void *a, const void *b)
{
	const struct dk_keyinfo *x = *(const struct dk_keyinfo *const *)a;
	const struct dk_keyinfo *y = *(const struct dk_keyinfo *const *)b;

	return newer(x, y) ? 1 : newer(y, x) ? -1 : 0;
}

/* Rule 3, oldest first: the newest keys are the ones kept published. */
static int
retire_step(struct ctx *c, enum dk_alg alg, bool configured)
{
	struct dk_keyinfo **ks, *k;
	size_t i, n = 0;
	int rc = -1;

	/* No GENERATE below: the keys array stays where it is. */
	if ((ks = calloc(c->work->n + 1, sizeof(*ks))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < c->work->n; i++) {
		k = &c->work->keys[i];
		if (k->alg == alg && (k->state == DK_STATE_RETIRING ||
		    k->state == DK_STATE_REVOKED))
			ks[n++] = k;
	}
	qsort(ks, n, sizeof(*ks), by_age);
	for (i = 0; i < n; i++) {
		if (ks[i]->state == DK_STATE_REVOKED ?
		    retire_revoked(c, ks[i]) != 0 :
		    retire_one(c, ks[i], configured) != 0)
			goto done;
	}
	rc = 0;
done:
	free(ks);
	return rc;
}

/* For status: when the active key may hand over to its successor. */
static int
active_wait(struct ctx *c, enum dk_alg alg)
{
	const struct dk_keyinfo *a, *p;
	struct tbuf tb;
	long long at, stagger;
	long i;

	if ((i = dk_policy_newest(c->work, alg, DK_STATE_ACTIVE)) < 0)
		return 0;
	a = &c->work->keys[i];
	if ((i = dk_policy_newest(c->work, alg, DK_STATE_PENDING)) < 0) {
		at = dk_policy_due(c->work, a, c->pol, &stagger) +
		    c->pol->publish_lead;
		return wait_for(c, alg, a->selector, DK_STATE_RETIRING,
		    (time_t)at, "%s signs until its successor takes over, "
		    "not before %s", a->selector, tfmt(&tb, (time_t)at));
	}
	p = &c->work->keys[i];
	at = (p->published != 0 ? p->published : p->created) +
	    c->pol->publish_lead;
	if (at <= c->now && c->dns_verify && p->dns != DK_DNS_OK)
		return wait_for(c, alg, a->selector, DK_STATE_RETIRING, 0,
		    "%s signs until DNS serves %s", a->selector, p->selector);
	if (at < c->now)
		at = c->now;
	return wait_for(c, alg, a->selector, DK_STATE_RETIRING, (time_t)at,
	    "%s signs until %s takes over, not before %s", a->selector,
	    p->selector, tfmt(&tb, (time_t)at));
}

/* Input the rules rely on: at most one active key per algorithm. */
int
dk_policy_check_input(const struct dk_domain_keys *dk)
{
	const struct dk_keyinfo *act[DK_ALG_COUNT] = { NULL };
	const struct dk_keyinfo *k;
	size_t i;

	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		if ((unsigned)k->alg >= DK_ALG_COUNT) {
			dk_error_set("key '%s' of %s has an unknown algorithm",
			    k->selector, dk->domain);
			return DK_EUSAGE;
		}
		if (k->state != DK_STATE_ACTIVE)
			continue;
		if (act[k->alg] != NULL) {
			dk_error_set("two active %s keys in %s: '%s' and '%s'",
			    dk_alg_name(k->alg), dk->domain,
			    act[k->alg]->selector, k->selector);
			return DK_EUSAGE;
		}
		act[k->alg] = k;
	}
	return 0;
}

int
dk_policy_start(const struct dk_domain_keys *dk, time_t now,
    struct dk_plan *out, struct dk_domain_keys **work)
{
	dk_plan_dispose(out);
	memcpy(out->domain, dk->domain, sizeof(out->domain));
	out->now = now;
	return dk_domain_keys_dup(dk, work);
}

/*
 * Rule 8: remove takes the domain out (every signing or pending key
 * deactivated first, then LEAVE); a leaving domain back in dkimrot.yaml
 * resumes (RESUME, then rule 1 gives it a new key).  Sets c->leaving.
 */
static int
leave_step(struct ctx *c, const struct dk_plan_opts *o)
{
	int a;

	c->leaving = c->work->leaving != 0;
	if (c->leaving && !o->dropped && !o->remove) {
		c->leaving = false;
		return dk_policy_commit(c, dk_plan_add(c->plan, DK_ACT_RESUME,
		    DK_ALG_RSA, "", "back in dkimrot.yaml: signs again once "
		    "a new key is published"));
	}
	if (c->leaving || !o->remove)
		return 0;
	c->leaving = true;
	for (a = 0; a < DK_ALG_COUNT; a++)
		if (drop_step(c, (enum dk_alg)a) != 0)
			return -1;
	return dk_policy_commit(c, dk_plan_add(c->plan, DK_ACT_LEAVE, DK_ALG_RSA, "",
	    "removed by the operator: signs no more, its keys drain"));
}

bool
dk_policy_current(const struct dk_keyinfo *k, const struct dk_policy *pol)
{
	return k->alg != DK_ALG_RSA || k->bits == pol->rsa_bits;
}

int
dk_policy_plan(const struct dk_domain_keys *dk, const struct dk_policy *pol,
    bool dns_verify, time_t now, bool force, struct dk_plan *out)
{
	const struct dk_plan_opts o = { .dns_verify = dns_verify,
	    .force = force };

	return dk_policy_plan_opts(dk, pol, &o, now, out);
}

int
dk_policy_plan_opts(const struct dk_domain_keys *dk,
    const struct dk_policy *pol, const struct dk_plan_opts *o, time_t now,
    struct dk_plan *out)
{
	struct ctx c = { .pol = pol, .plan = out, .now = now,
	    .dns_verify = o->dns_verify, .start = o->start };
	struct tbuf t1, t2;
	time_t latest;
	bool configured;
	int a, rc;

	dk_plan_dispose(out);
	/* Rule 4: ages computed from a clock that went back lie. */
	latest = dk_domain_keys_latest(dk);
	if (now < latest && !o->force) {
		dk_error_set("clock went back: %s is earlier than the last "
		    "recorded event %s for %s; use --force", tfmt(&t1, now),
		    tfmt(&t2, latest), dk->domain);
		return DK_EUSAGE;
	}
	if ((rc = dk_policy_check_input(dk)) != 0)
		return rc;
	if (dk_policy_start(dk, now, out, &c.work) != 0)
		return -1;
	rc = -1;
	if (leave_step(&c, o) != 0)
		goto done;
	for (a = 0; a < DK_ALG_COUNT; a++) {
		configured = !c.leaving &&
		    (pol->algorithms & DK_ALG_BIT(a)) != 0;
		if (!configured && !has_keys(c.work, (enum dk_alg)a))
			continue;
		if (configured) {
			if (activate_step(&c, (enum dk_alg)a) != 0 ||
			    generate_step(&c, (enum dk_alg)a) != 0)
				goto done;
		} else if (drop_step(&c, (enum dk_alg)a) != 0)
			goto done;
		if (retire_step(&c, (enum dk_alg)a, configured) != 0)
			goto done;
		if (configured && active_wait(&c, (enum dk_alg)a) != 0)
			goto done;
	}
	rc = 0;
done:
	dk_domain_keys_free(c.work);
	if (rc != 0)
		dk_plan_dispose(out);
	return rc;
}
