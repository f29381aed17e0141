/*
 * The milter protocol, client side (check/milter.h).  What is sent and
 * when follows Sendmail's libmilter (mfdef.h, docs/smfi_*) and Postfix's
 * milter8.c: option negotiation first, then one step per SMTP stage,
 * each answered unless the milter asked for no reply (SMFIP_NR_*) or to
 * skip the stage (SMFIP_NO*).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/milter.h"
#include "common/error.h"

#define MILTER_VERSION	6

/* Actions we let the milter take (SMFIF_*): all of version 6's. */
#define ACTIONS		0x1ffu
/* Protocol steps (SMFIP_*): skip or no-reply flags we can honour. */
#define P_NOCONNECT	0x1u
#define P_NOHELO	0x2u
#define P_NOMAIL	0x4u
#define P_NORCPT	0x8u
#define P_NOBODY	0x10u
#define P_NOHDRS	0x20u
#define P_NOEOH		0x40u
#define P_NR_HDR	0x80u
#define P_NODATA	0x200u
#define P_NR_CONN	0x1000u
#define P_NR_HELO	0x2000u
#define P_NR_MAIL	0x4000u
#define P_NR_RCPT	0x8000u
#define P_NR_DATA	0x10000u
#define P_NR_EOH	0x40000u
#define P_NR_BODY	0x80000u
/* Everything up to SMFIP_NR_BODY; not HDR_LEADSPC (values as Postfix). */
#define PROTOCOL	0xfffffu

int
dk_milter_encode(struct dk_buf *b, char cmd, const void *data, size_t len)
{
	unsigned char h[5];
	uint32_t n;

	if (len >= DK_MILTER_PACKET_MAX) {
		dk_error_set("milter packet of %zu bytes is too long", len);
		return -1;
	}
	n = htonl((uint32_t)len + 1);
	memcpy(h, &n, 4);
	h[4] = (unsigned char)cmd;
	if (dk_buf_append(b, h, 5) != 0 ||
	    (len > 0 && dk_buf_append(b, data, len) != 0)) {
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

int
dk_milter_decode(const unsigned char *buf, size_t len,
    struct dk_milter_packet *out, size_t *used)
{
	uint32_t n;

	if (len < 4)
		return DK_MILTER_EMORE;
	memcpy(&n, buf, 4);
	n = ntohl(n);
	if (n == 0 || n > DK_MILTER_PACKET_MAX) {
		dk_error_set("milter sent a packet of length %lu",
		    (unsigned long)n);
		return -1;
	}
	if (len - 4 < n)
		return DK_MILTER_EMORE;
	out->cmd = (char)buf[4];
	out->data = buf + 5;
	out->len = n - 1;
	*used = 4 + (size_t)n;
	return 0;
}

int
dk_milter_header(const struct dk_milter_packet *p, const char **name,
    const char **value)
{
	const unsigned char *d = p->data, *e = p->data + p->len, *z;

	if (p->cmd == 'i') {
		if (p->len < 4)
			return -1;
		d += 4;
	} else if (p->cmd != 'h')
		return -1;
	if ((z = memchr(d, '\0', (size_t)(e - d))) == NULL || z == d)
		return -1;
	*name = (const char *)d;
	d = z + 1;
	if ((z = memchr(d, '\0', (size_t)(e - d))) == NULL || z + 1 != e)
		return -1;
	*value = (const char *)d;
	return 0;
}

struct conn {
	const char	*spec;
	int		 fd;
	int		 timeout_ms;
	unsigned	 proto;		/* the milter's SMFIP_* */
	unsigned char	*in;
	size_t		 inlen;
	size_t		 incap;
	struct dk_milter_packet pkt;	/* the last packet read */
	size_t		 pktlen;	/* its bytes at the start of in */
};

/* inet:PORT@ADDR, inet6:PORT@ADDR, inet:ADDR:PORT, unix:PATH, local:PATH */
static int
parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_un *su = (struct sockaddr_un *)ss;
	char addr[64], port[8];
	const char *p, *at;
	unsigned long v;
	char *end;
	int six;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		p = strchr(spec, ':') + 1;
		if (*p != '/' || strlen(p) >= sizeof(su->sun_path))
			goto bad;
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, p, strlen(p) + 1);
		*sl = sizeof(*su);
		return 0;
	}
	six = strncmp(spec, "inet6:", 6) == 0;
	if (!six && strncmp(spec, "inet:", 5) != 0)
		goto bad;
	p = spec + (six ? 6 : 5);
	if ((at = strchr(p, '@')) != NULL) {
		if ((size_t)(at - p) >= sizeof(port) ||
		    strlen(at + 1) >= sizeof(addr))
			goto bad;
		memcpy(port, p, (size_t)(at - p));
		port[at - p] = '\0';
		snprintf(addr, sizeof(addr), "%s", at + 1);
	} else {
		/* Postfix: inet:ADDR:PORT, the port after the last ':' */
		if ((at = strrchr(p, ':')) == NULL ||
		    (size_t)(at - p) >= sizeof(addr) ||
		    strlen(at + 1) >= sizeof(port))
			goto bad;
		memcpy(addr, p, (size_t)(at - p));
		addr[at - p] = '\0';
		snprintf(port, sizeof(port), "%s", at + 1);
		if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
			memmove(addr, addr + 1, strlen(addr) - 2);
			addr[strlen(addr) - 2] = '\0';
			six = 1;
		}
	}
	errno = 0;
	v = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || v < 1 ||
	    v > 65535 || errno != 0)
		goto bad;
	if (!six && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)v);
		*sl = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)v);
		*sl = sizeof(*s6);
		return 0;
	}
bad:
	dk_error_set("bad milter socket '%s': want inet:PORT@ADDR, "
	    "inet6:PORT@ADDR, inet:ADDR:PORT or unix:PATH, numeric addresses",
	    spec);
	return DK_EUSAGE;
}

int
dk_milter_spec_check(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	return parse_spec(spec, &ss, &sl);
}

static int
wait_fd(struct conn *c, short ev, const char *what)
{
	struct pollfd p = { c->fd, ev, 0 };
	int n;

	while ((n = poll(&p, 1, c->timeout_ms)) == -1 && errno == EINTR)
		;
	if (n == 1)
		return 0;
	if (n == 0)
		dk_error_set("milter '%s' did not answer %s in %d ms",
		    c->spec, what, c->timeout_ms);
	else
		dk_error_set_errno(errno, "cannot wait for milter '%s'",
		    c->spec);
	return -1;
}

static int
send_buf(struct conn *c, const struct dk_buf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		if (wait_fd(c, POLLOUT, "a write") != 0)
			return -1;
		n = send(c->fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			dk_error_set_errno(errno, "cannot write to milter '%s'",
			    c->spec);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int
send_pkt(struct conn *c, char cmd, const void *data, size_t len)
{
	struct dk_buf b = { 0 };
	int rc;

	if (dk_milter_encode(&b, cmd, data, len) != 0)
		return -1;
	rc = send_buf(c, &b);
	dk_buf_dispose(&b);
	return rc;
}

/* The next packet into c->pkt (valid until the next read). */
static int
read_pkt(struct conn *c, const char *what)
{
	unsigned char *p;
	size_t cap;
	ssize_t n;
	int rc;

	if (c->pktlen > 0) {
		memmove(c->in, c->in + c->pktlen, c->inlen - c->pktlen);
		c->inlen -= c->pktlen;
		c->pktlen = 0;
	}
	for (;;) {
		rc = dk_milter_decode(c->in, c->inlen, &c->pkt, &c->pktlen);
		if (rc == 0)
			return 0;
		if (rc != DK_MILTER_EMORE) {
			dk_error_prefix("milter '%s'", c->spec);
			return -1;
		}
		if (c->inlen == c->incap) {
			cap = c->incap ? c->incap * 2 : 4096;
			if ((p = realloc(c->in, cap)) == NULL) {
				dk_error_set("out of memory");
				return -1;
			}
			c->in = p;
			c->incap = cap;
		}
		if (wait_fd(c, POLLIN, what) != 0)
			return -1;
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0) {
			dk_error_set("milter '%s' closed the connection %s",
			    c->spec, what);
			return -1;
		}
		if (n < 0) {
			dk_error_set_errno(errno, "cannot read from milter "
			    "'%s'", c->spec);
			return -1;
		}
		c->inlen += (size_t)n;
	}
}

/* Printable ASCII of the milter's reply text, for messages. */
static void
set_reply(struct dk_milter_result *out, const struct dk_milter_packet *p,
    const char *step)
{
	static const struct { char c; const char *w; } words[] = {
		{ 'a', "accept" }, { 'c', "continue" }, { 'd', "discard" },
		{ 'r', "reject" }, { 't', "tempfail" },
	};
	const char *w = NULL;
	size_t i, j = 0;

	out->verdict = p->cmd;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (words[i].c == p->cmd)
			w = words[i].w;
	if (p->cmd == 'y') {
		for (i = 0; i < p->len && p->data[i] != '\0' &&
		    j + 1 < sizeof(out->reply) - 32; i++)
			out->reply[j++] = p->data[i] >= 0x20 &&
			    p->data[i] < 0x7f ? (char)p->data[i] : '?';
		out->reply[j] = '\0';
	} else if (w != NULL)
		snprintf(out->reply, sizeof(out->reply), "%s", w);
	else
		snprintf(out->reply, sizeof(out->reply), "reply '%c'",
		    p->cmd >= 0x21 && p->cmd < 0x7f ? p->cmd : '?');
	if (step != NULL) {
		j = strlen(out->reply);
		snprintf(out->reply + j, sizeof(out->reply) - j, " at %s",
		    step);
	}
}

/*
 * One step: send it unless the milter skips it, read the reply unless
 * it gives none.  1 when the milter ended the message here (verdict in
 * out), 0 to go on.
 */
static int
step(struct conn *c, unsigned skip, unsigned noreply, char cmd,
    const void *data, size_t len, const char *name,
    struct dk_milter_result *out)
{
	if (c->proto & skip)
		return 0;
	if (send_pkt(c, cmd, data, len) != 0)
		return -1;
	if (c->proto & noreply)
		return 0;
	for (;;) {
		if (read_pkt(c, name) != 0)
			return -1;
		if (c->pkt.cmd == 'p')	/* progress: wait on */
			continue;
		if (c->pkt.cmd == 'c' || c->pkt.cmd == 's')
			return 0;
		set_reply(out, &c->pkt, name);
		return 1;
	}
}

static int
add_header(struct dk_milter_result *out, const struct dk_milter_packet *p,
    const char *spec)
{
	struct dk_milter_added *a;
	const char *name, *value;

	if (dk_milter_header(p, &name, &value) != 0) {
		dk_error_set("milter '%s' sent a malformed header packet",
		    spec);
		return -1;
	}
	if ((a = realloc(out->added, (out->nadded + 1) * sizeof(*a))) ==
	    NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	out->added = a;
	a += out->nadded;
	if ((a->name = strdup(name)) == NULL ||
	    (a->value = strdup(value)) == NULL) {
		free(a->name);
		dk_error_set("out of memory");
		return -1;
	}
	out->nadded++;
	return 0;
}

/* End of message: modifications, then the verdict. */
static int
eom(struct conn *c, struct dk_milter_result *out)
{
	if (send_pkt(c, 'E', NULL, 0) != 0)
		return -1;
	for (;;) {
		if (read_pkt(c, "at end of message") != 0)
			return -1;
		switch (c->pkt.cmd) {
		case 'h':
		case 'i':
			if (add_header(out, &c->pkt, c->spec) != 0)
				return -1;
			continue;
		case 'p':	/* progress */
		case 'm':	/* header changed */
		case 'b':	/* body replaced */
		case '+':	/* recipients */
		case '-':
		case '2':
		case 'e':	/* sender changed */
		case 'q':	/* quarantine */
			continue;
		}
		set_reply(out, &c->pkt, NULL);
		return 0;
	}
}

/* NAME NUL VALUE NUL ... into b */
static int
pairs(struct dk_buf *b, const char *const *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (dk_buf_append(b, kv[i], strlen(kv[i]) + 1) != 0)
			return -1;
	return 0;
}

static int
converse(struct conn *c, const struct dk_milter_msg *m,
    struct dk_milter_result *out)
{
	const char *mac_c[] = { "j", "dkimrot-check", "{daemon_name}",
	    "dkimrot-check" };
	const char *mac_m[] = { "i", "DKIMROTCHECK" };
	struct dk_buf b = { 0 };
	uint32_t v[3];
	uint16_t port = htons(25);
	size_t i;
	int rc = -1;

	v[0] = htonl(MILTER_VERSION);
	v[1] = htonl(ACTIONS);
	v[2] = htonl(PROTOCOL);
	if (send_pkt(c, 'O', v, sizeof(v)) != 0 ||
	    read_pkt(c, "the option negotiation") != 0)
		return -1;
	if (c->pkt.cmd != 'O' || c->pkt.len < 12) {
		dk_error_set("milter '%s' did not negotiate options (reply "
		    "'%c')", c->spec, c->pkt.cmd >= 0x21 && c->pkt.cmd < 0x7f ?
		    c->pkt.cmd : '?');
		return -1;
	}
	memcpy(v, c->pkt.data, 12);
	c->proto = ntohl(v[2]) & PROTOCOL;
	/* Macros get no reply: 'D', the stage, NAME NUL VALUE NUL... */
	if (dk_buf_append(&b, "C", 1) != 0 || pairs(&b, mac_c, 4) != 0)
		goto oom;
	if (send_pkt(c, 'D', b.data, b.len) != 0)
		goto done;
	/* CONNECT: host NUL, family '4', port, address NUL */
	b.len = 0;
	if (dk_buf_append(&b, m->helo, strlen(m->helo) + 1) != 0 ||
	    dk_buf_append(&b, "4", 1) != 0 ||
	    dk_buf_append(&b, &port, 2) != 0 ||
	    dk_buf_append(&b, m->client_addr, strlen(m->client_addr) + 1) !=
	    0)
		goto oom;
	if ((rc = step(c, P_NOCONNECT, P_NR_CONN, 'C', b.data, b.len,
	    "CONNECT", out)) != 0 ||
	    (rc = step(c, P_NOHELO, P_NR_HELO, 'H', m->helo,
	    strlen(m->helo) + 1, "HELO", out)) != 0)
		goto done;
	b.len = 0;
	if (dk_buf_append(&b, "M", 1) != 0 || pairs(&b, mac_m, 2) != 0)
		goto oom;
	if ((rc = send_pkt(c, 'D', b.data, b.len)) != 0 ||
	    (rc = step(c, P_NOMAIL, P_NR_MAIL, 'M', m->mail_from,
	    strlen(m->mail_from) + 1, "MAIL FROM", out)) != 0 ||
	    (rc = step(c, P_NORCPT, P_NR_RCPT, 'R', m->rcpt_to,
	    strlen(m->rcpt_to) + 1, "RCPT TO", out)) != 0 ||
	    (rc = step(c, P_NODATA, P_NR_DATA, 'T', NULL, 0, "DATA",
	    out)) != 0)
		goto done;
	for (i = 0; i < m->nhdrs; i++) {
		b.len = 0;
		if (dk_buf_append(&b, m->hdr_names[i],
		    strlen(m->hdr_names[i]) + 1) != 0 ||
		    dk_buf_append(&b, m->hdr_values[i],
		    strlen(m->hdr_values[i]) + 1) != 0)
			goto oom;
		if ((rc = step(c, P_NOHDRS, P_NR_HDR, 'L', b.data, b.len,
		    "a header", out)) != 0)
			goto done;
	}
	if ((rc = step(c, P_NOEOH, P_NR_EOH, 'N', NULL, 0,
	    "end of headers", out)) != 0 ||
	    (rc = step(c, P_NOBODY, P_NR_BODY, 'B', m->body, strlen(m->body),
	    "the body", out)) != 0)
		goto done;
	rc = eom(c, out);
done:
	dk_buf_dispose(&b);
	return rc < 0 ? -1 : 0;
oom:
	dk_buf_dispose(&b);
	dk_error_set("out of memory");
	return -1;
}

int
dk_milter_run(const char *spec, const struct dk_milter_msg *msg,
    int timeout_ms, struct dk_milter_result *out)
{
	struct sockaddr_storage ss;
	struct conn c;
	socklen_t sl;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.spec = spec;
	c.timeout_ms = timeout_ms;
	if ((rc = parse_spec(spec, &ss, &sl)) != 0)
		return rc;
	if ((c.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		dk_error_set_errno(errno, "cannot make a socket for milter "
		    "'%s'", spec);
		return -1;
	}
	rc = -1;
	if (connect(c.fd, (struct sockaddr *)&ss, sl) == -1) {
		if (errno != EINPROGRESS) {
			dk_error_set_errno(errno, "cannot connect to milter "
			    "'%s'", spec);
			goto done;
		}
		if (wait_fd(&c, POLLOUT, "the connection") != 0)
			goto done;
		sl = sizeof(rc);
		if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &rc, &sl) != 0 ||
		    rc != 0) {
			dk_error_set_errno(rc != 0 ? rc : errno, "cannot "
			    "connect to milter '%s'", spec);
			rc = -1;
			goto done;
		}
		rc = -1;
	}
	if (converse(&c, msg, out) != 0)
		goto done;
	/* QUIT: no reply; a milter gone already does not matter. */
	(void)send_pkt(&c, 'Q', NULL, 0);
	rc = 0;
done:
	close(c.fd);
	free(c.in);
	if (rc != 0)
		dk_milter_result_dispose(out);
	return rc;
}

void
dk_milter_result_dispose(struct dk_milter_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nadded; i++) {
		free(r->added[i].name);
		free(r->added[i].value);
	}
	free(r->added);
	memset(r, 0, sizeof(*r));
}
