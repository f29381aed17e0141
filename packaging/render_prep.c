/*
 * Ahead of the render (packaging/render.c), on every core: each domain's
 * keys.yaml read from the commit and parsed, and each published or
 * revoked key's record derived from its private key.
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

/* The record value of k; a published key's PEM goes to *pem. */
static int
record_of(struct dk_render *r, struct dk_git *g, const char *domain,
    const struct dk_keyinfo *k, const struct dk_policy *pol, char **value,
    char **pem, size_t *pemlen)
{
	struct dk_record_opts o;
	struct dk_key *key = NULL;
	char path[512];
	int rc;

	dk_record_opts_of(pol, &o);
	*pem = NULL;
	if (k->state == DK_STATE_REVOKED) {
		o.revoked = true;
		return dk_record_value_revoked(k->alg, &o, value);
	}
	if (dk_store_key_path(NULL, domain, k->selector, "private", path,
	    sizeof(path)) != 0)
		return -1;
	rc = dk_git_read_file(g, r->commit, path, pem, pemlen);
	if (rc == DK_ENOTFOUND)
		dk_error_set("commit %.12s lacks '%s' (keys.yaml names it, "
		    "state %s)", r->commit, path, dk_state_name(k->state));
	if (rc != 0)
		return -1;
	if ((rc = dk_key_load_pem(&key, *pem, *pemlen, path)) == 0)
		rc = dk_record_value(key, &o, value);
	dk_key_free(key);
	if (rc != 0) {
		dk_secret_free(*pem, *pemlen);
		*pem = NULL;
	}
	return rc;
}

struct prep_args {
	struct dk_render	*r;
	struct dk_git		*g;
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
			rc = record_of(a->r, a->g, p->dc->name, k,
			    &p->dc->policy, &p->rec[j].value, &p->rec[j].pem,
			    &p->rec[j].pemlen);
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
dk_render_prepare(struct dk_render *r, struct dk_git *g, struct prepared *p,
    size_t n)
{
	struct prep_args a = { r, g, p };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	dk_pool_run(n, cores < 1 ? 1 : cores > 64 ? 64 : (int)cores,
	    prepare_job, &a);
}
