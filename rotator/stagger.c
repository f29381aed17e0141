/*
 * Staggering (rotator/policy.h, rule 1): the offset by which a track's
 * first key is rotated early.  Pure and portable: the same name gives
 * the same offset on every machine and in every run, so a repository's
 * schedule never depends on where or when dkimrot runs.
 */
#include <stdint.h>

#include "rotator/policy.h"

/* FNV-1a, 64 bits, over s and its NUL. */
static uint64_t
fnv(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

/* splitmix64's finalizer: every input bit moves the low bits too. */
static uint64_t
mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

long long
dk_policy_stagger(const char *domain, enum dk_alg alg,
    const struct dk_policy *pol)
{
	long long span;
	uint64_t h;

	span = pol->rotate_every - pol->min_age - pol->publish_lead;
	if (span < 60)
		return 0;
	h = mix(fnv(fnv(0xcbf29ce484222325ULL, domain), dk_alg_name(alg)));
	/* Whole minutes: the times status shows stay readable. */
	return (long long)(h % (uint64_t)(span / 60)) * 60;
}

long long
dk_policy_due(const struct dk_domain_keys *dk, const struct dk_keyinfo *k,
    const struct dk_policy *pol, long long *stagger)
{
	size_t i;

	*stagger = 0;
	for (i = 0; i < dk->n; i++)
		if (dk->keys[i].alg == k->alg && &dk->keys[i] != k)
			return k->created + pol->rotate_every;
	*stagger = dk_policy_stagger(dk->domain, k->alg, pol);
	return k->created + pol->rotate_every - *stagger;
}
