/*
 * Fuzz target: keys.yaml as the store reads it (dk_store_parse).  Beyond
 * not crashing: its fast path and the YAML tree must agree; whatever
 * parses must write back (dk_store_format), parse again to the same keys,
 * and write back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "rotator/store.h"
#include "rotator/store_yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same(const struct dk_domain_keys *a, const struct dk_domain_keys *b)
{
	const struct dk_keyinfo *x, *y;
	size_t i, j;

	if (strcmp(a->domain, b->domain) != 0 || a->n != b->n)
		abort();
	/* Written in creation order: match by selector. */
	for (i = 0; i < a->n; i++) {
		x = &a->keys[i];
		for (j = 0; j < b->n; j++)
			if (strcmp(x->selector, b->keys[j].selector) == 0)
				break;
		if (j == b->n)
			abort();
		y = &b->keys[j];
		if (x->alg != y->alg || x->bits != y->bits ||
		    x->state != y->state || x->created != y->created ||
		    x->published != y->published ||
		    x->active_from != y->active_from ||
		    x->active_until != y->active_until ||
		    x->retired != y->retired || x->revoked != y->revoked)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_domain_keys *dk = NULL, *again = NULL;
	struct dk_buf b1 = { 0 }, b2 = { 0 };
	int rc;

	/* The fast path must never read what the YAML tree reads otherwise. */
	rc = dk_store_parse((const char *)data, size,
	    "keys/example.com/keys.yaml", NULL, &dk);
	if (dk_store_parse_yaml((const char *)data, size,
	    "keys/example.com/keys.yaml", NULL, &again) != rc)
		abort();
	if (rc != 0)
		return 0;
	same(dk, again);
	dk_domain_keys_free(again);
	again = NULL;
	if (dk_store_format(dk, &b1) != 0 ||
	    dk_store_parse(b1.data, b1.len, "again", dk->domain,
	    &again) != 0)
		abort();
	same(dk, again);
	if (dk_store_format(again, &b2) != 0 || b1.len != b2.len ||
	    memcmp(b1.data, b2.data, b1.len) != 0)
		abort();
	dk_buf_dispose(&b1);
	dk_buf_dispose(&b2);
	dk_domain_keys_free(again);
	dk_domain_keys_free(dk);
	return 0;
}
