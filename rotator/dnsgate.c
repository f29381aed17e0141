#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/dns.h"
#include "common/error.h"
#include "keygen/key.h"
#include "rotator/dnsgate.h"
#include "rotator/store.h"

#define DNSGATE_TIMEOUT_MS	3000

/*
 * 1 when the answer is the key's record and nothing else: a verifier
 * picks any TXT record at the name, so a second one (another key, a
 * leftover) would fail some of the mail signed with this key.
 */
static int
served(const struct dk_dns_answer *ans, const struct dk_key *key)
{
	struct dk_record rec;
	int ok;

	if (ans->nrrs != 1)
		return 0;
	if (dk_record_parse(ans->rrs[0].data, ans->rrs[0].len, &rec) != 0)
		return 0;
	ok = dk_key_matches_record(key, &rec) == 0;
	dk_record_dispose(&rec);
	return ok;
}

int
dk_dnsgate_check(const struct dk_config *cfg, const char *repo,
    const char *domain, struct dk_keyinfo *k, char *why, size_t whylen)
{
	struct dk_key *key = NULL;
	char path[PATH_MAX];
	int rc;

	why[0] = '\0';
	if (dk_store_key_path(repo, domain, k->selector, "private", path,
	    sizeof(path)) != 0 || dk_key_load(&key, path) != 0)
		return -1;
	rc = dk_dnsgate_check_key(cfg, domain, k->selector, key, &k->dns, why,
	    whylen);
	dk_key_free(key);
	return rc;
}

int
dk_dnsgate_check_key(const struct dk_config *cfg, const char *domain,
    const char *sel, const struct dk_key *key, enum dk_dns *dns, char *why,
    size_t whylen)
{
	struct dk_dns_answer ans;
	char qname[DK_SELECTOR_MAX + DK_DOMAIN_MAX + 16];
	size_t i;
	int n, rc;

	why[0] = '\0';
	/* ldns writes to TCP sockets without MSG_NOSIGNAL (common/dns.h). */
	signal(SIGPIPE, SIG_IGN);
	n = snprintf(qname, sizeof(qname), "%s._domainkey.%s", sel, domain);
	if (n < 0 || (size_t)n >= sizeof(qname)) {
		dk_error_set("name too long: '%s._domainkey.%s'", sel, domain);
		return -1;
	}
	*dns = DK_DNS_OK;
	for (i = 0; i < cfg->nnameservers; i++) {
		memset(&ans, 0, sizeof(ans));
		rc = dk_dns_txt(cfg->nameservers[i], qname, DNSGATE_TIMEOUT_MS,
		    &ans);
		if (rc == DK_ENOTFOUND) {
			snprintf(why, whylen, "name server %s has no TXT "
			    "record '%s'", cfg->nameservers[i], qname);
			*dns = DK_DNS_MISSING;
		} else if (rc != 0)
			return rc;
		else if (!served(&ans, key)) {
			snprintf(why, whylen, "name server %s serves %zu TXT "
			    "record%s at '%s', not exactly this key's",
			    cfg->nameservers[i], ans.nrrs,
			    ans.nrrs == 1 ? "" : "s", qname);
			*dns = DK_DNS_MISSING;
		}
		dk_dns_answer_dispose(&ans);
		if (*dns == DK_DNS_MISSING)
			break;
	}
	return 0;
}
