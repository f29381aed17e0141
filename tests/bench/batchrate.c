/*
 * keygen/batch.c's rate: N keys through dk_key_generate_batch() on every
 * core (threads 0), as 'dkimrot rotate' makes them, without files.
 * Prints keys/s and the cores it got (CPU time / wall time: on a busy
 * machine fewer than it has); compare with osslrate (one thread).
 *
 *   batchrate rsa|ed25519 N [BITS]
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "keygen/batch.h"
#include "keygen/key.h"

static double
cpu(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) +
	    (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e6;
}

int
main(int argc, char **argv)
{
	struct dk_keyreq *reqs, warm;
	struct rusage ra, rb;
	struct timespec a, b;
	enum dk_alg alg;
	int bits = 2048;
	long i, n;
	double s;

	if (argc < 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: batchrate rsa|ed25519 N [BITS]\n");
		return 2;
	}
	alg = strcmp(argv[1], "rsa") == 0 ? DK_ALG_RSA : DK_ALG_ED25519;
	if (argc > 3)
		bits = atoi(argv[3]);
	if ((reqs = calloc((size_t)n, sizeof(*reqs))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		reqs[i].alg = alg;
		reqs[i].bits = bits;
	}
	/* As in osslrate: the provider is loaded before the clock starts. */
	memset(&warm, 0, sizeof(warm));
	warm.alg = alg;
	warm.bits = bits;
	if (dk_key_generate_batch(&warm, 1, 1, false) != 0)
		return 1;
	dk_key_free(warm.key);
	getrusage(RUSAGE_SELF, &ra);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (dk_key_generate_batch(reqs, (size_t)n, 0, false) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	getrusage(RUSAGE_SELF, &rb);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) /
	    1e9;
	printf("%.2f %.2f\n", (double)n / s, (cpu(&rb) - cpu(&ra)) / s);
	for (i = 0; i < n; i++)
		dk_key_free(reqs[i].key);
	free(reqs);
	return 0;
}
