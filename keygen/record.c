/*
 * DKIM key records (RFC 6376 3.6.1, RFC 8463) and their zone-file form,
 * laid out exactly as opendkim-genkey 2.11 writes them so that operators
 * diffing old and new records see only the key change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/strlist.h"
#include "keygen/key.h"

/*
 * opendkim-genkey puts "p=" and 250 characters of key data in the first
 * string of the key, then 250 characters per string.
 */
#define GENKEY_CHUNK	250

/*
 * "v=DKIM1; h=sha256; k=rsa; t=y; s=email; p=": opendkim-genkey's tag
 * order and spacing (the Debian build defaults to h=sha256).  Ed25519
 * records follow RFC 8463 3: "v=DKIM1; k=ed25519; p=" (its only hash is
 * sha256, so h= would say nothing).
 */
static int
value_head(struct dk_buf *b, enum dk_alg alg, const struct dk_record_opts *o)
{
	if (alg == DK_ALG_RSA) {
		if (dk_buf_puts(b, "v=DKIM1; h=sha256; k=rsa; ") == -1)
			return -1;
	} else if (alg == DK_ALG_ED25519) {
		if (dk_buf_puts(b, "v=DKIM1; k=ed25519; ") == -1)
			return -1;
	} else {
		dk_error_set("cannot make key record: unknown algorithm %d",
		    (int)alg);
		return -1;
	}
	if (o != NULL && o->testmode && dk_buf_puts(b, "t=y; ") == -1)
		return -1;
	if (o != NULL && o->restrict_email &&
	    dk_buf_puts(b, "s=email; ") == -1)
		return -1;
	return dk_buf_puts(b, "p=");
}

int
dk_record_value_revoked(enum dk_alg alg, const struct dk_record_opts *o,
    char **out)
{
	struct dk_buf b = { 0 };

	*out = NULL;
	/* RFC 6376 3.6.1: an empty p= means the key was revoked. */
	if (value_head(&b, alg, o) == -1 || (*out = dk_buf_detach(&b)) == NULL) {
		dk_buf_dispose(&b);
		return -1;
	}
	return 0;
}

void
dk_record_opts_of(const struct dk_policy *pol, struct dk_record_opts *out)
{
	memset(out, 0, sizeof(*out));
	out->restrict_email = pol->restrict_email;
	out->testmode = pol->testmode;
}

int
dk_record_value_pub(enum dk_alg alg, const char *pub,
    const struct dk_record_opts *o, char **out)
{
	struct dk_buf b = { 0 };

	*out = NULL;
	if (o != NULL && o->revoked)
		return dk_record_value_revoked(alg, o, out);
	if (value_head(&b, alg, o) == -1 || dk_buf_puts(&b, pub) == -1 ||
	    (*out = dk_buf_detach(&b)) == NULL) {
		dk_buf_dispose(&b);
		return -1;
	}
	return 0;
}

int
dk_record_value(const struct dk_key *key, const struct dk_record_opts *o,
    char **out)
{
	char *pub = NULL;
	int rc;

	*out = NULL;
	if (o != NULL && o->revoked)
		return dk_record_value_revoked(dk_key_alg(key), o, out);
	if (dk_key_public_b64(key, &pub) != 0)
		return -1;
	rc = dk_record_value_pub(dk_key_alg(key), pub, o, out);
	free(pub);
	return rc;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Where the p= tag of a tag list starts, or NULL. */
static const char *
find_p(const char *v)
{
	const char *s = v, *t;

	for (;;) {
		while (is_wsp(*s))
			s++;
		if (*s == 'p') {
			for (t = s + 1; is_wsp(*t); t++)
				;
			if (*t == '=')
				return s;
		}
		if ((s = strchr(s, ';')) == NULL)
			return NULL;
		s++;
	}
}

/*
 * The cut points of value: the tags before p= in strings of at most
 * DK_TXT_CHUNK, then p= and 250 characters, then 250 per string (as
 * opendkim-genkey).  Fills len[] if not NULL; returns the count.
 */
static size_t
cuts(const char *value, size_t *len)
{
	size_t n = 0, head, tail, first, c;
	const char *p;

	if ((p = find_p(value)) == NULL) {
		head = strlen(value);
		tail = 0;
	} else {
		head = (size_t)(p - value);
		tail = strlen(p);
	}
	while (head > 0) {
		c = head < DK_TXT_CHUNK ? head : DK_TXT_CHUNK;
		if (len != NULL)
			len[n] = c;
		n++;
		head -= c;
	}
	first = 2 + GENKEY_CHUNK;
	while (tail > 0) {
		c = tail < first ? tail : first;
		if (len != NULL)
			len[n] = c;
		n++;
		tail -= c;
		first = GENKEY_CHUNK;
	}
	if (n == 0) {
		/* An empty value is still one (empty) character-string. */
		if (len != NULL)
			len[0] = 0;
		n = 1;
	}
	return n;
}

int
dk_txt_split(const char *value, struct dk_strlist *out)
{
	size_t *len = NULL, n, i, off = 0;
	int rc = -1;

	n = cuts(value, NULL);
	if ((len = calloc(n, sizeof(*len))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	cuts(value, len);
	for (i = 0; i < n; i++) {
		if (dk_strlist_addn(out, value + off, len[i]) != 0)
			goto done;
		off += len[i];
	}
	rc = 0;
done:
	if (rc != 0)
		dk_strlist_dispose(out);
	free(len);
	return rc;
}

/*
 * Names that go into a zone file unquoted (owner, and the comment that
 * runs to the end of the line): nothing that could start a new line,
 * a directive or another field.
 */
static int
zone_safe(const char *what, const char *s)
{
	const char *p;

	if (s[0] == '\0')
		goto bad;
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_')
			continue;
		goto bad;
	}
	return 0;
bad:
	dk_error_set("cannot write zone record: invalid %s '%s'", what, s);
	return DK_EUSAGE;
}

/*
 * RFC 1035 5.1: a quoted character-string, escaping '"', '\' and bytes
 * that are not printable ASCII.
 */
static int
put_quoted(struct dk_buf *b, const char *s)
{
	const unsigned char *p;
	int rc = 0;

	rc |= dk_buf_puts(b, "\"");
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			rc |= dk_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			rc |= dk_buf_printf(b, "\\%03u", *p);
		else
			rc |= dk_buf_append(b, p, 1);
	}
	rc |= dk_buf_puts(b, "\"");
	return rc == 0 ? 0 : -1;
}

int
dk_record_zone(const char *owner, unsigned ttl, const char *value,
    const char *sel, const char *domain, char **out)
{
	struct dk_buf b = { 0 };
	struct dk_strlist s = { 0 };
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = zone_safe("owner name", owner)) != 0 ||
	    (domain != NULL && (rc = zone_safe("domain", domain)) != 0) ||
	    (domain != NULL && (rc = zone_safe("selector",
	    sel != NULL ? sel : "")) != 0))
		return rc;
	rc = -1;
	if (dk_txt_split(value, &s) != 0)
		goto done;
	if (dk_buf_puts(&b, owner) == -1 ||
	    (ttl != 0 && dk_buf_printf(&b, "\t%u", ttl) == -1) ||
	    dk_buf_puts(&b, "\tIN\tTXT\t( ") == -1)
		goto done;
	for (i = 0; i < s.n; i++) {
		if ((i > 0 && dk_buf_puts(&b, "\n\t  ") == -1) ||
		    put_quoted(&b, s.v[i]) == -1)
			goto done;
	}
	/* opendkim-genkey: '" ) ' and then ' ; ----- DKIM key ...'. */
	if (dk_buf_puts(&b, " ) ") == -1 ||
	    (domain != NULL && dk_buf_printf(&b, " ; ----- DKIM key %s for %s",
	    sel, domain) == -1) || dk_buf_puts(&b, "\n") == -1 ||
	    (*out = dk_buf_detach(&b)) == NULL)
		goto done;
	rc = 0;
done:
	dk_strlist_dispose(&s);
	dk_buf_dispose(&b);
	return rc;
}
