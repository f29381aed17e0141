/*
 * A private key in the raw form of signers that take no PKCS#8 for
 * Ed25519: rspamd 3.x reads an Ed25519 DKIM key only as the base64 of
 * its 32-byte seed (RFC 8032 3.2's private key), and refuses the PEM
 * every other signer reads ("cannot extract rsa key from evp key").
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/error.h"
#include "keygen/key.h"
#include "keygen/ossl.h"

int
dk_key_ed25519_seed_b64(const struct dk_key *key, struct dk_buf *out)
{
	unsigned char seed[32];
	size_t len = sizeof(seed);
	char *b64 = NULL;
	int rc = -1;

	if (EVP_PKEY_get_raw_private_key(dk_key_pkey(key), seed, &len) !=
	    1 || len != sizeof(seed)) {
		dk_error_set_ossl("cannot read the Ed25519 seed");
		goto done;
	}
	if (dk_b64_encode(seed, len, &b64) != 0) {
		dk_error_set("out of memory");
		goto done;
	}
	if (dk_buf_puts(out, b64) != 0 || dk_buf_puts(out, "\n") != 0) {
		dk_error_set("out of memory");
		goto done;
	}
	rc = 0;
done:
	OPENSSL_cleanse(seed, sizeof(seed));
	if (b64 != NULL) {
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	return rc;
}
