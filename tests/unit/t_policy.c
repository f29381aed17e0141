/*
 * Unit tests: the lifecycle policy (docs/design.md §4).  Table-driven: each
 * case is the keys of a domain, a policy and NOW, and the plan it must give.
 * Times are offsets from T0 = 2026-11-22T13:15:00Z.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dktime.h"
#include "common/error.h"
#include "rotator/policy.h"

#define T0	1795353300LL	/* 2026-11-22T13:15:00Z */
#define H(n)	((long long)((n) * 3600))
#define D(n)	((long long)((n) * 86400))
#define X	LLONG_MIN	/* unset */

#define RSA	DK_ALG_RSA
#define ED	DK_ALG_ED25519

struct kspec {
	const char	*sel;
	enum dk_alg	 alg;
	enum dk_state	 st;
	long long	 cr, pub, af, au, ret, rev;
	enum dk_dns	 dns;
	int		 bits;	/* 0: 2048 for RSA, 256 for Ed25519 */
};

/* Keys in each state, with the times that state implies. */
#define KEY(s, a, state, c, f, u, r, v, d) \
	{ .sel = s, .alg = a, .st = DK_STATE_##state, .cr = c, .pub = c, \
	  .af = f, .au = u, .ret = r, .rev = v, .dns = d }
#define PEND(s, a, cr)		KEY(s, a, PENDING, cr, X, X, X, X, 0)
#define PENDNS(s, cr, dns)	KEY(s, RSA, PENDING, cr, X, X, X, X, dns)
#define ACT(s, a, cr)		KEY(s, a, ACTIVE, cr, (cr) + D(1), X, X, X, 0)
#define RING(s, a, cr, au) \
	KEY(s, a, RETIRING, cr, (cr) + D(1), au, X, X, 0)
#define RTD(s, a, cr) \
	KEY(s, a, RETIRED, cr, (cr) + D(1), (cr) + D(31), (cr) + D(35), X, 0)
#define REV(s, a, cr, rev) \
	KEY(s, a, REVOKED, cr, (cr) + D(1), rev, X, rev, 0)
/* RSA keys of other sizes, as made before rsa_bits changed. */
#define ACTB(s, c, b) \
	{ .sel = s, .alg = RSA, .st = DK_STATE_ACTIVE, .cr = c, .pub = c, \
	  .af = (c) + D(1), .au = X, .ret = X, .rev = X, .bits = b }
#define PENDB(s, c, b) \
	{ .sel = s, .alg = RSA, .st = DK_STATE_PENDING, .cr = c, .pub = c, \
	  .af = X, .au = X, .ret = X, .rev = X, .bits = b }

static const struct dk_policy pol_rsa = {
	.algorithms = DK_ALG_BIT(RSA), .rsa_bits = 2048, .rotate_every = D(30),
	.publish_lead = D(1), .min_age = D(4), .drain = D(4),
	.keep_published = 2, .ttl = 3600
};
static const struct dk_policy pol_ed = {
	.algorithms = DK_ALG_BIT(ED), .rsa_bits = 2048, .rotate_every = D(30),
	.publish_lead = D(1), .min_age = D(4), .drain = D(4),
	.keep_published = 2, .ttl = 3600
};
static const struct dk_policy pol_dual = {
	.algorithms = DK_ALG_BIT(RSA) | DK_ALG_BIT(ED), .rsa_bits = 1024,
	.rotate_every = D(30), .publish_lead = D(1), .min_age = D(4),
	.drain = D(4), .keep_published = 2, .ttl = 3600
};
static const struct dk_policy pol_keep3 = {
	.algorithms = DK_ALG_BIT(RSA), .rsa_bits = 2048, .rotate_every = D(30),
	.publish_lead = D(1), .min_age = D(4), .drain = D(4),
	.keep_published = 3, .ttl = 3600
};
static const struct dk_policy pol_minage10 = {
	.algorithms = DK_ALG_BIT(RSA), .rsa_bits = 2048, .rotate_every = D(30),
	.publish_lead = D(1), .min_age = D(10), .drain = D(4),
	.keep_published = 2, .ttl = 3600
};
static const struct dk_policy pol_week = {
	.algorithms = DK_ALG_BIT(RSA), .rsa_bits = 2048, .rotate_every = D(7),
	.publish_lead = D(2), .min_age = D(4), .drain = D(6),
	.keep_published = 2, .ttl = 3600
};
static const struct dk_policy pol_4096 = {
	.algorithms = DK_ALG_BIT(RSA), .rsa_bits = 4096, .rotate_every = D(30),
	.publish_lead = D(1), .min_age = D(4), .drain = D(4),
	.keep_published = 2, .ttl = 3600
};
static const struct dk_policy pol_nolead = {
	.algorithms = DK_ALG_BIT(RSA), .rsa_bits = 2048, .rotate_every = D(30),
	.publish_lead = 0, .min_age = D(4), .drain = D(4), .keep_published = 2,
	.ttl = 3600
};

static time_t
abs_time(long long off)
{
	return off == X ? 0 : (time_t)(T0 + off);
}

static struct dk_domain_keys *
make_keys(const struct kspec *ks)
{
	struct dk_domain_keys *dk;
	struct dk_keyinfo k;

	assert_int_equal(dk_domain_keys_new("example.com", &dk), 0);
	for (; ks->sel != NULL; ks++) {
		memset(&k, 0, sizeof(k));
		snprintf(k.selector, sizeof(k.selector), "%s", ks->sel);
		k.alg = ks->alg;
		k.bits = ks->bits != 0 ? ks->bits : ks->alg == RSA ? 2048 :
		    256;
		k.state = ks->st;
		k.created = abs_time(ks->cr);
		k.published = abs_time(ks->pub);
		k.active_from = abs_time(ks->af);
		k.active_until = abs_time(ks->au);
		k.retired = abs_time(ks->ret);
		k.revoked = abs_time(ks->rev);
		k.dns = ks->dns;
		assert_int_equal(dk_domain_keys_add(dk, &k), 0);
	}
	return dk;
}

/*
 * "gen SEL ALG BITS; act SEL; deact SEL; retire SEL; revoke SEL; dns
 * SEL", "!" after a warning; the WAITs apart as "SEL>STATE@TIME".
 */
static void
render(const struct dk_plan *p, char *out, size_t size, char *waits,
    size_t wsize)
{
	static const char *abbr[] = { "gen", "act", "deact", "retire",
	    "revoke", "dns", "wait", "remove", "resume" };
	const struct dk_action *a;
	char t[DK_TIME_LEN];
	size_t i, n = 0, w = 0;

	out[0] = waits[0] = '\0';
	for (i = 0; i < p->n; i++) {
		a = &p->actions[i];
		assert_true(a->reason[0] != '\0');
		if (a->type == DK_ACT_WAIT) {
			if (a->at != 0)
				dk_time_format(a->at, t);
			else
				snprintf(t, sizeof(t), "-");
			w += snprintf(waits + w, wsize - w, "%s%s>%s@%s",
			    w ? " " : "", a->selector[0] ? a->selector :
			    dk_alg_name(a->alg), dk_state_name(a->to), t);
			assert_true(w < wsize);
			continue;
		}
		n += snprintf(out + n, size - n, "%s%s %s", n ? "; " : "",
		    abbr[a->type], a->selector);
		if (a->type == DK_ACT_GENERATE)
			n += snprintf(out + n, size - n, " %s %d",
			    dk_alg_name(a->alg), a->bits);
		if (a->warn)
			n += snprintf(out + n, size - n, "!");
		assert_true(n < size);
	}
}

static bool
some_reason(const struct dk_plan *p, const char *s)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strstr(p->actions[i].reason, s) != NULL)
			return true;
	return false;
}

/* Whatever a plan says, applying it keeps the lifecycle's invariants. */
static void
check_applies(const struct dk_domain_keys *dk, const struct dk_plan *p)
{
	struct dk_domain_keys *copy;
	int active[DK_ALG_COUNT] = { 0 };
	size_t i;

	assert_int_equal(dk_domain_keys_dup(dk, &copy), 0);
	if (dk_plan_apply(copy, p) != 0)
		fail_msg("plan does not apply: %s", dk_error_last());
	for (i = 0; i < copy->n; i++)
		if (copy->keys[i].state == DK_STATE_ACTIVE)
			active[copy->keys[i].alg]++;
	for (i = 0; i < DK_ALG_COUNT; i++)
		assert_true(active[i] <= 1);
	dk_domain_keys_free(copy);
}

struct pcase {
	const char		*name;
	const struct dk_policy	*pol;
	long long		 now;
	bool			 dns_verify;
	bool			 force;
	bool			 start;	/* rule 7: rotate --start */
	bool			 remove; /* rule 8: dkimrot remove */
	bool			 dropped; /* not in dkimrot.yaml */
	long long		 leaving; /* X: not leaving */
	struct kspec		 keys[6];
	int			 rc;
	const char		*want;	/* actions but WAITs */
	const char		*wait;	/* a substring of the WAITs, or NULL */
	const char		*reason; /* a substring of some reason/error */
};

static const struct pcase plan_cases[] = {
	/* Rule 1: new keys. */
	{ .name = "first key of a new domain", .pol = &pol_rsa,
	  .want = "gen 20261122131500 rsa 2048", .wait = "",
	  .reason = "first rsa key of example.com" },
	/* "o" before "a": a is not its track's first key, no stagger. */
	{ .name = "rotation not due", .pol = &pol_rsa,
	  .keys = { RTD("o", RSA, -D(60)), ACT("a", RSA, -D(29)) }, .want = "",
	  .wait = "rsa>pending@2026-11-23T13:15:00Z "
	  "a>retiring@2026-11-24T13:15:00Z",
	  .reason = "rotate_every 30d after a" },
	{ .name = "rotation due", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(30)) },
	  .want = "gen 20261122131500 rsa 2048", .reason = "a is 30d old" },
	{ .name = "no rotation while a key is pending", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(40)), PEND("p", RSA, -H(12)) }, .want = "",
	  .wait = "p>active@2026-11-23T01:15:00Z" },
	{ .name = "no active key left", .pol = &pol_rsa, .now = D(100),
	  .keys = { RTD("a", RSA, 0), REV("b", RSA, D(30), D(50)) },
	  .want = "gen 20270302131500 rsa 2048; retire b",
	  .reason = "no active or pending rsa key" },
	{ .name = "selector clash moves the name on", .pol = &pol_rsa,
	  .keys = { RTD("20261122131500", RSA, -D(90)),
	    RTD("20261122131501", RSA, -D(60)) },
	  .want = "gen 20261122131502 rsa 2048" },
	{ .name = "a new key never signs in the plan that makes it",
	  .pol = &pol_nolead, .want = "gen 20261122131500 rsa 2048" },

	/* Rule 2: activation. */
	{ .name = "publish_lead not passed", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(20)), PEND("p", RSA, -H(23)) }, .want = "",
	  .wait = "p>active@2026-11-22T14:15:00Z",
	  .reason = "p waits for publish_lead until 2026-11-22T14:15:00Z" },
	{ .name = "publish_lead passed", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(31)), PEND("p", RSA, -D(1)) },
	  .want = "deact a; act p",
	  .wait = "rsa>pending@2026-12-21T13:15:00Z" },
	/* Staggering: p, the first key, hands over 21d21h48m early. */
	{ .name = "first key signs after publish_lead", .pol = &pol_rsa,
	  .keys = { PEND("p", RSA, -D(2)) }, .want = "act p",
	  .wait = "p>retiring@2026-11-29T15:27:00Z" },
	{ .name = "older pending keys retire unused", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(40)), PEND("p1", RSA, -D(3)),
	    PEND("p2", RSA, -D(2)) }, .want = "deact a; deact p1; act p2",
	  .reason = "before it signed" },
	{ .name = "newest pending by creation, then selector", .pol = &pol_rsa,
	  .keys = { PEND("b", RSA, -D(2)), PEND("c", RSA, -D(2)),
	    PEND("a", RSA, -D(3)) }, .want = "deact b; deact a; act c" },
	{ .name = "DNS not checked yet", .pol = &pol_rsa, .dns_verify = true,
	  .keys = { ACT("a", RSA, -D(31)),
	    PENDNS("p", -D(1), DK_DNS_UNCHECKED) }, .want = "dns p",
	  .wait = "a>retiring@-" },
	{ .name = "DNS missing", .pol = &pol_rsa, .dns_verify = true,
	  .keys = { ACT("a", RSA, -D(31)), PENDNS("p", -D(1), DK_DNS_MISSING) },
	  .want = "", .wait = "p>active@-", .reason = "p waiting for DNS" },
	{ .name = "DNS ok", .pol = &pol_rsa, .dns_verify = true,
	  .keys = { ACT("a", RSA, -D(31)), PENDNS("p", -D(1), DK_DNS_OK) },
	  .want = "deact a; act p", .reason = "served by DNS" },
	{ .name = "DNS not asked before publish_lead", .pol = &pol_rsa,
	  .dns_verify = true, .keys = { ACT("a", RSA, -D(31)),
	    PENDNS("p", -H(1), DK_DNS_UNCHECKED) }, .want = "",
	  .wait = "p>active@2026-11-23T12:15:00Z" },

	/* Rule 3: retirement. */
	{ .name = "retire: old, drained, enough published", .pol = &pol_rsa,
	  .keys = { RING("r", RSA, -D(40), -D(9)), ACT("a", RSA, -D(10)),
	    PEND("p", RSA, -H(1)) }, .want = "retire r",
	  .reason = "not signing for 9d (drain 4d)" },
	{ .name = "retire blocked by min_age", .pol = &pol_minage10,
	  .keys = { RING("r", RSA, -D(8), -D(5)), ACT("a", RSA, -D(6)),
	    PEND("p", RSA, -H(1)) }, .want = "",
	  .wait = "r>retired@2026-11-24T13:15:00Z",
	  .reason = "r waits for min_age" },
	{ .name = "retire blocked by drain", .pol = &pol_rsa,
	  .keys = { RING("r", RSA, -D(40), -D(3)), ACT("a", RSA, -D(10)),
	    PEND("p", RSA, -H(1)) }, .want = "",
	  .wait = "r>retired@2026-11-23T13:15:00Z",
	  .reason = "r waits for drain" },
	{ .name = "retire blocked by keep_published", .pol = &pol_rsa,
	  .keys = { RING("r", RSA, -D(40), -D(9)), ACT("a", RSA, -D(10)) },
	  .want = "", .wait = "r>retired@-", .reason = "keep_published 2" },
	{ .name = "keep_published 3", .pol = &pol_keep3,
	  .keys = { RING("r", RSA, -D(40), -D(9)), ACT("a", RSA, -D(10)),
	    PEND("p", RSA, -H(1)) }, .want = "", .wait = "r>retired@-",
	  .reason = "keep_published 3" },
	{ .name = "oldest retiring key goes first", .pol = &pol_rsa,
	  .keys = { RING("r2", RSA, -D(40), -D(10)),
	    RING("r1", RSA, -D(70), -D(40)), ACT("a", RSA, -D(10)) },
	  .want = "retire r1", .wait = "r2>retired@-" },
	{ .name = "revoked key retires after drain", .pol = &pol_rsa,
	  .keys = { REV("v", RSA, -D(20), -D(4)), ACT("a", RSA, -D(10)) },
	  .want = "retire v", .reason = "revoked 4d ago" },
	{ .name = "revoked key waits for drain", .pol = &pol_rsa,
	  .keys = { REV("v", RSA, -D(20), -D(1)), ACT("a", RSA, -D(10)) },
	  .want = "", .wait = "v>retired@2026-11-25T13:15:00Z" },
	{ .name = "revoked keys do not count as published", .pol = &pol_rsa,
	  .keys = { REV("v", RSA, -D(20), -H(1)), ACT("a", RSA, -D(10)),
	    RING("r", RSA, -D(40), -D(10)) }, .want = "",
	  .wait = "r>retired@-" },
	{ .name = "a rotation and a retirement in one run", .pol = &pol_rsa,
	  .keys = { RING("r", RSA, -D(60), -D(29)), ACT("a", RSA, -D(30)) },
	  .want = "gen 20261122131500 rsa 2048; retire r" },

	/* Rule 4: never on a clock that went back. */
	{ .name = "clock went back", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(10)), RING("r", RSA, -D(40), H(2)) },
	  .rc = DK_EUSAGE, .want = "",
	  .reason = "clock went back: 2026-11-22T13:15:00Z is earlier than the "
	  "last recorded event 2026-11-22T15:15:00Z for example.com; use "
	  "--force" },
	{ .name = "clock went back, forced", .pol = &pol_rsa, .force = true,
	  .keys = { ACT("a", RSA, -D(40)), REV("v", RSA, -D(50), H(2)) },
	  .want = "gen 20261122131500 rsa 2048",
	  .wait = "v>retired@2026-11-26T15:15:00Z" },

	/* Rule 5: configuration changes. */
	{ .name = "algorithm removed", .pol = &pol_rsa,
	  .keys = { RTD("o", RSA, -D(60)), ACT("a", RSA, -D(10)),
	    ACT("e", ED, -D(10)), PEND("ep", ED, -H(1)),
	    RING("er", ED, -D(40), -D(9)) },
	  .want = "deact e; deact ep; retire er",
	  .wait = "e>retired@2026-11-26T13:15:00Z",
	  .reason = "algorithm no longer configured" },
	{ .name = "removed algorithm: last key retires", .pol = &pol_ed,
	  .keys = { ACT("e", ED, -D(10)), RING("r", RSA, -D(40), -D(9)) },
	  .want = "retire r", .reason = "; algorithm no longer configured" },
	{ .name = "removed algorithm still drains", .pol = &pol_ed,
	  .keys = { ACT("e", ED, -D(10)), RING("r", RSA, -D(40), -D(1)) },
	  .want = "", .wait = "r>retired@2026-11-25T13:15:00Z" },
	{ .name = "algorithm added", .pol = &pol_dual,
	  .keys = { RTD("o", RSA, -D(60)), ACT("a", RSA, -D(10)) },
	  .want = "gen 20261122131500e ed25519 256",
	  .reason = "first ed25519 key" },
	{ .name = "rotate_every shortened", .pol = &pol_week,
	  .keys = { ACT("a", RSA, -D(10)) },
	  .want = "gen 20261122131500 rsa 2048", .reason = "rotate_every 7d" },
	{ .name = "publish_lead lengthened", .pol = &pol_week,
	  .keys = { ACT("a", RSA, -D(3)), PEND("p", RSA, -D(1)) }, .want = "",
	  .wait = "p>active@2026-11-23T13:15:00Z" },
	{ .name = "drain lengthened", .pol = &pol_week,
	  .keys = { RING("r", RSA, -D(40), -D(5)), ACT("a", RSA, -D(3)),
	    PEND("p", RSA, -H(1)) }, .want = "",
	  .wait = "r>retired@2026-11-23T13:15:00Z" },

	/* Dual algorithms: each track on its own. */
	{ .name = "dual: first run", .pol = &pol_dual,
	  .want = "gen 20261122131500r rsa 1024; gen 20261122131500e ed25519 "
	  "256" },
	{ .name = "dual: tracks rotate independently", .pol = &pol_dual,
	  .keys = { ACT("ar", RSA, -D(30)), ACT("ae", ED, -D(10)) },
	  .want = "gen 20261122131500r rsa 1024",
	  .wait = "ed25519>pending@2026-12-12" },
	{ .name = "dual: activations independent", .pol = &pol_dual,
	  .keys = { ACT("ar", RSA, -D(31)), PEND("pr", RSA, -D(1)),
	    ACT("ae", ED, -D(31)), PEND("pe", ED, -H(2)) },
	  .want = "deact ar; act pr", .wait = "pe>active@" },
	{ .name = "dual: keep_published per track", .pol = &pol_dual,
	  .keys = { ACT("ar", RSA, -D(10)), PEND("pr", RSA, -H(1)),
	    RING("re", ED, -D(40), -D(9)), ACT("ae", ED, -D(10)) }, .want = "",
	  .wait = "re>retired@-" },
	/*
	 * Staggering: a track's first key is rotated dk_policy_stagger()
	 * early, 21d21h48m for example.com's rsa keys (1h41m for its
	 * ed25519 ones) with rotate_every 30d, publish_lead 1d, min_age 4d.
	 */
	{ .name = "stagger: first key rotated early", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(9)) },
	  .want = "gen 20261122131500 rsa 2048",
	  .reason = "a is 9d old (rotate_every 30d less stagger 21d21h48m)" },
	{ .name = "stagger: first key not yet due", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(8)) }, .want = "",
	  .wait = "rsa>pending@2026-11-22T15:27:00Z "
	  "a>retiring@2026-11-23T15:27:00Z",
	  .reason = "(rotate_every 30d less stagger 21d21h48m after a)" },
	{ .name = "stagger: a successor is not staggered", .pol = &pol_rsa,
	  .keys = { RTD("o", RSA, -D(60)), ACT("a", RSA, -D(9)) }, .want = "",
	  .wait = "rsa>pending@2026-12-13T13:15:00Z" },
	{ .name = "stagger: a revoked predecessor counts", .pol = &pol_rsa,
	  .keys = { REV("v", RSA, -D(20), -D(5)), ACT("a", RSA, -D(9)) },
	  .want = "retire v", .wait = "rsa>pending@2026-12-13T13:15:00Z" },
	{ .name = "stagger: per algorithm", .pol = &pol_dual,
	  .keys = { ACT("ar", RSA, -D(9)), ACT("ae", ED, -D(9)) },
	  .want = "gen 20261122131500r rsa 1024",
	  .wait = "ed25519>pending@2026-12-13T11:34:00Z",
	  .reason = "less stagger 1h41m after ae" },
	{ .name = "two active keys refused", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(10)), ACT("b", RSA, -D(5)) },
	  .rc = DK_EUSAGE, .want = "",
	  .reason = "two active rsa keys in example.com" },

	/* Rule 7: rotate --start. */
	{ .name = "start: a young active key gets a successor now",
	  .pol = &pol_rsa, .start = true,
	  .keys = { RTD("o", RSA, -D(60)), ACT("a", RSA, -D(3)) },
	  .want = "gen 20261122131500 rsa 2048",
	  .reason = "rotation started by the operator: active key a is 3d "
	  "old (rotate_every 30d)" },
	{ .name = "start: the new key still waits for publish_lead",
	  .pol = &pol_rsa, .start = true,
	  .keys = { ACT("a", RSA, -D(3)), PEND("p", RSA, -H(2)) },
	  .want = "", .wait = "p>active@2026-11-23T11:15:00Z" },
	{ .name = "start: a due pending key activates, no second key",
	  .pol = &pol_rsa, .start = true,
	  .keys = { ACT("a", RSA, -D(31)), PEND("p", RSA, -D(1)) },
	  .want = "deact a; act p" },
	{ .name = "start: the DNS gate still holds", .pol = &pol_rsa,
	  .start = true, .dns_verify = true,
	  .keys = { ACT("a", RSA, -D(31)), PENDNS("p", -D(1), DK_DNS_MISSING) },
	  .want = "", .wait = "p>active@-" },
	{ .name = "start: the old key drains as usual", .pol = &pol_rsa,
	  .start = true,
	  .keys = { RING("r", RSA, -D(8), -D(2)), ACT("a", RSA, -D(3)) },
	  .want = "gen 20261122131500 rsa 2048",
	  .wait = "r>retired@2026-11-24T13:15:00Z" },
	{ .name = "start: new rsa_bits", .pol = &pol_4096, .start = true,
	  .keys = { ACTB("a", -D(3), 2048) },
	  .want = "gen 20261122131500 rsa 4096" },
	{ .name = "start: a pending key of old bits is superseded",
	  .pol = &pol_4096, .start = true,
	  .keys = { ACTB("a", -D(29), 2048), PENDB("p", -H(2), 2048) },
	  .want = "gen 20261122131500 rsa 4096",
	  .wait = "a>retiring@2026-11-23T13:15:00Z",
	  .reason = "pending p has 2048 bits, rsa_bits is 4096" },
	{ .name = "start: a key of old bits that activates is replaced",
	  .pol = &pol_4096, .start = true,
	  .keys = { ACTB("a", -D(31), 2048), PENDB("p", -D(1), 2048) },
	  .want = "deact a; act p; gen 20261122131500 rsa 4096" },
	{ .name = "start: every track of a dual domain", .pol = &pol_dual,
	  .start = true,
	  .keys = { ACTB("ar", -D(5), 1024), ACT("ae", ED, -D(5)) },
	  .want = "gen 20261122131500r rsa 1024; gen 20261122131500e ed25519 "
	  "256" },
	{ .name = "start: first key as without it", .pol = &pol_rsa,
	  .start = true, .want = "gen 20261122131500 rsa 2048",
	  .reason = "first rsa key of example.com" },
	{ .name = "start: an algorithm no longer configured is not started",
	  .pol = &pol_ed, .start = true,
	  .keys = { ACT("e", ED, -D(5)), ACT("a", RSA, -D(5)) },
	  .want = "deact a; gen 20261122131500 ed25519 256" },
	{ .name = "rsa_bits changed: takes effect at the next rotation",
	  .pol = &pol_4096, .keys = { RTD("o", RSA, -D(60)),
	    ACTB("a", -D(3), 2048) }, .want = "",
	  .wait = "rsa>pending@2026-12-19T13:15:00Z",
	  .reason = "after a); rsa_bits 4096 takes effect then" },

	/* Rule 8: remove, leaving, resume (.leaving 0 means not leaving). */
	{ .name = "remove: stops signing at once", .pol = &pol_rsa,
	  .remove = true, .dropped = true,
	  .keys = { RING("r", RSA, -D(40), -D(2)), ACT("a", RSA, -D(10)),
	    PEND("p", RSA, -H(2)) },
	  .want = "deact a; deact p; remove ",
	  .wait = "r>retired@2026-11-24T13:15:00Z "
	  "a>retired@2026-11-26T13:15:00Z p>retired@2026-11-26T13:15:00Z",
	  .reason = "removed by the operator" },
	{ .name = "remove: every algorithm", .pol = &pol_dual,
	  .remove = true,
	  .keys = { ACTB("ar", -D(10), 1024), ACT("ae", ED, -D(10)) },
	  .want = "deact ar; deact ae; remove " },
	{ .name = "leaving: no new key, drained keys retire below "
	  "keep_published", .pol = &pol_rsa, .dropped = true,
	  .leaving = -D(5), .keys = { RING("a", RSA, -D(40), -D(5)),
	    RING("p", RSA, -D(6), -D(5)) },
	  .want = "retire a; retire p", .reason = "; domain removed" },
	{ .name = "leaving: waits for drain", .pol = &pol_rsa, .dropped = true,
	  .leaving = -D(1), .keys = { RING("a", RSA, -D(40), -D(1)) },
	  .want = "", .wait = "a>retired@2026-11-25T13:15:00Z" },
	{ .name = "leaving: not even with --start", .pol = &pol_rsa,
	  .dropped = true, .start = true, .leaving = -D(1),
	  .keys = { RING("a", RSA, -D(40), -D(1)) }, .want = "" },
	{ .name = "leaving: a revoked key still retires after drain",
	  .pol = &pol_rsa, .dropped = true, .leaving = -D(5),
	  .keys = { REV("v", RSA, -D(20), -D(5)) }, .want = "retire v" },
	{ .name = "leaving, back in dkimrot.yaml: resumes with a new key",
	  .pol = &pol_rsa, .leaving = -D(1),
	  .keys = { RING("a", RSA, -D(40), -D(1)) },
	  .want = "resume ; gen 20261122131500 rsa 2048",
	  /* keep_published 2: a waits for a second key, not the clock. */
	  .wait = "a>retired@-",
	  .reason = "back in dkimrot.yaml" },
	{ .name = "rsa_bits unchanged: no note", .pol = &pol_rsa,
	  .keys = { RTD("o", RSA, -D(60)), ACT("a", RSA, -D(3)) }, .want = "",
	  .wait = "rsa>pending@2026-12-19T13:15:00Z" },
};

static void
test_policy__plan_table(void **state)
{
	char got[1024], waits[2048];
	const struct pcase *c;
	struct dk_domain_keys *dk;
	struct dk_plan plan = { 0 };
	struct dk_plan_opts o = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
		c = &plan_cases[i];
		dk = make_keys(c->keys);
		dk_error_clear();
		o.dns_verify = c->dns_verify;
		o.force = c->force;
		o.start = c->start;
		o.remove = c->remove;
		o.dropped = c->dropped;
		/* Designated initializers leave it 0: X unless given. */
		dk->leaving = c->leaving != 0 ? abs_time(c->leaving) : 0;
		rc = dk_policy_plan_opts(dk, c->pol, &o, abs_time(c->now),
		    &plan);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc,
			    dk_error_last());
		if (rc != 0) {
			assert_int_equal(plan.n, 0);
			if (strstr(dk_error_last(), c->reason) == NULL)
				fail_msg("%s: error '%s'", c->name,
				    dk_error_last());
			dk_domain_keys_free(dk);
			continue;
		}
		render(&plan, got, sizeof(got), waits, sizeof(waits));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: plan '%s', want '%s'", c->name, got,
			    c->want);
		if (c->wait != NULL && strstr(waits, c->wait) == NULL)
			fail_msg("%s: waits '%s', want '%s'", c->name, waits,
			    c->wait);
		if (c->reason != NULL && !some_reason(&plan, c->reason))
			fail_msg("%s: no reason says '%s'", c->name,
			    c->reason);
		assert_int_equal(dk_plan_has_changes(&plan), got[0] != '\0' &&
		    strncmp(got, "dns ", 4) != 0);
		check_applies(dk, &plan);
		dk_domain_keys_free(dk);
	}
	dk_plan_dispose(&plan);
}

/* Rule 6: revoke. */
struct rcase {
	const char		*name;
	const struct dk_policy	*pol;
	struct kspec		 keys[6];
	const char		*sel;
	int			 rc;
	const char		*want;
	const char		*reason;
};

static const struct rcase revoke_cases[] = {
	{ .name = "active with a pending successor", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(31)), PEND("p", RSA, -H(2)) }, .sel = "a",
	  .want = "revoke a; act p!",
	  .reason = "activated early: replaces revoked a" },
	{ .name = "active with two pending keys", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(31)), PEND("p1", RSA, -D(2)),
	    PEND("p2", RSA, -H(2)) }, .sel = "a",
	  .want = "revoke a; deact p1; act p2!" },
	{ .name = "active without a successor", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(10)), RING("r", RSA, -D(40), -D(11)) },
	  .sel = "a",
	  .want = "revoke a; gen 20261122131500 rsa 2048; act 20261122131500!",
	  .reason = "activated at once" },
	{ .name = "active, new name clashes", .pol = &pol_rsa,
	  .keys = { ACT("20261122131500", RSA, -D(10)) },
	  .sel = "20261122131500",
	  .want = "revoke 20261122131500; gen 20261122131501 rsa 2048; act "
	  "20261122131501!" },
	{ .name = "dual: only the revoked key's track", .pol = &pol_dual,
	  .keys = { ACT("ar", RSA, -D(10)), ACT("ae", ED, -D(10)) },
	  .sel = "ae",
	  .want = "revoke ae; gen 20261122131500e ed25519 256; act "
	  "20261122131500e!" },
	{ .name = "active of an algorithm no longer configured",
	  .pol = &pol_rsa, .keys = { ACT("a", RSA, -D(10)),
	    ACT("e", ED, -D(10)) }, .sel = "e", .want = "revoke e!",
	  .reason = "no ed25519 key signs" },
	{ .name = "retiring", .pol = &pol_rsa, .keys = { ACT("a", RSA, -D(10)),
	    RING("r", RSA, -D(40), -D(9)) }, .sel = "r", .want = "revoke r" },
	{ .name = "pending", .pol = &pol_rsa, .keys = { ACT("a", RSA, -D(10)),
	    PEND("p", RSA, -H(1)) }, .sel = "p", .want = "revoke p" },
	{ .name = "unknown", .pol = &pol_rsa, .keys = { ACT("a", RSA, -D(10)) },
	  .sel = "zz", .rc = DK_ENOTFOUND, .want = "",
	  .reason = "cannot revoke key 'zz': example.com has no such key" },
	{ .name = "retired", .pol = &pol_rsa, .keys = { ACT("a", RSA, -D(10)),
	    RTD("old", RSA, -D(90)) }, .sel = "old", .rc = DK_ENOTFOUND,
	  .want = "", .reason = "it is retired and no longer published" },
	{ .name = "already revoked", .pol = &pol_rsa,
	  .keys = { ACT("a", RSA, -D(10)), REV("v", RSA, -D(20), -D(1)) },
	  .sel = "v", .rc = DK_EEXISTS, .want = "",
	  .reason = "already revoked" },
};

static void
test_policy__revoke_table(void **state)
{
	char got[1024], waits[1024];
	const struct rcase *c;
	struct dk_domain_keys *dk;
	struct dk_plan plan = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(revoke_cases) / sizeof(revoke_cases[0]); i++) {
		c = &revoke_cases[i];
		dk = make_keys(c->keys);
		rc = dk_policy_revoke(dk, c->sel, c->pol, (time_t)T0, &plan);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc,
			    dk_error_last());
		if (rc != 0) {
			if (strstr(dk_error_last(), c->reason) == NULL)
				fail_msg("%s: error '%s'", c->name,
				    dk_error_last());
			dk_domain_keys_free(dk);
			continue;
		}
		render(&plan, got, sizeof(got), waits, sizeof(waits));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: plan '%s', want '%s'", c->name, got,
			    c->want);
		assert_string_equal(waits, "");
		if (c->reason != NULL && !some_reason(&plan, c->reason))
			fail_msg("%s: no reason says '%s'", c->name,
			    c->reason);
		check_applies(dk, &plan);
		dk_domain_keys_free(dk);
	}
	dk_plan_dispose(&plan);
}

static void
test_policy__apply_times(void **state)
{
	static const struct kspec ks[] = {
		ACT("a", RSA, -D(31)), PEND("p", RSA, -D(1)),
		RING("r", RSA, -D(60), -D(29)), { 0 }
	};
	struct dk_domain_keys *dk = make_keys(ks);
	struct dk_plan plan = { 0 };
	const struct dk_action *w;
	struct dk_keyinfo *k;

	assert_int_equal(dk_policy_plan(dk, &pol_rsa, false, (time_t)T0,
	    false, &plan), 0);
	assert_int_equal(dk_plan_apply(dk, &plan), 0);
	k = dk_domain_keys_find(dk, "a");
	assert_int_equal(k->state, DK_STATE_RETIRING);
	assert_int_equal(k->active_until, T0);
	assert_int_equal(k->active_from, T0 - D(30));
	k = dk_domain_keys_find(dk, "p");
	assert_int_equal(k->state, DK_STATE_ACTIVE);
	assert_int_equal(k->active_from, T0);
	k = dk_domain_keys_find(dk, "r");
	assert_int_equal(k->state, DK_STATE_RETIRED);
	assert_int_equal(k->retired, T0);
	assert_int_equal(k->active_until, T0 - D(29));

	/* status: the track's next key and the active key's hand-over */
	assert_int_equal(dk_policy_plan(dk, &pol_rsa, false, (time_t)T0,
	    false, &plan), 0);
	assert_false(dk_plan_has_changes(&plan));
	assert_non_null(w = dk_plan_find(&plan, DK_ACT_WAIT, RSA, ""));
	assert_int_equal(w->at, T0 + D(29));
	assert_non_null(w = dk_plan_find(&plan, DK_ACT_WAIT, RSA, "p"));
	assert_int_equal(w->to, DK_STATE_RETIRING);
	assert_int_equal(w->at, T0 + D(30));
	/*
	 * "a" passes min_age and drain at T0 + 4d, but with only "p"
	 * besides it keep_published holds it until the next key is out:
	 * no date that would not hold.
	 */
	assert_non_null(w = dk_plan_find(&plan, DK_ACT_WAIT, RSA, "a"));
	assert_int_equal(w->to, DK_STATE_RETIRED);
	assert_int_equal(w->at, 0);
	assert_string_equal(w->reason, "a waits: keep_published 2 rsa keys "
	    "stay published; it retires once another is published, not "
	    "before 2026-11-26T13:15:00Z");
	assert_null(dk_plan_find(&plan, DK_ACT_WAIT, ED, ""));

	assert_int_equal(dk_policy_plan(dk, &pol_rsa, false,
	    (time_t)(T0 + D(29)), false, &plan), 0);
	assert_int_equal(dk_plan_apply(dk, &plan), 0);
	k = dk_domain_keys_find(dk, "20261221131500");
	assert_non_null(k);
	assert_int_equal(k->state, DK_STATE_PENDING);
	assert_int_equal(k->created, T0 + D(29));
	assert_int_equal(k->published, T0 + D(29));
	assert_int_equal(k->bits, 2048);
	assert_int_equal(k->active_from, 0);
	dk_plan_dispose(&plan);
	dk_domain_keys_free(dk);
}

/*
 * Rule 4: a plan that retires the active key, activates a key that is
 * not pending or no longer fits the keys otherwise is refused whole.
 */
static void
test_policy__apply_refuses(void **state)
{
	static const struct kspec ks[] = {
		ACT("a", RSA, -D(31)), PEND("p", RSA, -D(1)),
		RTD("old", RSA, -D(90)), { 0 }
	};
	static const struct {
		enum dk_act	 type;
		const char	*sel;
		const char	*err;
	} bad[] = {
		{ DK_ACT_ACTIVATE, "old", "cannot activate key 'old' of "
		  "example.com: it is retired" },
		{ DK_ACT_RETIRE, "a", "cannot retire key 'a' of example.com: "
		  "it is active" },
		{ DK_ACT_ACTIVATE, "p", "cannot activate key 'p' of "
		  "example.com: 'a' is still active" },
		{ DK_ACT_GENERATE, "a", "the selector exists" },
		{ DK_ACT_GENERATE, "../x", "invalid selector" },
		{ DK_ACT_DEACTIVATE, "zz", "no such key" },
		{ DK_ACT_REVOKE, "old", "it is retired" },
	};
	struct dk_domain_keys *dk = make_keys(ks), *before;
	struct dk_plan plan = { 0 }, rev = { 0 };
	size_t i;

	assert_int_equal(dk_domain_keys_dup(dk, &before), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dk_plan_dispose(&plan);
		snprintf(plan.domain, sizeof(plan.domain), "example.com");
		plan.now = (time_t)T0;
		/* A valid first action, so that all-or-nothing shows. */
		assert_non_null(dk_plan_add(&plan, DK_ACT_GENERATE, RSA,
		    "fresh", "x"));
		assert_non_null(dk_plan_add(&plan, bad[i].type, RSA,
		    bad[i].sel, "x"));
		assert_int_equal(dk_plan_apply(dk, &plan), -1);
		if (strstr(dk_error_last(), bad[i].err) == NULL)
			fail_msg("case %zu: '%s'", i, dk_error_last());
		assert_int_equal(dk->n, before->n);
		assert_memory_equal(dk->keys, before->keys,
		    dk->n * sizeof(*dk->keys));
	}
	/* Stale: p was revoked since the plan was made. */
	assert_int_equal(dk_policy_plan(dk, &pol_rsa, false, (time_t)T0,
	    false, &plan), 0);
	assert_int_equal(dk_policy_revoke(dk, "p", &pol_rsa, (time_t)T0, &rev),
	    0);
	assert_int_equal(dk_plan_apply(dk, &rev), 0);
	assert_int_equal(dk_plan_apply(dk, &plan), -1);
	assert_non_null(strstr(dk_error_last(), "it is revoked"));
	/* Another domain's plan. */
	snprintf(plan.domain, sizeof(plan.domain), "example.org");
	assert_int_equal(dk_plan_apply(dk, &plan), -1);
	assert_non_null(strstr(dk_error_last(), "for example.org to "
	    "example.com"));
	dk_plan_dispose(&rev);
	dk_plan_dispose(&plan);
	dk_domain_keys_free(before);
	dk_domain_keys_free(dk);
}

struct sim {
	const struct dk_policy	*pol;
	bool			 dns_verify;
	long long		 dns_delay;	/* a record shows this late */
	long long		 days;
	int			 start_pct;	/* runs with --start, percent */
};

/* A fixed sequence (xorshift32): the same random --start runs each time. */
static unsigned
sim_random(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
sim_dns(struct dk_domain_keys *dk, const struct dk_plan *p, time_t now,
    long long delay)
{
	struct dk_keyinfo *k;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->actions[i].type != DK_ACT_NEED_DNS)
			continue;
		assert_non_null(k = dk_domain_keys_find(dk,
		    p->actions[i].selector));
		k->dns = now - k->published >= delay ? DK_DNS_OK :
		    DK_DNS_MISSING;
	}
}

/* What a retirement needs, checked on the keys before the plan applies. */
static void
sim_check_retires(const struct dk_domain_keys *dk, const struct dk_plan *p,
    const struct sim *s, int *gens, int *retired)
{
	const struct dk_keyinfo *k;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->actions[i].type == DK_ACT_GENERATE)
			gens[p->actions[i].alg]++;
		/*
		 * Staggered or not, a key signs at least min_age, unless
		 * the operator started a rotation early (rule 7).
		 */
		k = dk_domain_keys_find(dk, p->actions[i].selector);
		if (s->start_pct == 0 &&
		    p->actions[i].type == DK_ACT_DEACTIVATE &&
		    k->state == DK_STATE_ACTIVE)
			assert_true(p->now - k->active_from >= s->pol->min_age);
		if (p->actions[i].type != DK_ACT_RETIRE)
			continue;
		assert_int_equal(k->state, DK_STATE_RETIRING);
		assert_true(p->now - k->created >= s->pol->min_age);
		assert_true(p->now - k->active_until >= s->pol->drain);
		retired[k->alg]++;
	}
}

static void
sim_check_state(const struct dk_domain_keys *dk, const struct sim *s,
    time_t now, bool *full, bool *signing)
{
	const struct dk_keyinfo *k;
	int pub[DK_ALG_COUNT] = { 0 }, act[DK_ALG_COUNT] = { 0 };
	long long late;
	size_t i;
	int a;

	late = s->pol->publish_lead > s->dns_delay ? s->pol->publish_lead :
	    s->dns_delay;
	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		pub[k->alg] += dk_state_published(k->state);
		if (k->state != DK_STATE_ACTIVE)
			continue;
		act[k->alg]++;
		/* Never signs before its record had time to show. */
		assert_true(k->active_from - k->published >=
		    s->pol->publish_lead);
		if (s->dns_verify)
			assert_true(k->active_from - k->published >=
			    s->dns_delay);
		/* And is replaced in time: the rotation really happens. */
		assert_true(now - k->created <= s->pol->rotate_every + late +
		    2 * H(6));
	}
	for (a = 0; a < DK_ALG_COUNT; a++) {
		if (!(s->pol->algorithms & DK_ALG_BIT(a)))
			continue;
		if (pub[a] >= s->pol->keep_published)
			full[a] = true;
		if (full[a])
			assert_true(pub[a] >= s->pol->keep_published);
		if (act[a] > 0)
			signing[a] = true;
		if (signing[a])
			assert_int_equal(act[a], 1);
		/* Early rotations leave more keys draining at once. */
		if (s->start_pct == 0)
			assert_true(pub[a] <= s->pol->keep_published + 2);
	}
}

static int
sim_published(const struct dk_domain_keys *dk, int alg)
{
	size_t i;
	int n = 0;

	for (i = 0; i < dk->n; i++)
		n += dk->keys[i].alg == (enum dk_alg)alg &&
		    dk_state_published(dk->keys[i].state);
	return n;
}

/*
 * Rule 7, checked on the plan of a --start run: every configured track
 * ends it rotating, with a pending key or one this plan activated.
 */
static void
sim_check_started(const struct dk_domain_keys *dk, const struct dk_plan *p,
    const struct sim *s)
{
	const struct dk_keyinfo *k;
	bool rotating[DK_ALG_COUNT] = { 0 };
	size_t i;
	int a;

	for (i = 0; i < p->n; i++)
		if (p->actions[i].type == DK_ACT_GENERATE ||
		    p->actions[i].type == DK_ACT_ACTIVATE)
			rotating[p->actions[i].alg] = true;
	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		if (k->state == DK_STATE_PENDING)
			rotating[k->alg] = true;
	}
	for (a = 0; a < DK_ALG_COUNT; a++)
		if (s->pol->algorithms & DK_ALG_BIT(a))
			assert_true(rotating[a]);
}

static void
simulate(const struct sim *s)
{
	struct dk_domain_keys *dk;
	struct dk_plan plan = { 0 };
	struct dk_plan_opts o = { .dns_verify = s->dns_verify };
	bool full[DK_ALG_COUNT] = { 0 }, signing[DK_ALG_COUNT] = { 0 };
	int gens[DK_ALG_COUNT] = { 0 }, retired[DK_ALG_COUNT] = { 0 }, a;
	int starts = 0;
	unsigned seed = 2463534242u;
	time_t now;
	size_t i;

	assert_int_equal(dk_domain_keys_new("example.com", &dk), 0);
	for (now = (time_t)T0; now <= (time_t)(T0 + D(s->days)); now += H(6)) {
		o.start = (int)(sim_random(&seed) % 100) < s->start_pct;
		starts += o.start;
		assert_int_equal(dk_policy_plan_opts(dk, s->pol, &o, now,
		    &plan), 0);
		sim_dns(dk, &plan, now, s->dns_delay);
		assert_int_equal(dk_policy_plan_opts(dk, s->pol, &o, now,
		    &plan), 0);
		/* Rule 7: after --start a new key is pending or activated. */
		if (o.start)
			sim_check_started(dk, &plan, s);
		for (i = 0; i < plan.n; i++)
			assert_int_not_equal(plan.actions[i].type,
			    DK_ACT_NEED_DNS);
		sim_check_retires(dk, &plan, s, gens, retired);
		assert_int_equal(dk_plan_apply(dk, &plan), 0);
		/* DNS answers are not kept from one run to the next. */
		for (i = 0; i < dk->n; i++)
			dk->keys[i].dns = DK_DNS_UNCHECKED;
		sim_check_state(dk, s, now, full, signing);
	}
	for (a = 0; a < DK_ALG_COUNT; a++) {
		if (!(s->pol->algorithms & DK_ALG_BIT(a)))
			continue;
		assert_true(full[a] && signing[a]);
		assert_true(gens[a] >= s->days * 86400 / (s->pol->rotate_every +
		    s->dns_delay + H(12)));
		/* + 2: the first key may be rotated early (staggering). */
		assert_true(gens[a] <= s->days * 86400 / s->pol->rotate_every +
		    2 + starts);
		if (s->start_pct == 0)
			assert_true(retired[a] >= gens[a] -
			    s->pol->keep_published - 1);
		/* Every key made is retired or still published. */
		assert_int_equal(retired[a] + sim_published(dk, a), gens[a]);
	}
	dk_plan_dispose(&plan);
	dk_domain_keys_free(dk);
}

/*
 * The stagger offset: pinned values (it must not change between
 * releases or machines: it sets every domain's schedule), whole minutes,
 * in [0, rotate_every - min_age - publish_lead), spread evenly.
 */
static void
test_policy__stagger(void **state)
{
	static const struct dk_policy tiny = {
		DK_ALG_BIT(RSA), 2048, D(5), D(1), D(4), D(4), 2, 3600, false,
		false, false
	};
	static const struct dk_policy *pols[] = { &pol_rsa, &pol_week,
	    &pol_minage10, &pol_nolead };
	static const struct { const char *name; enum dk_alg alg;
	    const struct dk_policy *pol; long long want; } pinned[] = {
		{ "example.com", RSA, &pol_rsa, 1892880 },
		{ "example.com", ED, &pol_rsa, 6060 },
		{ "example.org", RSA, &pol_rsa, 976200 },
		{ "example.com", RSA, &pol_week, 78480 },
		{ "example.com", RSA, &tiny, 0 },
	};
	char name[64];
	int days[30] = { 0 }, i, j;
	long long off, span;
	size_t k;

	for (k = 0; k < sizeof(pinned) / sizeof(pinned[0]); k++)
		assert_int_equal(dk_policy_stagger(pinned[k].name,
		    pinned[k].alg, pinned[k].pol), pinned[k].want);
	for (k = 0; k < sizeof(pols) / sizeof(pols[0]); k++) {
		span = pols[k]->rotate_every - pols[k]->min_age -
		    pols[k]->publish_lead;
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof(name), "d%d.example", i);
			off = dk_policy_stagger(name, RSA, pols[k]);
			assert_true(off >= 0 && off < span);
			assert_int_equal(off % 60, 0);
			assert_int_equal(off, dk_policy_stagger(name, RSA,
			    pols[k]));
		}
	}
	/* 10,000 domains over the 25 days of pol_rsa: about 400 a day. */
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		days[dk_policy_stagger(name, RSA, &pol_rsa) / D(1)]++;
	}
	for (j = 0; j < 25; j++)
		assert_true(days[j] > 300 && days[j] < 500);
	for (; j < 30; j++)
		assert_int_equal(days[j], 0);
}

static void
test_policy__simulate(void **state)
{
	static const struct sim sims[] = {
		{ &pol_dual, true, H(30), 400, 0 },
		{ &pol_rsa, false, 0, 400, 0 },
		{ &pol_week, true, H(7), 400, 0 },
		{ &pol_keep3, false, 0, 400, 0 },
		/* Rule 7: rotate --start on a random tenth of the runs. */
		{ &pol_dual, true, H(30), 400, 10 },
		{ &pol_rsa, false, 0, 400, 10 },
		{ &pol_week, true, H(7), 400, 25 },
	};
	size_t i;

	for (i = 0; i < sizeof(sims) / sizeof(sims[0]); i++)
		simulate(&sims[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__plan_table),
		cmocka_unit_test(test_policy__revoke_table),
		cmocka_unit_test(test_policy__apply_times),
		cmocka_unit_test(test_policy__apply_refuses),
		cmocka_unit_test(test_policy__stagger),
		cmocka_unit_test(test_policy__simulate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
