/*
 * The lifecycle policy of dkimrot.yaml: the defaults block and the
 * domains, each domain the defaults plus its overrides.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/name.h"
#include "common/yaml.h"

#define POLICY_KEYS	"algorithms, rsa_bits, rotate_every, publish_lead, " \
			"min_age, drain, keep_published, ttl, restrict, " \
			"testmode, subdomains"

/* Where one block set the two durations that must agree. */
struct lead {
	const struct dk_ynode	*rotate_every;
	const struct dk_ynode	*publish_lead;
};

static int
algorithms(const struct dk_cfgctx *c, const struct dk_ynode *n, unsigned *out)
{
	int seen[DK_ALG_COUNT] = { 0 };
	const struct dk_ynode *it;
	unsigned set = 0;
	char v[DK_CFG_SHOWN + 4];
	enum dk_alg a;
	size_t i;

	if (n->type != DK_Y_SEQ)
		return dk_cfg_wrong_type(c, "algorithms", n,
		    "a sequence such as [rsa] or [rsa, ed25519]");
	if (n->n == 0)
		return dk_cfg_fail(c, n, "algorithms must name at least one "
		    "algorithm (rsa, ed25519)");
	for (i = 0; i < n->n; i++) {
		it = n->items[i];
		if (dk_cfg_scalar(c, "algorithms", it, "rsa or ed25519") != 0)
			return DK_EUSAGE;
		if (dk_alg_parse(it->scalar, &a) != 0)
			return dk_cfg_fail(c, it, "unknown algorithm '%s' "
			    "(expected rsa or ed25519)",
			    dk_cfg_shown(it->scalar, v));
		if (seen[a])
			return dk_cfg_fail(c, it, "duplicate algorithm '%s' in "
			    "algorithms (first at line %d)", dk_alg_name(a),
			    seen[a]);
		seen[a] = it->line;
		set |= DK_ALG_BIT(a);
	}
	*out = set;
	return 0;
}

/* One key of a policy block: 0 done, 1 not a policy key, else an error. */
static int
policy_key(const struct dk_cfgctx *c, const char *k, const struct dk_ynode *v,
    struct dk_policy *p, struct lead *l)
{
	long long x;
	int rc;

	if (strcmp(k, "algorithms") == 0)
		return algorithms(c, v, &p->algorithms);
	if (strcmp(k, "restrict") == 0)
		return dk_cfg_boolean(c, k, v, &p->restrict_email);
	if (strcmp(k, "testmode") == 0)
		return dk_cfg_boolean(c, k, v, &p->testmode);
	if (strcmp(k, "subdomains") == 0)
		return dk_cfg_boolean(c, k, v, &p->subdomains);
	if (strcmp(k, "rotate_every") == 0) {
		l->rotate_every = v;
		return dk_cfg_duration(c, k, v, true, &p->rotate_every);
	}
	if (strcmp(k, "publish_lead") == 0) {
		l->publish_lead = v;
		return dk_cfg_duration(c, k, v, false, &p->publish_lead);
	}
	if (strcmp(k, "min_age") == 0)
		return dk_cfg_duration(c, k, v, false, &p->min_age);
	if (strcmp(k, "drain") == 0)
		return dk_cfg_duration(c, k, v, false, &p->drain);
	if (strcmp(k, "rsa_bits") == 0) {
		if ((rc = dk_cfg_integer(c, k, v, DK_RSA_MIN_BITS,
		    DK_RSA_MAX_BITS, &x)) == 0)
			p->rsa_bits = (int)x;
		return rc;
	}
	if (strcmp(k, "keep_published") == 0) {
		if ((rc = dk_cfg_integer(c, k, v, 1, 100, &x)) == 0)
			p->keep_published = (int)x;
		return rc;
	}
	if (strcmp(k, "ttl") == 0) {
		/* RFC 2181 8: a TTL is at most 2^31 - 1. */
		if ((rc = dk_cfg_integer(c, k, v, 1, 2147483647LL, &x)) == 0)
			p->ttl = (unsigned)x;
		return rc;
	}
	return 1;
}

/*
 * A key must be published before it signs and a new one is made every
 * rotate_every: a lead as long as the period would never let one sign.
 */
static int
policy_check(const struct dk_cfgctx *c, const struct dk_policy *p,
    const struct dk_ynode *block, const struct lead *l)
{
	const struct dk_ynode *at;
	char lead[24], every[24];

	if (p->publish_lead < p->rotate_every)
		return 0;
	dk_config_duration_text(p->publish_lead, lead, sizeof(lead));
	dk_config_duration_text(p->rotate_every, every, sizeof(every));
	if ((at = l->publish_lead) == NULL &&
	    (at = l->rotate_every) == NULL)
		at = block;
	return dk_cfg_fail(c, at, "publish_lead (%s) must be shorter than "
	    "rotate_every (%s)", lead, every);
}

int
dk_cfg_defaults(const struct dk_cfgctx *c, const struct dk_ynode *map)
{
	struct lead l = { NULL, NULL };
	size_t i;
	int rc;

	if (dk_yaml_is_null(map))
		return 0;
	if (map->type != DK_Y_MAP)
		return dk_cfg_wrong_type(c, "defaults", map, "a mapping");
	for (i = 0; i < map->n; i++) {
		rc = policy_key(c, map->keys[i]->scalar, map->items[i],
		    &c->cfg->defaults, &l);
		if (rc == 1)
			return dk_cfg_unknown(c, map->keys[i], "in defaults",
			    POLICY_KEYS);
		if (rc != 0)
			return rc;
	}
	return policy_check(c, &c->cfg->defaults, map, &l);
}

static int
parse_domain(const struct dk_cfgctx *c, const struct dk_ynode *map,
    struct dk_domain_conf *d, const struct dk_ynode **namenode)
{
	struct lead l = { NULL, NULL };
	const struct dk_ynode *name;
	char where[DK_DOMAIN_MAX + 20];
	size_t i;
	int rc;

	if (map->type != DK_Y_MAP)
		return dk_cfg_wrong_type(c, "domain entry", map,
		    "a mapping (- name: example.com)");
	if ((name = dk_yaml_get(map, "name")) == NULL)
		return dk_cfg_fail(c, map, "domain entry has no name (expected "
		    "name: DOMAIN)");
	if (dk_cfg_scalar(c, "name", name, "a domain name") != 0)
		return DK_EUSAGE;
	if ((d->name = strdup(name->scalar)) == NULL)
		return dk_cfg_oom();
	if (dk_name_domain(d->name) != 0)
		return dk_cfg_fail(c, name, "%s", dk_error_last());
	d->line = name->line;
	d->policy = c->cfg->defaults;
	*namenode = name;
	snprintf(where, sizeof(where), "in domain '%s'", d->name);
	for (i = 0; i < map->n; i++) {
		if (map->items[i] == name)
			continue;
		rc = policy_key(c, map->keys[i]->scalar, map->items[i],
		    &d->policy, &l);
		if (rc == 1)
			return dk_cfg_unknown(c, map->keys[i], where,
			    "name, " POLICY_KEYS);
		if (rc != 0)
			return rc;
	}
	return policy_check(c, &d->policy, map, &l);
}

static int
byname_cmp(const void *a, const void *b)
{
	const struct dk_domain_conf *x = *(const struct dk_domain_conf *
	    const *)a;
	const struct dk_domain_conf *y = *(const struct dk_domain_conf *
	    const *)b;
	int r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	/* File order among equals: the first of a name leads its group. */
	return x < y ? -1 : x > y;
}

/*
 * Sorts the domains by name for dk_config_domain() and finds duplicates
 * in O(n log n): 10,000 domains must load in a blink.
 */
static int
index_domains(const struct dk_cfgctx *c, const struct dk_ynode **names)
{
	struct dk_config *cfg = c->cfg;
	size_t i, first = 0, dup = SIZE_MAX, dupfirst = 0;

	if ((cfg->byname = calloc(cfg->ndomains, sizeof(*cfg->byname))) ==
	    NULL)
		return dk_cfg_oom();
	for (i = 0; i < cfg->ndomains; i++)
		cfg->byname[i] = &cfg->domains[i];
	qsort(cfg->byname, cfg->ndomains, sizeof(*cfg->byname), byname_cmp);
	for (i = 1; i < cfg->ndomains; i++) {
		if (strcmp(cfg->byname[i]->name,
		    cfg->byname[first]->name) != 0) {
			first = i;
			continue;
		}
		/* Report the repetition that comes first in the file. */
		if (dup == SIZE_MAX || cfg->byname[i] < cfg->byname[dup]) {
			dup = i;
			dupfirst = first;
		}
	}
	if (dup == SIZE_MAX)
		return 0;
	return dk_cfg_fail(c, names[cfg->byname[dup] - cfg->domains],
	    "duplicate domain '%s' (first at line %d)", cfg->byname[dup]->name,
	    cfg->byname[dupfirst]->line);
}

int
dk_cfg_domains(const struct dk_cfgctx *c, const struct dk_ynode *seq)
{
	struct dk_config *cfg = c->cfg;
	const struct dk_ynode **names = NULL;
	size_t i;
	int rc = -1;

	if (dk_yaml_is_null(seq))
		return 0;
	if (seq->type != DK_Y_SEQ)
		return dk_cfg_wrong_type(c, "domains", seq,
		    "a sequence of domains (- name: example.com)");
	if (seq->n == 0)
		return 0;
	if ((cfg->domains = calloc(seq->n, sizeof(*cfg->domains))) == NULL ||
	    (names = calloc(seq->n, sizeof(*names))) == NULL) {
		rc = dk_cfg_oom();
		goto done;
	}
	for (i = 0; i < seq->n; i++) {
		/* Counted first: dk_config_free() frees what was begun. */
		cfg->ndomains = i + 1;
		if ((rc = parse_domain(c, seq->items[i], &cfg->domains[i],
		    &names[i])) != 0)
			goto done;
	}
	rc = index_domains(c, names);
done:
	free(names);
	return rc;
}
