/*
 * Sign and verify one test message with libopendkim.
 *
 * Behaviour of libopendkim 2.11 that shapes this file (found by testing):
 * - dkim_sign() copies the key with strlen(), so it needs a NUL-terminated
 *   copy; the copy is allocated and freed through the library handle's
 *   allocator, which is why ours zeroes every block it frees.
 * - the key lookup callback gets a buffer of 1025 bytes: a longer record
 *   cannot be handed over (libopendkim's own DNS path has the same limit).
 * - a key record's k= is not compared with the signature's a=: an
 *   rsa-sha256 signature verifies against "k=ed25519; p=<rsa key>".  RFC
 *   6376 3.6.1 and 6.1.2 say it must not, so we compare them here, using
 *   the tag values libopendkim parsed (dkim_sig_gettagvalue()).
 * - dkim_getsighdr_d() folds with bare LF; margin 0 (no folding) keeps
 *   the signed message CRLF throughout.
 * - dkim_sign() does not check the key against the algorithm: an RSA key
 *   signs "ed25519-sha256" (that signature never verifies).
 * - dkim_privkey_load() leaks its key state for Ed25519 keys (the
 *   EVP_PKEY, private key included, is never freed, so never zeroed) and
 *   when a key does not load; tests/valgrind.supp lists it.  dkimrot is
 *   a short-lived process: the memory goes back with the process.
 */
#include <sys/types.h>

#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <opendkim/dkim.h>

#include "check/dkim.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/name.h"
#include "common/secret.h"

#define SIGHDR	"DKIM-Signature: "

/* What the key lookup callback hands to libopendkim. */
struct lookup {
	const char	*record;
	size_t		 len;
	bool		 called;
	bool		 toolong;
};

/*
 * libopendkim's free: zero the whole block first.  malloc_usable_size()
 * makes it safe for blocks libopendkim got from plain malloc too.
 */
static void
wipe_free(void *closure, void *p)
{
	dk_secret_free(p, malloc_usable_size(p));
}

static DKIM_CBSTAT
key_lookup(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct lookup *l = dkim_get_user_context(d);

	l->called = true;
	if (l->len >= buflen) {
		l->toolong = true;
		return DKIM_CBSTAT_ERROR;
	}
	memcpy(buf, l->record, l->len);
	buf[l->len] = '\0';
	return DKIM_CBSTAT_CONTINUE;
}

/* libopendkim's words for a status, never NULL. */
static const char *
result(DKIM_STAT st)
{
	const char *s = dkim_getresultstr(st);

	return s != NULL ? s : "unknown status";
}

/* RFC 5322 3.3, with English names whatever the locale. */
void
dk_dkim_date(time_t t, char *buf, size_t len)
{
	static const char *day[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %d %s %d %02d:%02d:%02d +0000",
	    day[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
build_message(struct dk_buf *m, const char *domain, const char *sel)
{
	char date[64];

	dk_dkim_date(time(NULL), date, sizeof(date));
	return dk_buf_printf(m,
	    "From: dkimrot self-test <postmaster@%s>\r\n"
	    "To: <postmaster@%s>\r\n"
	    "Subject: DKIM self-test of %s._domainkey.%s\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <dkimrot-selftest.%lld.%ld@%s>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "This message was signed with the private key of selector %s\r\n"
	    "and verified against the key record a name server returned\r\n"
	    "for %s._domainkey.%s.\r\n",
	    domain, domain, sel, domain, date, (long long)time(NULL),
	    (long)getpid(), domain, sel, sel, domain);
}

/* RFC 6376 5.4: the header fields the signature covers. */
static int
set_signed_headers(DKIM_LIB *lib)
{
	static const char *hdrs[] = { "from", "to", "subject", "date",
	    "message-id", NULL };

	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    (void *)hdrs, sizeof(char **)) != DKIM_STAT_OK) {
		dk_error_set("cannot set the header fields libopendkim signs");
		return -1;
	}
	return 0;
}

/* Signs m; leaves the signed message in out. */
static int
sign(DKIM_LIB *lib, const char *domain, const char *sel, int signalg,
    char *key, const struct dk_buf *m, struct dk_buf *out)
{
	DKIM *d;
	DKIM_STAT st;
	u_char *hdr;
	size_t hlen;
	int rc = -1;

	d = dkim_sign(lib, (const u_char *)"dkimrot-selftest", NULL,
	    (u_char *)key, (const u_char *)sel, (const u_char *)domain,
	    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, signalg, -1, &st);
	if (d == NULL)
		goto fail;
	if ((st = dkim_set_margin(d, 0)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(d, (u_char *)m->data, m->len)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK ||
	    (st = dkim_eom(d, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(d, strlen(SIGHDR), &hdr, &hlen)) !=
	    DKIM_STAT_OK)
		goto fail;
	if (dk_buf_puts(out, SIGHDR) == -1 ||
	    dk_buf_append(out, hdr, hlen) == -1 ||
	    dk_buf_puts(out, "\r\n") == -1 ||
	    dk_buf_append(out, m->data, m->len) == -1) {
		dk_error_set("cannot build the signed test message: out of "
		    "memory");
		goto done;
	}
	rc = 0;
	goto done;
fail:
	dk_error_set("cannot sign the test message with the key of "
	    "'%s._domainkey.%s': %s%s%s", sel, domain, result(st),
	    d != NULL && dkim_geterror(d) != NULL ? ": " : "",
	    d != NULL && dkim_geterror(d) != NULL ? dkim_geterror(d) : "");
done:
	if (d != NULL)
		dkim_free(d);
	return rc;
}

/* A tag of the key record as libopendkim parsed it, or NULL. */
static const char *
tag(DKIM_SIGINFO *sig, const char *name)
{
	return (const char *)dkim_sig_gettagvalue(sig, true,
	    (u_char *)name);
}

/* The verdict on a verification that ended with st. */
static int
judge(DKIM *v, DKIM_STAT st, const struct lookup *l, enum dk_alg alg)
{
	DKIM_SIGINFO *sig = dkim_getsignature(v);
	const char *k, *p, *err, *why;
	int e;

	if (l->toolong) {
		dk_error_set("key record is %zu bytes, libopendkim takes at "
		    "most %d", l->len, DK_DKIM_RECORD_MAX);
		return DK_EMISMATCH;
	}
	if (!l->called || sig == NULL) {
		dk_error_set("libopendkim did not verify the test message: %s",
		    result(st));
		return -1;
	}
	e = dkim_sig_geterror(sig);
	/* RFC 6376 3.6.1: an empty p= means the key was revoked */
	if (e == DKIM_SIGERROR_KEYREVOKED) {
		dk_error_set("key record is revoked (empty p=)");
		return DK_EMISMATCH;
	}
	/*
	 * RFC 6376 3.6.1: k= defaults to rsa (libopendkim fills the default
	 * in); RFC 8463 adds ed25519.
	 */
	k = tag(sig, "k");
	p = tag(sig, "p");
	if (k != NULL && strcmp(k, dk_alg_name(alg)) != 0) {
		dk_error_set("key record is for k=%s, the key is %s", k,
		    dk_alg_name(alg));
		return DK_EMISMATCH;
	}
	if (st == DKIM_STAT_OK && DKIM_SIG_CHECK(sig))
		return 0;
	if (p == NULL && (k != NULL || tag(sig, "v") != NULL)) {
		dk_error_set("key record has no p=");
		return DK_EMISMATCH;
	}
	err = dkim_geterror(v);
	why = dkim_sig_geterrorstr(e);
	if (e == DKIM_SIGERROR_BADSIG)
		dk_error_set("signature did not verify: bad signature");
	else
		dk_error_set("signature did not verify: %s%s%s%s",
		    why != NULL ? why : result(st), err != NULL ? " (" : "",
		    err != NULL ? err : "", err != NULL ? ")" : "");
	return DK_EMISMATCH;
}

static int
verify(DKIM_LIB *lib, const struct dk_buf *signed_msg, struct lookup *l,
    enum dk_alg alg)
{
	DKIM *v;
	DKIM_STAT st;
	int rc;

	if (dkim_set_key_lookup(lib, key_lookup) != DKIM_STAT_OK ||
	    (v = dkim_verify(lib, (const u_char *)"dkimrot-selftest", NULL,
	    &st)) == NULL) {
		dk_error_set("cannot start a libopendkim verification");
		return -1;
	}
	dkim_set_user_context(v, l);
	st = dkim_chunk(v, (u_char *)signed_msg->data, signed_msg->len);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(v, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(v, NULL);
	rc = judge(v, st, l, alg);
	dkim_free(v);
	return rc;
}

int
dk_dkim_selftest(const char *domain, const char *selector, enum dk_alg alg,
    const char *privkey_pem, size_t len, const char *record, size_t reclen)
{
	struct lookup l = { record, reclen, false, false };
	struct dk_buf key = { 0 }, msg = { 0 }, smsg = { 0 };
	DKIM_LIB *lib = NULL;
	int rc, signalg;

	if ((rc = dk_name_domain_check(domain)) != 0 ||
	    (rc = dk_name_selector_check(selector)) != 0)
		return rc;
	if (memchr(record, '\0', reclen) != NULL) {
		dk_error_set("key record contains a NUL byte");
		return DK_EMISMATCH;
	}
	rc = -1;
	if ((lib = dkim_init(NULL, wipe_free)) == NULL) {
		dk_error_set("cannot initialize libopendkim");
		goto done;
	}
	signalg = alg == DK_ALG_ED25519 ? DKIM_SIGN_ED25519SHA256 :
	    DKIM_SIGN_RSASHA256;
	if (alg == DK_ALG_ED25519 &&
	    !dkim_libfeature(lib, DKIM_FEATURE_ED25519)) {
		dk_error_set("this libopendkim cannot verify ed25519");
		rc = DK_DKIM_ENOALG;
		goto done;
	}
	if (set_signed_headers(lib) == -1)
		goto done;
	if (len == 0 || memchr(privkey_pem, '\0', len) != NULL) {
		dk_error_set("private key of '%s._domainkey.%s' is not PEM "
		    "text", selector, domain);
		goto done;
	}
	if (build_message(&msg, domain, selector) == -1 ||
	    dk_buf_append(&key, privkey_pem, len) == -1) {
		dk_error_set("cannot build the test message: out of memory");
		goto done;
	}
	if (sign(lib, domain, selector, signalg, key.data, &msg, &smsg) == -1)
		goto done;
	dk_buf_wipe(&key);
	rc = verify(lib, &smsg, &l, alg);
done:
	dk_buf_wipe(&key);
	dk_buf_dispose(&msg);
	dk_buf_dispose(&smsg);
	if (lib != NULL)
		dkim_close(lib);
	return rc;
}

int
dk_dkim_verify(const char *msg, size_t len, enum dk_alg alg,
    const char *record, size_t reclen)
{
	struct lookup l = { record, reclen, false, false };
	struct dk_buf m = { 0 };
	DKIM_LIB *lib;
	int rc = -1;

	if (memchr(record, '\0', reclen) != NULL) {
		dk_error_set("key record contains a NUL byte");
		return DK_EMISMATCH;
	}
	if ((lib = dkim_init(NULL, wipe_free)) == NULL) {
		dk_error_set("cannot initialize libopendkim");
		return -1;
	}
	if (alg == DK_ALG_ED25519 &&
	    !dkim_libfeature(lib, DKIM_FEATURE_ED25519)) {
		dk_error_set("this libopendkim cannot verify ed25519");
		rc = DK_DKIM_ENOALG;
	} else if (dk_buf_append(&m, msg, len) != 0)
		dk_error_set("out of memory");
	else
		rc = verify(lib, &m, &l, alg);
	dk_buf_dispose(&m);
	dkim_close(lib);
	return rc;
}
