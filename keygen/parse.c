/*
 * Reading key records back: the RFC 6376 3.2 tag=value list of a DKIM key
 * record (3.6.1), and whether a record publishes a given key.  Input comes
 * from DNS, so everything is checked and nothing is trusted.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "keygen/key.h"
#include "keygen/ossl.h"

/* Longest tag name or value quoted back in a message. */
#define SHOW	40

struct tag {
	const char	*name;
	size_t		 len;
};

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
dk_b64_decode(const char *in, size_t len, unsigned char **out,
    size_t *outlen)
{
	size_t i, j = 0, pad = 0, k;
	unsigned char *buf;
	uint32_t v;
	int d;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0)
		return -1;
	if (len > 0 && in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return -1;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			/* '=' only in the last one or two places. */
			if (i + k >= len - pad)
				d = 0;
			else if ((d = b64val((unsigned char)in[i + k])) < 0)
				goto bad;
			v = v << 6 | (uint32_t)d;
		}
		buf[j++] = (unsigned char)(v >> 16);
		if (i + 4 < len || pad < 2)
			buf[j++] = (unsigned char)(v >> 8);
		if (i + 4 < len || pad < 1)
			buf[j++] = (unsigned char)v;
	}
	*out = buf;
	*outlen = j;
	return 0;
bad:
	free(buf);
	return -1;
}

static bool
is_ws(unsigned char c)
{
	/* WSP, and the CR LF of folding (RFC 6376 2.8 FWS). */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnumpunc(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/* RFC 6376 3.2 VALCHAR: %x21-3A / %x3C-7E. */
static bool
is_valchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

static int
tagcmp(const void *a, const void *b)
{
	const struct tag *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if ((c = memcmp(x->name, y->name, n)) != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/*
 * The message fmt with (at most SHOW bytes of) the input quoted in it;
 * bytes that are not printable ASCII show as '?', since they came from
 * DNS and go to a terminal.
 */
static int
bad(const char *fmt, const char *s, size_t n)
{
	char show[SHOW + 4];
	size_t i, m = n > SHOW ? SHOW : n;

	for (i = 0; i < m; i++)
		show[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n > SHOW)
		memcpy(show + m, "...", 4);
	else
		show[m] = '\0';
	dk_error_set(fmt, show);
	return DK_EUSAGE;
}

/* The value with whitespace taken out (p=, RFC 6376 3.6.1). */
static char *
squeeze(const char *v, size_t n)
{
	size_t i, j = 0;
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (!is_ws((unsigned char)v[i]))
			s[j++] = v[i];
	s[j] = '\0';
	return s;
}

/* Where the value of a one-letter tag we know goes, or NULL. */
static char **
slot_of(struct dk_record *r, char name)
{
	switch (name) {
	case 'v':
		return &r->v;
	case 'h':
		return &r->h;
	case 'k':
		return &r->k;
	case 'n':
		return &r->n;
	case 'p':
		return &r->p;
	case 's':
		return &r->s;
	case 't':
		return &r->t;
	default:
		return NULL;
	}
}

/* Keeps the value of a tag we know; 0 for tags we ignore. */
static int
keep(struct dk_record *r, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	char **slot;

	if (nlen != 1 || (slot = slot_of(r, name[0])) == NULL)
		return 0;
	/* Unknown tags are checked for duplicates later, all at once. */
	if (*slot != NULL)
		return bad("invalid key record: duplicate tag '%s'", name, 1);
	*slot = name[0] == 'p' ? squeeze(v, vlen) : strndup(v, vlen);
	if (*slot == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

/*
 * One tag-spec from buf[*i]: [FWS] tag-name [FWS] "=" [FWS] tag-value
 * [FWS], up to the ';' or the end.  The name goes into t.
 */
static int
tag_spec(const char *buf, size_t len, size_t *i, struct tag *t,
    const char **val, size_t *vlen)
{
	size_t p = *i, end;

	if (!is_alpha((unsigned char)buf[p]))
		return bad("invalid key record: expected a tag name at '%s'",
		    buf + p, len - p);
	t->name = buf + p;
	while (p < len && is_alnumpunc((unsigned char)buf[p]))
		p++;
	t->len = (size_t)(buf + p - t->name);
	while (p < len && is_ws((unsigned char)buf[p]))
		p++;
	if (p == len || buf[p] != '=')
		return bad("invalid key record: tag '%s' has no '='",
		    t->name, t->len);
	for (p++; p < len && is_ws((unsigned char)buf[p]); p++)
		;
	*val = buf + p;
	for (end = p; p < len && buf[p] != ';'; p++) {
		if (is_valchar((unsigned char)buf[p]))
			end = p + 1;
		else if (!is_ws((unsigned char)buf[p]))
			return bad("invalid key record: invalid character in "
			    "the value of tag '%s'", t->name, t->len);
	}
	*vlen = end - (size_t)(*val - buf);
	*i = p;
	return 0;
}

static int
check_record(const struct dk_record *r, const struct tag *first)
{
	unsigned char *raw;
	size_t n;

	if (r->v != NULL) {
		/* RFC 6376 3.6.1: if present, first, and exactly "DKIM1". */
		if (first->len != 1 || first->name[0] != 'v') {
			dk_error_set("invalid key record: v= must be the "
			    "first tag");
			return DK_EUSAGE;
		}
		if (strcmp(r->v, "DKIM1") != 0)
			return bad("invalid key record: unsupported version "
			    "v=%s (expected DKIM1)", r->v, strlen(r->v));
	}
	if (r->p == NULL) {
		dk_error_set("invalid key record: no p= tag");
		return DK_EUSAGE;
	}
	if (dk_b64_decode(r->p, strlen(r->p), &raw, &n) != 0)
		return bad("invalid key record: p= is not base64: '%s'",
		    r->p, strlen(r->p));
	free(raw);
	return 0;
}

int
dk_record_parse(const char *buf, size_t len, struct dk_record *r)
{
	struct tag *tags = NULL, first;
	size_t i = 0, ntags = 0, vlen = 0, k;
	const char *val = NULL;
	int rc = DK_EUSAGE;

	memset(r, 0, sizeof(*r));
	/* At most one tag per two bytes ("a=;"): room for all of them. */
	if ((tags = calloc(len / 2 + 1, sizeof(*tags))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (;;) {
		while (i < len && is_ws((unsigned char)buf[i]))
			i++;
		/* RFC 6376 3.2: a final ';' is allowed, an empty list not. */
		if (i == len && ntags > 0)
			break;
		if (i == len) {
			dk_error_set("invalid key record: no tags");
			goto done;
		}
		if ((rc = tag_spec(buf, len, &i, &tags[ntags], &val,
		    &vlen)) != 0)
			goto done;
		if ((rc = keep(r, tags[ntags].name, tags[ntags].len, val,
		    vlen)) != 0)
			goto done;
		ntags++;
		if (i == len)
			break;
		i++;	/* the ';' */
	}
	/* RFC 6376 3.2: a duplicate tag invalidates the whole list. */
	first = tags[0];
	qsort(tags, ntags, sizeof(*tags), tagcmp);
	for (k = 1; k < ntags; k++) {
		if (tagcmp(&tags[k - 1], &tags[k]) == 0) {
			rc = bad("invalid key record: duplicate tag '%s'",
			    tags[k].name, tags[k].len);
			goto done;
		}
	}
	if ((rc = check_record(r, &first)) != 0)
		goto done;
	rc = -1;
	if (r->k == NULL && (r->k = strdup("rsa")) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	rc = 0;
done:
	free(tags);
	if (rc != 0)
		dk_record_dispose(r);
	return rc;
}

void
dk_record_dispose(struct dk_record *r)
{
	if (r == NULL)
		return;
	free(r->v);
	free(r->h);
	free(r->k);
	free(r->n);
	free(r->p);
	free(r->s);
	free(r->t);
	memset(r, 0, sizeof(*r));
}

/*
 * An RSA public key as DKIM records carry it: SubjectPublicKeyInfo as
 * everyone publishes, or the bare RSAPublicKey that RFC 6376 3.6.1
 * literally describes.  The whole input must be consumed.
 */
static EVP_PKEY *
rsa_public(const unsigned char *der, size_t n)
{
	const unsigned char *q = der;
	EVP_PKEY *pub;

	if (n > LONG_MAX)
		return NULL;
	if ((pub = d2i_PUBKEY(NULL, &q, (long)n)) == NULL || q != der + n) {
		EVP_PKEY_free(pub);
		q = der;
		pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)n);
		if (pub != NULL && q != der + n) {
			EVP_PKEY_free(pub);
			pub = NULL;
		}
	}
	ERR_clear_error();
	if (pub != NULL && !EVP_PKEY_is_a(pub, "RSA")) {
		EVP_PKEY_free(pub);
		pub = NULL;
	}
	return pub;
}

static int
same_public(const struct dk_key *key, const unsigned char *der, size_t n)
{
	unsigned char raw[64];
	size_t rawlen = sizeof(raw);
	EVP_PKEY *pub;
	int eq;

	if (dk_key_alg(key) == DK_ALG_ED25519) {
		if (EVP_PKEY_get_raw_public_key(dk_key_pkey(key), raw,
		    &rawlen) != 1) {
			dk_error_set_ossl("cannot read ed25519 public key");
			return -1;
		}
		return n == rawlen && memcmp(der, raw, n) == 0;
	}
	if ((pub = rsa_public(der, n)) == NULL)
		return 0;
	/* 1: same key; 0 different; negative: cannot compare (different). */
	eq = EVP_PKEY_eq(dk_key_pkey(key), pub);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return eq == 1;
}

int
dk_key_matches_record(const struct dk_key *key, const struct dk_record *r)
{
	const char *k = r->k != NULL ? r->k : "rsa";
	const char *alg = dk_alg_name(dk_key_alg(key));
	unsigned char *der = NULL;
	size_t n;
	int rc = DK_EMISMATCH, same;

	if (strcmp(k, alg) != 0) {
		dk_error_set("key does not match record: record is for "
		    "k=%.40s, the key is %s", k, alg);
		return DK_EMISMATCH;
	}
	if (r->p == NULL || r->p[0] == '\0') {
		dk_error_set("key does not match record: record is revoked "
		    "(empty p=)");
		return DK_EMISMATCH;
	}
	if (dk_b64_decode(r->p, strlen(r->p), &der, &n) != 0) {
		dk_error_set("key does not match record: p= is not base64");
		return DK_EMISMATCH;
	}
	if ((same = same_public(key, der, n)) == -1)
		rc = -1;
	else if (same)
		rc = 0;
	else
		dk_error_set("key does not match record: p= holds another "
		    "public key");
	free(der);
	return rc;
}
