/*
 * The build ledger: parsing, writing, and checking a file against it
 * (packaging/ledger.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/file.h"
#include "common/secret.h"
#include "common/tree.h"
#include "packaging/ledger.h"
#include "packaging/repo.h"
#include "rotator/output.h"

#define HEADER		"dkimrot-builds 1"
#define FIELDS		7

void
dk_ledger_dispose(struct dk_ledger *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->b[i].dir);
		free(l->b[i].file);
	}
	free(l->b);
	memset(l, 0, sizeof(*l));
}

static bool
hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

static const struct {
	const char	*kind;
	const char	*name;
	int		 format;
} kinds[] = {
	{ "private",		DK_PKG_PRIVATE,	DK_BUILD_RPM },
	{ "public",		DK_PKG_PUBLIC,	DK_BUILD_RPM },
	{ "private-deb",	DK_PKG_PRIVATE,	DK_BUILD_DEB },
	{ "public-deb",		DK_PKG_PUBLIC,	DK_BUILD_DEB },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* The index in kinds[] of kind, -1 when it is none of them. */
static int
kind_of(const char *kind)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kind, kinds[i].kind) == 0)
			return (int)i;
	return -1;
}

/*
 * The static name of a package of dkimrot (a part is an RPM of kind
 * private, packaging/parts.h), NULL for any other name.
 */
static const char *
canonical(const char *name, int format)
{
	int part;

	if (name == NULL)
		return NULL;
	if (strcmp(name, DK_PKG_PRIVATE) == 0)
		return DK_PKG_PRIVATE;
	if (strcmp(name, DK_PKG_PUBLIC) == 0)
		return DK_PKG_PUBLIC;
	if (format == DK_BUILD_RPM && (part = dk_pkg_part_index(name)) >= 0)
		return dk_pkg_part_name((unsigned)part);
	return NULL;
}

/* The KIND of a build. */
static const char *
kind_name(const char *name, int format)
{
	size_t i;

	if (dk_pkg_part_index(name) >= 0)
		name = DK_PKG_PRIVATE;
	for (i = 0; i < NKINDS; i++)
		if (strcmp(name, kinds[i].name) == 0 &&
		    format == kinds[i].format)
			return kinds[i].kind;
	return NULL;
}

int
dk_ledger_file(char *buf, size_t size, int format, const char *name,
    size_t version)
{
	int n;

	if (format == DK_BUILD_DEB)
		n = snprintf(buf, size, "%s_%zu_all.deb", name, version);
	else
		n = snprintf(buf, size, "%s-%zu-1.noarch.rpm", name, version);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s'", name);
		return -1;
	}
	return 0;
}

static int
xdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX in place; NULL when s is not a well-formed absolute path. */
static char *
unescape(char *s)
{
	char *r = s, *w = s;
	int hi, lo;

	for (; *r != '\0'; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		if ((hi = xdigit(r[1])) == -1 || (lo = xdigit(r[2])) == -1 ||
		    (hi == 0 && lo == 0))
			return NULL;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return s[0] == '/' ? s : NULL;
}

static int
escape(struct dk_buf *b, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p <= ' ' || *p == '%' || *p == 0x7f ?
		    dk_buf_printf(b, "%%%02X", *p) :
		    dk_buf_append(b, p, 1)) != 0)
			return -1;
	}
	return 0;
}

/* Why a line's values are wrong, NULL when they are right. */
static const char *
check(const char *dir, int format, const char *name, size_t version,
    const char *commit, const char *sha256)
{
	if (dir == NULL || dir[0] != '/')
		return "the directory is not an absolute path";
	if (canonical(name, format) == NULL)
		return "not a package of dkimrot";
	if (version == 0)
		return "version 0";
	if (strlen(commit) != DK_GIT_ID_LEN - 1 ||
	    !hex(commit, DK_GIT_ID_LEN - 1))
		return "the commit is not 40 lower-case hex digits";
	if (strlen(sha256) != DK_SHA256_HEX - 1 ||
	    !hex(sha256, DK_SHA256_HEX - 1))
		return "the SHA-256 is not 64 lower-case hex digits";
	return NULL;
}

static struct dk_build *
add(struct dk_ledger *l)
{
	if (dk_grow(&l->b, &l->cap, l->n, sizeof(*l->b), 16) != 0)
		return NULL;
	memset(&l->b[l->n], 0, sizeof(l->b[l->n]));
	return &l->b[l->n++];
}

/* One line, NUL-terminated and split in place; a reason on error. */
static const char *
parse_line(struct dk_ledger *l, char *line)
{
	char *f[FIELDS], *p = line, *end, file[PATH_MAX];
	const char *name, *why;
	struct dk_build *b;
	unsigned long long v;
	size_t i;
	int k;

	for (i = 0; i < FIELDS; i++) {
		f[i] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	if (i != FIELDS - 1)
		return p != NULL ? "more than 7 fields" : "fewer than 7 fields";
	for (i = 0; i < FIELDS; i++)
		if (f[i][0] == '\0')
			return "an empty field";
	if ((k = kind_of(f[0])) == -1)
		return "the kind is not 'private', 'public', 'private-deb' "
		    "or 'public-deb'";
	name = canonical(f[3], kinds[k].format);
	if (name == NULL || (strcmp(name, kinds[k].name) != 0 &&
	    (strcmp(kinds[k].name, DK_PKG_PRIVATE) != 0 ||
	    dk_pkg_part_index(name) < 0)))
		return "the name does not match the kind";
	errno = 0;
	v = strtoull(f[4], &end, 10);
	if (f[4][0] < '1' || f[4][0] > '9' || *end != '\0' || errno != 0 ||
	    v > SIZE_MAX)
		return "the version is not a decimal number";
	if (unescape(f[1]) == NULL)
		return "the directory is not an absolute path";
	if ((why = check(f[1], kinds[k].format, name, (size_t)v, f[5],
	    f[6])) != NULL)
		return why;
	if (dk_ledger_file(file, sizeof(file), kinds[k].format, name,
	    (size_t)v) != 0 || strcmp(file, f[2]) != 0)
		return kinds[k].format == DK_BUILD_DEB ? "the file is not "
		    "NAME_VERSION_all.deb" : "the file is not "
		    "NAME-VERSION-1.noarch.rpm";
	if (dk_ledger_find(l, f[1], f[2]) != NULL)
		return "a second line for this file";
	if ((b = add(l)) == NULL)
		return "out of memory";
	b->name = name;
	b->format = kinds[k].format;
	b->version = (size_t)v;
	memcpy(b->commit, f[5], DK_GIT_ID_LEN);
	memcpy(b->sha256, f[6], DK_SHA256_HEX);
	if ((b->dir = strdup(f[1])) == NULL ||
	    (b->file = strdup(f[2])) == NULL)
		return "out of memory";
	return NULL;
}

/* The number of the line holding text[at]. */
static size_t
line_of(const char *text, size_t at)
{
	size_t i, n = 1;

	for (i = 0; i < at; i++)
		n += text[i] == '\n';
	return n;
}

int
dk_ledger_parse(struct dk_ledger *l, const char *text, size_t len,
    const char *where)
{
	char *copy, *line, *nl;
	const char *why = NULL, *z;
	size_t lineno = 0;
	int rc = -1;

	if ((copy = malloc(len + 1)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	if ((z = memchr(text, '\0', len)) != NULL) {
		why = "a NUL byte";
		lineno = line_of(text, (size_t)(z - text));
	} else if (len == 0 || copy[len - 1] != '\n') {
		why = "the last line does not end in a newline";
		lineno = line_of(text, len);
	}
	for (line = copy; why == NULL && *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		if (++lineno == 1) {
			if (strcmp(line, HEADER) != 0)
				why = "not a dkimrot build ledger (no '"
				    HEADER "' line)";
		} else
			why = parse_line(l, line);
	}
	if (why != NULL) {
		dk_error_set("invalid build ledger '%s:%zu': %s", where,
		    lineno, why);
		goto done;
	}
	rc = 0;
done:
	if (rc != 0)
		dk_ledger_dispose(l);
	free(copy);
	return rc;
}

int
dk_ledger_format(const struct dk_ledger *l, char **out, size_t *len)
{
	struct dk_buf b = { NULL, 0, 0 };
	const struct dk_build *e;
	size_t i;

	if (dk_buf_puts(&b, HEADER "\n") != 0)
		goto fail;
	for (i = 0; i < l->n; i++) {
		e = &l->b[i];
		if (dk_buf_printf(&b, "%s ", kind_name(e->name,
		    e->format)) != 0 || escape(&b, e->dir) != 0 ||
		    dk_buf_printf(&b, " %s %s %zu %s %s\n", e->file, e->name,
		    e->version, e->commit, e->sha256) != 0)
			goto fail;
	}
	*len = b.len;
	*out = dk_buf_detach(&b);
	return 0;
fail:
	dk_buf_dispose(&b);
	return -1;
}

int
dk_ledger_load(struct dk_ledger *l, const char *repo)
{
	char where[PATH_MAX], *text = NULL;
	size_t len = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = dk_tree_read(repo, DK_LEDGER_FILE, DK_FILE_MAX, &text,
	    &len)) != 0)
		return rc;
	if (dk_path_join(where, sizeof(where), repo, DK_LEDGER_FILE) != 0)
		rc = -1;
	else
		rc = dk_ledger_parse(l, text, len, where);
	free(text);
	return rc;
}

int
dk_ledger_save(const struct dk_ledger *l, const char *repo)
{
	char *text;
	size_t len;
	int rc;

	if (dk_ledger_format(l, &text, &len) != 0)
		return -1;
	rc = dk_tree_replace(repo, DK_LEDGER_FILE, text, len, 0600);
	free(text);
	return rc;
}

struct dk_build *
dk_ledger_find(const struct dk_ledger *l, const char *dir, const char *file)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->b[i].file, file) == 0 &&
		    strcmp(l->b[i].dir, dir) == 0)
			return &l->b[i];
	return NULL;
}

static int
set(struct dk_ledger *l, int format, const char *dir, const char *name,
    size_t version, const char *commit, const char *sha256)
{
	char file[PATH_MAX];
	struct dk_build *b;
	const char *why;
	char *d = NULL, *f = NULL;

	if ((why = check(dir, format, name, version, commit, sha256)) !=
	    NULL) {
		dk_error_set("invalid build of '%s': %s", dir != NULL ? dir :
		    "", why);
		return DK_EUSAGE;
	}
	if (dk_ledger_file(file, sizeof(file), format, name, version) != 0)
		return -1;
	if ((b = dk_ledger_find(l, dir, file)) == NULL) {
		if ((d = strdup(dir)) == NULL || (f = strdup(file)) == NULL ||
		    (b = add(l)) == NULL) {
			free(d);
			free(f);
			dk_error_set("out of memory");
			return -1;
		}
		b->dir = d;
		b->file = f;
	}
	b->name = canonical(name, format);
	b->format = format;
	b->version = version;
	memcpy(b->commit, commit, DK_GIT_ID_LEN);
	memcpy(b->sha256, sha256, DK_SHA256_HEX);
	return 0;
}

int
dk_ledger_set(struct dk_ledger *l, const char *dir, const char *name,
    size_t version, const char *commit, const char *sha256)
{
	return set(l, DK_BUILD_RPM, dir, name, version, commit, sha256);
}

int
dk_ledger_set_deb(struct dk_ledger *l, const char *dir, const char *name,
    size_t version, const char *commit, const char *sha256)
{
	return set(l, DK_BUILD_DEB, dir, name, version, commit, sha256);
}

int
dk_ledger_remove(struct dk_ledger *l, const char *dir, const char *file)
{
	struct dk_build *b;
	size_t i;

	if ((b = dk_ledger_find(l, dir, file)) == NULL)
		return 0;
	i = (size_t)(b - l->b);
	free(b->dir);
	free(b->file);
	memmove(&l->b[i], &l->b[i + 1], (l->n - i - 1) * sizeof(*b));
	l->n--;
	return 1;
}

int
dk_ledger_verify(const struct dk_build *b, const char *dir, const char **why,
    char **buf, size_t *len)
{
	char sum[DK_SHA256_HEX], *data = NULL;
	size_t n = 0;

	if (why != NULL)
		*why = NULL;
	if (b == NULL) {
		if (why != NULL)
			*why = "dkimrot did not build it (it is not in the "
			    "build ledger)";
		return DK_BUILD_UNKNOWN;
	}
	if (dk_tree_read(dir, b->file, DK_PKG_MAX, &data, &n) != 0)
		return -1;
	if (dk_repo_sha256(data, n, sum) != 0) {
		dk_ledger_bytes_free(data, n);
		return -1;
	}
	if (strcmp(sum, b->sha256) != 0) {
		dk_ledger_bytes_free(data, n);
		if (why != NULL)
			*why = "its bytes changed since dkimrot built it (the "
			    "SHA-256 is not the build ledger's)";
		return DK_BUILD_CHANGED;
	}
	if (buf != NULL) {
		*buf = data;
		*len = n;
	} else
		dk_ledger_bytes_free(data, n);
	return DK_BUILD_OURS;
}

void
dk_ledger_bytes_free(char *data, size_t len)
{
	dk_secret_free(data, len);
}
