/*
 * The end-to-end proof of `dkimrot check` (docs/design.md §6): sign a test
 * message with a domain's private key and verify that signature with a real
 * DKIM verifier, libopendkim (the library behind the opendkim milter the MTAs
 * run), against the key record exactly as a name server returned it.
 * libopendkim parses the record itself; its key lookup is answered from the
 * record we hand over, so it makes no DNS query of its own.  The only user of
 * libopendkim.
 *
 * libopendkim 2.11 (Debian 12) signs and verifies rsa-sha256 and
 * ed25519-sha256 (RFC 8463; dkim_libfeature(DKIM_FEATURE_ED25519) is
 * true, and its ed25519 signatures verify with dkimpy).  A build without
 * Ed25519 makes dk_dkim_selftest() return DK_DKIM_ENOALG for ed25519
 * keys: the caller then falls back to comparing key and record
 * (dk_key_matches_record()) and says that it did.
 */
#ifndef DK_DKIM_H
#define DK_DKIM_H

#include <stddef.h>
#include <time.h>

#include "common/config.h"

/* This libopendkim cannot sign or verify this algorithm. */
#define DK_DKIM_ENOALG	(-20)

/* Longest key record libopendkim takes from a key lookup (its BUFRSZ). */
#define DK_DKIM_RECORD_MAX	1024

/*
 * Signs a test message (From, To, Subject, Date, Message-ID and a body,
 * CRLF lines, c=relaxed/relaxed, h=from:to:subject:date:message-id) for
 * domain with the private key privkey_pem (PEM text, PKCS#8 or PKCS#1,
 * len bytes, need not be NUL-terminated) of algorithm alg under selector,
 * then verifies it against record (the TXT record value as served,
 * character-strings joined, reclen bytes).
 *
 * Returns 0 when libopendkim verifies the signature (DKIM_STAT_OK, the
 * signature passed and its body hash matched) and the record's k= fits
 * alg.  DK_EMISMATCH when the record does not verify this key's
 * signature, with the reason in dk_error_last(), e.g.
 *   "key record is revoked (empty p=)"
 *   "key record has no p="
 *   "key record is for k=ed25519, the key is rsa"
 *   "signature did not verify: bad signature"
 *   "signature did not verify: unable to apply public key (...)"
 *   "key record is 1100 bytes, libopendkim takes at most 1024".
 * DK_EUSAGE for a bad domain or selector, DK_DKIM_ENOALG (see above), -1
 * when signing fails (an unreadable private key) or libopendkim fails.
 *
 * Every copy of the key this module makes, and libopendkim's own copy
 * (freed through our allocator), is zeroed before it is freed.  Each call
 * has its own libopendkim handle: calls are independent and thread-safe.
 */
int	dk_dkim_selftest(const char *domain, const char *selector,
	    enum dk_alg alg, const char *privkey_pem, size_t len,
	    const char *record, size_t reclen);

/*
 * Verifies msg (len bytes, CRLF lines: exactly one DKIM-Signature header
 * field, then the message it signs) against record, the key record of
 * its selector as a name server served it, for a key of algorithm alg.
 * `check --milter` hands it each signature a milter added.  Returns as
 * dk_dkim_selftest() does.
 */
int	dk_dkim_verify(const char *msg, size_t len, enum dk_alg alg,
	    const char *record, size_t reclen);
/* t as an RFC 5322 Date: in UTC, with English names whatever the locale. */
void	dk_dkim_date(time_t t, char *buf, size_t len);

#endif
