/*
 * Unit tests: keys (generation, PEM in and out), records, their zone form
 * against the fixed vectors, record parsing and key/record matching.
 * Private keys are never compared with assert_string_equal (which would
 * print them on failure).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strlist.h"
#include "keygen/key.h"
#include "keygen/ossl.h"

#include <openssl/bio.h>
#include <openssl/pem.h>

#define SEL	"20261122131500"
#define DOMAIN	"example.com"
#define OWNER	SEL "._domainkey"

static const char *
vector(const char *name)
{
	static char path[PATH_MAX];
	const char *src = getenv("DKIMROT_SRC");
	int n;

	n = snprintf(path, sizeof(path), "%s/tests/vectors/%s",
	    src != NULL ? src : ".", name);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	return path;
}

static struct dk_key *
load_vector(const char *name)
{
	struct dk_key *key;

	if (dk_key_load(&key, vector(name)) != 0)
		fail_msg("%s", dk_error_last());
	return key;
}

static char *
read_vector(const char *name)
{
	char *s;

	assert_int_equal(dk_file_read(vector(name), DK_FILE_MAX, &s, NULL), 0);
	return s;
}

static char *
value_of(const struct dk_key *key, const struct dk_record_opts *o)
{
	char *v;

	assert_int_equal(dk_record_value(key, o, &v), 0);
	return v;
}

static void
test_key__bits(void **state)
{
	struct dk_key *key = (struct dk_key *)1;

	assert_int_equal(dk_key_check_bits(1024), 0);
	assert_int_equal(dk_key_check_bits(4096), 0);
	assert_int_equal(dk_key_check_bits(1023), DK_EUSAGE);
	assert_int_equal(dk_key_generate(&key, DK_ALG_RSA, 512), DK_EUSAGE);
	assert_null(key);
	assert_string_equal(dk_error_last(),
	    "rsa key size must be from 1024 to 4096 bits, not 512");
	assert_int_equal(dk_key_generate(&key, DK_ALG_RSA, 8192), DK_EUSAGE);
	assert_string_equal(dk_error_last(),
	    "rsa key size must be from 1024 to 4096 bits, not 8192");
}

/* A fresh key survives PKCS#8 PEM out and in, and matches its record. */
static void
roundtrip(enum dk_alg alg, int bits)
{
	struct dk_key *key, *again;
	struct dk_buf pem = { 0 };
	struct dk_record rec;
	char *a, *b, *v;

	assert_int_equal(dk_key_generate(&key, alg, bits), 0);
	assert_int_equal(dk_key_alg(key), alg);
	assert_int_equal(dk_key_bits(key), bits);
	assert_int_equal(dk_key_to_pem(key, &pem), 0);
	assert_true(strncmp(pem.data, "-----BEGIN PRIVATE KEY-----\n",
	    28) == 0);
	assert_int_equal(dk_key_load_pem(&again, pem.data, pem.len, "mem"), 0);
	dk_buf_wipe(&pem);
	assert_int_equal(dk_key_public_b64(key, &a), 0);
	assert_int_equal(dk_key_public_b64(again, &b), 0);
	assert_string_equal(a, b);
	v = value_of(key, NULL);
	assert_int_equal(dk_record_parse(v, strlen(v), &rec), 0);
	assert_string_equal(rec.p, a);
	assert_int_equal(dk_key_matches_record(again, &rec), 0);
	dk_record_dispose(&rec);
	free(a);
	free(b);
	free(v);
	dk_key_free(key);
	dk_key_free(again);
}

static void
test_key__generate(void **state)
{
	roundtrip(DK_ALG_RSA, 1024);
	roundtrip(DK_ALG_ED25519, 256);
}

/* Every string at most 255 bytes; joined, the value again. */
static void
check_split(const char *v, size_t want)
{
	struct dk_strlist s = { 0 };
	struct dk_buf j = { 0 };
	size_t i;

	assert_int_equal(dk_txt_split(v, &s), 0);
	assert_int_equal(s.n, want);
	for (i = 0; i < s.n; i++) {
		assert_true(strlen(s.v[i]) <= DK_TXT_CHUNK);
		assert_int_equal(dk_buf_puts(&j, s.v[i]), 0);
	}
	assert_string_equal(j.data != NULL ? j.data : "", v);
	dk_buf_dispose(&j);
	dk_strlist_dispose(&s);
}

static void
test_key__txt_split(void **state)
{
	static const struct { const char *key; size_t n; } vec[] = {
		{ "rsa1024.private", 2 }, { "rsa2048.private", 3 },
		{ "rsa4096.private", 4 }, { "ed25519.private", 2 },
	};
	struct dk_record_opts o = { .restrict_email = true, .testmode = true };
	struct dk_key *key;
	struct dk_strlist s = { 0 };
	char *v, big[700];
	size_t i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		key = load_vector(vec[i].key);
		v = value_of(key, NULL);
		check_split(v, vec[i].n);
		free(v);
		v = value_of(key, &o);
		check_split(v, vec[i].n);
		free(v);
		dk_key_free(key);
	}
	/* No p=: plain 255-byte strings. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	check_split(big, 3);
	check_split("", 1);
	check_split("v=DKIM1; k=rsa; p=", 2);
	/* The cut is before p=, with its key data in the next string. */
	assert_int_equal(dk_txt_split("v=DKIM1; p=QUJD", &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "v=DKIM1; ");
	assert_string_equal(s.v[1], "p=QUJD");
	dk_strlist_dispose(&s);
}

/* Our zone form of each fixed key is byte for byte the expected file. */
static void
check_vector(const char *keyfile, const char *txt,
    const struct dk_record_opts *o)
{
	struct dk_key *key;
	char *want, *v, *zone;

	key = load_vector(keyfile);
	want = read_vector(txt);
	v = value_of(key, o);
	assert_int_equal(dk_record_zone(OWNER, 0, v, SEL, DOMAIN, &zone), 0);
	assert_string_equal(zone, want);
	free(zone);
	free(v);
	free(want);
	dk_key_free(key);
}

static void
test_key__vectors(void **state)
{
	struct dk_record_opts rt = { .restrict_email = true, .testmode = true };

	check_vector("rsa1024.private", "rsa1024.txt", NULL);
	check_vector("rsa2048.private", "rsa2048.txt", NULL);
	check_vector("rsa4096.private", "rsa4096.txt", NULL);
	check_vector("ed25519.private", "ed25519.txt", NULL);
	check_vector("rsa2048.private", "rsa2048-rt.txt", &rt);
}

static void
test_key__zone(void **state)
{
	struct dk_record_opts o = { 0 };
	char *v, *z;

	assert_int_equal(dk_record_zone("s1._domainkey.example.com.", 3600,
	    "v=DKIM1; k=rsa; p=QUJD", "s1", "example.com", &z), 0);
	assert_string_equal(z, "s1._domainkey.example.com.\t3600\tIN\tTXT\t"
	    "( \"v=DKIM1; k=rsa; \"\n\t  \"p=QUJD\" )  ; ----- DKIM key s1 "
	    "for example.com\n");
	free(z);
	assert_int_equal(dk_record_zone("s1._domainkey", 0,
	    "n=a \"b\\\"; p=", NULL, NULL, &z), 0);
	assert_string_equal(z, "s1._domainkey\tIN\tTXT\t( \"n=a \\\"b\\\\\\\"; "
	    "\"\n\t  \"p=\" ) \n");
	free(z);
	assert_int_equal(dk_record_zone("s1._domainkey\n$INCLUDE /etc", 0,
	    "p=", "s1", "example.com", &z), DK_EUSAGE);
	assert_int_equal(dk_record_zone("s1._domainkey", 0, "p=", "s1",
	    "example.com\n@ IN A 1.2.3.4", &z), DK_EUSAGE);
	/* Revoked: p= empty, flags kept in opendkim-genkey's order. */
	o.revoked = o.testmode = o.restrict_email = true;
	assert_int_equal(dk_record_value_revoked(DK_ALG_RSA, &o, &v), 0);
	assert_string_equal(v, "v=DKIM1; h=sha256; k=rsa; t=y; s=email; p=");
	free(v);
	assert_int_equal(dk_record_value_revoked(DK_ALG_ED25519, NULL, &v), 0);
	assert_string_equal(v, "v=DKIM1; k=ed25519; p=");
	free(v);
}

static void
test_key__parse(void **state)
{
	static const char folded[] =
	    " v = DKIM1 ;\r\n\th=sha256;k=rsa; n=a note ;  p = QU JD\r\n"
	    " REVG ; x_y9=what ever ; t=y:s;";
	struct dk_record r;

	assert_int_equal(dk_record_parse(folded, strlen(folded), &r), 0);
	assert_string_equal(r.v, "DKIM1");
	assert_string_equal(r.h, "sha256");
	assert_string_equal(r.k, "rsa");
	assert_string_equal(r.n, "a note");
	assert_string_equal(r.p, "QUJDREVG");
	assert_string_equal(r.t, "y:s");
	assert_null(r.s);
	dk_record_dispose(&r);
	/* No v=, no k=: rsa. */
	assert_int_equal(dk_record_parse("p=QUJD", 6, &r), 0);
	assert_null(r.v);
	assert_string_equal(r.k, "rsa");
	dk_record_dispose(&r);
	/* Revoked. */
	assert_int_equal(dk_record_parse("v=DKIM1; k=ed25519; p=", 22, &r), 0);
	assert_string_equal(r.p, "");
	assert_string_equal(r.k, "ed25519");
	dk_record_dispose(&r);
}

static void
test_key__parse_bad(void **state)
{
	static const struct { const char *in; const char *msg; } bad[] = {
		{ "v=DKIM1; k=rsa", "invalid key record: no p= tag" },
		{ "v=DKIM2; p=QUJD", "invalid key record: unsupported "
		    "version v=DKIM2 (expected DKIM1)" },
		{ "k=rsa; v=DKIM1; p=QUJD", "invalid key record: v= must be "
		    "the first tag" },
		{ "p=QUJD; k=rsa; p=QUJD", "invalid key record: duplicate "
		    "tag 'p'" },
		{ "x=1; p=QUJD; x=2", "invalid key record: duplicate tag "
		    "'x'" },
		{ "p=QUJ", "invalid key record: p= is not base64: 'QUJ'" },
		{ "p=QU!D", "invalid key record: p= is not base64: 'QU!D'" },
		{ "p=Q=JD", "invalid key record: p= is not base64: 'Q=JD'" },
		{ "p=Q===", "invalid key record: p= is not base64: 'Q==='" },
		{ "", "invalid key record: no tags" },
		{ "  \r\n", "invalid key record: no tags" },
		{ "p=QUJD;;", "invalid key record: expected a tag name at "
		    "';'" },
		{ "=QUJD", "invalid key record: expected a tag name at "
		    "'=QUJD'" },
		{ "\033[2Jx=1; p=QUJD", "invalid key record: expected a tag "
		    "name at '?[2Jx=1; p=QUJD'" },
		{ "p QUJD", "invalid key record: tag 'p' has no '='" },
		{ "p=QUJD; n=caf\xc3\xa9", "invalid key record: invalid "
		    "character in the value of tag 'n'" },
	};
	struct dk_record r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dk_record_parse(bad[i].in, strlen(bad[i].in),
		    &r), DK_EUSAGE);
		assert_string_equal(dk_error_last(), bad[i].msg);
		assert_null(r.p);
	}
	/* A NUL inside the record is not a VALCHAR. */
	assert_int_equal(dk_record_parse("p=QUJD; n=a\0b", 13, &r), DK_EUSAGE);
}

static void
parse_value(const char *v, struct dk_record *r)
{
	if (dk_record_parse(v, strlen(v), r) != 0)
		fail_msg("%s: %s", v, dk_error_last());
}

static void
test_key__match(void **state)
{
	struct dk_key *r1, *r2, *ed;
	struct dk_record rec;
	unsigned char *der;
	char *v, *b64, buf[1024];
	size_t n;

	r1 = load_vector("rsa1024.private");
	r2 = load_vector("rsa2048.private");
	ed = load_vector("ed25519.private");
	v = value_of(r1, NULL);
	parse_value(v, &rec);
	free(v);
	assert_int_equal(dk_key_matches_record(r1, &rec), 0);
	assert_int_equal(dk_key_matches_record(r2, &rec), DK_EMISMATCH);
	assert_string_equal(dk_error_last(), "key does not match record: "
	    "p= holds another public key");
	assert_int_equal(dk_key_matches_record(ed, &rec), DK_EMISMATCH);
	assert_string_equal(dk_error_last(), "key does not match record: "
	    "record is for k=rsa, the key is ed25519");
	/* The bare RSAPublicKey form (the SPKI less its 22-byte header). */
	assert_int_equal(dk_b64_decode(rec.p, strlen(rec.p), &der, &n), 0);
	assert_int_equal(dk_b64_encode(der + 22, n - 22, &b64), 0);
	snprintf(buf, sizeof(buf), "k=rsa; p=%s", b64);
	free(b64);
	free(der);
	dk_record_dispose(&rec);
	parse_value(buf, &rec);
	assert_int_equal(dk_key_matches_record(r1, &rec), 0);
	assert_int_equal(dk_key_matches_record(r2, &rec), DK_EMISMATCH);
	dk_record_dispose(&rec);
	/* Ed25519: the raw key; an rsa key's record is another type. */
	v = value_of(ed, NULL);
	parse_value(v, &rec);
	free(v);
	assert_int_equal(dk_key_matches_record(ed, &rec), 0);
	assert_int_equal(dk_key_matches_record(r1, &rec), DK_EMISMATCH);
	free(rec.k);
	rec.k = strdup("rsa");	/* right bytes, wrong type */
	assert_int_equal(dk_key_matches_record(ed, &rec), DK_EMISMATCH);
	dk_record_dispose(&rec);
	/* 32 bytes that are not this key; and a revoked record. */
	parse_value("k=ed25519; p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    &rec);
	assert_int_equal(dk_key_matches_record(ed, &rec), DK_EMISMATCH);
	dk_record_dispose(&rec);
	parse_value("v=DKIM1; k=ed25519; p=", &rec);
	assert_int_equal(dk_key_matches_record(ed, &rec), DK_EMISMATCH);
	assert_string_equal(dk_error_last(), "key does not match record: "
	    "record is revoked (empty p=)");
	dk_record_dispose(&rec);
	/* Not DER at all. */
	parse_value("p=QUJD", &rec);
	assert_int_equal(dk_key_matches_record(r1, &rec), DK_EMISMATCH);
	dk_record_dispose(&rec);
	dk_key_free(r1);
	dk_key_free(r2);
	dk_key_free(ed);
}

static void
expect_load_error(const char *file, const char *why)
{
	struct dk_key *key;
	char msg[PATH_MAX + 256];

	assert_int_equal(dk_key_load(&key, vector(file)), DK_EUSAGE);
	assert_null(key);
	snprintf(msg, sizeof(msg), "cannot load key '%s': %s", vector(file),
	    why);
	assert_string_equal(dk_error_last(), msg);
}

static void
test_key__load(void **state)
{
	struct dk_key *k1, *k8;
	char *pem, *p;
	size_t len;

	/* PKCS#1 as opendkim-genkey wrote it with OpenSSL 1.x; PKCS#8. */
	k1 = load_vector("rsa1024.private");
	assert_int_equal(dk_key_alg(k1), DK_ALG_RSA);
	assert_int_equal(dk_key_bits(k1), 1024);
	k8 = load_vector("rsa4096.private");
	assert_int_equal(dk_key_bits(k8), 4096);
	dk_key_free(k8);
	k8 = load_vector("ed25519.private");
	assert_int_equal(dk_key_alg(k8), DK_ALG_ED25519);
	assert_int_equal(dk_key_bits(k8), 256);
	dk_key_free(k8);
	dk_key_free(k1);

	expect_load_error("public.pem", "unsupported PEM type 'PUBLIC KEY' "
	    "(expected 'PRIVATE KEY' or 'RSA PRIVATE KEY')");
	expect_load_error("ec.pem", "unsupported PEM type 'EC PRIVATE KEY' "
	    "(expected 'PRIVATE KEY' or 'RSA PRIVATE KEY')");
	expect_load_error("ec-pkcs8.pem", "unsupported key type 'EC' "
	    "(expected rsa or ed25519)");
	expect_load_error("rsa512.pem", "rsa key size must be from 1024 to "
	    "4096 bits, not 512");
	expect_load_error("encrypted.pem", "encrypted keys are not supported");
	expect_load_error("rsa1024.txt", "not a PEM file");
	assert_int_equal(dk_key_load(&k1, vector("missing.pem")),
	    DK_ENOTFOUND);

	/*
	 * Corrupted: a character that is not base64, then valid base64
	 * that is not a key, then a PEM cut short.
	 */
	assert_int_equal(dk_file_read(vector("rsa2048.private"), DK_FILE_MAX,
	    &pem, &len), 0);
	p = pem + len / 2;
	*p = '!';
	assert_int_equal(dk_key_load_pem(&k1, pem, len, "bad1"), DK_EUSAGE);
	assert_true(strncmp(dk_error_last(), "cannot load key 'bad1': "
	    "not a valid PEM private key: ", 53) == 0);
	*p = *p == 'A' ? 'B' : 'A';
	memset(pem + 40, 'A', 64);
	assert_int_equal(dk_key_load_pem(&k1, pem, len, "bad2"), DK_EUSAGE);
	assert_true(strncmp(dk_error_last(), "cannot load key 'bad2': "
	    "not a valid PEM private key: ", 53) == 0);
	assert_int_equal(dk_key_load_pem(&k1, pem, 200, "bad3"), DK_EUSAGE);
	assert_true(strncmp(dk_error_last(), "cannot load key 'bad3': "
	    "not a valid PEM private key: ", 53) == 0);
	assert_null(k1);
	memset(pem, 0, len);
	free(pem);
}

static void
test_key__write(void **state)
{
	char dir[] = "/tmp/t_key.XXXXXX", path[PATH_MAX];
	struct dk_key *key, *again;
	struct stat st;
	char *a, *b;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.private", dir);
	key = load_vector("rsa1024.private");
	umask(022);
	assert_int_equal(dk_key_write(key, NULL, path, true), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dk_key_write(key, NULL, path, true), DK_EEXISTS);
	assert_int_equal(dk_key_load(&again, path), 0);
	assert_int_equal(dk_key_public_b64(key, &a), 0);
	assert_int_equal(dk_key_public_b64(again, &b), 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	dk_key_free(again);
	dk_key_free(key);
	unlink(path);
	rmdir(dir);
}

/*
 * dk_key_to_pem builds Ed25519's PKCS#8 itself (no encoder search): it
 * must be what OpenSSL's encoder writes, byte for byte, and load back.
 */
static void
test_key__ed25519_pem(void **state)
{
	struct dk_buf ours = { 0 };
	struct dk_key *key, *again;
	char *data, *a, *b;
	BIO *bio;
	long n;
	int i;

	(void)state;
	for (i = 0; i < 50; i++) {
		assert_int_equal(dk_key_generate(&key, DK_ALG_ED25519, 0), 0);
		assert_int_equal(dk_key_to_pem(key, &ours), 0);
		assert_non_null(bio = BIO_new(BIO_s_mem()));
		assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio,
		    dk_key_pkey(key), NULL, NULL, 0, NULL, NULL), 1);
		n = BIO_get_mem_data(bio, &data);
		assert_int_equal(ours.len, (size_t)n);
		assert_memory_equal(ours.data, data, ours.len);
		assert_int_equal(dk_key_load_pem(&again, ours.data, ours.len,
		    "ours"), 0);
		assert_int_equal(dk_key_public_b64(key, &a), 0);
		assert_int_equal(dk_key_public_b64(again, &b), 0);
		assert_string_equal(a, b);
		free(a);
		dk_key_free(again);
		/* Not in the exact form: OpenSSL's decoder reads it. */
		assert_int_equal(dk_buf_append(&ours, "\n", 1), 0);
		assert_int_equal(dk_key_load_pem(&again, ours.data, ours.len,
		    "longer"), 0);
		assert_int_equal(dk_key_public_b64(again, &a), 0);
		assert_string_equal(a, b);
		free(a);
		free(b);
		dk_key_free(again);
		BIO_free(bio);
		dk_buf_wipe(&ours);
		dk_key_free(key);
	}
	/* The exact form with another algorithm's OID is no Ed25519 key. */
	assert_int_equal(dk_key_generate(&key, DK_ALG_ED25519, 0), 0);
	assert_int_equal(dk_key_to_pem(key, &ours), 0);
	/* 302e020100300506032b6570: "MC4CAQAwBQYDK2Vw"; 2b6571 is X448. */
	assert_int_equal(memcmp(ours.data + 28, "MC4CAQAwBQYDK2Vw", 16), 0);
	ours.data[28 + 15] = 'x';
	assert_int_equal(dk_key_load_pem(&again, ours.data, ours.len, "oid"),
	    DK_EUSAGE);
	assert_null(again);
	dk_buf_wipe(&ours);
	dk_key_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key__bits),
		cmocka_unit_test(test_key__generate),
		cmocka_unit_test(test_key__txt_split),
		cmocka_unit_test(test_key__vectors),
		cmocka_unit_test(test_key__zone),
		cmocka_unit_test(test_key__parse),
		cmocka_unit_test(test_key__parse_bad),
		cmocka_unit_test(test_key__match),
		cmocka_unit_test(test_key__load),
		cmocka_unit_test(test_key__write),
		cmocka_unit_test(test_key__ed25519_pem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
