#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/dkim.h"
#include "check/probe.h"
#include "common/dktime.h"
#include "common/dns.h"
#include "common/error.h"
#include "common/file.h"
#include "common/secret.h"
#include "common/tree.h"
#include "keygen/key.h"
#include "rotator/store.h"

/* Largest private key file we read: a 4096-bit PEM is about 3.3 kB. */
#define PEM_MAX	(64 * 1024)

/*
 * Is the served p= the public half of our private key, and (active
 * keys) does libopendkim verify what that key signs against the record
 * exactly as served?  rec is the parsed form of raw.
 */
static void
match_key(struct dk_probe *p, const struct dk_record *rec,
    const struct dk_dns_txt *raw)
{
	struct dk_check_result *r = p->out;
	struct dk_key *key = NULL;
	char path[PATH_MAX], rel[PATH_MAX], *pem = NULL;
	size_t len = 0;
	int rc;

	if (dk_store_key_path(p->repo, r->domain, r->selector, "private",
	    path, sizeof(path)) != 0 ||
	    dk_store_key_path(NULL, r->domain, r->selector, "private", rel,
	    sizeof(rel)) != 0) {
		dk_check_verdict(r, DK_CHECK_UNKNOWN, "path of the private "
		    "key is too long");
		return;
	}
	/* Below the repository: no link followed (common/tree.h). */
	if (dk_tree_read(p->repo, rel, PEM_MAX, &pem, &len) != 0 ||
	    dk_key_load_pem(&key, pem, len, path) != 0) {
		dk_check_verdict(r, DK_CHECK_UNKNOWN, "%s", dk_error_last());
		goto done;
	}
	if (dk_key_alg(key) != p->key->alg) {
		dk_check_verdict(r, DK_CHECK_UNKNOWN, "private key '%s' is "
		    "%s, keys.yaml says %s", path,
		    dk_alg_name(dk_key_alg(key)), dk_alg_name(p->key->alg));
		goto done;
	}
	if ((rc = dk_key_matches_record(key, rec)) == DK_EMISMATCH) {
		dk_check_verdict(r, DK_CHECK_CRITICAL, "p= does not match "
		    "the private key");
		goto done;
	} else if (rc != 0) {
		dk_check_verdict(r, DK_CHECK_UNKNOWN, "%s", dk_error_last());
		goto done;
	}
	if (p->key->state != DK_STATE_ACTIVE) {
		dk_check_verdict(r, DK_CHECK_OK, "%s; p= matches the private "
		    "key", dk_state_name(p->key->state));
		goto done;
	}
	rc = dk_dkim_selftest(r->domain, r->selector, p->key->alg, pem, len,
	    raw->data, raw->len);
	if (rc == 0)
		dk_check_verdict(r, DK_CHECK_OK, "active; libopendkim "
		    "verified a signature made with the private key");
	else if (rc == DK_DKIM_ENOALG)
		dk_check_verdict(r, DK_CHECK_OK, "active; p= matches the "
		    "private key (this libopendkim cannot verify %s)",
		    dk_alg_name(p->key->alg));
	else if (rc == DK_EMISMATCH)
		dk_check_verdict(r, DK_CHECK_CRITICAL, "libopendkim did not "
		    "verify a signature made with the private key: %s",
		    dk_error_last());
	else
		dk_check_verdict(r, DK_CHECK_UNKNOWN, "%s", dk_error_last());
done:
	dk_key_free(key);
	if (pem != NULL) {
		dk_secret_wipe(pem, len);
		free(pem);
	}
}

/* The verdict on the records a server returned for a key in DNS. */
static void
judge(struct dk_probe *p, const struct dk_dns_answer *ans)
{
	struct dk_check_result *r = p->out;
	struct dk_record rec;
	const char *k, *alg = dk_alg_name(p->key->alg);

	if (p->key->state == DK_STATE_RETIRED) {
		dk_check_verdict(r, DK_CHECK_WARNING, "retired key is still "
		    "served");
		return;
	}
	/* RFC 6376 3.6.2.2: a verifier may use any of several records. */
	if (ans->nrrs > 1) {
		dk_check_verdict(r, DK_CHECK_CRITICAL, "%zu TXT records at "
		    "the name; a verifier may use any of them", ans->nrrs);
		return;
	}
	if (dk_record_parse(ans->rrs[0].data, ans->rrs[0].len, &rec) != 0) {
		dk_check_verdict(r, DK_CHECK_CRITICAL, "%s", dk_error_last());
		return;
	}
	k = rec.k != NULL ? rec.k : "rsa";
	if (p->key->state == DK_STATE_REVOKED) {
		/* RFC 6376 3.6.1: an empty p= means revoked */
		if (rec.p[0] == '\0')
			dk_check_verdict(r, DK_CHECK_OK, "revoked; served "
			    "with p= empty");
		else
			dk_check_verdict(r, DK_CHECK_CRITICAL, "revoked key "
			    "is served with a p=; it must be empty");
	} else if (strcmp(k, alg) != 0)
		dk_check_verdict(r, DK_CHECK_CRITICAL, "record has k=%.40s, "
		    "the key is %s", k, alg);
	else if (rec.p[0] == '\0')
		dk_check_verdict(r, DK_CHECK_CRITICAL, "served as revoked "
		    "(p= empty), the key is %s", dk_state_name(p->key->state));
	else
		match_key(p, &rec, &ans->rrs[0]);
	dk_record_dispose(&rec);
}

/* No record: a problem, but a pending key may still be on its way. */
static void
missing(struct dk_probe *p, const struct dk_dns_answer *ans)
{
	const char *why = ans->nxdomain ? "no such name (NXDOMAIN)" :
	    "no TXT record at the name";
	char left[32];

	if (p->key->state != DK_STATE_PENDING || p->lead_left <= 0) {
		dk_check_verdict(p->out, DK_CHECK_CRITICAL, "not served: %s",
		    why);
		return;
	}
	dk_duration_format(p->lead_left, left, sizeof(left));
	dk_check_verdict(p->out, DK_CHECK_WARNING, "not served: %s; due to "
	    "sign in %s", why, left);
}

void
dk_probe_run(struct dk_probe *p)
{
	struct dk_check_result *r = p->out;
	struct dk_dns_answer ans;
	char qname[DK_SELECTOR_MAX + DK_DOMAIN_MAX + 16];
	long long start;
	int n, rc;

	memset(&ans, 0, sizeof(ans));
	n = snprintf(qname, sizeof(qname), "%s._domainkey.%s", r->selector,
	    r->domain);
	if (n < 0 || (size_t)n >= sizeof(qname)) {
		dk_check_verdict(r, DK_CHECK_UNKNOWN, "name too long");
		return;
	}
	if (atomic_load(p->silent)) {
		dk_check_verdict(r, DK_CHECK_CRITICAL, "did not answer in %d "
		    "ms", p->timeout_ms);
		return;
	}
	start = dk_clock_ms();
	rc = dk_dns_txt(p->server->text, qname, p->timeout_ms, &ans);
	if (rc == DK_ETEMP && dk_clock_ms() - start >= p->timeout_ms) {
		atomic_store(p->silent, 1);
		dk_check_verdict(r, DK_CHECK_CRITICAL, "did not answer in %d "
		    "ms", p->timeout_ms);
	} else if (rc == DK_ENOTFOUND && p->key->state == DK_STATE_RETIRED)
		dk_check_verdict(r, DK_CHECK_OK, "retired; not served");
	else if (rc == DK_ENOTFOUND)
		missing(p, &ans);
	else if (rc != 0)
		/* SERVFAIL, REFUSED, FORMERR...: the lookup's own words */
		dk_check_verdict(r, DK_CHECK_CRITICAL, "%s", dk_error_last());
	else
		judge(p, &ans);
	dk_dns_answer_dispose(&ans);
}
