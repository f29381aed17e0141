/*
 * `dkimrot check` (docs/design.md §6): what the name servers serve against what
 * the key repository says they must.  For every key of every domain and
 * every name server, one result:
 *
 *   pending, active, retiring  served by the server, exactly one TXT
 *                              record, parsed, k= the key's algorithm,
 *                              p= the public half of our private key;
 *   active                     and a message signed with the private key
 *                              verifies with libopendkim against the
 *                              record as this server served it; and the
 *                              key is not overdue for rotation;
 *   revoked                    served with p= empty (RFC 6376 3.6.1);
 *   retired                    not served any more (WARNING if it is).
 *
 * A domain with no active key of a configured algorithm gets one result
 * of its own (no selector, no server).  With dns.publish zones or
 * rfc2136 a domain also gets one result per server for the SOA serial
 * of its DKIM zone (no selector; check/serial.c), after its keys'.  The
 * lookups run on worker threads; the results come back in a fixed
 * order: domains as asked, keys in keys.yaml order, servers as given.
 */
#ifndef DK_CHECK_H
#define DK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/config.h"
#include "common/dns.h"
#include "common/name.h"

/* The monitoring-plugins states, in their numeric order (= exit codes). */
enum dk_check_status {
	DK_CHECK_OK = 0,
	DK_CHECK_WARNING = 1,
	DK_CHECK_CRITICAL = 2,
	DK_CHECK_UNKNOWN = 3
};

#define DK_CHECK_MSG		384	/* a message, with its NUL */
#define DK_CHECK_TIMEOUT_MS	2000	/* per lookup, by default */
#define DK_CHECK_CRIT_AGE	(180LL * 86400)
/*
 * Grace after rotate_every + publish_lead before an active key is
 * overdue: each of the two steps (new key, activation) may come one run
 * of a daily timer late.
 */
#define DK_CHECK_AGE_GRACE	(2LL * 86400)

struct dk_keyinfo;

struct dk_check_opts {
	const struct dk_dns_server *servers;
	size_t		 nservers;
	int		 timeout_ms;	/* > 0 */
	/* Age thresholds in seconds; 0: the defaults (see dk_check_run) */
	long long	 warn_age;
	long long	 crit_age;
};

/*
 * One result.  A result about a domain as a whole has selector "",
 * state, server and age -1.
 */
struct dk_check_result {
	char		 domain[DK_DOMAIN_MAX + 1];
	char		 selector[DK_SELECTOR_MAX + 1];
	enum dk_alg	 alg;
	int		 state;		/* enum dk_state */
	int		 server;	/* index into opts->servers */
	long long	 age;		/* seconds since its creation */
	/*
	 * A check of the domain's DKIM zone at a server (check/serial.h)
	 * has no selector, state -1, and here the serial it serves, -1
	 * when none could be compared; -2 in every check of a key.
	 */
	long long	 serial;
	enum dk_check_status status;
	char		 message[DK_CHECK_MSG];	/* printable ASCII */
};

struct dk_check_report {
	struct dk_check_result *results;
	size_t		 n;
	size_t		 nkeys;		/* keys looked at */
	size_t		 counts[4];	/* per dk_check_status */
	/* the worst result: see dk_check_worse() */
	enum dk_check_status status;
	long long	 age_max;	/* oldest active key; -1: none */
	long long	 warn_min;	/* smallest warning threshold used */
	long long	 crit_age;
	/* the zones' serials: the largest lag, -1 when none was compared */
	long long	 lag_max;
	int		 max_lag;	/* dns.max_serial_lag */
	bool		 serials;	/* they were checked */
};

/*
 * Checks the domains named (all of cfg's when ndomains is 0; each must
 * be configured) of the key repository at repo at time now.  An active
 * key older than warn_age (default: its domain's rotate_every +
 * publish_lead + DK_CHECK_AGE_GRACE) is WARNING, older than crit_age
 * (default DK_CHECK_CRIT_AGE) CRITICAL.  A domain whose keys cannot be
 * loaded is one UNKNOWN result.  With dns.publish zones or rfc2136,
 * each domain with records in DNS also gets one result per server for
 * the SOA serial of its DKIM zone (check/serial.h); the newest package
 * is the one the stamp of rotator/output.h names.  Returns 0 with the
 * report in out (release with dk_check_report_dispose()), DK_EUSAGE for
 * a domain not in cfg or bad options, -1 when out of memory or threads
 * fail.
 */
int	dk_check_run(const char *repo, const struct dk_config *cfg,
	    char *const *domains, size_t ndomains,
	    const struct dk_check_opts *opts, time_t now,
	    struct dk_check_report *out);
/*
 * check --milter (check/check_milter.c): the domains (as dk_check_run)
 * through each milter of milters (check/milter.h's socket forms), every
 * signature verified on opts' name servers.  Appends to rep, as filled
 * by dk_check_run(), and counts again.  0, DK_EUSAGE for a bad socket,
 * -1 when out of memory.
 */
int	dk_check_milter(const char *repo, const struct dk_config *cfg,
	    char *const *domains, size_t ndomains, char *const *milters,
	    size_t nmilters, const struct dk_check_opts *opts, time_t now,
	    struct dk_check_report *rep);
void	dk_check_report_dispose(struct dk_check_report *);
/*
 * A zeroed result for domain (and key k, if not NULL) appended to rep,
 * whose results have room for *cap (grown as needed); NULL when out of
 * memory.  For check.c and check_milter.c.
 */
struct dk_check_result *dk_check_result_add(struct dk_check_report *rep,
	    size_t *cap, const char *domain, const struct dk_keyinfo *k,
	    int server, time_t now);
/*
 * r's status and message (printf-style), the message made printable
 * ASCII and cut with "..." when too long.  For check/ only.
 */
void	dk_check_verdict(struct dk_check_result *r, enum dk_check_status st,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "OK", "WARNING", "CRITICAL", "UNKNOWN" */
const char	*dk_check_status_name(enum dk_check_status);
/* The worse of two states: CRITICAL > WARNING > UNKNOWN > OK. */
enum dk_check_status
		 dk_check_worse(enum dk_check_status, enum dk_check_status);

#endif
