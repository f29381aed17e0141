/*
 * `dkimrot check --milter` (docs/design.md §12): the proof through the
 * real signer.  Each running signing milter is handed a test message from
 * every domain, as the MTA would hand it one; every DKIM-Signature it
 * adds is verified with libopendkim against the record each configured
 * name server serves for its selector.  The selector must be an active
 * key's, and every active key of the domain must have signed through one
 * of the milters (a dual domain: both).  A milter that cannot be reached,
 * tempfails, rejects, or signs with any other key is CRITICAL, with its
 * own reply in the message.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "check/dkim.h"
#include "check/milter.h"
#include "common/buf.h"
#include "common/dns.h"
#include "common/error.h"
#include "rotator/keys.h"
#include "rotator/store.h"

struct mrun {
	const struct dk_check_opts *opts;
	struct dk_check_report	*rep;
	size_t			 cap;
	time_t			 now;
};

static struct dk_check_result *
result(struct mrun *w, const char *domain, const struct dk_keyinfo *k,
    int server, enum dk_check_status st)
{
	struct dk_check_result *r;

	r = dk_check_result_add(w->rep, &w->cap, domain, k, server, w->now);
	if (r != NULL)
		r->status = st;
	return r;
}

/* The value of tag t= of a DKIM-Signature (RFC 6376 3.2), unfolded. */
static int
sig_tag(const char *v, const char *t, char *out, size_t len)
{
	size_t tl = strlen(t), n;
	const char *p = v, *e;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (strncmp(p, t, tl) == 0) {
			e = p + tl;
			while (*e == ' ' || *e == '\t' || *e == '\r' ||
			    *e == '\n')
				e++;
			if (*e == '=') {
				e++;
				for (n = 0; *e != '\0' && *e != ';'; e++) {
					if (*e == ' ' || *e == '\t' ||
					    *e == '\r' || *e == '\n')
						continue;
					if (n + 1 >= len)
						return -1;
					out[n++] = *e;
				}
				out[n] = '\0';
				return 0;
			}
		}
		if ((p = strchr(p, ';')) == NULL)
			break;
		p++;
	}
	return -1;
}

/* s with every bare LF made CRLF, appended to b */
static int
crlf(struct dk_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n' && (b->len == 0 ||
		    b->data[b->len - 1] != '\r') &&
		    dk_buf_append(b, "\r", 1) != 0)
			return -1;
		if (dk_buf_append(b, s, 1) != 0)
			return -1;
	}
	return 0;
}

#define NHDRS	5

struct testmsg {
	char		 from[320], to[320], subject[320], date[64], msgid[320];
	const char	*names[NHDRS];
	const char	*values[NHDRS];
	char		 mail_from[320];
	struct dk_milter_msg m;
};

static const char body[] =
    "This message was handed to the signing milter by dkimrot check\r\n"
    "--milter, and its signature verified against the name servers.\r\n";

static void
make_msg(struct testmsg *t, const char *domain, time_t now)
{
	time_t t0 = time(NULL);

	(void)now;
	snprintf(t->from, sizeof(t->from), "dkimrot check <postmaster@%s>",
	    domain);
	snprintf(t->to, sizeof(t->to), "<postmaster@%s>", domain);
	snprintf(t->subject, sizeof(t->subject), "dkimrot check --milter "
	    "of %s", domain);
	dk_dkim_date(t0, t->date, sizeof(t->date));
	snprintf(t->msgid, sizeof(t->msgid), "<dkimrot-check.%lld.%ld@%s>",
	    (long long)t0, (long)getpid(), domain);
	snprintf(t->mail_from, sizeof(t->mail_from), "<postmaster@%s>",
	    domain);
	t->names[0] = "From";
	t->values[0] = t->from;
	t->names[1] = "To";
	t->values[1] = t->to;
	t->names[2] = "Subject";
	t->values[2] = t->subject;
	t->names[3] = "Date";
	t->values[3] = t->date;
	t->names[4] = "Message-ID";
	t->values[4] = t->msgid;
	memset(&t->m, 0, sizeof(t->m));
	/* A client in OpenDKIM's default InternalHosts: it signs. */
	t->m.client_addr = "127.0.0.1";
	t->m.helo = "localhost";
	t->m.mail_from = t->mail_from;
	t->m.rcpt_to = t->to;
	t->m.hdr_names = t->names;
	t->m.hdr_values = t->values;
	t->m.nhdrs = NHDRS;
	t->m.body = body;
}

/* The message as the MTA would send it on: the signature, then ours. */
static int
signed_msg(struct dk_buf *b, const struct testmsg *t, const char *sig)
{
	size_t i;

	b->len = 0;
	if (dk_buf_puts(b, "DKIM-Signature: ") != 0 || crlf(b, sig) != 0 ||
	    dk_buf_puts(b, "\r\n") != 0)
		return -1;
	for (i = 0; i < NHDRS; i++)
		if (dk_buf_printf(b, "%s: %s\r\n", t->names[i],
		    t->values[i]) != 0)
			return -1;
	return dk_buf_printf(b, "\r\n%s", body);
}

/* One signature of an active key, against every name server. */
static int
verify_sig(struct mrun *w, const char *spec, const char *domain,
    const struct dk_keyinfo *k, const struct dk_buf *msg)
{
	const struct dk_check_opts *o = w->opts;
	struct dk_check_result *r;
	struct dk_dns_answer a;
	char qname[DK_SELECTOR_MAX + DK_DOMAIN_MAX + 16];
	size_t s;
	int rc;

	snprintf(qname, sizeof(qname), "%s._domainkey.%s", k->selector,
	    domain);
	for (s = 0; s < o->nservers; s++) {
		if ((r = result(w, domain, k, (int)s, DK_CHECK_OK)) == NULL)
			return -1;
		rc = dk_dns_txt(o->servers[s].text, qname, o->timeout_ms, &a);
		if (rc == 0 && a.nrrs != 1) {
			dk_error_set("%zu TXT records at '%s', not one",
			    a.nrrs, qname);
			rc = DK_EMISMATCH;
		} else if (rc == 0)
			rc = dk_dkim_verify(msg->data, msg->len, k->alg,
			    a.rrs[0].data, a.rrs[0].len);
		else if (rc == DK_ENOTFOUND)
			dk_error_set("no TXT record at '%s'", qname);
		dk_dns_answer_dispose(&a);
		if (rc == 0)
			snprintf(r->message, sizeof(r->message), "milter '%s' "
			    "signs with it; the signature verifies", spec);
		else {
			r->status = DK_CHECK_CRITICAL;
			snprintf(r->message, sizeof(r->message), "milter '%s' "
			    "signs with it; the signature does not verify: %s",
			    spec, dk_error_last());
		}
	}
	return 0;
}

/* What one milter did with the domain's message. */
static int
one_milter(struct mrun *w, const char *spec, const struct testmsg *t,
    const struct dk_domain_keys *dk, bool *signed_by, struct dk_buf *why)
{
	struct dk_milter_result mr;
	struct dk_check_result *r;
	const struct dk_keyinfo *k;
	struct dk_buf msg = { 0 };
	char sel[DK_SELECTOR_MAX + 2], d[DK_DOMAIN_MAX + 2];
	size_t i, j, nsig = 0;
	int rc;

	if ((rc = dk_milter_run(spec, &t->m, w->opts->timeout_ms, &mr)) != 0) {
		if (rc == DK_EUSAGE)
			return rc;
		if ((r = result(w, dk->domain, NULL, -1,
		    DK_CHECK_CRITICAL)) == NULL)
			return -1;
		snprintf(r->message, sizeof(r->message), "%s",
		    dk_error_last());
		return dk_buf_printf(why, "%s'%s': no answer", why->len ?
		    ", " : "", spec);
	}
	rc = -1;
	if (mr.verdict != 'a' && mr.verdict != 'c') {
		if ((r = result(w, dk->domain, NULL, -1,
		    DK_CHECK_CRITICAL)) == NULL)
			goto done;
		snprintf(r->message, sizeof(r->message), "milter '%s' did not "
		    "take the message: %s", spec, mr.reply);
	}
	for (i = 0; i < mr.nadded; i++) {
		if (strcasecmp(mr.added[i].name, "DKIM-Signature") != 0)
			continue;
		nsig++;
		if (sig_tag(mr.added[i].value, "s", sel, sizeof(sel)) != 0 ||
		    sig_tag(mr.added[i].value, "d", d, sizeof(d)) != 0)
			sel[0] = d[0] = '\0';
		for (j = 0, k = NULL; j < dk->n; j++)
			if (strcmp(dk->keys[j].selector, sel) == 0)
				k = &dk->keys[j];
		if (strcasecmp(d, dk->domain) != 0 || k == NULL ||
		    k->state != DK_STATE_ACTIVE) {
			if ((r = result(w, dk->domain, k, -1,
			    DK_CHECK_CRITICAL)) == NULL)
				goto done;
			snprintf(r->message, sizeof(r->message), "milter '%s' "
			    "signs with d=%s s=%s, %s%s", spec, d, sel,
			    k == NULL ? "not a key of the domain" :
			    "a key that is ", k == NULL ? "" :
			    dk_state_name(k->state));
			continue;
		}
		signed_by[k - dk->keys] = true;
		if (signed_msg(&msg, t, mr.added[i].value) != 0) {
			dk_error_set("out of memory");
			goto done;
		}
		if (verify_sig(w, spec, dk->domain, k, &msg) != 0)
			goto done;
	}
	if (dk_buf_printf(why, "%s'%s': %s, %zu signature%s", why->len ?
	    ", " : "", spec, mr.reply, nsig, nsig == 1 ? "" : "s") != 0)
		goto done;
	rc = 0;
done:
	dk_buf_dispose(&msg);
	dk_milter_result_dispose(&mr);
	return rc;
}

static int
one_domain(struct mrun *w, const char *repo, const char *domain,
    char *const *milters, size_t nmilters)
{
	struct dk_domain_keys *dk = NULL;
	struct dk_check_result *r;
	struct dk_buf why = { 0 };
	struct testmsg t;
	bool *signed_by = NULL;
	size_t i;
	int rc = -1;

	if (dk_store_load(repo, domain, &dk) != 0) {
		if ((r = result(w, domain, NULL, -1, DK_CHECK_UNKNOWN)) ==
		    NULL)
			return -1;
		snprintf(r->message, sizeof(r->message), "%s",
		    dk_error_last());
		return 0;
	}
	if ((signed_by = calloc(dk->n + 1, sizeof(*signed_by))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	make_msg(&t, domain, w->now);
	for (i = 0; i < nmilters; i++)
		if ((rc = one_milter(w, milters[i], &t, dk, signed_by,
		    &why)) != 0)
			goto done;
	rc = -1;
	for (i = 0; i < dk->n; i++) {
		if (dk->keys[i].state != DK_STATE_ACTIVE || signed_by[i])
			continue;
		if ((r = result(w, domain, &dk->keys[i], -1,
		    DK_CHECK_CRITICAL)) == NULL)
			goto done;
		snprintf(r->message, sizeof(r->message), "active key, but no "
		    "milter signs with it (%s)", why.data);
	}
	rc = 0;
done:
	dk_buf_dispose(&why);
	free(signed_by);
	dk_domain_keys_free(dk);
	return rc;
}

int
dk_check_milter(const char *repo, const struct dk_config *cfg,
    char *const *domains, size_t ndomains, char *const *milters,
    size_t nmilters, const struct dk_check_opts *opts, time_t now,
    struct dk_check_report *rep)
{
	struct mrun w = { opts, rep, rep->n, now };
	size_t i, n = ndomains ? ndomains : cfg->ndomains;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = one_domain(&w, repo, ndomains ? domains[i] :
		    cfg->domains[i].name, milters, nmilters)) != 0)
			return rc;
	memset(rep->counts, 0, sizeof(rep->counts));
	rep->status = DK_CHECK_OK;
	for (i = 0; i < rep->n; i++) {
		rep->counts[rep->results[i].status]++;
		rep->status = dk_check_worse(rep->status,
		    rep->results[i].status);
	}
	return 0;
}
