/*
 * One domain's DKIM zone at every name server: the SOA serials that
 * `dkimrot check` compares with dns.publish zones or rfc2136
 * (docs/design.md §13).  Used by check/check.c only; dk_serial_run() is
 * safe on any thread.
 */
#ifndef DK_SERIAL_H
#define DK_SERIAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "check/check.h"
#include "common/dns.h"

/* The SOA lookup of one domain's zone at one server. */
struct dk_serial {
	const struct dk_dns_server	*server;
	int				 timeout_ms;
	atomic_int			*silent;	/* as dk_probe's */
	/* domain and server filled in; status, message, serial to fill */
	struct dk_check_result		*out;
	size_t				 result;	/* out's index */
	/* what dk_serial_run() found */
	int				 rc;
	struct dk_dns_soa		 soa;
};

/*
 * What the serials of one domain are compared with.  newest: the
 * version of the newest dkim-keys-public (zones), whose zones carry it
 * as their serial; 0 when unknown (rfc2136, or no package built here),
 * and the servers are then compared with the highest serial among them.
 */
struct dk_serial_ref {
	enum dk_publish		 mode;	/* zones or rfc2136 */
	size_t			 newest;
	int			 max_lag;	/* dns.max_serial_lag */
	int			 primary;	/* its server, or -1 */
};

/* The lookup: fills rc and soa, or the message of a silent server. */
void	dk_serial_run(struct dk_serial *);
/*
 * The verdicts of one domain's lookups, v[i] at server i, n of them:
 * each result's status, message and serial.  Returns the largest lag
 * found, -1 when no serial could be compared.
 */
long long dk_serial_judge(struct dk_serial *v, size_t n,
	    const struct dk_serial_ref *ref);

#endif
