/*
 * DKIM keys: generation, PEM I/O, DNS records (RFC 6376 3.6.1, RFC 8463)
 * and their zone-file form.  The only user of OpenSSL.
 */
#ifndef DK_KEY_H
#define DK_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

struct dk_buf;

#define DK_RSA_MIN_BITS	1024
#define DK_RSA_MAX_BITS	4096
#define DK_TXT_CHUNK	255	/* RFC 1035 3.3: one character-string */

struct dk_key;

/* A new key pair.  bits is ignored for Ed25519.  DK_EUSAGE for bad bits. */
int		 dk_key_generate(struct dk_key **, enum dk_alg, int);
/*
 * A private key from PEM text: PKCS#8 ("PRIVATE KEY") or PKCS#1
 * ("RSA PRIVATE KEY", as opendkim-genkey writes).  name is for messages.
 */
int		 dk_key_load_pem(struct dk_key **, const char *, size_t,
		    const char *);
int		 dk_key_load(struct dk_key **, const char *);
/* PKCS#8 PEM text; the caller wipes and frees it (dk_buf_wipe). */
int		 dk_key_to_pem(const struct dk_key *, struct dk_buf *);
/* Writes the PKCS#8 PEM exclusively, mode 0600.  DK_EEXISTS if present. */
int		 dk_key_write(const struct dk_key *, const char *);
void		 dk_key_free(struct dk_key *);
enum dk_alg	 dk_key_alg(const struct dk_key *);
int		 dk_key_bits(const struct dk_key *);	/* 256 for Ed25519 */
/* The p= value: base64 SubjectPublicKeyInfo (RSA), raw key (Ed25519). */
int		 dk_key_public_b64(const struct dk_key *, char **);

struct dk_record_opts {
	bool	restrict_email;	/* s=email */
	bool	testmode;	/* t=y */
	bool	revoked;	/* p= empty (RFC 6376 3.6.1) */
};

/* "v=DKIM1; h=sha256; k=rsa; p=..." */
int		 dk_record_value(const struct dk_key *,
		    const struct dk_record_opts *, char **);
/*
 * A record value for alg with an empty p=: what a revoked key publishes
 * without its private half.
 */
int		 dk_record_value_revoked(enum dk_alg,
		    const struct dk_record_opts *, char **);
/*
 * opendkim-genkey's zone-file form of a record:
 *   SEL._domainkey\tIN\tTXT\t( "v=DKIM1; h=sha256; k=rsa; "\n\t  "p=..." )  ; ----- DKIM key SEL for DOMAIN\n
 * Every character-string at most 255 bytes.  owner is written as given
 * (relative "SEL._domainkey" or absolute "SEL._domainkey.DOMAIN."); ttl 0
 * means no TTL field.
 */
int		 dk_record_zone(const char *owner, unsigned ttl,
		    const char *value, const char *sel, const char *domain,
		    char **);
/* Splits value into character-strings of at most DK_TXT_CHUNK bytes. */
int		 dk_txt_split(const char *, char ***, size_t *);
void		 dk_txt_split_free(char **, size_t);

/* A parsed DKIM key record (RFC 6376 3.6.1). */
struct dk_record {
	char	*v;	/* NULL when absent */
	char	*h;
	char	*k;	/* "rsa" when absent */
	char	*n;
	char	*p;	/* required; "" = revoked; whitespace removed */
	char	*s;
	char	*t;
};

/* DK_EUSAGE with a message naming the problem when malformed. */
int		 dk_record_parse(const char *, size_t, struct dk_record *);
void		 dk_record_dispose(struct dk_record *);
/* 0 when p= is the public half of key and k= its type, else DK_EMISMATCH. */
int		 dk_key_matches_record(const struct dk_key *,
		    const struct dk_record *);

#endif
