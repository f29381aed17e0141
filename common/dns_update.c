#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ldns/ldns.h>

#include "common/dns.h"
#include "common/dns_update.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/secret.h"

#define TSIG_FUDGE	300	/* seconds of clock skew (RFC 8945 5.2.3) */
#define TSIG_FILE_MAX	4096

void
dk_dns_tsig_wipe(struct dk_dns_tsig *k)
{
	if (k != NULL)
		dk_secret_wipe(k, sizeof(*k));
}

/* ALG:NAME:SECRET into k, each part checked; line is wiped by the caller. */
static int
tsig_parse(const char *path, char *line, struct dk_dns_tsig *k)
{
	char *name, *secret, *end;
	size_t i;

	end = line + strcspn(line, "\r\n");
	*end = '\0';
	if ((name = strchr(line, ':')) == NULL ||
	    (secret = strchr(name + 1, ':')) == NULL)
		goto bad;
	*name++ = '\0';
	*secret++ = '\0';
	for (i = 0; secret[i] != '\0'; i++)
		if (!(isalnum((unsigned char)secret[i]) || secret[i] == '+' ||
		    secret[i] == '/' || secret[i] == '='))
			goto bad;
	for (i = 0; name[i] != '\0'; i++)
		if (!(isalnum((unsigned char)name[i]) || name[i] == '-' ||
		    name[i] == '.' || name[i] == '_'))
			goto bad;
	if (*line == '\0' || *name == '\0' || *secret == '\0' ||
	    snprintf(k->alg, sizeof(k->alg), "%s%s", line,
	    line[strlen(line) - 1] == '.' ? "" : ".") >= (int)sizeof(k->alg) ||
	    snprintf(k->name, sizeof(k->name), "%s%s", name,
	    name[strlen(name) - 1] == '.' ? "" : ".") >= (int)sizeof(k->name) ||
	    snprintf(k->secret, sizeof(k->secret), "%s", secret) >=
	    (int)sizeof(k->secret))
		goto bad;
	/* ldns has hmac-md5, -sha1, -sha224, -sha256, -sha384, -sha512 */
	if (strncmp(k->alg, "hmac-", 5) != 0)
		goto bad;
	return 0;
bad:
	dk_dns_tsig_wipe(k);
	dk_error_set("invalid TSIG key file '%s': expected one line "
	    "ALGORITHM:NAME:SECRET such as hmac-sha256:dkimrot:BASE64", path);
	return DK_EUSAGE;
}

int
dk_dns_tsig_load(const char *path, struct dk_dns_tsig *out)
{
	char buf[TSIG_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	memset(out, 0, sizeof(*out));
	if (path[0] != '/') {
		dk_error_set("TSIG key file '%s' must be an absolute path",
		    path);
		return DK_EUSAGE;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		dk_error_set_errno(errno, "cannot open TSIG key file '%s'",
		    path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		dk_error_set_errno(errno, "cannot stat '%s'", path);
		goto done;
	}
	/* OpenSSH's StrictModes: a secret others can read is refused. */
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    (st.st_uid != geteuid() && st.st_uid != 0)) {
		dk_error_set("refusing TSIG key file '%s': it must be a "
		    "regular file of ours or root's, mode 0600 (chmod 600 "
		    "'%s')", path, path);
		rc = DK_EUSAGE;
		goto done;
	}
	if ((n = read(fd, buf, TSIG_FILE_MAX + 1)) < 0) {
		dk_error_set_errno(errno, "cannot read '%s'", path);
		goto done;
	}
	if (n > TSIG_FILE_MAX) {
		dk_error_set("TSIG key file '%s' is larger than %d bytes",
		    path, TSIG_FILE_MAX);
		rc = DK_EUSAGE;
		goto done;
	}
	buf[n] = '\0';
	rc = tsig_parse(path, buf, out);
done:
	dk_secret_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

int
dk_dns_zone_of(const char *server, const char *name, int timeout_ms,
    char *zone, size_t zonelen)
{
	struct dk_dns_soa soa;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = dk_dns_soa(server, name, timeout_ms, &soa)) != 0)
		return rc == DK_ENOTFOUND ? -1 : rc;
	if ((size_t)snprintf(zone, zonelen, "%s", soa.zone) >= zonelen) {
		dk_error_set("zone name too long: '%s'", soa.zone);
		return -1;
	}
	return 0;
}

/* A TXT RR at name holding value in strings of at most 255 bytes. */
static ldns_rr *
txt_rr(const char *name, unsigned ttl, const char *value)
{
	unsigned char chunk[256];
	ldns_rr *rr;
	ldns_rdf *d;
	size_t len = strlen(value), off = 0, n;

	if ((rr = ldns_rr_new_frm_type(LDNS_RR_TYPE_TXT)) == NULL)
		return NULL;
	ldns_rr_set_owner(rr, ldns_dname_new_frm_str(name));
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	/* ldns_rr_new_frm_type() made empty rdata fields: ours instead. */
	while (ldns_rr_rd_count(rr) > 0)
		ldns_rdf_deep_free(ldns_rr_pop_rdf(rr));
	do {
		n = len - off > 255 ? 255 : len - off;
		chunk[0] = (unsigned char)n;
		memcpy(chunk + 1, value + off, n);
		if ((d = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1,
		    chunk)) == NULL || !ldns_rr_push_rdf(rr, d)) {
			ldns_rdf_deep_free(d);
			ldns_rr_free(rr);
			return NULL;
		}
		off += n;
	} while (off < len);
	if (ldns_rr_owner(rr) == NULL) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

/* RFC 2136 2.5.2: class ANY, TTL 0, no rdata: delete the RRset. */
static ldns_rr *
delete_rr(const char *name)
{
	ldns_rr *rr;

	if ((rr = ldns_rr_new()) == NULL)
		return NULL;
	ldns_rr_set_owner(rr, ldns_dname_new_frm_str(name));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_ANY);
	ldns_rr_set_ttl(rr, 0);
	ldns_rr_set_question(rr, false);
	if (ldns_rr_owner(rr) == NULL) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

static ldns_rr_list *
updates(const struct dk_dns_change *c, size_t n)
{
	ldns_rr_list *l;
	ldns_rr *rr;
	size_t i, j;

	if ((l = ldns_rr_list_new()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((rr = delete_rr(c[i].name)) == NULL ||
		    !ldns_rr_list_push_rr(l, rr))
			goto fail;
		for (j = 0; j < c[i].nvalues; j++)
			if ((rr = txt_rr(c[i].name, c[i].ttl,
			    c[i].values[j])) == NULL ||
			    !ldns_rr_list_push_rr(l, rr))
				goto fail;
	}
	return l;
fail:
	ldns_rr_free(rr);
	ldns_rr_list_deep_free(l);
	return NULL;
}

/*
 * Sends q over TCP to server and reads the reply as wire and packet:
 * ldns_send() drops a reply whose TSIG does not verify, and with it the
 * rcode a refused update must be reported with.
 */
static ldns_status
send_tcp(const char *server, ldns_pkt *q, int timeout_ms, ldns_pkt **a,
    uint8_t **wire, size_t *wlen)
{
	struct dk_dns_server srv;
	struct sockaddr_storage *ss;
	struct timeval tv;
	ldns_buffer *qb;
	ldns_rdf *ns;
	ldns_status st;
	size_t sl;

	*a = NULL;
	*wire = NULL;
	if (dk_dns_server_parse(server, &srv) != 0)
		return LDNS_STATUS_ERR;
	if ((ns = ldns_rdf_new_frm_data(srv.family == AF_INET6 ?
	    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
	    srv.family == AF_INET6 ? 16 : 4, srv.addr)) == NULL)
		return LDNS_STATUS_MEM_ERR;
	ss = ldns_rdf2native_sockaddr_storage(ns, srv.port, &sl);
	ldns_rdf_deep_free(ns);
	if (ss == NULL)
		return LDNS_STATUS_MEM_ERR;
	if ((qb = ldns_buffer_new(LDNS_MAX_PACKETLEN)) == NULL) {
		free(ss);
		return LDNS_STATUS_MEM_ERR;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if ((st = ldns_pkt2buffer_wire(qb, q)) == LDNS_STATUS_OK &&
	    (st = ldns_tcp_send(wire, qb, ss, (socklen_t)sl, tv,
	    wlen)) == LDNS_STATUS_OK)
		st = ldns_wire2pkt(a, *wire, *wlen);
	ldns_buffer_free(qb);
	free(ss);
	return st;
}

int
dk_dns_update(const char *server, const char *zone,
    const struct dk_dns_tsig *key, const struct dk_dns_change *changes,
    size_t nchanges, int timeout_ms)
{
	ldns_rr_list *up = NULL;
	ldns_pkt *q = NULL, *a = NULL;
	ldns_rdf *z = NULL;
	ldns_status st;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	long long start;
	char *rcode;
	int rc = -1, saved;

	signal(SIGPIPE, SIG_IGN);
	if ((z = ldns_dname_new_frm_str(zone)) == NULL ||
	    (up = updates(changes, nchanges)) == NULL ||
	    (q = ldns_update_pkt_new(z, LDNS_RR_CLASS_IN, NULL, up,
	    NULL)) == NULL) {
		ldns_rdf_deep_free(z);
		dk_error_set("cannot build the update of zone '%s'", zone);
		goto done;
	}
	ldns_pkt_set_random_id(q);
	if (ldns_pkt_tsig_sign(q, key->name, key->secret, TSIG_FUDGE,
	    key->alg, NULL) != LDNS_STATUS_OK) {
		dk_error_set("cannot sign the update of zone '%s' with TSIG "
		    "key '%s' (%s)", zone, key->name, key->alg);
		goto done;
	}
	/* TCP: a 4096-bit key's update does not fit 512 bytes of UDP. */
	start = dk_clock_ms();
	errno = 0;
	st = send_tcp(server, q, timeout_ms, &a, &wire, &wlen);
	saved = errno;
	if (st != LDNS_STATUS_OK || a == NULL) {
		/* Refused or unreachable fails at once; silence waits. */
		if (dk_clock_ms() - start < timeout_ms / 2)
			dk_error_set("cannot update zone '%s': cannot connect "
			    "to name server %s (%s)", zone, server, saved ?
			    strerror(saved) : ldns_get_errorstr_by_id(st));
		else
			dk_error_set("cannot update zone '%s' at name server "
			    "%s: no answer in %d ms", zone, server,
			    timeout_ms);
		rc = DK_ETEMP;
		goto done;
	}
	if (ldns_pkt_id(a) != ldns_pkt_id(q)) {
		dk_error_set("cannot update zone '%s' at name server %s: the "
		    "answer is not to our update", zone, server);
		goto done;
	}
	/* A refusal is not signed when the server does not know our key. */
	if (ldns_pkt_get_rcode(a) != LDNS_RCODE_NOERROR) {
		rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(a));
		dk_error_set("cannot update zone '%s' at name server %s: %s",
		    zone, server, rcode != NULL ? rcode : "error");
		free(rcode);
		goto done;
	}
	if (!ldns_pkt_tsig_verify(a, wire, wlen, key->name, key->secret,
	    ldns_rr_rdf(ldns_pkt_tsig(q), 3))) {
		dk_error_set("cannot update zone '%s' at name server %s: the "
		    "answer is not signed with TSIG key '%s'", zone, server,
		    key->name);
		goto done;
	}
	rc = 0;
done:
	free(wire);
	ldns_rr_list_deep_free(up);
	ldns_pkt_free(q);
	ldns_pkt_free(a);
	return rc;
}
