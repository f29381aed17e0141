/*
 * keys.yaml (docs/design.md §3) read through common/yaml.h's tree, so that
 * every error names FILE:LINE:COL, and the rules (rotator/store_yaml.h)
 * that every keys.yaml obeys.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dktime.h"
#include "common/error.h"
#include "common/yaml.h"
#include "keygen/key.h"
#include "rotator/store_yaml.h"

#define ED25519_BITS	256

static const char *fields[] = { "selector", "algorithm", "bits", "state",
    "created", "published", "active_from", "active_until", "retired",
    "revoked" };

struct parser {
	const char	*file;
};

static int __attribute__((format(printf, 3, 4)))
bad(const struct parser *p, const struct dk_ynode *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dk_error_set("%s:%d:%d: %s", p->file, n->line, n->col, msg);
	return DK_EUSAGE;
}

bool
dk_store_lower_case(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return true;
}

bool
dk_store_selector_ok(const char *s)
{
	return strlen(s) <= DK_SELECTOR_MAX &&
	    dk_name_selector_check(s) == 0 && dk_store_lower_case(s);
}

bool
dk_store_bits_ok(enum dk_alg alg, long v)
{
	if (alg == DK_ALG_RSA)
		return v >= DK_RSA_MIN_BITS && v <= DK_RSA_MAX_BITS;
	return v == ED25519_BITS;
}

const char *
dk_store_missing_time(const struct dk_keyinfo *k)
{
	if (k->created == 0)
		return "created";
	if (dk_state_published(k->state) && k->published == 0)
		return "published";
	if (k->state == DK_STATE_ACTIVE && k->active_from == 0)
		return "active_from";
	if (k->state == DK_STATE_RETIRING && k->active_until == 0)
		return "active_until";
	if (k->state == DK_STATE_RETIRED && k->retired == 0)
		return "retired";
	if (k->state == DK_STATE_REVOKED && k->revoked == 0)
		return "revoked";
	return NULL;
}

static int
want_scalar(const struct parser *p, const struct dk_ynode *n,
    const char *what)
{
	if (n->type != DK_Y_SCALAR)
		return bad(p, n, "%s must be a scalar, not %s", what,
		    dk_yaml_type_name(n));
	return 0;
}

static int
get_time(const struct parser *p, const struct dk_ynode *n, const char *what,
    time_t *out)
{
	*out = 0;
	if (n == NULL || dk_yaml_is_null(n))
		return 0;
	if (want_scalar(p, n, what) != 0)
		return DK_EUSAGE;
	/* RFC 3339 only: "@EPOCH" is for the command line. */
	if (n->scalar[0] == '@' || dk_time_parse(n->scalar, out) != 0)
		return bad(p, n, "%s: invalid time '%.64s': expected RFC 3339 "
		    "UTC (2026-11-22T13:15:00Z) or null", what, n->scalar);
	if (*out <= 0)
		return bad(p, n, "%s: time '%.64s' is not after 1970", what,
		    n->scalar);
	return 0;
}

static int
get_bits(const struct parser *p, const struct dk_ynode *n,
    struct dk_keyinfo *k)
{
	const char *s;
	int v = 0;

	if (want_scalar(p, n, "bits") != 0)
		return DK_EUSAGE;
	for (s = n->scalar; *s >= '0' && *s <= '9' && v < 100000; s++)
		v = v * 10 + (*s - '0');
	if (!n->plain || s == n->scalar || *s != '\0')
		return bad(p, n, "bits: expected a number, not '%.64s'",
		    n->scalar);
	if (!dk_store_bits_ok(k->alg, v) && k->alg == DK_ALG_RSA)
		return bad(p, n, "bits: an RSA key has %d to %d bits, not %d",
		    DK_RSA_MIN_BITS, DK_RSA_MAX_BITS, v);
	if (!dk_store_bits_ok(k->alg, v))
		return bad(p, n, "bits: an Ed25519 key has %d bits, not %d",
		    ED25519_BITS, v);
	k->bits = v;
	return 0;
}

static int
get_selector(const struct parser *p, const struct dk_ynode *n,
    struct dk_keyinfo *k)
{
	size_t len;

	if (want_scalar(p, n, "selector") != 0)
		return DK_EUSAGE;
	len = strlen(n->scalar);
	if (len > DK_SELECTOR_MAX || dk_name_selector_check(n->scalar) != 0)
		return bad(p, n, "invalid selector '%.64s'", n->scalar);
	if (!dk_store_lower_case(n->scalar))
		return bad(p, n, "selector '%s' must be lower case", n->scalar);
	memcpy(k->selector, n->scalar, len + 1);
	return 0;
}


static int
parse_key(const struct parser *p, const struct dk_ynode *n,
    struct dk_keyinfo *k)
{
	const struct dk_ynode *v;
	size_t i, j;

	memset(k, 0, sizeof(*k));
	if (n->type != DK_Y_MAP)
		return bad(p, n, "a key must be a mapping, not %s",
		    dk_yaml_type_name(n));
	for (i = 0; i < n->n; i++) {
		for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
			if (strcmp(n->keys[i]->scalar, fields[j]) == 0)
				break;
		if (j == sizeof(fields) / sizeof(fields[0]))
			return bad(p, n->keys[i], "unknown field '%.64s'",
			    n->keys[i]->scalar);
	}
	for (j = 0; j < 4; j++)
		if (dk_yaml_get(n, fields[j]) == NULL)
			return bad(p, n, "a key needs '%s'", fields[j]);
	if (get_selector(p, dk_yaml_get(n, "selector"), k) != 0)
		return DK_EUSAGE;
	v = dk_yaml_get(n, "algorithm");
	if (want_scalar(p, v, "algorithm") != 0)
		return DK_EUSAGE;
	if (dk_alg_parse(v->scalar, &k->alg) != 0)
		return bad(p, v, "%s", dk_error_last());
	if (get_bits(p, dk_yaml_get(n, "bits"), k) != 0)
		return DK_EUSAGE;
	v = dk_yaml_get(n, "state");
	if (want_scalar(p, v, "state") != 0)
		return DK_EUSAGE;
	if (dk_state_parse(v->scalar, &k->state) != 0)
		return bad(p, v, "%s", dk_error_last());
	if (get_time(p, dk_yaml_get(n, "created"), "created",
	    &k->created) != 0 ||
	    get_time(p, dk_yaml_get(n, "published"), "published",
	    &k->published) != 0 ||
	    get_time(p, dk_yaml_get(n, "active_from"), "active_from",
	    &k->active_from) != 0 ||
	    get_time(p, dk_yaml_get(n, "active_until"), "active_until",
	    &k->active_until) != 0 ||
	    get_time(p, dk_yaml_get(n, "retired"), "retired",
	    &k->retired) != 0 ||
	    get_time(p, dk_yaml_get(n, "revoked"), "revoked",
	    &k->revoked) != 0)
		return DK_EUSAGE;
	if (dk_store_missing_time(k) != NULL)
		return bad(p, n, "key '%s': state %s needs a time in '%s'",
		    k->selector, dk_state_name(k->state),
		    dk_store_missing_time(k));
	return 0;
}

static int
by_selector(const void *a, const void *b)
{
	const struct dk_keyinfo *x = *(const struct dk_keyinfo *const *)a;
	const struct dk_keyinfo *y = *(const struct dk_keyinfo *const *)b;
	int c;

	if ((c = strcmp(x->selector, y->selector)) != 0)
		return c;
	return x < y ? -1 : x > y;
}

int
dk_store_conflict(const struct dk_domain_keys *dk, size_t *first,
    size_t *second)
{
	const struct dk_keyinfo **ks;
	long act[DK_ALG_COUNT] = { -1, -1 };
	size_t i;
	int rc = 0;

	for (i = 0; i < dk->n; i++) {
		if (dk->keys[i].state != DK_STATE_ACTIVE)
			continue;
		if (act[dk->keys[i].alg] >= 0) {
			*first = (size_t)act[dk->keys[i].alg];
			*second = i;
			return 2;
		}
		act[dk->keys[i].alg] = (long)i;
	}
	if (dk->n < 2)
		return 0;
	if ((ks = malloc(dk->n * sizeof(*ks))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < dk->n; i++)
		ks[i] = &dk->keys[i];
	qsort(ks, dk->n, sizeof(*ks), by_selector);
	for (i = 1; i < dk->n; i++) {
		if (strcmp(ks[i - 1]->selector, ks[i]->selector) == 0) {
			*first = (size_t)(ks[i - 1] - dk->keys);
			*second = (size_t)(ks[i] - dk->keys);
			rc = 1;
			break;
		}
	}
	free(ks);
	return rc;
}

static int
check_keys(const struct parser *p, const struct dk_ynode *seq,
    const struct dk_domain_keys *dk)
{
	size_t a, b;

	switch (dk_store_conflict(dk, &a, &b)) {
	case 0:
		return 0;
	case 1:
		return bad(p, seq->items[b], "duplicate selector '%s' (first "
		    "at line %d)", dk->keys[b].selector, seq->items[a]->line);
	case 2:
		return bad(p, seq->items[b], "key '%s': a second active %s key "
		    "(the first is '%s', line %d)", dk->keys[b].selector,
		    dk_alg_name(dk->keys[b].alg), dk->keys[a].selector,
		    seq->items[a]->line);
	default:
		return -1;
	}
}

static int
parse_root(const struct parser *p, const struct dk_ynode *root,
    const char *domain, struct dk_domain_keys *dk)
{
	const struct dk_ynode *d, *seq;
	struct dk_keyinfo k;
	size_t i;
	int rc;

	for (i = 0; i < root->n; i++)
		if (strcmp(root->keys[i]->scalar, "domain") != 0 &&
		    strcmp(root->keys[i]->scalar, "leaving") != 0 &&
		    strcmp(root->keys[i]->scalar, "keys") != 0)
			return bad(p, root->keys[i], "unknown field '%.64s': "
			    "expected domain, leaving and keys",
			    root->keys[i]->scalar);
	if ((d = dk_yaml_get(root, "domain")) == NULL)
		return bad(p, root, "missing 'domain'");
	if (want_scalar(p, d, "domain") != 0)
		return DK_EUSAGE;
	if (strlen(d->scalar) > DK_DOMAIN_MAX ||
	    dk_name_domain_check(d->scalar) != 0)
		return bad(p, d, "invalid domain '%.64s'", d->scalar);
	if (!dk_store_lower_case(d->scalar))
		return bad(p, d, "domain '%s' must be lower case", d->scalar);
	if (domain != NULL && strcmp(d->scalar, domain) != 0)
		return bad(p, d, "domain '%s' does not match its directory "
		    "'%s'", d->scalar, domain);
	memcpy(dk->domain, d->scalar, strlen(d->scalar) + 1);
	/* Rule 8 of rotator/policy.h: absent or null, not leaving. */
	if ((rc = get_time(p, dk_yaml_get(root, "leaving"), "leaving",
	    &dk->leaving)) != 0)
		return rc;
	if ((seq = dk_yaml_get(root, "keys")) == NULL)
		return bad(p, root, "missing 'keys'");
	if (dk_yaml_is_null(seq))
		return 0;
	if (seq->type != DK_Y_SEQ)
		return bad(p, seq, "keys must be a sequence, not %s",
		    dk_yaml_type_name(seq));
	for (i = 0; i < seq->n; i++) {
		if ((rc = parse_key(p, seq->items[i], &k)) != 0)
			return rc;
		if (dk_domain_keys_add(dk, &k) != 0)
			return -1;
	}
	return check_keys(p, seq, dk);
}

int
dk_store_parse_yaml(const char *buf, size_t len, const char *file,
    const char *domain, struct dk_domain_keys **out)
{
	struct parser p = { file };
	struct dk_domain_keys *dk = NULL;
	struct dk_ynode *root = NULL;
	int rc;

	*out = NULL;
	if ((rc = dk_yaml_parse(buf, len, file, &root)) != 0)
		return rc;
	rc = DK_EUSAGE;
	/* An empty keys.yaml is a truncated one: never "no keys". */
	if (root == NULL) {
		dk_error_set("%s:1:1: empty document: expected domain and "
		    "keys", file);
		goto done;
	}
	if (root->type != DK_Y_MAP) {
		bad(&p, root, "expected a mapping with domain and keys, not %s",
		    dk_yaml_type_name(root));
		goto done;
	}
	if (dk_domain_keys_new("", &dk) != 0) {
		rc = -1;
		goto done;
	}
	if ((rc = parse_root(&p, root, domain, dk)) != 0)
		goto done;
	*out = dk;
	dk = NULL;
done:
	dk_domain_keys_free(dk);
	dk_yaml_free(root);
	return rc;
}

