/*
 * The planner's internals, shared by rotator/policy.c (rules 1 to 5, 7
 * and 8) and rotator/policy_revoke.c (rule 6).  Pure, like the policy.
 */
#ifndef DK_POLICY_INT_H
#define DK_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/dktime.h"
#include "rotator/policy.h"

struct ctx {
	const struct dk_policy	*pol;
	struct dk_domain_keys	*work;
	struct dk_plan		*plan;
	time_t			 now;
	bool			 dns_verify;
	bool			 start;		/* rule 7 */
	bool			 leaving;	/* rule 8 */
};

/* Text for reasons; each call site owns its buffer. */
struct tbuf {
	char	s[DK_TIME_LEN];
};
struct dbuf {
	char	s[32];
};

/* A reason (DK_REASON_MAX bytes); one cut short is still a reason. */
void	dk_policy_say(char *why, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A duration as dkimrot.yaml writes it: "30d", "1d12h". */
const char *
	dk_policy_dfmt(struct dbuf *, long long secs);
/* Index of the newest key of alg in state s, or -1. */
long	dk_policy_newest(const struct dk_domain_keys *, enum dk_alg,
	    enum dk_state s);
/* Decided: applies a (NULL: out of memory) to the working copy. */
int	dk_policy_commit(struct ctx *, struct dk_action *a);
/* Rule 2, the other keys' side: the active and older pending keys. */
int	dk_policy_deactivate_others(struct ctx *, enum dk_alg,
	    const char *sel);
/* Rule 1: a selector from the clock, free in the domain. */
int	dk_policy_pick_selector(struct ctx *, enum dk_alg, char *sel,
	    size_t size);
/* At most one active key per algorithm: 0 or DK_EUSAGE. */
int	dk_policy_check_input(const struct dk_domain_keys *);
/* An empty plan for dk at now, and the working copy of its keys. */
int	dk_policy_start(const struct dk_domain_keys *, time_t now,
	    struct dk_plan *out, struct dk_domain_keys **work);

#endif
