/*
 * Unit tests of check/dkim.c: sign with keys made by the openssl tool,
 * verify against records built from their public halves, and against
 * records that must not verify.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/dkim.h"
#include "common/error.h"
#include "common/file.h"
#include "tests/lib/run.h"

#define DOMAIN	"example.com"
#define SEL	"20261122131500"

struct key {
	const char	*name;
	const char	*alg;	/* for openssl genpkey */
	char		*pem;
	size_t		 len;
	char		 pub[512];	/* the p= value */
};

static char tmpdir[] = "/tmp/dk_t_dkim.XXXXXX";
static struct key keys[] = {
	{ .name = "rsa1", .alg = "RSA" },
	{ .name = "rsa2", .alg = "RSA" },
	{ .name = "ed1", .alg = "ED25519" },
	{ .name = "ed2", .alg = "ED25519" },
	{ .name = "rsa1-pkcs1", .alg = NULL },	/* made from rsa1 */
};
#define RSA1	(&keys[0])
#define RSA2	(&keys[1])
#define ED1	(&keys[2])
#define ED2	(&keys[3])
#define PKCS1	(&keys[4])

static int
make_key(struct key *k)
{
	char path[PATH_MAX], src[PATH_MAX];
	char *gen_rsa[] = { "openssl", "genpkey", "-quiet", "-algorithm",
	    "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", path, NULL };
	char *gen_ed[] = { "openssl", "genpkey", "-quiet", "-algorithm",
	    "ED25519", "-out", path, NULL };
	/* opendkim-genkey's form: PKCS#1 "RSA PRIVATE KEY" */
	char *pkcs1[] = { "openssl", "pkey", "-traditional", "-in", src,
	    "-out", path, NULL };
	/* RSA: base64 SPKI; Ed25519 (RFC 8463 4.2): the raw 32 bytes */
	char *pub[] = { "/bin/sh", "-c", "openssl pkey -in \"$0\" -pubout "
	    "-outform DER | if [ \"$1\" = ED25519 ]; then tail -c 32; "
	    "else cat; fi | base64 -w0", path, (char *)k->alg, NULL };

	snprintf(path, sizeof(path), "%s/%s.pem", tmpdir, k->name);
	if (k->alg == NULL) {
		snprintf(src, sizeof(src), "%s/rsa1.pem", tmpdir);
		if (t_run(pkcs1, NULL, 0) != 0)
			return -1;
		k->alg = "RSA";
	} else if (t_run(strcmp(k->alg, "RSA") == 0 ? gen_rsa : gen_ed,
	    NULL, 0) != 0)
		return -1;
	if (t_run(pub, k->pub, sizeof(k->pub)) != 0 || k->pub[0] == '\0')
		return -1;
	return dk_file_read(path, 65536, &k->pem, &k->len);
}

static int
teardown(void **state)
{
	char *rm[] = { "rm", "-rf", tmpdir, NULL };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		free(keys[i].pem);
		keys[i].pem = NULL;
	}
	return t_run(rm, NULL, 0) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	size_t i;

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* on failure cmocka runs the teardown all the same */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (make_key(&keys[i]) == -1)
			return -1;
	return 0;
}

/* Self-test of key k against the record fmt (with %s = a p= value). */
static int
selftest(const struct key *k, const char *fmt, const char *p)
{
	char rec[2048];
	enum dk_alg alg = strcmp(k->alg, "RSA") == 0 ? DK_ALG_RSA :
	    DK_ALG_ED25519;

	snprintf(rec, sizeof(rec), fmt, p);
	dk_error_clear();
	return dk_dkim_selftest(DOMAIN, SEL, alg, k->pem, k->len, rec,
	    strlen(rec));
}

static void
test_dkim__rsa_pass(void **state)
{
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=rsa; p=%s", RSA1->pub),
	    0);
	/* keygen's form, and the tag order and spacing do not matter */
	assert_int_equal(selftest(RSA1, "v=DKIM1; h=sha256; k=rsa; s=email; "
	    "t=y; p=%s", RSA1->pub), 0);
	assert_int_equal(selftest(RSA1, "p=%s;k=rsa", RSA1->pub), 0);
	/* RFC 6376 3.6.1: no k= means rsa */
	assert_int_equal(selftest(RSA1, "v=DKIM1; p=%s", RSA1->pub), 0);
	/* an imported opendkim-genkey key (PKCS#1 PEM) */
	assert_int_equal(selftest(PKCS1, "v=DKIM1; k=rsa; p=%s", PKCS1->pub),
	    0);
	assert_string_equal(PKCS1->pub, RSA1->pub);
}

static void
test_dkim__other_key(void **state)
{
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=rsa; p=%s", RSA2->pub),
	    DK_EMISMATCH);
	assert_string_equal(dk_error_last(),
	    "signature did not verify: bad signature");
}

static void
test_dkim__corrupted_p(void **state)
{
	char p[sizeof(RSA1->pub)];
	size_t mid = strlen(RSA1->pub) / 2;

	/* one base64 digit of the modulus changed: a different key */
	strcpy(p, RSA1->pub);
	p[mid] = p[mid] == 'A' ? 'B' : 'A';
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=rsa; p=%s", p),
	    DK_EMISMATCH);
	assert_non_null(strstr(dk_error_last(), "signature did not verify"));
	/* cut short: not a key at all */
	p[mid] = '\0';
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=rsa; p=%s", p),
	    DK_EMISMATCH);
	assert_non_null(strstr(dk_error_last(), "signature did not verify: "
	    "unable to apply public key"));
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=rsa; p=%s", "!!!!"),
	    DK_EMISMATCH);
}

static void
test_dkim__revoked(void **state)
{
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=rsa; p=%s", ""),
	    DK_EMISMATCH);
	assert_string_equal(dk_error_last(), "key record is revoked "
	    "(empty p=)");
	assert_int_equal(selftest(ED1, "v=DKIM1; k=ed25519; p=%s", ""),
	    DK_EMISMATCH);
	assert_non_null(strstr(dk_error_last(), "revoked"));
}

static void
test_dkim__wrong_k(void **state)
{
	/* libopendkim alone would pass this one: its k= goes unchecked */
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=ed25519; p=%s",
	    RSA1->pub), DK_EMISMATCH);
	assert_string_equal(dk_error_last(),
	    "key record is for k=ed25519, the key is rsa");
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=ed25519; p=%s", ED1->pub),
	    DK_EMISMATCH);
	assert_string_equal(dk_error_last(),
	    "key record is for k=ed25519, the key is rsa");
	assert_int_equal(selftest(ED1, "v=DKIM1; k=rsa; p=%s", RSA1->pub),
	    DK_EMISMATCH);
	assert_string_equal(dk_error_last(),
	    "key record is for k=rsa, the key is ed25519");
	assert_int_equal(selftest(ED1, "v=DKIM1; p=%s", ED1->pub),
	    DK_EMISMATCH);
	assert_string_equal(dk_error_last(),
	    "key record is for k=rsa, the key is ed25519");
}

static void
test_dkim__no_p(void **state)
{
	assert_int_equal(selftest(RSA1, "v=DKIM1; k=rsa%s", ""),
	    DK_EMISMATCH);
	assert_string_equal(dk_error_last(), "key record has no p=");
	assert_int_equal(selftest(RSA1, "%s", "garbage"), DK_EMISMATCH);
	assert_non_null(strstr(dk_error_last(), "signature did not verify"));
	assert_int_equal(selftest(RSA1, "%s", ""), DK_EMISMATCH);
}

static void
test_dkim__ed25519(void **state)
{
	assert_int_equal(selftest(ED1, "v=DKIM1; k=ed25519; p=%s", ED1->pub),
	    0);
	assert_int_equal(selftest(ED2, "v=DKIM1; h=sha256; k=ed25519; "
	    "s=email; p=%s", ED2->pub), 0);
	assert_int_equal(selftest(ED1, "v=DKIM1; k=ed25519; p=%s", ED2->pub),
	    DK_EMISMATCH);
	assert_string_equal(dk_error_last(),
	    "signature did not verify: bad signature");
}

static void
test_dkim__limits(void **state)
{
	char fmt[1200], rec[64];

	/* n= notes push a valid record past what libopendkim takes */
	snprintf(fmt, sizeof(fmt), "v=DKIM1; n=%0*d; k=rsa; p=%%s", 800, 0);
	assert_int_equal(selftest(RSA1, fmt, RSA1->pub), DK_EMISMATCH);
	assert_non_null(strstr(dk_error_last(), "libopendkim takes at most "
	    "1024"));
	/* a record as a name server may serve it: with a NUL inside */
	memcpy(rec, "v=DKIM1;\0k=rsa", 14);
	assert_int_equal(dk_dkim_selftest(DOMAIN, SEL, DK_ALG_RSA, RSA1->pem,
	    RSA1->len, rec, 14), DK_EMISMATCH);
	assert_string_equal(dk_error_last(), "key record contains a NUL byte");
}

static void
test_dkim__bad_input(void **state)
{
	static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n";
	const char *rec = "v=DKIM1; k=rsa; p=AAAA";

	assert_int_equal(dk_dkim_selftest("example", SEL, DK_ALG_RSA,
	    RSA1->pem, RSA1->len, rec, strlen(rec)), DK_EUSAGE);
	assert_int_equal(dk_dkim_selftest("a\r\nBcc: x@y.z", SEL, DK_ALG_RSA,
	    RSA1->pem, RSA1->len, rec, strlen(rec)), DK_EUSAGE);
	assert_int_equal(dk_dkim_selftest(DOMAIN, "a b", DK_ALG_RSA,
	    RSA1->pem, RSA1->len, rec, strlen(rec)), DK_EUSAGE);
	assert_int_equal(dk_dkim_selftest(DOMAIN, SEL, DK_ALG_RSA, junk,
	    sizeof(junk) - 1, rec, strlen(rec)), -1);
	assert_non_null(strstr(dk_error_last(), "cannot sign the test message "
	    "with the key of '" SEL "._domainkey." DOMAIN "'"));
	/* an RSA key said to be Ed25519 never passes */
	assert_int_not_equal(dk_dkim_selftest(DOMAIN, SEL, DK_ALG_ED25519,
	    RSA1->pem, RSA1->len, rec, strlen(rec)), 0);
	assert_int_equal(dk_dkim_selftest(DOMAIN, SEL, DK_ALG_RSA, "", 0,
	    rec, strlen(rec)), -1);
	assert_string_equal(dk_error_last(), "private key of '" SEL
	    "._domainkey." DOMAIN "' is not PEM text");
	/* len is honoured: the PEM cut short does not load */
	assert_int_equal(dk_dkim_selftest(DOMAIN, SEL, DK_ALG_RSA, RSA1->pem,
	    RSA1->len / 2, rec, strlen(rec)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dkim__rsa_pass),
		cmocka_unit_test(test_dkim__other_key),
		cmocka_unit_test(test_dkim__corrupted_p),
		cmocka_unit_test(test_dkim__revoked),
		cmocka_unit_test(test_dkim__wrong_k),
		cmocka_unit_test(test_dkim__no_p),
		cmocka_unit_test(test_dkim__ed25519),
		cmocka_unit_test(test_dkim__limits),
		cmocka_unit_test(test_dkim__bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
