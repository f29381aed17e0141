/*
 * Key pairs through OpenSSL 3's EVP interface: generation, PKCS#8 PEM out,
 * PKCS#8 or PKCS#1 PEM in, and the public half as DKIM publishes it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/secret.h"
#include "common/tree.h"
#include "keygen/key.h"
#include "keygen/ossl.h"

/* The decoder of dk_key_load_pem(), per thread (see decode_fast). */
static _Thread_local OSSL_DECODER_CTX *dctx;

/* A private key file is a few kilobytes; refuse anything absurd. */
#define KEY_FILE_MAX	(64u * 1024)

struct dk_key {
	EVP_PKEY	*pkey;
	enum dk_alg	 alg;
};

EVP_PKEY *
dk_key_pkey(const struct dk_key *key)
{
	return key->pkey;
}

int
dk_key_check_bits(int bits)
{
	if (bits < DK_RSA_MIN_BITS || bits > DK_RSA_MAX_BITS) {
		dk_error_set("rsa key size must be from %d to %d bits, not %d",
		    DK_RSA_MIN_BITS, DK_RSA_MAX_BITS, bits);
		return DK_EUSAGE;
	}
	return 0;
}

static int
new_key(struct dk_key **out, EVP_PKEY *pkey, enum dk_alg alg)
{
	struct dk_key *key;

	if ((key = calloc(1, sizeof(*key))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	key->pkey = pkey;
	key->alg = alg;
	*out = key;
	return 0;
}

/* RFC 8301 3.2: 1024..4096 bits; e = 65537 as everyone uses. */
static int
rsa_params(EVP_PKEY_CTX *ctx, int bits)
{
	BIGNUM *e;
	int rc = -1;

	if ((e = BN_new()) == NULL || BN_set_word(e, RSA_F4) != 1) {
		dk_error_set_ossl("cannot generate rsa key");
		goto done;
	}
	if (EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) <= 0) {
		dk_error_set_ossl("cannot generate %d-bit rsa key", bits);
		goto done;
	}
	rc = 0;
done:
	BN_free(e);
	return rc;
}

/*
 * A key generation context per thread and algorithm, reused: making one
 * fetches the algorithm from the providers under OpenSSL 3.0's global
 * locks, a third of an Ed25519 key's cost and a point where the threads
 * of keygen/batch.c wait for each other.
 */
static _Thread_local struct {
	EVP_PKEY_CTX	*ctx;
	int		 bits;
} gen[DK_ALG_COUNT];

static EVP_PKEY_CTX *
gen_ctx(enum dk_alg alg, const char *type, int bits)
{
	EVP_PKEY_CTX *ctx = gen[alg].ctx;

	if (ctx == NULL) {
		if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) ==
		    NULL || EVP_PKEY_keygen_init(ctx) != 1) {
			dk_error_set_ossl("cannot generate %s key",
			    dk_alg_name(alg));
			EVP_PKEY_CTX_free(ctx);
			return NULL;
		}
		gen[alg].ctx = ctx;
		gen[alg].bits = 0;
	}
	if (alg == DK_ALG_RSA && gen[alg].bits != bits) {
		if (rsa_params(ctx, bits) == -1) {
			EVP_PKEY_CTX_free(ctx);
			gen[alg].ctx = NULL;
			return NULL;
		}
		gen[alg].bits = bits;
	}
	return ctx;
}

void
dk_key_thread_end(void)
{
	size_t i;

	for (i = 0; i < DK_ALG_COUNT; i++) {
		EVP_PKEY_CTX_free(gen[i].ctx);
		gen[i].ctx = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	dctx = NULL;
}

int
dk_key_generate(struct dk_key **out, enum dk_alg alg, int bits)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	const char *type;
	int rc = -1;

	*out = NULL;
	switch (alg) {
	case DK_ALG_RSA:
		if ((rc = dk_key_check_bits(bits)) != 0)
			return rc;
		rc = -1;
		type = "RSA";
		break;
	case DK_ALG_ED25519:
		type = "ED25519";
		break;
	default:
		dk_error_set("cannot generate key: unknown algorithm %d",
		    (int)alg);
		return DK_EUSAGE;
	}
	if ((ctx = gen_ctx(alg, type, bits)) == NULL)
		return -1;
	if (EVP_PKEY_generate(ctx, &pkey) != 1) {
		dk_error_set_ossl("cannot generate %s key", dk_alg_name(alg));
		/* Start afresh next time. */
		EVP_PKEY_CTX_free(ctx);
		gen[alg].ctx = NULL;
		goto done;
	}
	if (new_key(out, pkey, alg) == -1)
		goto done;
	pkey = NULL;
	rc = 0;
done:
	EVP_PKEY_free(pkey);
	return rc;
}

/*
 * The label of the first PEM block ("PRIVATE KEY", "PUBLIC KEY", ...)
 * into type.  -1 if there is no well-formed BEGIN line.
 */
static int
pem_label(const char *buf, size_t len, char *type, size_t size)
{
	static const char begin[] = "-----BEGIN ";
	const char *p = buf, *end = buf + len, *lab, *q;
	size_t n;

	while (p < end) {
		if ((size_t)(end - p) > sizeof(begin) - 1 &&
		    memcmp(p, begin, sizeof(begin) - 1) == 0) {
			lab = p + sizeof(begin) - 1;
			for (q = lab; q < end && *q != '-' && *q != '\n'; q++)
				;
			if (end - q < 5 || memcmp(q, "-----", 5) != 0)
				return -1;
			if ((n = (size_t)(q - lab)) == 0 || n >= size)
				return -1;
			memcpy(type, lab, n);
			type[n] = '\0';
			return 0;
		}
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p++;
	}
	return -1;
}

/* Never prompt: an encrypted key fails, and we say so. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	*(int *)arg = 1;
	return -1;
}

/*
 * PEM_read_bio_PrivateKey() makes a decoder context for every key, and
 * in OpenSSL 3.0 making it is most of the cost (a search through the
 * providers' decoders: 0.7 ms a key where decoding takes 0.08 ms; 14 s
 * for the 20,000 keys packaging reads at 10,000 domains).  One context
 * per thread is kept and reused; it holds no key material between
 * calls.  After a failure it is dropped (OpenSSL 3.0 may then report
 * success without a key) and the caller takes the slow path, whose
 * errors say what is wrong.
 */
static _Thread_local EVP_PKEY *dout;

static int
refuse_passphrase(char *pass, size_t size, size_t *len,
    const OSSL_PARAM params[], void *arg)
{
	return 0;
}

/* A thread's decoder goes with the thread (check runs lookups on many). */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void
dctx_drop(void *p)
{
	OSSL_DECODER_CTX_free(p);
	dctx = NULL;
}

static void
dctx_key_make(void)
{
	(void)pthread_key_create(&dctx_key, dctx_drop);
}

static EVP_PKEY *
decode_fast(BIO *bio)
{
	EVP_PKEY *pkey = NULL;

	if (dctx == NULL) {
		dctx = OSSL_DECODER_CTX_new_for_pkey(&dout, "PEM", NULL, NULL,
		    EVP_PKEY_KEYPAIR, NULL, NULL);
		if (dctx == NULL || OSSL_DECODER_CTX_set_passphrase_cb(dctx,
		    refuse_passphrase, NULL) != 1)
			goto fail;
		(void)pthread_once(&dctx_once, dctx_key_make);
		(void)pthread_setspecific(dctx_key, dctx);
	}
	dout = NULL;
	if (OSSL_DECODER_from_bio(dctx, bio) == 1)
		pkey = dout;
	dout = NULL;
	if (pkey != NULL)
		return pkey;
fail:
	OSSL_DECODER_CTX_free(dctx);
	dctx = NULL;
	(void)pthread_once(&dctx_once, dctx_key_make);
	(void)pthread_setspecific(dctx_key, NULL);
	ERR_clear_error();
	return NULL;
}

/*
 * RFC 8410's PKCS#8 form of an Ed25519 private key is 16 fixed bytes and
 * the 32-byte seed: built here, because OpenSSL 3.0 searches every
 * provider's encoders for each key it encodes, which costs more than
 * generating the key (2,000 new domains: 15% of a run against 13%).
 * t_key checks the result against OpenSSL's own encoder byte for byte.
 */
static const unsigned char ed25519_pkcs8[16] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
	0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
};
/*
 * Its PEM armour lines.  Spelled in parts: the whole BEGIN line in a
 * source file reads, to secret scanners, as a private key checked in.
 */
#define PEM_ARMOUR(edge)	"-----" edge " PRIVATE" " KEY-----\n"
#define PEM_BEGIN		PEM_ARMOUR("BEGIN")
#define PEM_END			PEM_ARMOUR("END")

/*
 * The key of a PEM file in exactly that form (as we and OpenSSL write
 * it), without the decoder search OpenSSL 3.0 makes for each key (15% of
 * packaging 10,000 Ed25519 domains); NULL for anything else, which the
 * decoder then reads.
 */
static EVP_PKEY *
ed25519_from_pem(const char *buf, size_t len)
{
	size_t head = strlen(PEM_BEGIN), tail = strlen(PEM_END);
	unsigned char der[sizeof(ed25519_pkcs8) + 32 + 2];
	EVP_PKEY *pkey = NULL;

	if (len != head + 65 + tail || memcmp(buf, PEM_BEGIN, head) != 0 ||
	    buf[head + 64] != '\n' ||
	    memcmp(buf + head + 65, PEM_END, tail) != 0)
		return NULL;
	/* 64 characters without padding: 48 bytes. */
	if (EVP_DecodeBlock(der, (const unsigned char *)buf + head, 64) ==
	    48 && memcmp(der, ed25519_pkcs8, sizeof(ed25519_pkcs8)) == 0)
		pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
		    der + sizeof(ed25519_pkcs8), 32);
	dk_secret_wipe(der, sizeof(der));
	ERR_clear_error();
	return pkey;
}

/* What we accept once OpenSSL has decoded a key. */
static int
check_loaded(EVP_PKEY *pkey, enum dk_alg *alg, const char *name)
{
	int rc;

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		*alg = DK_ALG_RSA;
		if ((rc = dk_key_check_bits(EVP_PKEY_get_bits(pkey))) != 0) {
			dk_error_prefix("cannot load key '%s'", name);
			return rc;
		}
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		*alg = DK_ALG_ED25519;
		return 0;
	}
	dk_error_set("cannot load key '%s': unsupported key type '%s' "
	    "(expected rsa or ed25519)", name, EVP_PKEY_get0_type_name(pkey));
	return DK_EUSAGE;
}

int
dk_key_load_pem(struct dk_key **out, const char *buf, size_t len,
    const char *name)
{
	EVP_PKEY *pkey = NULL;
	enum dk_alg alg;
	char label[64];
	BIO *bio = NULL;
	int asked = 0, rc = DK_EUSAGE;

	*out = NULL;
	if (len > KEY_FILE_MAX) {
		dk_error_set("cannot load key '%s': larger than %u bytes",
		    name, KEY_FILE_MAX);
		return DK_EUSAGE;
	}
	if (pem_label(buf, len, label, sizeof(label)) == -1) {
		dk_error_set("cannot load key '%s': not a PEM file", name);
		return DK_EUSAGE;
	}
	/* PKCS#8, and PKCS#1 as older opendkim-genkey (openssl 1.x) wrote. */
	if (strcmp(label, "PRIVATE KEY") != 0 &&
	    strcmp(label, "RSA PRIVATE KEY") != 0) {
		dk_error_set("cannot load key '%s': unsupported PEM type '%s' "
		    "(expected 'PRIVATE KEY' or 'RSA PRIVATE KEY')", name,
		    label);
		return DK_EUSAGE;
	}
	if ((pkey = ed25519_from_pem(buf, len)) != NULL)
		goto loaded;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		dk_error_set_ossl("cannot load key '%s'", name);
		rc = -1;
		goto done;
	}
	if ((pkey = decode_fast(bio)) == NULL) {
		/* Again the slow way, for its passphrase hook and errors. */
		BIO_free(bio);
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			dk_error_set_ossl("cannot load key '%s'", name);
			rc = -1;
			goto done;
		}
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
		    &asked);
	}
	if (pkey == NULL) {
		if (asked) {
			ERR_clear_error();
			dk_error_set("cannot load key '%s': encrypted keys are "
			    "not supported", name);
		} else
			dk_error_set_ossl("cannot load key '%s': not a valid "
			    "PEM private key", name);
		goto done;
	}
loaded:
	if ((rc = check_loaded(pkey, &alg, name)) != 0)
		goto done;
	rc = -1;
	if (new_key(out, pkey, alg) == -1)
		goto done;
	pkey = NULL;
	rc = 0;
done:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return rc;
}

int
dk_key_load(struct dk_key **out, const char *path)
{
	size_t len;
	char *buf;
	int rc;

	*out = NULL;
	if ((rc = dk_file_read(path, KEY_FILE_MAX, &buf, &len)) != 0) {
		/* dk_file_read names the path already. */
		dk_error_prefix("cannot load key");
		return rc;
	}
	rc = dk_key_load_pem(out, buf, len, path);
	dk_secret_wipe(buf, len);
	free(buf);
	return rc;
}

static int
ed25519_to_pem(const struct dk_key *key, struct dk_buf *out)
{
	unsigned char der[sizeof(ed25519_pkcs8) + 32];
	/* 48 bytes are 64 base64 characters: one PEM line, and a NUL. */
	char b64[65];
	size_t len = 32;
	int rc = -1;

	memcpy(der, ed25519_pkcs8, sizeof(ed25519_pkcs8));
	if (EVP_PKEY_get_raw_private_key(key->pkey, der + sizeof(ed25519_pkcs8),
	    &len) != 1 || len != 32) {
		dk_error_set_ossl("cannot encode ed25519 private key");
		goto done;
	}
	if (EVP_EncodeBlock((unsigned char *)b64, der, (int)sizeof(der)) !=
	    64) {
		dk_error_set_ossl("cannot encode ed25519 private key");
		goto done;
	}
	if (dk_buf_append(out, PEM_BEGIN, strlen(PEM_BEGIN)) == -1 ||
	    dk_buf_append(out, b64, 64) == -1 ||
	    dk_buf_append(out, "\n" PEM_END, 1 + strlen(PEM_END)) == -1)
		goto done;
	rc = 0;
done:
	dk_secret_wipe(der, sizeof(der));
	dk_secret_wipe(b64, sizeof(b64));
	return rc;
}

int
dk_key_to_pem(const struct dk_key *key, struct dk_buf *out)
{
	BIO *bio = NULL;
	char *data;
	long n;
	int rc = -1;

	if (key->alg == DK_ALG_ED25519)
		return ed25519_to_pem(key, out);
	/* A secure-memory BIO is cleared when freed: no copy stays behind. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL,
	    NULL) != 1) {
		dk_error_set_ossl("cannot encode %s private key",
		    dk_alg_name(key->alg));
		goto done;
	}
	if ((n = BIO_get_mem_data(bio, &data)) <= 0) {
		dk_error_set_ossl("cannot encode %s private key",
		    dk_alg_name(key->alg));
		goto done;
	}
	if (dk_buf_append(out, data, (size_t)n) == -1)
		goto done;
	rc = 0;
done:
	BIO_free(bio);
	return rc;
}

int
dk_key_write(const struct dk_key *key, const char *root, const char *path,
    bool sync)
{
	struct dk_buf pem = { 0 };
	int rc;

	if ((rc = dk_key_to_pem(key, &pem)) != 0)
		return rc;
	if (root == NULL)
		rc = dk_file_create(path, pem.data, pem.len, 0600);
	else
		rc = dk_tree_create(root, path, pem.data, pem.len, 0600, sync);
	dk_buf_wipe(&pem);
	return rc;
}

void
dk_key_free(struct dk_key *key)
{
	if (key == NULL)
		return;
	/* EVP_PKEY_free clears the private components. */
	EVP_PKEY_free(key->pkey);
	free(key);
}

enum dk_alg
dk_key_alg(const struct dk_key *key)
{
	return key->alg;
}

int
dk_key_bits(const struct dk_key *key)
{
	/* EVP_PKEY_get_bits says 253 for Ed25519; DKIM tools say 256. */
	if (key->alg == DK_ALG_ED25519)
		return 256;
	return EVP_PKEY_get_bits(key->pkey);
}

int
dk_key_public_b64(const struct dk_key *key, char **out)
{
	unsigned char raw[64], *der = NULL;
	size_t rawlen = sizeof(raw);
	int n, rc = -1;

	*out = NULL;
	if (key->alg == DK_ALG_ED25519) {
		/* RFC 8463 4.2: the raw 32-byte key, no ASN.1 around it. */
		if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &rawlen) != 1) {
			dk_error_set_ossl("cannot encode ed25519 public key");
			return -1;
		}
		return dk_b64_encode(raw, rawlen, out);
	}
	/* RFC 6376 3.6.1 in practice: DER SubjectPublicKeyInfo. */
	if ((n = i2d_PUBKEY(key->pkey, &der)) <= 0) {
		dk_error_set_ossl("cannot encode rsa public key");
		goto done;
	}
	rc = dk_b64_encode(der, (size_t)n, out);
done:
	OPENSSL_free(der);
	return rc;
}

int
dk_b64_encode(const unsigned char *in, size_t n, char **out)
{
	size_t need;
	char *s;

	*out = NULL;
	if (n > INT_MAX / 2) {
		dk_error_set("cannot encode base64: input too large");
		return -1;
	}
	need = (n + 2) / 3 * 4 + 1;
	if ((s = malloc(need)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	/* No line breaks, NUL-terminated; the length is known already. */
	EVP_EncodeBlock((unsigned char *)s, in, (int)n);
	*out = s;
	return 0;
}
