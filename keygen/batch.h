/*
 * Many keys at once, on all cores (OpenSSL 3 is thread-safe): a rotation
 * of thousands of domains costs the keys it makes and little else.
 */
#ifndef DK_BATCH_H
#define DK_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

struct dk_key;

struct dk_keyreq {
	enum dk_alg	 alg;
	int		 bits;
	struct dk_key	*key;		/* out: the caller frees it */
	int		 rc;		/* out: 0 or the error code */
	char		 err[256];	/* out: the message when rc != 0 */
	/*
	 * The caller's: the git blob id of the key file once written, ""
	 * before (rotate's record cache, rotator/records.h; 41 is
	 * rotator/git.h's DK_GIT_ID_LEN).
	 */
	char		 kid[41];
};

/*
 * Generates every request, with threads workers (0: one per core).  Each
 * request succeeds or fails on its own; returns -1 if any failed (the
 * first failure's message in the last-error buffer).  With progress and
 * stderr a terminal, a line shows keys done, rate and time left.
 */
int	dk_key_generate_batch(struct dk_keyreq *, size_t, int, bool);

#endif
