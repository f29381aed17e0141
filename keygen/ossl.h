/*
 * Internal to keygen/: what its files share about OpenSSL.  Nothing
 * outside keygen/ includes this header (OpenSSL lives in one module).
 */
#ifndef DK_OSSL_H
#define DK_OSSL_H

#include <stddef.h>

#include <openssl/evp.h>

struct dk_key;

/*
 * Sets the last error to the formatted context, ": ", and the reason of
 * the oldest entry in OpenSSL's error queue, which it then empties.
 */
void		 dk_error_set_ossl(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* The key's EVP_PKEY, still owned by the key. */
EVP_PKEY	*dk_key_pkey(const struct dk_key *);
/*
 * Strict base64 (RFC 4648 4, padded): NULL-free input of len bytes to a
 * new buffer.  -1 with no message set if it is not base64.
 */
int		 dk_b64_decode(const char *, size_t, unsigned char **,
		    size_t *);
/* Base64 of n bytes into a new NUL-terminated string. */
int		 dk_b64_encode(const unsigned char *, size_t, char **);

#endif
