/*
 * The archive (docs/design.md §3): keys/DOMAIN/retired.yaml holds the keys
 * retired DK_STORE_RETIRED_AFTER before the latest event of keys.yaml, so
 * that the file every daily run reads stays small as years pass.  Read
 * only when a key moves or a selector could clash with an archived one.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/tree.h"
#include "rotator/keys.h"
#include "rotator/store.h"
#include "rotator/store_int.h"

/* retired.yaml holds retired keys only. */
static int
check_retired(const char *repo, const struct dk_domain_keys *dk)
{
	const struct dk_keyinfo *k;

	if ((k = dk_store_not_retired(dk)) == NULL)
		return 0;
	dk_error_set("%s/%s/%s: key '%s' is %s; this file holds retired keys "
	    "only", DK_STORE_KEYS_DIR, dk->domain, DK_STORE_RETIRED,
	    k->selector, dk_state_name(k->state));
	return DK_EUSAGE;
}

int
dk_store_load_retired(const char *repo, const char *domain,
    struct dk_domain_keys **out)
{
	return dk_store_load_file(repo, domain, DK_STORE_RETIRED,
	    check_retired, out);
}

/* Retired long enough before latest to leave keys.yaml. */
static bool
moves(const struct dk_keyinfo *k, time_t latest)
{
	return k->state == DK_STATE_RETIRED &&
	    k->retired <= latest - DK_STORE_RETIRED_AFTER;
}

int
dk_store_stage_retired(const char *repo, struct dk_domain_keys *dk,
    bool check, char *tmp, size_t size)
{
	struct dk_domain_keys *old = NULL;
	const struct dk_keyinfo *k, *o;
	struct dk_buf b = { 0 };
	char rel[PATH_MAX];
	time_t latest = dk_domain_keys_latest(dk);
	size_t i, j, n = 0;
	int rc;

	tmp[0] = '\0';
	for (i = 0; i < dk->n; i++)
		if (moves(&dk->keys[i], latest))
			n++;
	if (n == 0 && !check)
		return 0;
	if ((rc = dk_store_load_retired(repo, dk->domain, &old)) != 0)
		return rc;
	for (i = 0; i < dk->n && rc == 0; i++) {
		k = &dk->keys[i];
		o = dk_domain_keys_find(old, k->selector);
		if (o != NULL && k->state != DK_STATE_RETIRED) {
			dk_error_set("selector '%s' of %s is taken: %s/%s/%s "
			    "holds a retired key of that name (did the clock "
			    "go back?)", k->selector, dk->domain,
			    DK_STORE_KEYS_DIR, dk->domain, DK_STORE_RETIRED);
			rc = DK_EUSAGE;
		} else if (o == NULL && moves(k, latest))
			rc = dk_domain_keys_add(old, k);
	}
	if (rc != 0 || n == 0)
		goto done;
	if ((rc = dk_store_format_retired(old, &b)) != 0)
		goto done;
	rc = -1;
	if (dk_store_rel_path(rel, sizeof(rel), dk->domain,
	    DK_STORE_RETIRED) != 0 ||
	    dk_tree_stage(repo, rel, b.data, b.len, DK_STORE_MODE_PUBLIC, tmp,
	    size) != 0)
		goto done;
	/* Staged: only now out of dk. */
	for (i = j = 0; i < dk->n; i++)
		if (!moves(&dk->keys[i], latest))
			dk->keys[j++] = dk->keys[i];
	dk->n = j;
	rc = 0;
done:
	dk_buf_dispose(&b);
	dk_domain_keys_free(old);
	return rc;
}
