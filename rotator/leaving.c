/*
 * Domains that leave and are no longer configured (rotator/leaving.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/strlist.h"
#include "rotator/keys.h"
#include "rotator/leaving.h"
#include "rotator/store.h"

int
dk_leaving_load(const char *repo, const struct dk_config *cfg,
    struct dk_leaving *out, struct dk_strlist *unconfigured)
{
	struct dk_domain_keys *dk;
	struct dk_strlist names = { 0 };
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/*
	 * keys/ unreadable (a link, say): no leaving domain known.  The
	 * refusal is the planning's to report, domain by domain, as ever.
	 */
	if (dk_store_domains(repo, &names) != 0) {
		if (unconfigured != NULL)
			dk_log_warn("%s", dk_error_last());
		dk_error_clear();
		return 0;
	}
	if ((out->v = calloc(names.n + 1, sizeof(*out->v))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	for (i = 0; i < names.n; i++) {
		if (dk_config_domain(cfg, names.v[i]) != NULL)
			continue;
		dk = NULL;
		if (dk_store_load(repo, names.v[i], &dk) != 0 ||
		    dk->leaving == 0) {
			dk_domain_keys_free(dk);
			dk_error_clear();
			if (unconfigured != NULL &&
			    dk_strlist_add(unconfigured, names.v[i]) != 0)
				goto done;
			continue;
		}
		dk_domain_keys_free(dk);
		out->v[out->n].name = names.v[i];
		out->v[out->n].policy = cfg->defaults;
		names.v[i] = NULL;	/* out's now */
		out->n++;
	}
	rc = 0;
done:
	dk_strlist_dispose(&names);
	if (rc != 0)
		dk_leaving_dispose(out);
	return rc;
}

int
dk_leaving_add(struct dk_leaving *l, const struct dk_config *cfg,
    const char *name)
{
	struct dk_domain_conf *v;
	char *copy;

	if ((copy = strdup(name)) == NULL ||
	    (v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(copy);
		dk_error_set("out of memory");
		return -1;
	}
	l->v = v;
	memset(&v[l->n], 0, sizeof(v[l->n]));
	v[l->n].name = copy;
	v[l->n].policy = cfg->defaults;
	l->n++;
	return 0;
}

const struct dk_domain_conf *
dk_leaving_find(const struct dk_leaving *l, const char *domain)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, domain) == 0)
			return &l->v[i];
	return NULL;
}

void
dk_leaving_dispose(struct dk_leaving *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
