/*
 * TXT and SOA lookups at one name server with ldns.
 *
 * Why ldns and not libresolv (res_nquery): each query here names its own
 * server and port (ldns_resolver_push_nameserver, ldns_resolver_set_port;
 * libresolv takes them from _res/resolv.conf and an nscount array, port
 * per server only through the sockaddr hack); the EDNS0 buffer size is a
 * resolver setting (ldns_resolver_set_edns_udp_size; libresolv sets only
 * RES_USE_EDNS0 with its own size); the UDP/TCP choice is ours
 * (ldns_resolver_set_usevc), so TC handling is explicit and observable;
 * and there is no process-wide state: an ldns_resolver made with
 * ldns_resolver_new() reads no file and is freed after the query
 * (libresolv's res_query works on the global _res; res_nquery needs a
 * res_state that res_ninit fills from /etc/resolv.conf).  Query ids come
 * from ldns_get_random(), i.e. OpenSSL's RAND_bytes in Debian's build.
 *
 * Checked against ldns 1.8.3: ldns_send() does not compare the answer's
 * id or question with the query (net.c, ldns_send_buffer), and its own
 * TC fallback first retries UDP with EDNS0 before TCP (resolver.c,
 * ldns_resolver_send_pkt), so we switch fallback off, do TCP ourselves
 * and check id and question here.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "common/dktime.h"
#include "common/dns.h"
#include "common/error.h"

#define CNAME_MAX	8	/* aliases followed in one answer */

/* Decimal 1..65535, digits only. */
static int
parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
dk_dns_server_parse(const char *s, struct dk_dns_server *out)
{
	char host[INET6_ADDRSTRLEN + 1], astr[INET6_ADDRSTRLEN];
	const char *orig = s, *port = NULL, *end;
	size_t n;
	int n2;

	memset(out, 0, sizeof(*out));
	out->port = DK_DNS_PORT;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			goto bad;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			goto bad;
		s++;
		out->family = AF_INET6;
	} else if (inet_pton(AF_INET6, s, out->addr) == 1) {
		end = s + strlen(s);
		out->family = AF_INET6;
	} else {
		if ((end = strchr(s, ':')) != NULL)
			port = end + 1;
		else
			end = s + strlen(s);
		out->family = AF_INET;
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(out->family, host, out->addr) != 1)
		goto bad;
	if (port != NULL && parse_port(port, &out->port) == -1)
		goto bad;
	inet_ntop(out->family, out->addr, astr, sizeof(astr));
	n2 = snprintf(out->text, sizeof(out->text),
	    out->family == AF_INET6 ? "[%s]:%u" : "%s:%u", astr,
	    (unsigned)out->port);
	if (n2 < 0 || (size_t)n2 >= sizeof(out->text))
		goto bad;
	return 0;
bad:
	dk_error_set("bad name server '%s': expected ADDR, ADDR:PORT or "
	    "[IPV6]:PORT", orig);
	return DK_EUSAGE;
}

/* Our query names: LDH labels plus '_' (_domainkey), no escapes. */
static int
qname_check(const char *q)
{
	size_t n = strlen(q);
	const char *p;

	if (n > 0 && q[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		goto bad;
	for (p = q; p < q + n; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			goto bad;
	}
	return 0;
bad:
	dk_error_set("bad query name '%s'", q);
	return DK_EUSAGE;
}

static void
set_timeout(ldns_resolver *r, long long ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	ldns_resolver_set_timeout(r, tv);
}

static ldns_resolver *
resolver_new(const struct dk_dns_server *srv, uint16_t edns, bool rd)
{
	ldns_resolver *r;
	ldns_rdf *ns;

	if ((r = ldns_resolver_new()) == NULL)
		return NULL;
	ns = ldns_rdf_new_frm_data(srv->family == AF_INET6 ?
	    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
	    srv->family == AF_INET6 ? 16 : 4, srv->addr);
	/* push_nameserver() keeps a clone */
	if (ns == NULL || ldns_resolver_push_nameserver(r, ns) !=
	    LDNS_STATUS_OK) {
		ldns_rdf_deep_free(ns);
		ldns_resolver_deep_free(r);
		return NULL;
	}
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(r, srv->port);
	ldns_resolver_set_recursive(r, rd);
	ldns_resolver_set_edns_udp_size(r, edns);
	ldns_resolver_set_dnssec(r, false);
	ldns_resolver_set_fallback(r, false);	/* TCP is ours, below */
	ldns_resolver_set_usevc(r, false);
	ldns_resolver_set_retry(r, 1);		/* the time budget is ours */
	ldns_resolver_set_retrans(r, 0);
	ldns_resolver_set_random(r, false);
	ldns_resolver_set_fail(r, false);	/* keep the status, not ERR */
	ldns_resolver_set_ip6(r, LDNS_RESOLV_INETANY);
	return r;
}

/* The answer is to our question: same id, one question, same name. */
static bool
reply_matches(const ldns_pkt *q, const ldns_pkt *a)
{
	const ldns_rr_list *qq = ldns_pkt_question(q);
	const ldns_rr_list *aq = ldns_pkt_question(a);
	const ldns_rr *x, *y;

	if (ldns_pkt_id(q) != ldns_pkt_id(a) || !ldns_pkt_qr(a) ||
	    ldns_rr_list_rr_count(aq) != 1)
		return false;
	x = ldns_rr_list_rr(qq, 0);
	y = ldns_rr_list_rr(aq, 0);
	return ldns_rr_get_type(y) == ldns_rr_get_type(x) &&
	    ldns_rr_get_class(y) == ldns_rr_get_class(x) &&
	    ldns_dname_compare(ldns_rr_owner(y), ldns_rr_owner(x)) == 0;
}

/* One TXT RR's character-strings (RFC 1035 3.3.14) joined into one. */
static int
txt_join(const ldns_rr *rr, struct dk_dns_txt *t)
{
	const ldns_rdf *s;
	size_t i, len = 0;
	const uint8_t *d;
	char *p;

	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		s = ldns_rr_rdf(rr, i);
		d = ldns_rdf_data(s);
		if (ldns_rdf_get_type(s) != LDNS_RDF_TYPE_STR ||
		    ldns_rdf_size(s) < 1 || (size_t)d[0] + 1 > ldns_rdf_size(s))
			return -1;
		len += d[0];
	}
	if ((t->data = p = malloc(len + 1)) == NULL)
		return -1;
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		d = ldns_rdf_data(ldns_rr_rdf(rr, i));
		memcpy(p, d + 1, d[0]);
		p += d[0];
	}
	*p = '\0';
	t->len = len;
	t->ttl = ldns_rr_ttl(rr);
	return 0;
}

/*
 * The TXT records of the answer section for the last name of the CNAME
 * chain that starts at the question's name.
 */
static int
collect(const ldns_pkt *a, struct dk_dns_answer *out)
{
	const ldns_rr_list *an = ldns_pkt_answer(a);
	const ldns_rdf *cur;
	const ldns_rr *rr;
	size_t i, n = ldns_rr_list_rr_count(an);
	int hops;

	cur = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(a), 0));
	for (hops = 0; hops < CNAME_MAX; hops++) {
		for (i = 0; i < n; i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr), cur) == 0)
				break;
		}
		if (i == n)
			break;
		cur = ldns_rr_rdf(rr, 0);
	}
	if (n > 0 && (out->rrs = calloc(n, sizeof(*out->rrs))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
			continue;
		if (txt_join(rr, &out->rrs[out->nrrs]) == -1)
			return -1;
		out->nrrs++;
	}
	return 0;
}

/* Sends q over UDP or TCP with what is left of the budget. */
static ldns_status
exchange(ldns_resolver *r, ldns_pkt *q, bool tcp, long long left,
    ldns_pkt **a)
{
	*a = NULL;
	if (left <= 0)
		return LDNS_STATUS_NETWORK_ERR;
	ldns_resolver_set_usevc(r, tcp);
	set_timeout(r, left);
	return ldns_resolver_send_pkt(a, r, q);
}

/*
 * An rcode other than NOERROR and NXDOMAIN: SERVFAIL is worth asking
 * again later, REFUSED too for a TXT record (a resolver may refuse
 * while it starts, another server may answer); an authoritative server
 * that refuses a SOA query does not serve the zone.
 */
static int
rcode_error(const char *server, const char *qname, ldns_rr_type type,
    ldns_pkt_rcode rc)
{
	char *name = ldns_pkt_rcode2str(rc);

	dk_error_set("name server %s answered %s for '%s' %s", server,
	    name != NULL ? name : "an error", qname,
	    type == LDNS_RR_TYPE_SOA ? "SOA" : "TXT");
	free(name);
	return rc == LDNS_RCODE_SERVFAIL || (rc == LDNS_RCODE_REFUSED &&
	    type == LDNS_RR_TYPE_TXT) ? DK_ETEMP : -1;
}

/* Turns the rcode and the answer section into our result. */
static int
classify(const char *server, const char *qname, const ldns_pkt *a,
    struct dk_dns_answer *out)
{
	ldns_pkt_rcode rc = ldns_pkt_get_rcode(a);

	out->authoritative = ldns_pkt_aa(a);
	switch (rc) {
	case LDNS_RCODE_NOERROR:
		if (collect(a, out) == -1) {
			dk_error_set("cannot read the TXT answer of name "
			    "server %s for '%s'", server, qname);
			return -1;
		}
		if (out->nrrs > 0)
			return 0;
		free(out->rrs);
		out->rrs = NULL;
		dk_error_set("no TXT record for '%s' at name server %s",
		    qname, server);
		return DK_ENOTFOUND;
	case LDNS_RCODE_NXDOMAIN:
		out->nxdomain = true;
		dk_error_set("no such name '%s' at name server %s (NXDOMAIN)",
		    qname, server);
		return DK_ENOTFOUND;
	default:
		return rcode_error(server, qname, LDNS_RR_TYPE_TXT, rc);
	}
}

/*
 * One question to one server: UDP, and TCP again when the answer comes
 * back truncated, all within timeout_ms.  rd asks for recursion.  The
 * answer, which belongs to the question, in *out for the caller to free;
 * *tcp says whether TCP was needed.  The errors of dk_dns_txt(), the
 * message naming qname and type.
 */
static int
ask(const char *server, const char *qname, ldns_rr_type type, bool rd,
    int timeout_ms, uint16_t edns_size, ldns_pkt **out, bool *tcp)
{
	const char *tname = type == LDNS_RR_TYPE_SOA ? "SOA" : "TXT";
	struct dk_dns_server srv;
	ldns_resolver *r = NULL;
	ldns_pkt *q = NULL, *a = NULL;
	ldns_rdf *name = NULL;
	ldns_status st;
	long long start;
	int rc;

	*out = NULL;
	*tcp = false;
	if ((rc = dk_dns_server_parse(server, &srv)) != 0 ||
	    (rc = qname_check(qname)) != 0)
		return rc;
	if (timeout_ms <= 0) {
		dk_error_set("bad DNS timeout %d ms", timeout_ms);
		return DK_EUSAGE;
	}
	rc = -1;
	start = dk_clock_ms();
	if ((name = ldns_dname_new_frm_str(qname)) == NULL ||
	    (r = resolver_new(&srv, edns_size, rd)) == NULL ||
	    ldns_resolver_prepare_query_pkt(&q, r, name, type,
	    LDNS_RR_CLASS_IN, rd ? LDNS_RD : 0) != LDNS_STATUS_OK) {
		dk_error_set("cannot build the DNS query for '%s'", qname);
		goto done;
	}
	st = exchange(r, q, false, timeout_ms, &a);
	if (st == LDNS_STATUS_OK && a != NULL && ldns_pkt_tc(a) &&
	    reply_matches(q, a)) {
		/* RFC 7766 5: a truncated answer is asked again over TCP */
		ldns_pkt_free(a);
		*tcp = true;
		st = exchange(r, q, true, timeout_ms - (dk_clock_ms() - start),
		    &a);
	}
	rc = DK_ETEMP;
	if (st == LDNS_STATUS_NETWORK_ERR || (st == LDNS_STATUS_OK &&
	    a == NULL)) {
		dk_error_set("name server %s did not answer for '%s' %s%s "
		    "(timeout %d ms)", server, qname, tname, *tcp ?
		    " over TCP" : "", timeout_ms);
		goto done;
	}
	if (st != LDNS_STATUS_OK) {
		dk_error_set("name server %s did not answer for '%s' %s%s: "
		    "%s", server, qname, tname, *tcp ? " over TCP" : "",
		    ldns_get_errorstr_by_id(st));
		goto done;
	}
	if (!reply_matches(q, a) || ldns_pkt_tc(a)) {
		dk_error_set("name server %s sent an answer that does not "
		    "match the query for '%s' %s", server, qname, tname);
		goto done;
	}
	*out = a;
	a = NULL;
	rc = 0;
done:
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	ldns_rdf_deep_free(name);
	if (r != NULL)
		ldns_resolver_deep_free(r);
	return rc;
}

int
dk_dns_txt_edns(const char *server, const char *qname, int timeout_ms,
    uint16_t edns_size, struct dk_dns_answer *out)
{
	ldns_pkt *a = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ask(server, qname, LDNS_RR_TYPE_TXT, true, timeout_ms,
	    edns_size, &a, &out->tcp)) == 0)
		rc = classify(server, qname, a, out);
	if (rc != 0 && rc != DK_ENOTFOUND) {
		/* keep the flags, drop partial records */
		dk_dns_answer_dispose(out);
	}
	ldns_pkt_free(a);
	return rc;
}

/* The first SOA of a section whose owner is name, or any if name is NULL. */
static const ldns_rr *
find_soa(const ldns_rr_list *l, const ldns_rdf *name)
{
	const ldns_rr *rr;
	size_t i;

	for (i = 0; l != NULL && i < ldns_rr_list_rr_count(l); i++) {
		rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_rr_rd_count(rr) == 7 &&
		    (name == NULL ||
		    ldns_dname_compare(ldns_rr_owner(rr), name) == 0))
			return rr;
	}
	return NULL;
}

/* The SOA of the answer, else of the authority section (RFC 2308 3). */
static int
soa_read(const char *server, const char *qname, const ldns_pkt *a,
    struct dk_dns_soa *out)
{
	const ldns_rdf *q = ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(a), 0));
	const ldns_rdf *serial;
	const ldns_rr *soa;
	char *z;
	size_t n;

	out->authoritative = ldns_pkt_aa(a);
	if (ldns_pkt_get_rcode(a) != LDNS_RCODE_NOERROR &&
	    ldns_pkt_get_rcode(a) != LDNS_RCODE_NXDOMAIN)
		return rcode_error(server, qname, LDNS_RR_TYPE_SOA,
		    ldns_pkt_get_rcode(a));
	if ((soa = find_soa(ldns_pkt_answer(a), q)) != NULL)
		out->apex = true;
	else if ((soa = find_soa(ldns_pkt_authority(a), NULL)) == NULL) {
		dk_error_set("name server %s is not authoritative for '%s' "
		    "(no SOA in its answer)", server, qname);
		return DK_ENOTFOUND;
	}
	serial = ldns_rr_rdf(soa, 2);
	if (ldns_rdf_get_type(serial) != LDNS_RDF_TYPE_INT32 ||
	    (z = ldns_rdf2str(ldns_rr_owner(soa))) == NULL) {
		dk_error_set("cannot read the SOA answer of name server %s "
		    "for '%s'", server, qname);
		return -1;
	}
	out->serial = ldns_rdf2native_int32(serial);
	n = strlen(z);
	if (n > 1 && z[n - 1] == '.')
		z[--n] = '\0';
	n = (size_t)snprintf(out->zone, sizeof(out->zone), "%s", z);
	free(z);
	if (n >= sizeof(out->zone)) {
		dk_error_set("zone name too long in the SOA answer of name "
		    "server %s for '%s'", server, qname);
		return -1;
	}
	return 0;
}

int
dk_dns_soa(const char *server, const char *name, int timeout_ms,
    struct dk_dns_soa *out)
{
	ldns_pkt *a = NULL;
	bool tcp;
	int rc;

	memset(out, 0, sizeof(*out));
	/* No recursion: the server's own zone, not a resolver's cache. */
	if ((rc = ask(server, name, LDNS_RR_TYPE_SOA, false, timeout_ms,
	    DK_DNS_EDNS_SIZE, &a, &tcp)) == 0)
		rc = soa_read(server, name, a, out);
	ldns_pkt_free(a);
	return rc;
}

int
dk_dns_txt(const char *server, const char *qname, int timeout_ms,
    struct dk_dns_answer *out)
{
	return dk_dns_txt_edns(server, qname, timeout_ms, DK_DNS_EDNS_SIZE,
	    out);
}

void
dk_dns_answer_dispose(struct dk_dns_answer *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nrrs; i++)
		free(a->rrs[i].data);
	free(a->rrs);
	a->rrs = NULL;
	a->nrrs = 0;
}
