/*
 * The keys of one domain as the store reads them and the policy plans them
 * (docs/design.md §3): no I/O here, only the data model and its small helpers.
 */
#ifndef DK_KEYS_H
#define DK_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/config.h"
#include "common/name.h"

/*
 * docs/design.md §3: pending -> active -> retiring -> retired; revoked aside.
 */
enum dk_state {
	DK_STATE_PENDING,	/* published, not yet signing */
	DK_STATE_ACTIVE,	/* the signing key of its algorithm */
	DK_STATE_RETIRING,	/* published, no longer signing */
	DK_STATE_RETIRED,	/* no longer published; files gone */
	DK_STATE_REVOKED	/* published with p= empty; .txt only */
};
#define DK_STATE_COUNT	5

/*
 * What the caller learnt from DNS about a pending key; an input of the
 * policy only, never stored.  Zero (unchecked) after load.
 */
enum dk_dns {
	DK_DNS_UNCHECKED = 0,
	DK_DNS_OK,		/* every name server serves the matching key */
	DK_DNS_MISSING		/* some name server does not (yet) */
};

struct dk_keyinfo {
	char		selector[DK_SELECTOR_MAX + 1];
	enum dk_alg	alg;
	int		bits;		/* RSA modulus; 256 for Ed25519 */
	enum dk_state	state;
	/* Seconds since the epoch; 0 = unset (null in keys.yaml). */
	time_t		created;
	time_t		published;
	time_t		active_from;
	time_t		active_until;
	time_t		retired;
	time_t		revoked;
	enum dk_dns	dns;
};

/* One domain's keys, in keys.yaml order (the store saves by creation). */
struct dk_domain_keys {
	char			 domain[DK_DOMAIN_MAX + 1];
	struct dk_keyinfo	*keys;
	size_t			 n;
	size_t			 cap;
	bool			 exists;	/* keys.yaml was read */
	/*
	 * 0, or when 'dkimrot remove' took the domain out (policy.h rule
	 * 8): it signs no more and its keys drain, then leave DNS.
	 */
	time_t			 leaving;
};

/* "pending", "active", "retiring", "retired", "revoked". */
const char	*dk_state_name(enum dk_state);
/* DK_EUSAGE for an unknown name. */
int		 dk_state_parse(const char *, enum dk_state *);
/*
 * Published = pending, active or retiring.  A revoked key is in DNS too
 * (p= empty) but is no usable key and does not count here.
 */
bool		 dk_state_published(enum dk_state);

/* An empty set of keys for domain (copied, not validated here). */
int		 dk_domain_keys_new(const char *, struct dk_domain_keys **);
/* A deep copy. */
int		 dk_domain_keys_dup(const struct dk_domain_keys *,
		    struct dk_domain_keys **);
void		 dk_domain_keys_free(struct dk_domain_keys *);
/*
 * Appends a copy of key.  Does not check for a duplicate selector (use
 * dk_domain_keys_find first); pointers into keys[] are invalid after.
 */
int		 dk_domain_keys_add(struct dk_domain_keys *,
		    const struct dk_keyinfo *);
/* The key named sel, or NULL. */
struct dk_keyinfo *
		 dk_domain_keys_find(const struct dk_domain_keys *,
		    const char *);
/* The latest of all times recorded in any key, 0 if none. */
time_t		 dk_domain_keys_latest(const struct dk_domain_keys *);

#endif
