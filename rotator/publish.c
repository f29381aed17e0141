/*
 * dns.publish rfc2136 (docs/design.md §13): the primary is made to serve
 * exactly what keys.yaml says.  Every name a domain's keys ever had is
 * asked for; a published or revoked key's name must hold its record and
 * nothing else, a retired key's name nothing.  Whatever differs is put
 * right in one TSIG-signed update per domain, which the primary applies
 * whole or not at all.  Reconciling rather than sending what a run
 * changed means a run killed between its commit and its update is
 * completed by the next, which reconciles before it plans.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/dns.h"
#include "common/dns_update.h"
#include "common/error.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/strlist.h"
#include "keygen/key.h"
#include "rotator/keys.h"
#include "rotator/publish.h"
#include "rotator/store.h"

#define PUBLISH_TIMEOUT_MS	5000

struct want {
	char	 name[DK_SELECTOR_MAX + DK_DOMAIN_MAX + 16];
	char	*value;		/* NULL: no record */
};

/* The record k must have at its name, from its private key. */
static int
want_of(const char *repo, const char *domain, const struct dk_policy *pol,
    const struct dk_keyinfo *k, char **value)
{
	struct dk_record_opts o;
	struct dk_key *key = NULL;
	char path[PATH_MAX];
	int rc;

	*value = NULL;
	memset(&o, 0, sizeof(o));
	o.restrict_email = pol->restrict_email;
	o.testmode = pol->testmode;
	if (k->state == DK_STATE_REVOKED) {
		o.revoked = true;
		return dk_record_value_revoked(k->alg, &o, value);
	}
	if (!dk_state_published(k->state))
		return 0;
	if (dk_store_key_path(repo, domain, k->selector, "private", path,
	    sizeof(path)) != 0 || dk_key_load(&key, path) != 0)
		return -1;
	rc = dk_record_value(key, &o, value);
	dk_key_free(key);
	return rc;
}

/* 1 when the primary serves exactly w, 0 when not, < 0 on error. */
static int
serves(const char *primary, const struct want *w)
{
	struct dk_dns_answer ans;
	int rc;

	memset(&ans, 0, sizeof(ans));
	rc = dk_dns_txt(primary, w->name, PUBLISH_TIMEOUT_MS, &ans);
	if (rc == DK_ENOTFOUND)
		rc = w->value == NULL;
	else if (rc == 0)
		rc = w->value != NULL && ans.nrrs == 1 &&
		    strlen(w->value) == ans.rrs[0].len &&
		    memcmp(w->value, ans.rrs[0].data, ans.rrs[0].len) == 0;
	dk_dns_answer_dispose(&ans);
	return rc;
}

static int
reconcile(const struct dk_config *cfg, const char *repo,
    const struct dk_dns_tsig *key, const char *domain)
{
	const struct dk_domain_conf *dc = dk_config_domain(cfg, domain);
	const struct dk_policy *pol = dc != NULL ? &dc->policy :
	    &cfg->defaults;
	struct dk_domain_keys *dk = NULL;
	struct dk_dns_change *ch = NULL;
	struct want *w = NULL;
	char zone[DK_DOMAIN_MAX + 16], apex[DK_DOMAIN_MAX + 16];
	size_t i, nch = 0;
	int rc, same;

	if ((rc = dk_store_load(repo, domain, &dk)) != 0)
		return rc;
	rc = -1;
	if ((w = calloc(dk->n + 1, sizeof(*w))) == NULL ||
	    (ch = calloc(dk->n + 1, sizeof(*ch))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	for (i = 0; i < dk->n; i++) {
		snprintf(w[i].name, sizeof(w[i].name), "%s._domainkey.%s",
		    dk->keys[i].selector, domain);
		if (want_of(repo, domain, pol, &dk->keys[i], &w[i].value) != 0)
			goto done;
		if ((same = serves(cfg->primary, &w[i])) < 0) {
			rc = same;
			goto done;
		}
		if (same == 1)
			continue;
		ch[nch].name = w[i].name;
		ch[nch].values = (const char *const *)&w[i].value;
		ch[nch].nvalues = w[i].value != NULL;
		ch[nch].ttl = pol->ttl;
		nch++;
	}
	if (nch == 0) {
		rc = 0;
		goto done;
	}
	snprintf(apex, sizeof(apex), "_domainkey.%s", domain);
	if ((rc = dk_dns_zone_of(cfg->primary, apex, PUBLISH_TIMEOUT_MS, zone,
	    sizeof(zone))) != 0 ||
	    (rc = dk_dns_update(cfg->primary, zone, key, ch, nch,
	    PUBLISH_TIMEOUT_MS)) != 0)
		goto done;
	DK_FAULT("after-update");
	dk_log_info("%s: %zu name%s updated in zone '%s' at %s", domain, nch,
	    nch == 1 ? "" : "s", zone, cfg->primary);
	rc = 0;
done:
	for (i = 0; w != NULL && i < dk->n; i++)
		free(w[i].value);
	free(w);
	free(ch);
	dk_domain_keys_free(dk);
	return rc;
}

/* The key's file must not be below the repository, which is cloned. */
static int
outside(const char *repo, const char *file)
{
	char r[PATH_MAX], f[PATH_MAX];
	size_t n;

	if (realpath(repo, r) == NULL || realpath(file, f) == NULL)
		return 0;	/* dk_dns_tsig_load() says why */
	n = strlen(r);
	if (strncmp(r, f, n) == 0 && (f[n] == '/' || f[n] == '\0')) {
		dk_error_set("refusing TSIG key file '%s': it is inside the "
		    "key repository, and every clone would hold it; keep it "
		    "outside", file);
		return DK_EUSAGE;
	}
	return 0;
}

int
dk_publish_run(const struct dk_config *cfg, const char *repo)
{
	struct dk_dns_tsig key;
	struct dk_strlist names = { 0 };
	size_t i;
	int rc, failed = 0;

	if (cfg->dns_publish != DK_PUBLISH_RFC2136)
		return 0;
	if ((rc = outside(repo, cfg->tsig_key_file)) != 0 ||
	    (rc = dk_dns_tsig_load(cfg->tsig_key_file, &key)) != 0)
		return rc;
	if ((rc = dk_store_domains(repo, &names)) != 0)
		goto done;
	for (i = 0; i < names.n; i++) {
		if ((rc = reconcile(cfg, repo, &key, names.v[i])) == 0)
			continue;
		dk_log_error("%s: %s", names.v[i], dk_error_last());
		/* Down: the next run sends it all (exit 75, not 1). */
		if (rc == DK_ETEMP) {
			dk_error_set("the primary %s cannot be reached; what "
			    "keys.yaml says goes out with the next run",
			    cfg->primary);
			goto done;
		}
		failed = 1;
	}
	rc = 0;
	if (failed) {
		dk_error_set("the primary %s does not serve what keys.yaml "
		    "says", cfg->primary);
		rc = -1;
	}
done:
	dk_dns_tsig_wipe(&key);
	dk_strlist_dispose(&names);
	return rc;
}
