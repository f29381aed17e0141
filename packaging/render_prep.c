/*
 * Ahead of the render (packaging/render.c), on every core: each domain's
 * keys.yaml read from the commit and parsed, and each published or
 * revoked key's record derived from its private key, or found in the
 * record cache (rotator/records.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/pool.h"
#include "common/secret.h"
#include "keygen/key.h"
#include "packaging/render.h"
#include "packaging/render_int.h"
#include "rotator/keys.h"
#include "rotator/store.h"

/*
 * The public key of rec (its kid set): from the cache, or derived from
 * the key, whose PEM is then read, must load, and stays in rec.
 */
static int
public_of(struct dk_git *g, const struct dk_records *seen, const char *path,
    struct keyrec *rec)
{
	const struct dk_record_ent *e;
	struct dk_key *key = NULL;
	int rc;

	if ((e = dk_records_find(seen, rec->kid)) != NULL) {
		rec->alg = e->alg;
		if ((rec->pub = strdup(e->pub)) == NULL) {
			dk_error_set("out of memory");
			return -1;
		}
		return 0;
	}
	rec->derived = true;
	if (rec->pem == NULL && dk_git_read_blob(g, rec->kid, path, &rec->pem,
	    &rec->pemlen) != 0)
		return -1;
	if ((rc = dk_key_load_pem(&key, rec->pem, rec->pemlen, path)) == 0) {
		rec->alg = dk_key_alg(key);
		rc = dk_key_public_b64(key, &rec->pub);
	}
	dk_key_free(key);
	return rc;
}

/*
 * The record of k into rec; for a published key its blob id and, unless
 * the render defers it (packaging/render.h), its PEM.
 */
static int
record_of(struct dk_render *r, struct dk_git *g,
    const struct dk_records *seen, const char *domain,
    const struct dk_keyinfo *k, const struct dk_policy *pol,
    struct keyrec *rec)
{
	struct dk_record_opts o;
	char path[512];
	int rc;

	dk_record_opts_of(pol, &o);
	if (k->state == DK_STATE_REVOKED) {
		o.revoked = true;
		return dk_record_value_revoked(k->alg, &o, &rec->value);
	}
	if (dk_store_key_path(NULL, domain, k->selector, "private", path,
	    sizeof(path)) != 0)
		return -1;
	rc = dk_git_file_id(g, r->commit, path, rec->kid);
	if (rc == DK_ENOTFOUND)
		dk_error_set("commit %.12s lacks '%s' (keys.yaml names it, "
		    "state %s)", r->commit, path, dk_state_name(k->state));
	if (rc != 0)
		return -1;
	/* Deferred: the cache's record, the PEM read only if it builds. */
	if (!r->defer && dk_git_read_blob(g, rec->kid, path, &rec->pem,
	    &rec->pemlen) != 0)
		return -1;
	if ((rc = public_of(g, seen, path, rec)) == 0)
		rc = dk_record_value_pub(rec->alg, rec->pub, &o, &rec->value);
	if (rc != 0) {
		dk_secret_free(rec->pem, rec->pemlen);
		rec->pem = NULL;
	}
	return rc;
}

struct prep_args {
	struct dk_render	*r;
	struct dk_git		*g;
	const struct dk_records	*seen;
	struct prepared		*p;
};

static void
prepare_job(size_t i, void *arg)
{
	struct prep_args *a = arg;
	struct prepared *p = &a->p[i];
	const struct dk_keyinfo *k;
	char path[2048], *yaml = NULL;
	size_t j, len;
	int rc;

	if ((rc = dk_store_yaml_path(NULL, p->dc->name, path,
	    sizeof(path))) != 0)
		goto done;
	rc = dk_git_read_file(a->g, a->r->commit, path, &yaml, &len);
	if (rc == DK_ENOTFOUND) {
		rc = 0;
		goto done;
	}
	if (rc != 0)
		goto done;
	rc = dk_store_parse(yaml, len, path, p->dc->name, &p->dk);
	free(yaml);
	if (rc != 0)
		goto done;
	if ((p->rec = calloc(p->dk->n + 1, sizeof(*p->rec))) == NULL) {
		dk_error_set("out of memory");
		rc = -1;
		goto done;
	}
	for (j = 0; j < p->dk->n && rc == 0; j++) {
		k = &p->dk->keys[j];
		if (dk_state_published(k->state) ||
		    k->state == DK_STATE_REVOKED)
			rc = record_of(a->r, a->g, a->seen, p->dc->name, k,
			    &p->dc->policy, &p->rec[j]);
	}
done:
	p->rc = rc;
	/* NULL when out of memory: render_domain says so. */
	if (rc != 0)
		p->err = strdup(dk_error_last());
}

void
dk_render_prepared_clear(struct prepared *p, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; p[i].rec != NULL && j < p[i].dk->n; j++) {
			free(p[i].rec[j].value);
			free(p[i].rec[j].pub);
			dk_secret_free(p[i].rec[j].pem, p[i].rec[j].pemlen);
		}
		free(p[i].rec);
		dk_domain_keys_free(p[i].dk);
		free(p[i].err);
		p[i].rec = NULL;
		p[i].dk = NULL;
		p[i].err = NULL;
	}
}

void
dk_render_prepare(struct dk_render *r, struct dk_git *g,
    const struct dk_records *seen, struct prepared *p, size_t n)
{
	struct prep_args a = { r, g, seen, p };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	dk_pool_run(n, cores < 1 ? 1 : cores > 64 ? 64 : (int)cores,
	    prepare_job, &a);
}
