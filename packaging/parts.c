/* The part packages of dkim-keys-private (packaging/parts.h). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "packaging/builds.h"
#include "packaging/parts.h"
#include "packaging/render.h"
#include "packaging/repo.h"
#include "rotator/keys.h"
#include "rotator/output.h"
#include "rotator/policy.h"

#define PARTS_MAGIC	"dkimrot-parts 1"
#define PARTS_MAX_SIZE	(64u * 1024)
#define DAY		86400

unsigned
dk_parts_slot(const struct dk_policy *pol, const struct dk_domain_keys *dk,
    unsigned n)
{
	const struct dk_keyinfo *k = NULL;
	long long every = pol->rotate_every / DAY, due, stagger;
	size_t i;

	/* The newest key of its first track. */
	for (i = 0; i < dk->n; i++)
		if (dk_state_published(dk->keys[i].state) && (k == NULL ||
		    dk->keys[i].alg < k->alg || (dk->keys[i].alg == k->alg &&
		    dk->keys[i].created > k->created)))
			k = &dk->keys[i];
	if (n == 0 || k == NULL || k->created <= 0)
		return 0;
	if (every < 1)
		every = 1;
	due = dk_policy_due(dk, k, pol, &stagger) / DAY % every;
	if (due < 0)
		due += every;
	return (unsigned)((unsigned long long)due * n /
	    (unsigned long long)every);
}

/* dir is an ancestor of path: "/a/b" of "/a/b/c". */
static bool
above(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	return strncmp(dir, path, n) == 0 && path[n] == '/';
}

static int
add(struct dk_rpm_file **v, size_t *n, size_t *cap, const struct dk_rpm_file *f)
{
	struct dk_rpm_file *p;
	size_t c;

	if (*n == *cap) {
		c = *cap ? *cap * 2 : 16;
		if ((p = realloc(*v, c * sizeof(*p))) == NULL) {
			dk_error_set("out of memory");
			return -1;
		}
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = *f;
	return 0;
}

/*
 * The SHA-256 of what part installs: a manifest of each file's path,
 * mode, owner, group, flags and the SHA-256 of its contents, or for a
 * key its source, the git blob id its contents come from (no key
 * material in the manifest), and of the template and %pre that make it.
 * By the source, the keys of a part that did not change are never read
 * (packaging/render.h, dk_render_load()).
 */
static int
digest(struct dk_part *part, const char *pre_user, const char *pre_group)
{
	struct dk_buf b = { 0 };
	const struct dk_rpm_file *f;
	char sum[DK_SHA256_HEX];
	size_t i;
	int rc = -1;

	if (dk_repo_sha256(dk_spec_dkim_keys_private_part,
	    strlen(dk_spec_dkim_keys_private_part), sum) != 0 ||
	    dk_buf_printf(&b, "%s\n%s\n%s\n", sum, pre_user ? pre_user : "",
	    pre_group ? pre_group : "") != 0)
		goto done;
	for (i = 0; i < part->nfiles; i++) {
		f = &part->files[i];
		if (dk_buf_printf(&b, "%s %o %s %s %u ", f->path,
		    (unsigned)f->mode, f->owner ? f->owner : "root",
		    f->group ? f->group : "root", f->flags) != 0)
			goto done;
		/* A key by its source, loaded or not (rpm.h). */
		sum[0] = '\0';
		if (f->source != NULL) {
			if (dk_buf_printf(&b, "source %s\n", f->source) != 0)
				goto done;
			continue;
		}
		if ((!(f->flags & DK_RPM_DIR) &&
		    dk_repo_sha256(f->data, f->len, sum) != 0) ||
		    dk_buf_printf(&b, "%zu %s\n", f->len, sum) != 0)
			goto done;
	}
	rc = dk_repo_sha256(b.data, b.len, part->sha256);
done:
	dk_buf_dispose(&b);
	return rc;
}

int
dk_parts_split(const struct dk_render *r, const char *pre_user,
    const char *pre_group, struct dk_parts *p)
{
	size_t i, j, m = 0, *dirs = NULL, cap[DK_PARTS_MAX], capmain = 0;
	const struct dk_rpm_file *f;
	unsigned char *need = NULL;
	struct dk_part *part;
	unsigned k;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	memset(cap, 0, sizeof(cap));
	p->n = (unsigned)r->cfg->packaging.parts;
	if (p->n == 0) {
		/* Every file is dkim-keys-private's: no copy. */
		p->main = r->priv;
		p->nmain = r->npriv;
		return 0;
	}
	p->owned = true;
	for (k = 0; k < p->n; k++)
		p->part[k].name = dk_pkg_part_name(k);
	/* dkim-keys-private's directories: the key and table ones. */
	if ((dirs = calloc(r->npriv + 1, sizeof(*dirs))) == NULL)
		goto oom;
	for (i = 0; i < r->npriv; i++) {
		f = &r->priv[i];
		if (r->privpart[i] == 0) {
			if (add(&p->main, &p->nmain, &capmain, f) != 0)
				goto done;
			if (f->flags & DK_RPM_DIR)
				dirs[m++] = i;
		}
	}
	/* Which of them each part installs into: it owns them too. */
	if ((need = calloc((size_t)p->n * m + 1, 1)) == NULL)
		goto oom;
	for (i = 0; i < r->npriv; i++)
		if ((k = r->privpart[i]) > 0)
			for (j = 0; j < m; j++)
				if (above(r->priv[dirs[j]].path,
				    r->priv[i].path))
					need[(k - 1) * m + j] = 1;
	for (k = 0; k < p->n; k++)
		for (j = 0; j < m; j++)
			if (need[k * m + j] && add(&p->part[k].files,
			    &p->part[k].nfiles, &cap[k], &r->priv[dirs[j]]) != 0)
				goto done;
	for (i = 0; i < r->npriv; i++) {
		if ((k = r->privpart[i]) == 0)
			continue;
		part = &p->part[k - 1];
		if (add(&part->files, &part->nfiles, &cap[k - 1],
		    &r->priv[i]) != 0)
			goto done;
	}
	for (k = 0; k < p->n; k++)
		if (digest(&p->part[k], pre_user, pre_group) != 0)
			goto done;
	rc = 0;
	goto done;
oom:
	dk_error_set("out of memory");
done:
	free(dirs);
	free(need);
	return rc;
}

/* One line "NAME VERSION SHA256" of the record, in place. */
static int
record_line(char *line, const char **name, size_t *version, char **sha)
{
	char *v, *end;
	unsigned long long x;
	int k;

	if ((v = strchr(line, ' ')) == NULL)
		return -1;
	*v++ = '\0';
	if ((*sha = strchr(v, ' ')) == NULL)
		return -1;
	*(*sha)++ = '\0';
	if ((k = dk_pkg_part_index(line)) < 0 || v[0] < '1' || v[0] > '9')
		return -1;
	x = strtoull(v, &end, 10);
	if (*end != '\0' || x > SIZE_MAX || strlen(*sha) != DK_SHA256_HEX - 1 ||
	    strspn(*sha, "0123456789abcdef") != DK_SHA256_HEX - 1)
		return -1;
	*name = dk_pkg_part_name((unsigned)k);
	*version = (size_t)x;
	return 0;
}

/*
 * The recorded SHA-256 of each part's build: rec[k] for part k at
 * version ver[k], 0 when there is none.  A record that cannot be read
 * is none at all (every part is built again), with a note.
 */
static void
record_load(const char *repo, size_t ver[DK_PARTS_MAX],
    char rec[DK_PARTS_MAX][DK_SHA256_HEX])
{
	char path[PATH_MAX], *buf = NULL, *line, *next, *sha;
	const char *name, *why = NULL;
	size_t n = 0, count, version;
	int k;

	memset(ver, 0, DK_PARTS_MAX * sizeof(*ver));
	if (dk_path_join(path, sizeof(path), repo, DK_PARTS_FILE) != 0 ||
	    dk_file_read(path, PARTS_MAX_SIZE, &buf, NULL) != 0) {
		dk_error_clear();
		return;
	}
	line = buf;
	if ((next = strchr(line, '\n')) == NULL)
		why = "no header";
	else {
		*next++ = '\0';
		if (strcmp(line, PARTS_MAGIC) != 0)
			why = "not " PARTS_MAGIC;
	}
	while (why == NULL) {
		line = next;
		if ((next = strchr(line, '\n')) == NULL) {
			why = "no end line";
			break;
		}
		*next++ = '\0';
		if (sscanf(line, "end %zu", &count) == 1) {
			if (count != n || *next != '\0')
				why = "the end line does not match";
			break;
		}
		if (record_line(line, &name, &version, &sha) != 0) {
			why = "a malformed line";
			break;
		}
		k = dk_pkg_part_index(name);
		ver[k] = version;
		memcpy(rec[k], sha, DK_SHA256_HEX);
		n++;
	}
	if (why != NULL) {
		dk_log_info("'%s' is not used (%s): every part is built again",
		    path, why);
		memset(ver, 0, DK_PARTS_MAX * sizeof(*ver));
	}
	free(buf);
}

/* The newest build of name in the private repository, NULL for none. */
static const struct dk_build *
newest(const struct dk_builds *lb, const char *name)
{
	const struct dk_build *b = NULL;
	size_t i;

	for (i = 0; i < lb->l.n; i++)
		if (lb->l.b[i].format == DK_BUILD_RPM &&
		    strcmp(lb->l.b[i].name, name) == 0 &&
		    strcmp(lb->l.b[i].dir, lb->kpriv) == 0 &&
		    (b == NULL || lb->l.b[i].version > b->version))
			b = &lb->l.b[i];
	return b;
}

int
dk_parts_plan(struct dk_parts *p, const struct dk_builds *lb,
    const char *dir, size_t version)
{
	char rec[DK_PARTS_MAX][DK_SHA256_HEX];
	size_t ver[DK_PARTS_MAX], i;
	const struct dk_build *b;
	struct dk_part *part;
	bool any = false;
	unsigned k;

	record_load(lb->repo, ver, rec);
	p->nbuilt = 0;
	for (k = 0; k < p->n; k++) {
		part = &p->part[k];
		b = newest(lb, part->name);
		part->build = !(b != NULL && ver[k] == b->version &&
		    strcmp(rec[k], part->sha256) == 0 &&
		    dk_ledger_verify(b, dir, NULL, NULL, NULL) ==
		    DK_BUILD_OURS);
		part->version = part->build ? version : b->version;
		snprintf(part->vstr, sizeof(part->vstr), "%zu", part->version);
		p->req[k].name = part->name;
		p->req[k].version = part->vstr;
		if (part->build)
			p->built[p->nbuilt++] = part->name;
	}
	for (i = 0; i < lb->l.n && !any; i++)
		any = dk_pkg_part_index(lb->l.b[i].name) >= 0;
	p->nobs = 0;
	snprintf(p->vstr, sizeof(p->vstr), "%zu", version);
	if (p->n > 0 || any)
		for (k = p->n; k < DK_PARTS_MAX; k++) {
			p->obs[p->nobs].name = dk_pkg_part_name(k);
			p->obs[p->nobs++].version = p->vstr;
		}
	return 0;
}

bool
dk_parts_built(const struct dk_parts *p)
{
	return p->nbuilt == 0;
}

int
dk_parts_save(const struct dk_parts *p, const char *repo)
{
	struct dk_buf b = { 0 };
	char path[PATH_MAX];
	unsigned k;
	int rc;

	if (dk_path_join(path, sizeof(path), repo, DK_PARTS_FILE) != 0)
		return -1;
	rc = dk_buf_printf(&b, "%s\n", PARTS_MAGIC);
	for (k = 0; rc == 0 && k < p->n; k++)
		rc = dk_buf_printf(&b, "%s %zu %s\n", p->part[k].name,
		    p->part[k].version, p->part[k].sha256);
	if (rc == 0)
		rc = dk_buf_printf(&b, "end %u\n", p->n);
	if (rc == 0)
		rc = dk_file_replace(path, b.data, b.len, 0600);
	dk_buf_dispose(&b);
	return rc;
}

void
dk_parts_dispose(struct dk_parts *p)
{
	unsigned k;

	if (p == NULL)
		return;
	for (k = 0; k < DK_PARTS_MAX; k++)
		free(p->part[k].files);
	if (p->owned)
		free(p->main);
	memset(p, 0, sizeof(*p));
}
