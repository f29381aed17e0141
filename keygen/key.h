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
struct dk_strlist;

#define DK_TXT_CHUNK	255	/* RFC 1035 3.3: one character-string */

struct dk_key;

/*
 * DK_EUSAGE with "rsa key size must be from 1024 to 4096 bits, not N"
 * unless DK_RSA_MIN_BITS <= bits <= DK_RSA_MAX_BITS.
 */
int		 dk_key_check_bits(int);
/*
 * A new key pair.  bits is ignored for Ed25519.  DK_EUSAGE for bad bits.
 * dk_key_generate() and dk_key_load_pem() keep an OpenSSL context per
 * thread (making one per key is most of the cost in OpenSSL 3.0); a
 * thread other than the main one frees them with dk_key_thread_end()
 * before it ends.
 */
int		 dk_key_generate(struct dk_key **, enum dk_alg, int);
void		 dk_key_thread_end(void);
/*
 * A private key from PEM text: PKCS#8 ("PRIVATE KEY") or PKCS#1
 * ("RSA PRIVATE KEY", as opendkim-genkey writes with OpenSSL 1.x).  name
 * is for messages.  DK_EUSAGE (message naming name) for anything else:
 * other PEM types, corrupted PEM, encrypted keys, key types other than
 * RSA and Ed25519, RSA sizes outside 1024..4096.  dk_key_load() also
 * returns DK_ENOTFOUND for a missing file; it wipes what it read.
 */
int		 dk_key_load_pem(struct dk_key **, const char *, size_t,
		    const char *);
int		 dk_key_load(struct dk_key **, const char *);
/* PKCS#8 PEM text; the caller wipes and frees it (dk_buf_wipe). */
int		 dk_key_to_pem(const struct dk_key *, struct dk_buf *);
/*
 * The one writer of a private key: PKCS#8 PEM, created exclusively with
 * mode 0600, the PEM wiped from memory after.  root NULL: path as given
 * (keygen -D), O_CREAT|O_EXCL|O_NOFOLLOW and synced.  Else path is below
 * the key repository root and walked by dk_tree_create() (common/tree.h:
 * no link followed anywhere below root), synced only when sync (a
 * rotation syncs its key files in one batch, docs/design.md §8).
 * DK_EEXISTS if present.
 */
int		 dk_key_write(const struct dk_key *key, const char *root,
		    const char *path, bool sync);
void		 dk_key_free(struct dk_key *);
enum dk_alg	 dk_key_alg(const struct dk_key *);
int		 dk_key_bits(const struct dk_key *);	/* 256 for Ed25519 */
/* The p= value: base64 SubjectPublicKeyInfo (RSA), raw key (Ed25519). */
int		 dk_key_public_b64(const struct dk_key *, char **);
/*
 * An Ed25519 key as rspamd reads it: the base64 of its 32-byte seed and a
 * newline, appended to out (a secret: release out with dk_buf_wipe()).
 * keygen/raw.c.
 */
int		 dk_key_ed25519_seed_b64(const struct dk_key *,
		    struct dk_buf *out);

struct dk_record_opts {
	bool	restrict_email;	/* s=email */
	bool	testmode;	/* t=y */
	bool	revoked;	/* p= empty (RFC 6376 3.6.1) */
};

/* The record options a domain's policy asks for (revoked: false). */
void		 dk_record_opts_of(const struct dk_policy *pol,
		    struct dk_record_opts *out);

/*
 * RSA: "v=DKIM1; h=sha256; k=rsa; p=..." (opendkim-genkey's order);
 * Ed25519: "v=DKIM1; k=ed25519; p=..." (RFC 8463 3).  Options come
 * before p= as "t=y; s=email; ".  opts may be NULL.
 */
int		 dk_record_value(const struct dk_key *,
		    const struct dk_record_opts *, char **);
/* The same of a key's p= value pub (dk_key_public_b64) and alg. */
int		 dk_record_value_pub(enum dk_alg alg, const char *pub,
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
 * means no TTL field; domain NULL means no comment.  Owner, selector and
 * domain must be [A-Za-z0-9._-] (DK_EUSAGE otherwise); the strings are
 * quoted with RFC 1035 escapes.
 */
int		 dk_record_zone(const char *owner, unsigned ttl,
		    const char *value, const char *sel, const char *domain,
		    char **);
/*
 * Splits value into character-strings of at most DK_TXT_CHUNK bytes, cut
 * where opendkim-genkey cuts: the tags before p=, then p= and 250 bytes,
 * then 250 bytes per string.  Joined, they are value again.  (Where the
 * key data is a multiple of 250 bytes opendkim-genkey adds an empty
 * string; this does not.)  The strings are added to out, an empty
 * list of the caller's (dk_strlist_dispose); on failure it is emptied.
 */
int		 dk_txt_split(const char *value, struct dk_strlist *out);

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

/*
 * RFC 6376 3.2 tag list: folding whitespace, unknown tags ignored, a
 * duplicate tag, a v= not first or not "DKIM1", a missing p= or a p=
 * that is not base64 are errors.  DK_EUSAGE with a message naming the
 * problem when malformed.  Values keep their inner whitespace.
 */
int		 dk_record_parse(const char *, size_t, struct dk_record *);
void		 dk_record_dispose(struct dk_record *);
/*
 * 0 when p= (decoded: SubjectPublicKeyInfo or RSAPublicKey DER for rsa,
 * the raw 32 bytes for ed25519) is the public half of key and k= its
 * type; DK_EMISMATCH with the reason otherwise (revoked records too);
 * -1 if OpenSSL fails.
 */
int		 dk_key_matches_record(const struct dk_key *,
		    const struct dk_record *);

#endif
