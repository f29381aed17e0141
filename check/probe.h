/*
 * One key at one name server: the lookup and the verdict of
 * `dkimrot check` (check/check.h says what each key state must look
 * like).  Used by check/check.c only; safe on any thread.
 */
#ifndef DK_PROBE_H
#define DK_PROBE_H

#include <stdatomic.h>

#include "check/check.h"
#include "rotator/keys.h"

struct dk_probe {
	const char			*repo;
	const struct dk_keyinfo		*key;
	const struct dk_dns_server	*server;
	int				 timeout_ms;
	/*
	 * A pending key: seconds until publish_lead is over and it may
	 * sign.  Not served before that is only a WARNING: the packages
	 * may not have reached every name server yet.
	 */
	long long			 lead_left;
	/*
	 * Set once a lookup at this server ran into the timeout: later
	 * lookups there are not made (each would cost the timeout again)
	 * and get the same verdict.
	 */
	atomic_int			*silent;
	/* domain and selector filled in; status and message to fill */
	struct dk_check_result		*out;
};

/* Fills out->status and out->message. */
void	dk_probe_run(struct dk_probe *);

#endif
