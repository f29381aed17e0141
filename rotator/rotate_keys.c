/*
 * The keys of a run (rotator/rotate.h): one request for every GENERATE
 * of the plans, made on every core, let go once written, and their
 * public halves into the record cache (rotator/records.h) before the
 * commit.
 */
#include <stdlib.h>

#include "common/error.h"
#include "common/log.h"
#include "keygen/batch.h"
#include "keygen/key.h"
#include "rotator/policy.h"
#include "rotator/records.h"
#include "rotator/rotate.h"

/*
 * Key requests for every GENERATE of every planned domain, in an array
 * of exactly their number (a request is some 330 bytes).
 */
static int
collect_requests(struct dk_rotate *run)
{
	const struct dk_action *a;
	size_t i, k, count = 0;

	for (i = 0; i < run->n; i++)
		for (k = 0; run->jobs[i].rc == 0 && k < run->jobs[i].plan.n;
		    k++)
			count += run->jobs[i].plan.actions[k].type ==
			    DK_ACT_GENERATE;
	if ((run->reqs = calloc(count > 0 ? count : 1,
	    sizeof(*run->reqs))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	count = 0;
	for (i = 0; i < run->n; i++) {
		run->jobs[i].req = count;
		if (run->jobs[i].rc != 0)
			continue;
		for (k = 0; k < run->jobs[i].plan.n; k++) {
			a = &run->jobs[i].plan.actions[k];
			if (a->type != DK_ACT_GENERATE)
				continue;
			run->reqs[count].alg = a->alg;
			run->reqs[count].bits = a->bits;
			count++;
		}
	}
	run->nreq = count;
	return 0;
}

int
dk_rotate_generate(struct dk_rotate *run)
{
	if (collect_requests(run) != 0)
		return -1;
	/* Failures are per key: their domains fail when written. */
	dk_key_generate_batch(run->reqs, run->nreq, 0,
	    dk_log_level() >= DK_LOG_NORMAL);
	return 0;
}

/*
 * The written keys' public halves kept for the record cache, the keys
 * freed: at 100,000 domains they held 42 MB until the run ended.
 */
int
dk_rotate_keys_written(struct dk_rotate *run)
{
	struct dk_keyreq *q;
	char *pub = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < run->nreq && rc == 0; i++) {
		q = &run->reqs[i];
		if (q->kid[0] != '\0' && q->key != NULL &&
		    (rc = dk_key_public_b64(q->key, &pub)) == 0)
			rc = dk_records_add(&run->made, q->kid,
			    dk_key_alg(q->key), pub);
		free(pub);
		pub = NULL;
		dk_key_free(q->key);
		q->key = NULL;
	}
	return rc;
}

/*
 * The public keys this run made, into the record cache (rotator/
 * records.h) before the commit's hook packages them, so that the hook
 * does not derive them again: at 100,000 new Ed25519 domains, 6 s of
 * CPU.  An entry names the key file's exact bytes, so one of a key that
 * is never committed is harmless (the next package drops it).  Best
 * effort: the cache is derived.
 */
void
dk_rotate_keys_remember(const struct dk_rotate *run)
{
	struct dk_records rs;
	size_t i;
	int rc = 0;

	if (run->made.n == 0)
		return;
	if (dk_records_load(run->r.path, &rs) != 0)
		goto done;
	for (i = 0; i < run->made.n && rc == 0; i++)
		rc = dk_records_add(&rs, run->made.v[i].id,
		    run->made.v[i].alg, run->made.v[i].pub);
	if (rc == 0)
		rc = dk_records_save(run->r.path, &rs);
	dk_records_dispose(&rs);
done:
	if (rc != 0)
		dk_log_debug("the record cache is not updated: %s",
		    dk_error_last());
}
