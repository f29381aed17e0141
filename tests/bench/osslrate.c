/*
 * The limit for key generation: N keys made with OpenSSL 3 on one thread
 * in this process, as keygen/key.c makes them (one EVP_PKEY_CTX from
 * name, reused; RSA with e = 65537), without encoding or files.  Prints
 * keys/s.  With THREADS, the keys are shared among that many threads,
 * each with its own context: OpenSSL's own rate on that many cores.
 * Bench only: the product uses OpenSSL from keygen/ alone.
 *
 *   osslrate rsa|ed25519 N [BITS [THREADS]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* One context for every key, as keygen/key.c keeps one per thread. */
static EVP_PKEY_CTX *
context(const char *type, unsigned bits)
{
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM params[2];

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	if (strcmp(type, "RSA") == 0) {
		params[0] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_BITS,
		    &bits);
		params[1] = OSSL_PARAM_construct_end();
		if (EVP_PKEY_CTX_set_params(ctx, params) != 1) {
			EVP_PKEY_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

static int
one(EVP_PKEY_CTX *ctx)
{
	EVP_PKEY *pkey = NULL;
	int ok;

	ok = EVP_PKEY_generate(ctx, &pkey) == 1;
	EVP_PKEY_free(pkey);
	return ok ? 0 : -1;
}

/* A thread's share: n keys on its own context. */
struct share {
	const char	*type;
	unsigned	 bits;
	long		 n;
	int		 rc;
};

static void *
run(void *p)
{
	struct share *sh = p;
	EVP_PKEY_CTX *ctx;
	long i;

	sh->rc = -1;
	if ((ctx = context(sh->type, sh->bits)) == NULL)
		return NULL;
	for (i = 0; i < sh->n; i++)
		if (one(ctx) != 0)
			break;
	if (i == sh->n)
		sh->rc = 0;
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct share sh[64];
	pthread_t tid[64];
	struct timespec a, b;
	EVP_PKEY_CTX *ctx;
	const char *type;
	unsigned bits = 2048;
	int t, threads = 1;
	long n;
	double s;

	if (argc < 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr,
		    "usage: osslrate rsa|ed25519 N [BITS [THREADS]]\n");
		return 2;
	}
	type = strcmp(argv[1], "rsa") == 0 ? "RSA" : "ED25519";
	if (argc > 3)
		bits = (unsigned)atoi(argv[3]);
	if (argc > 4 && ((threads = atoi(argv[4])) < 1 || threads > 64))
		return 2;
	/* The first key loads the provider: not part of the rate. */
	if ((ctx = context(type, bits)) == NULL || one(ctx) != 0)
		return 1;
	EVP_PKEY_CTX_free(ctx);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (t = 0; t < threads; t++) {
		sh[t].type = type;
		sh[t].bits = bits;
		sh[t].n = n / threads + (t < n % threads);
		if (pthread_create(&tid[t], NULL, run, &sh[t]) != 0)
			return 1;
	}
	for (t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (t = 0; t < threads; t++)
		if (sh[t].rc != 0)
			return 1;
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) /
	    1e9;
	printf("%.2f\n", (double)n / s);
	return 0;
}
