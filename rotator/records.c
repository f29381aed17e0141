/* The record cache (rotator/records.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/grow.h"
#include "common/log.h"
#include "rotator/records.h"

#define RECORDS_MAGIC	"dkimrot-records 1"
/* 100,000 Ed25519 domains take some 9 MB; RSA-4096 keys 700 bytes each. */
#define RECORDS_MAX	(512u * 1024 * 1024)
#define PUB_MAX		2048	/* base64 of an RSA-8192 SubjectPublicKeyInfo */

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct dk_record_ent *)a)->id,
	    ((const struct dk_record_ent *)b)->id);
}

static int
is_id(const char *s, size_t len)
{
	size_t i;

	if (len != DK_GIT_ID_LEN - 1)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
is_b64(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz0123456789+/=");

	return n > 0 && n <= PUB_MAX && s[n] == '\0';
}

static int
records_path(const char *repo, char *buf, size_t size)
{
	return dk_path_join(buf, size, repo, DK_RECORDS_FILE);
}

int
dk_records_add(struct dk_records *rs, const char *id, enum dk_alg alg,
    const char *pub)
{
	struct dk_record_ent *e;

	if (dk_grow(&rs->v, &rs->cap, rs->n, sizeof(*rs->v), 1024) != 0)
		return -1;
	e = &rs->v[rs->n];
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->alg = alg;
	if ((e->pub = strdup(pub)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	rs->n++;
	rs->sorted = 0;
	return 0;
}

/* One line "ID ALG PUB" (NUL-terminated in place); -1 if malformed. */
static int
entry(struct dk_records *rs, char *line)
{
	char *alg, *pub;
	enum dk_alg a;

	if ((alg = strchr(line, ' ')) == NULL ||
	    (pub = strchr(alg + 1, ' ')) == NULL)
		return -1;
	*alg++ = '\0';
	*pub++ = '\0';
	if (!is_id(line, (size_t)(alg - 1 - line)) ||
	    dk_alg_parse(alg, &a) != 0 || !is_b64(pub))
		return -1;
	if (rs->n > 0 && strcmp(rs->v[rs->n - 1].id, line) >= 0)
		return -1;	/* not sorted, or twice */
	return dk_records_add(rs, line, a, pub) != 0 ? -2 : 0;
}

/* Parses buf into rs: NULL, or why the file is not used. */
static const char *
parse(struct dk_records *rs, char *buf)
{
	char *p = buf, *nl, end[32];
	int rc;

	if ((nl = strchr(p, '\n')) == NULL)
		return "cut short";
	*nl = '\0';
	if (strcmp(p, RECORDS_MAGIC) != 0)
		return "not a record cache of this version";
	for (p = nl + 1; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (strncmp(p, "end ", 4) == 0)
			break;
		if ((rc = entry(rs, p)) == -2)
			return "out of memory";
		if (rc != 0)
			return "a damaged line";
	}
	snprintf(end, sizeof(end), "end %zu", rs->n);
	if (nl == NULL || strcmp(p, end) != 0 || nl[1] != '\0')
		return "cut short";
	return NULL;
}

int
dk_records_load(const char *repo, struct dk_records *rs)
{
	char path[PATH_MAX], *buf = NULL;
	const char *why;
	int rc;

	memset(rs, 0, sizeof(*rs));
	rs->sorted = 1;
	if (records_path(repo, path, sizeof(path)) != 0)
		return -1;
	if ((rc = dk_file_read(path, RECORDS_MAX, &buf, NULL)) != 0) {
		if (rc != DK_ENOTFOUND)
			dk_log_debug("the record cache is not used: %s",
			    dk_error_last());
		dk_error_clear();
		return 0;
	}
	why = parse(rs, buf);
	free(buf);
	rs->sorted = 1;		/* parse() took only lines in order */
	if (why != NULL) {
		dk_log_debug("the record cache '%s' is not used: %s", path,
		    why);
		dk_records_dispose(rs);
		rs->sorted = 1;
	}
	return 0;
}

const struct dk_record_ent *
dk_records_find(const struct dk_records *rs, const char *id)
{
	struct dk_record_ent key;

	if (!rs->sorted || rs->n == 0)
		return NULL;
	snprintf(key.id, sizeof(key.id), "%s", id);
	return bsearch(&key, rs->v, rs->n, sizeof(*rs->v), by_id);
}

int
dk_records_save(const char *repo, struct dk_records *rs)
{
	struct dk_buf b = { 0 };
	char path[PATH_MAX];
	size_t i, n = 0;
	int rc;

	if (rs->n > 0)	/* rs->v may be NULL: qsort's pointer may not */
		qsort(rs->v, rs->n, sizeof(*rs->v), by_id);
	for (i = 0; i < rs->n; i++) {
		if (n > 0 && strcmp(rs->v[n - 1].id, rs->v[i].id) == 0) {
			free(rs->v[i].pub);
			continue;
		}
		rs->v[n++] = rs->v[i];
	}
	rs->n = n;
	rs->sorted = 1;
	if (records_path(repo, path, sizeof(path)) != 0)
		return -1;
	rc = dk_buf_printf(&b, "%s\n", RECORDS_MAGIC);
	for (i = 0; rc == 0 && i < rs->n; i++)
		rc = dk_buf_printf(&b, "%s %s %s\n", rs->v[i].id,
		    dk_alg_name(rs->v[i].alg), rs->v[i].pub);
	if (rc == 0)
		rc = dk_buf_printf(&b, "end %zu\n", rs->n);
	if (rc == 0)
		rc = dk_file_replace(path, b.data, b.len, 0600);
	dk_buf_dispose(&b);
	return rc;
}

void
dk_records_dispose(struct dk_records *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->v[i].pub);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}
