/*
 * keys.yaml byte for byte (docs/design.md §3): the writer, deterministic so
 * that git diffs show only real changes, and the fast reader of what it
 * wrote, which falls back to rotator/store_yaml.c's parser for anything
 * else.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/yaml.h"
#include "keygen/key.h"
#include "rotator/store_format.h"
#include "rotator/store_yaml.h"

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
	if (!dk_store_selector_ok(v))
		return false;
	memcpy(k->selector, v, n);
	if (!take(c, "    algorithm: ", v, sizeof(v)) ||
	    dk_alg_parse(v, &k->alg) != 0 ||
	    !take(c, "    bits: ", v, sizeof(v)) || v[0] < '1' || v[0] > '9')
		return false;
	bits = strtol(v, &end, 10);
	if (*end != '\0' || !dk_store_bits_ok(k->alg, bits))
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
	    dk_store_missing_time(k) == NULL;
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
	    dk_name_domain_check(v) != 0 || !dk_store_lower_case(v) ||
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
	if (dk_store_conflict(dk, &i, &j) != 0 ||
	    dk_store_format(dk, &b) != 0 || b.len != len ||
	    memcmp(b.data, buf, len) != 0)
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

/*
 * A name or value whose bytes would not read back as itself is never
 * written (rotator/store_format.h).
 */
static int
check_key(const struct dk_domain_keys *dk, const struct dk_keyinfo *k)
{
	if (memchr(k->selector, '\0', sizeof(k->selector)) == NULL ||
	    !dk_store_selector_ok(k->selector) ||
	    (unsigned)k->alg >= DK_ALG_COUNT ||
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
	    !dk_store_lower_case(dk->domain)) {
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

