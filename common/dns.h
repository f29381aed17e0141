/*
 * TXT lookups at one given name server, for `dkimrot check` and the DNS gate of
 * rotate (docs/design.md §4 rule 2, §6): is the record of SEL._domainkey.DOMAIN
 * what this server hands out?  And SOA lookups, for the serials `check`
 * compares and the zone rfc2136 updates (§13).  With common/dns_update.c
 * the only user of ldns; in common/ because both check/ and rotator/ ask.
 *
 * Every query goes to exactly the server it names (no /etc/resolv.conf,
 * no search list, no cache).  TXT queries set the RD bit, so a server
 * may be an authoritative server or a recursive resolver; SOA queries do
 * not: a serial is a zone's, not a cache's.  UDP first with EDNS0
 * (RFC 6891) and a 4096-byte buffer; a truncated answer (TC) is asked
 * again over TCP (RFC 7766), within the same time budget.
 *
 * The calls are thread-safe: each builds and frees its own resolver.  A
 * TCP peer that resets the connection can raise SIGPIPE; the command
 * ignores SIGPIPE before it starts checking.
 */
#ifndef DK_DNS_H
#define DK_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DK_DNS_PORT		53
#define DK_DNS_EDNS_SIZE	4096	/* the UDP buffer we announce */
#define DK_DNS_SERVER_MAX	64	/* "[v6]:port" and a NUL fit */

/* A name server address as the configuration writes it. */
struct dk_dns_server {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network order, 4 or 16 bytes used */
	uint16_t	port;		/* host order */
	/* canonical, for messages: "192.0.2.53:53", "[::1]:53" */
	char		text[DK_DNS_SERVER_MAX];
};

/*
 * Parses "ADDR" (IPv4 or IPv6, port 53), "ADDR:PORT" (IPv4) or
 * "[ADDR]:PORT" / "[ADDR]" (IPv6).  Addresses go through inet_pton() and
 * nothing else: no host names, no IPv6 scope ids, no spaces; a port is
 * 1..65535 in decimal digits.  A bare "::1:53" is the IPv6 address
 * ::1:53 (port 53), never ::1 port 53: an IPv6 address with a port needs
 * the brackets.  DK_EUSAGE with a message naming the string otherwise.
 */
int	dk_dns_server_parse(const char *, struct dk_dns_server *);

/* One TXT resource record: its character-strings joined into one. */
struct dk_dns_txt {
	char		*data;	/* NUL-terminated, for convenience */
	size_t		 len;	/* bytes in data; a string may hold a NUL */
	uint32_t	 ttl;
};

struct dk_dns_answer {
	struct dk_dns_txt	*rrs;	/* in the order the server sent them */
	size_t			 nrrs;
	/*
	 * With DK_ENOTFOUND: true when the name does not exist (NXDOMAIN),
	 * false when it exists but holds no TXT record (NODATA).
	 */
	bool			 nxdomain;
	bool			 authoritative;	/* the AA bit was set */
	bool			 tcp;	/* UDP came back truncated: TCP */
};

/*
 * Asks server (see dk_dns_server_parse) for the TXT records of qname (a
 * domain name, no final dot needed) and waits at most timeout_ms in all,
 * UDP and TCP together.  A CNAME chain in the answer is followed, as a
 * resolver would; the records returned are those of its last name.
 *
 * Returns, filling out (zeroed first; release with dk_dns_answer_dispose()
 * whatever the result):
 *   0             at least one TXT record, out->rrs, out->nrrs;
 *   DK_ENOTFOUND  NXDOMAIN or NODATA (out->nxdomain tells which);
 *   DK_ETEMP      no answer in time, SERVFAIL, REFUSED, an answer that
 *                 does not belong to the query, or TCP failed after a
 *                 truncated UDP answer: "name server 127.0.0.1:5353 did
 *                 not answer for 'sel._domainkey.example.com' TXT
 *                 (timeout 2000 ms)";
 *   DK_EUSAGE     a bad server string, query name or timeout;
 *   -1            anything else (FORMERR, NOTIMP, out of memory).
 * The message, if any, is in dk_error_last().
 */
int	dk_dns_txt(const char *server, const char *qname, int timeout_ms,
	    struct dk_dns_answer *out);
/*
 * The same with the EDNS0 UDP buffer size given: 0 sends no OPT record at
 * all, so that any answer over 512 bytes comes back truncated and is
 * fetched again over TCP (the tests use it to force the TCP path; a
 * caller can use it to see what a client without EDNS0 gets).
 */
int	dk_dns_txt_edns(const char *server, const char *qname, int timeout_ms,
	    uint16_t edns_size, struct dk_dns_answer *out);
/* Frees what an answer holds; accepts NULL and an answer already freed. */
void	dk_dns_answer_dispose(struct dk_dns_answer *);

/* The SOA a server answers for a name: the zone that holds the name. */
struct dk_dns_soa {
	char		zone[256];	/* its owner, no final dot */
	uint32_t	serial;		/* RFC 1982 arithmetic */
	/*
	 * true: the SOA was the answer, the name is the zone's apex;
	 * false: it came in the authority section of a negative answer
	 * (RFC 2308 3), the name is below the apex or does not exist.
	 */
	bool		apex;
	bool		authoritative;	/* the AA bit was set */
};

/*
 * Asks server for the SOA of name without recursion and waits at most
 * timeout_ms, UDP and TCP together.  0 with out filled (zeroed first);
 * DK_ENOTFOUND when the answer holds no SOA at all (a referral: the
 * server does not serve the name's zone); otherwise as dk_dns_txt(),
 * the messages ending in "SOA" instead of "TXT", except that REFUSED
 * is -1: a server that refuses the question does not serve the zone.
 */
int	dk_dns_soa(const char *server, const char *name, int timeout_ms,
	    struct dk_dns_soa *out);

#endif
