/* The in-memory keys of a domain: states and a growable array. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/grow.h"
#include "rotator/keys.h"

static const char *state_names[DK_STATE_COUNT] = {
	[DK_STATE_PENDING] = "pending",
	[DK_STATE_ACTIVE] = "active",
	[DK_STATE_RETIRING] = "retiring",
	[DK_STATE_RETIRED] = "retired",
	[DK_STATE_REVOKED] = "revoked",
};

const char *
dk_state_name(enum dk_state s)
{
	return (unsigned)s < DK_STATE_COUNT ? state_names[s] : "unknown";
}

int
dk_state_parse(const char *s, enum dk_state *out)
{
	int i;

	for (i = 0; i < DK_STATE_COUNT; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum dk_state)i;
			return 0;
		}
	}
	dk_error_set("unknown state '%s': expected pending, active, retiring, "
	    "retired or revoked", s);
	return DK_EUSAGE;
}

bool
dk_state_published(enum dk_state s)
{
	return s == DK_STATE_PENDING || s == DK_STATE_ACTIVE ||
	    s == DK_STATE_RETIRING;
}

int
dk_domain_keys_new(const char *domain, struct dk_domain_keys **out)
{
	struct dk_domain_keys *dk;

	*out = NULL;
	if (strlen(domain) > DK_DOMAIN_MAX) {
		dk_error_set("invalid domain '%s': too long", domain);
		return DK_EUSAGE;
	}
	if ((dk = calloc(1, sizeof(*dk))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	memcpy(dk->domain, domain, strlen(domain) + 1);
	*out = dk;
	return 0;
}

void
dk_domain_keys_free(struct dk_domain_keys *dk)
{
	if (dk == NULL)
		return;
	free(dk->keys);
	free(dk);
}

int
dk_domain_keys_dup(const struct dk_domain_keys *src,
    struct dk_domain_keys **out)
{
	struct dk_domain_keys *dk;

	*out = NULL;
	if ((dk = malloc(sizeof(*dk))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	*dk = *src;
	dk->keys = NULL;
	dk->cap = src->n;
	if (src->n > 0) {
		if ((dk->keys = malloc(src->n * sizeof(*dk->keys))) == NULL) {
			free(dk);
			dk_error_set("out of memory");
			return -1;
		}
		memcpy(dk->keys, src->keys, src->n * sizeof(*dk->keys));
	}
	*out = dk;
	return 0;
}

int
dk_domain_keys_add(struct dk_domain_keys *dk, const struct dk_keyinfo *key)
{
	/* Room for two at first: a run holds every domain's keys at once. */
	if (dk_grow(&dk->keys, &dk->cap, dk->n, sizeof(*dk->keys), 2) != 0)
		return -1;
	dk->keys[dk->n++] = *key;
	return 0;
}

struct dk_keyinfo *
dk_domain_keys_find(const struct dk_domain_keys *dk, const char *sel)
{
	size_t i;

	for (i = 0; i < dk->n; i++)
		if (strcmp(dk->keys[i].selector, sel) == 0)
			return &dk->keys[i];
	return NULL;
}

time_t
dk_domain_keys_latest(const struct dk_domain_keys *dk)
{
	const struct dk_keyinfo *k;
	time_t t = dk->leaving;
	size_t i;

	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		if (k->created > t)
			t = k->created;
		if (k->published > t)
			t = k->published;
		if (k->active_from > t)
			t = k->active_from;
		if (k->active_until > t)
			t = k->active_until;
		if (k->retired > t)
			t = k->retired;
		if (k->revoked > t)
			t = k->revoked;
	}
	return t;
}
