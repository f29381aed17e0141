/*
 * The limit for key generation: N keys made with OpenSSL 3 on one thread
 * in this process, as keygen/key.c makes them (one EVP_PKEY_CTX from
 * name, reused; RSA with e = 65537), without encoding or files.  Prints
 * keys/s.
 * Bench only: the product uses OpenSSL from keygen/ alone.
 *
 *   osslrate rsa|ed25519 N [BITS]
 */
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

int
main(int argc, char **argv)
{
	struct timespec a, b;
	EVP_PKEY_CTX *ctx;
	const char *type;
	unsigned bits = 2048;
	long i, n;
	double s;

	if (argc < 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: osslrate rsa|ed25519 N [BITS]\n");
		return 2;
	}
	type = strcmp(argv[1], "rsa") == 0 ? "RSA" : "ED25519";
	if (argc > 3)
		bits = (unsigned)atoi(argv[3]);
	/* The first key loads the provider: not part of the rate. */
	if ((ctx = context(type, bits)) == NULL || one(ctx) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		if (one(ctx) != 0)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) /
	    1e9;
	printf("%.2f\n", (double)n / s);
	EVP_PKEY_CTX_free(ctx);
	return 0;
}
