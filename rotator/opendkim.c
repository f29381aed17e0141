/*
 * OpenDKIM's KeyTable and SigningTable (rotator/opendkim.h), line by
 * line: fields split at blanks, '#' to the end of a line a comment.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "rotator/opendkim.h"

#define FIELDS_MAX	3

struct fields {
	const char	*v[FIELDS_MAX];
	size_t		 len[FIELDS_MAX];
	size_t		 n;		/* up to FIELDS_MAX; more: too many */
	bool		 more;
};

static int __attribute__((format(printf, 4, 5)))
refuse(struct dk_odkim *t, const char *file, int line, const char *fmt, ...)
{
	char why[512], msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	n = snprintf(msg, sizeof(msg), "%s:%d: %s", file, line, why);
	if (n < 0)
		return -1;
	return dk_strlist_add(&t->errors, msg) != 0 ? -1 : 0;
}

/* Splits [p, end) at blanks, a '#' ending it. */
static void
split(const char *p, const char *end, struct fields *f)
{
	const char *s;

	memset(f, 0, sizeof(*f));
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == end || *p == '#')
			return;
		for (s = p; p < end && *p != ' ' && *p != '\t' && *p != '\r' &&
		    *p != '#'; p++)
			;
		if (f->n == FIELDS_MAX) {
			f->more = true;
			return;
		}
		f->v[f->n] = s;
		f->len[f->n++] = (size_t)(p - s);
	}
}

/* A NUL-free copy of at most size - 1 bytes, lowered; false if longer. */
static bool
copy_lower(char *dst, size_t size, const char *s, size_t len)
{
	size_t i;

	if (len >= size || memchr(s, '\0', len) != NULL)
		return false;
	for (i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[len] = '\0';
	return true;
}

/* A printable excerpt of a field for messages: at most 64 bytes. */
static const char *
shown(char *buf, size_t size, const char *s, size_t len)
{
	size_t i, n = len < size - 1 ? len : size - 1;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[n] = '\0';
	return buf;
}

long
dk_odkim_find(const struct dk_odkim *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		if (strcmp(t->keys[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int
grow(void **v, size_t n, size_t size)
{
	void *p;

	/* Doubling: n is a power of two or 0 when the array is full. */
	if (n != 0 && (n & (n - 1)) != 0)
		return 0;
	if ((p = realloc(*v, (n ? n * 2 : 8) * size)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	*v = p;
	return 0;
}

/* "DOMAIN:SELECTOR:KEY" of one KeyTable line into k; 0 or a refusal. */
static int
key_value(struct dk_odkim *t, const char *file, int line, const char *v,
    size_t len, struct dk_odkim_key *k)
{
	const char *c1, *c2, *end = v + len;
	char x[80];

	if ((c1 = memchr(v, ':', len)) == NULL ||
	    (c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) == NULL)
		return refuse(t, file, line, "expected DOMAIN:SELECTOR:KEY, "
		    "not '%s'", shown(x, sizeof(x), v, len)) ? -1 : 1;
	if (c1 - v == 1 && v[0] == '%')
		return refuse(t, file, line, "cannot map '%%' (the domain "
		    "of each message): dkimrot keys belong to one domain") ?
		    -1 : 1;
	if (!copy_lower(k->domain, sizeof(k->domain), v, (size_t)(c1 - v)) ||
	    dk_name_domain_check(k->domain) != 0)
		return refuse(t, file, line, "invalid domain '%s'",
		    shown(x, sizeof(x), v, (size_t)(c1 - v))) ? -1 : 1;
	if (!copy_lower(k->selector, sizeof(k->selector), c1 + 1,
	    (size_t)(c2 - c1 - 1)) || dk_name_selector_check(k->selector) != 0)
		return refuse(t, file, line, "invalid selector '%s'",
		    shown(x, sizeof(x), c1 + 1, (size_t)(c2 - c1 - 1))) ?
		    -1 : 1;
	c2++;
	if (c2 == end)
		return refuse(t, file, line, "no key after '%s:%s:'",
		    k->domain, k->selector) ? -1 : 1;
	/*
	 * opendkim.conf(5): "/", "./" or "../" first makes it a file,
	 * where '%' stands for each message's domain; else the key itself.
	 */
	if (c2[0] == '/' || (end - c2 > 2 && memcmp(c2, "./", 2) == 0) ||
	    (end - c2 > 3 && memcmp(c2, "../", 3) == 0)) {
		if (memchr(c2, '%', (size_t)(end - c2)) != NULL)
			return refuse(t, file, line, "cannot map '%%' in key "
			    "file '%s': dkimrot keys belong to one domain",
			    shown(x, sizeof(x), c2, (size_t)(end - c2))) ?
			    -1 : 1;
		if (memchr(c2, '\0', (size_t)(end - c2)) != NULL)
			return refuse(t, file, line, "invalid key file name") ?
			    -1 : 1;
		if ((k->path = strndup(c2, (size_t)(end - c2))) == NULL) {
			dk_error_set("out of memory");
			return -1;
		}
		return 0;
	}
	return dk_buf_append(&k->inline_b64, c2, (size_t)(end - c2)) != 0 ?
	    -1 : 0;
}

static void
key_dispose(struct dk_odkim_key *k)
{
	free(k->path);
	dk_buf_wipe(&k->inline_b64);
}

int
dk_odkim_keytable(struct dk_odkim *t, const char *buf, size_t len,
    const char *file)
{
	const char *p = buf, *end = buf + len, *nl;
	struct dk_odkim_key k;
	struct fields f;
	char x[80];
	size_t i;
	int line = 0, rc;

	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		split(p, nl, &f);
		if (f.n == 0)
			continue;
		if (f.n != 2 || f.more) {
			if (refuse(t, file, line, "expected 'KEYNAME "
			    "DOMAIN:SELECTOR:KEY', found %s fields",
			    f.more ? "more than 3" : f.n == 1 ? "1" : "3") != 0)
				return -1;
			continue;
		}
		memset(&k, 0, sizeof(k));
		k.line = line;
		if (f.len[0] > DK_ODKIM_NAME_MAX ||
		    memchr(f.v[0], '\0', f.len[0]) != NULL) {
			if (refuse(t, file, line, "key name '%s' too long",
			    shown(x, sizeof(x), f.v[0], f.len[0])) != 0)
				return -1;
			continue;
		}
		memcpy(k.name, f.v[0], f.len[0]);
		if (dk_odkim_find(t, k.name) >= 0) {
			if (refuse(t, file, line, "key name '%s' given twice "
			    "(first at line %d)", k.name, t->keys[
			    dk_odkim_find(t, k.name)].line) != 0)
				return -1;
			continue;
		}
		if ((rc = key_value(t, file, line, f.v[1], f.len[1], &k)) !=
		    0) {
			key_dispose(&k);
			if (rc < 0)
				return -1;
			continue;
		}
		for (i = 0; i < t->nkeys; i++)
			if (strcmp(t->keys[i].domain, k.domain) == 0 &&
			    strcmp(t->keys[i].selector, k.selector) == 0)
				break;
		if (i < t->nkeys) {
			key_dispose(&k);
			if (refuse(t, file, line, "selector '%s' of %s given "
			    "twice (first at line %d)", k.selector, k.domain,
			    t->keys[i].line) != 0)
				return -1;
			continue;
		}
		if (grow((void **)&t->keys, t->nkeys, sizeof(k)) != 0) {
			key_dispose(&k);
			return -1;
		}
		t->keys[t->nkeys++] = k;
	}
	if (t->nkeys == 0 && t->errors.n == 0 &&
	    refuse(t, file, line ? line : 1, "no keys") != 0)
		return -1;
	return t->errors.n > 0 ? DK_EUSAGE : 0;
}

/* "*@DOMAIN" or "DOMAIN" into domain; false for any other pattern. */
static bool
pattern(const char *s, size_t len, char *domain, size_t size)
{
	if (len > 2 && s[0] == '*' && s[1] == '@') {
		s += 2;
		len -= 2;
	}
	if (memchr(s, '*', len) != NULL || memchr(s, '@', len) != NULL ||
	    !copy_lower(domain, size, s, len))
		return false;
	return dk_name_domain_check(domain) == 0;
}

int
dk_odkim_signingtable(struct dk_odkim *t, const char *buf, size_t len,
    const char *file)
{
	const char *p = buf, *end = buf + len, *nl;
	struct dk_odkim_sign s;
	struct fields f;
	char x[80], name[DK_ODKIM_NAME_MAX + 1];
	long k;
	int line = 0;

	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		split(p, nl, &f);
		if (f.n == 0)
			continue;
		memset(&s, 0, sizeof(s));
		s.line = line;
		if (f.n != 2 || f.more) {
			if (refuse(t, file, line, "expected 'PATTERN "
			    "KEYNAME'") != 0)
				return -1;
			continue;
		}
		if (!pattern(f.v[0], f.len[0], s.domain, sizeof(s.domain))) {
			if (refuse(t, file, line, "cannot map pattern '%s': "
			    "dkimrot signs whole domains (*@DOMAIN)",
			    shown(x, sizeof(x), f.v[0], f.len[0])) != 0)
				return -1;
			continue;
		}
		if (f.len[1] > DK_ODKIM_NAME_MAX ||
		    memchr(f.v[1], '\0', f.len[1]) != NULL ||
		    (memcpy(name, f.v[1], f.len[1]), name[f.len[1]] = '\0',
		    k = dk_odkim_find(t, name)) < 0) {
			if (refuse(t, file, line, "key '%s' is not in the "
			    "KeyTable", shown(x, sizeof(x), f.v[1],
			    f.len[1])) != 0)
				return -1;
			continue;
		}
		if (strcmp(t->keys[k].domain, s.domain) != 0) {
			if (refuse(t, file, line, "%s would sign with key "
			    "'%s' of %s: dkimrot signs a domain with keys of "
			    "its own", s.domain, name, t->keys[k].domain) != 0)
				return -1;
			continue;
		}
		s.key = (size_t)k;
		if (grow((void **)&t->signs, t->nsigns, sizeof(s)) != 0)
			return -1;
		t->signs[t->nsigns++] = s;
	}
	return t->errors.n > 0 ? DK_EUSAGE : 0;
}

void
dk_odkim_dispose(struct dk_odkim *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nkeys; i++)
		key_dispose(&t->keys[i]);
	free(t->keys);
	free(t->signs);
	dk_strlist_dispose(&t->errors);
	memset(t, 0, sizeof(*t));
}
