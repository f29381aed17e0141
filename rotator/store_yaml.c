/*
 * keys.yaml (docs/design.md §3): the document <-> struct dk_domain_keys.
 * Reading walks common/yaml.h's tree so every error names FILE:LINE:COL;
 * writing is deterministic so that git diffs show only real changes.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/yaml.h"
#include "keygen/key.h"
#include "rotator/store.h"

#define ED25519_BITS	256

static const char header[] =
    "# keys.yaml: written by dkimrot; the lifecycle of every key of this "
    "domain.\n"
    "# Times are RFC 3339 UTC; null: not (yet) happened.  Edit with care: "
    "this\n"
    "# file is the source of truth for the key files next to it.\n";

static const char retired_header[] =
    "# retired.yaml: written by dkimrot; the keys of this domain retired "
    "long ago,\n"
    "# moved out of keys.yaml so that it stays small (docs/design.md §3).  "
    "Times\n"
    "# are RFC 3339 UTC; null: not (yet) happened.\n";

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

/* Names become file names: "A" and "a" must never be two of them. */
static bool
lower_case(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return true;
}

static bool
selector_ok(const char *s)
{
	return strlen(s) <= DK_SELECTOR_MAX &&
	    dk_name_selector_check(s) == 0 && lower_case(s);
}

static bool
bits_ok(enum dk_alg alg, long v)
{
	if (alg == DK_ALG_RSA)
		return v >= DK_RSA_MIN_BITS && v <= DK_RSA_MAX_BITS;
	return v == ED25519_BITS;
}

/* The time a key's state cannot do without, if it lacks it, or NULL. */
static const char *
missing_time(const struct dk_keyinfo *k)
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
	if (!bits_ok(k->alg, v) && k->alg == DK_ALG_RSA)
		return bad(p, n, "bits: an RSA key has %d to %d bits, not %d",
		    DK_RSA_MIN_BITS, DK_RSA_MAX_BITS, v);
	if (!bits_ok(k->alg, v))
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
	if (!lower_case(n->scalar))
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
	if (missing_time(k) != NULL)
		return bad(p, n, "key '%s': state %s needs a time in '%s'",
		    k->selector, dk_state_name(k->state), missing_time(k));
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

/*
 * No selector twice, at most one active key per algorithm: 0, or 1 (a
 * duplicate) or 2 (a second active key) with the two keys' indexes, or
 * -1 when out of memory.  O(n log n) for long histories.
 */
static int
conflict(const struct dk_domain_keys *dk, size_t *first, size_t *second)
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

	switch (conflict(dk, &a, &b)) {
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
	if (!lower_case(d->scalar))
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

/*
 * The fast path.  libyaml takes ~70us for a small keys.yaml, too slow for
 * 10,000 domains a run; a file exactly as dk_store_format() writes it
 * (any file dkimrot wrote and nobody edited since) is read line by line
 * instead.  It is accepted only if the keys pass the same checks and
 * write back to the very same bytes, so it never reads anything another
 * way than the YAML parser would; anything else goes through the YAML
 * parser, which also words the errors.
 */
struct cursor {
	const char	*p;
	const char	*end;
};

/* The rest of the next line when it starts with prefix. */
static bool
take(struct cursor *c, const char *prefix, char *val, size_t size)
{
	size_t plen = strlen(prefix), n;
	const char *nl;

	if ((size_t)(c->end - c->p) < plen || memcmp(c->p, prefix, plen) != 0)
		return false;
	nl = memchr(c->p + plen, '\n', (size_t)(c->end - c->p) - plen);
	if (nl == NULL || (n = (size_t)(nl - c->p) - plen) >= size)
		return false;
	memcpy(val, c->p + plen, n);
	val[n] = '\0';
	c->p = nl + 1;
	return true;
}

static bool
take_time(struct cursor *c, const char *prefix, time_t *t)
{
	char v[DK_TIME_LEN + 1];

	*t = 0;
	if (!take(c, prefix, v, sizeof(v)))
		return false;
	if (strcmp(v, "null") == 0)
		return true;
	return v[0] != '@' && dk_time_parse(v, t) == 0 && *t > 0;
}

static bool
fast_key(struct cursor *c, struct dk_keyinfo *k)
{
	char v[DK_SELECTOR_MAX + 3], *end;
	size_t n;
	long bits;

	memset(k, 0, sizeof(*k));
	if (!take(c, "  - selector: \"", v, sizeof(v)) ||
	    (n = strlen(v)) < 2 || v[n - 1] != '"')
		return false;
	v[n - 1] = '\0';
	if (!selector_ok(v))
		return false;
	memcpy(k->selector, v, n);
	if (!take(c, "    algorithm: ", v, sizeof(v)) ||
	    dk_alg_parse(v, &k->alg) != 0 ||
	    !take(c, "    bits: ", v, sizeof(v)) || v[0] < '1' || v[0] > '9')
		return false;
	bits = strtol(v, &end, 10);
	if (*end != '\0' || !bits_ok(k->alg, bits))
		return false;
	k->bits = (int)bits;
	return take(c, "    state: ", v, sizeof(v)) &&
	    dk_state_parse(v, &k->state) == 0 &&
	    take_time(c, "    created: ", &k->created) &&
	    take_time(c, "    published: ", &k->published) &&
	    take_time(c, "    active_from: ", &k->active_from) &&
	    take_time(c, "    active_until: ", &k->active_until) &&
	    take_time(c, "    retired: ", &k->retired) &&
	    take_time(c, "    revoked: ", &k->revoked) &&
	    missing_time(k) == NULL;
}

/* 0 and *out when the fast path read it, -1 to use the YAML parser. */
static int
fast_parse(const char *buf, size_t len, const char *domain,
    struct dk_domain_keys **out)
{
	struct cursor c = { buf, buf + len };
	struct dk_domain_keys *dk = NULL;
	struct dk_buf b = { 0 };
	struct dk_keyinfo k;
	char v[DK_DOMAIN_MAX + 2];
	const char *nl;
	size_t i, j;
	int rc = -1;

	while (c.p < c.end && *c.p == '#' &&
	    (nl = memchr(c.p, '\n', (size_t)(c.end - c.p))) != NULL)
		c.p = nl + 1;
	if (!take(&c, "domain: ", v, sizeof(v)) ||
	    dk_name_domain_check(v) != 0 || !lower_case(v) ||
	    (domain != NULL && strcmp(v, domain) != 0) ||
	    dk_domain_keys_new(v, &dk) != 0)
		return -1;
	if (c.p < c.end && *c.p == 'l' &&
	    !take_time(&c, "leaving: ", &dk->leaving))
		goto done;
	if (!take(&c, "keys: ", v, sizeof(v)) &&
	    !take(&c, "keys:", v, sizeof(v)))
		goto done;
	while (c.p < c.end)
		if (!fast_key(&c, &k) || dk_domain_keys_add(dk, &k) != 0)
			goto done;
	if (conflict(dk, &i, &j) != 0 || dk_store_format(dk, &b) != 0 ||
	    b.len != len || memcmp(b.data, buf, len) != 0)
		goto done;
	*out = dk;
	dk = NULL;
	rc = 0;
done:
	dk_buf_dispose(&b);
	dk_domain_keys_free(dk);
	return rc;
}

int
dk_store_parse(const char *buf, size_t len, const char *file,
    const char *domain, struct dk_domain_keys **out)
{
	if (fast_parse(buf, len, domain, out) == 0)
		return 0;
	return dk_store_parse_yaml(buf, len, file, domain, out);
}

/* Chronological: the file reads as the domain's history. */
static int
by_creation(const void *a, const void *b)
{
	const struct dk_keyinfo *x = *(const struct dk_keyinfo *const *)a;
	const struct dk_keyinfo *y = *(const struct dk_keyinfo *const *)b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->selector, y->selector);
}

/* "    NAME: TIME\n"; one line in one append (a plan writes six a key). */
static int
emit_time(struct dk_buf *b, const char *name, time_t t)
{
	char line[4 + 16 + 2 + DK_TIME_LEN + 1];
	size_t n = strlen(name), len;

	if (n > 16) {	/* the names are this file's own */
		dk_error_set("cannot write keys.yaml: field '%s'", name);
		return -1;
	}
	memcpy(line, "    ", 4);
	memcpy(line + 4, name, n);
	memcpy(line + 4 + n, ": ", 2);
	len = 6 + n;
	if (t == 0) {
		memcpy(line + len, "null", 4);
		len += 4;
	} else {
		dk_time_format(t, line + len);
		len += DK_TIME_LEN - 1;
	}
	line[len++] = '\n';
	return dk_buf_append(b, line, len);
}

static int
emit_key(struct dk_buf *b, const struct dk_keyinfo *k)
{
	char bits[16];

	/*
	 * The selector always quoted: a YAML 1.1 reader would take
	 * 20261122131500 for a number.  Appends, not a printf: a plan
	 * writes back every key it reads (fast_parse).
	 */
	snprintf(bits, sizeof(bits), "%d", k->bits);
	if (dk_buf_puts(b, "  - selector: \"") != 0 ||
	    dk_buf_puts(b, k->selector) != 0 ||
	    dk_buf_puts(b, "\"\n    algorithm: ") != 0 ||
	    dk_buf_puts(b, dk_alg_name(k->alg)) != 0 ||
	    dk_buf_puts(b, "\n    bits: ") != 0 ||
	    dk_buf_puts(b, bits) != 0 ||
	    dk_buf_puts(b, "\n    state: ") != 0 ||
	    dk_buf_puts(b, dk_state_name(k->state)) != 0 ||
	    dk_buf_puts(b, "\n") != 0 ||
	    emit_time(b, "created", k->created) != 0 ||
	    emit_time(b, "published", k->published) != 0 ||
	    emit_time(b, "active_from", k->active_from) != 0 ||
	    emit_time(b, "active_until", k->active_until) != 0 ||
	    emit_time(b, "retired", k->retired) != 0 ||
	    emit_time(b, "revoked", k->revoked) != 0)
		return -1;
	return 0;
}

/* What parse would refuse is never written. */
static int
check_key(const struct dk_domain_keys *dk, const struct dk_keyinfo *k)
{
	if (memchr(k->selector, '\0', sizeof(k->selector)) == NULL ||
	    dk_name_selector_check(k->selector) != 0 ||
	    !lower_case(k->selector) || (unsigned)k->alg >= DK_ALG_COUNT ||
	    (unsigned)k->state >= DK_STATE_COUNT || k->created <= 0) {
		dk_error_set("cannot write keys.yaml of %s: invalid key '%.*s'",
		    dk->domain, DK_SELECTOR_MAX, k->selector);
		return DK_EUSAGE;
	}
	return 0;
}

static int
format(const struct dk_domain_keys *dk, const char *hdr, struct dk_buf *b)
{
	const struct dk_keyinfo **ks = NULL;
	char t[DK_TIME_LEN];
	size_t i;
	int rc = -1;

	if (dk_name_domain_check(dk->domain) != 0 ||
	    !lower_case(dk->domain)) {
		dk_error_set("cannot write keys.yaml: invalid domain '%s'",
		    dk->domain);
		return DK_EUSAGE;
	}
	if (dk->n > 0 && (ks = malloc(dk->n * sizeof(*ks))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < dk->n; i++) {
		if ((rc = check_key(dk, &dk->keys[i])) != 0)
			goto done;
		ks[i] = &dk->keys[i];
	}
	rc = -1;
	if (dk->n > 0)
		qsort(ks, dk->n, sizeof(*ks), by_creation);
	if (dk_buf_puts(b, hdr) != 0 || dk_buf_puts(b, "domain: ") != 0 ||
	    dk_yaml_emit_scalar(b, dk->domain) != 0 ||
	    dk_buf_puts(b, "\n") != 0)
		goto done;
	if (dk->leaving != 0) {
		dk_time_format(dk->leaving, t);
		if (dk_buf_printf(b, "leaving: %s\n", t) != 0)
			goto done;
	}
	if (dk_buf_puts(b, dk->n > 0 ? "keys:\n" : "keys: []\n") != 0)
		goto done;
	for (i = 0; i < dk->n; i++)
		if (emit_key(b, ks[i]) != 0)
			goto done;
	rc = 0;
done:
	free(ks);
	return rc;
}

int
dk_store_format(const struct dk_domain_keys *dk, struct dk_buf *b)
{
	return format(dk, header, b);
}

const struct dk_keyinfo *
dk_store_not_retired(const struct dk_domain_keys *dk)
{
	size_t i;

	for (i = 0; i < dk->n; i++)
		if (dk->keys[i].state != DK_STATE_RETIRED)
			return &dk->keys[i];
	return NULL;
}

int
dk_store_format_retired(const struct dk_domain_keys *dk, struct dk_buf *b)
{
	const struct dk_keyinfo *k;

	if ((k = dk_store_not_retired(dk)) != NULL) {
		dk_error_set("cannot write retired.yaml of %s: key '%s' is %s",
		    dk->domain, k->selector, dk_state_name(k->state));
		return DK_EUSAGE;
	}
	return format(dk, retired_header, b);
}
