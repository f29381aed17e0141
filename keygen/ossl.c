/*
 * The OpenSSL adapter's error helper: every keygen/ file that calls
 * OpenSSL reports its failures through dk_error_set_ossl().
 */
#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>

#include "common/error.h"
#include "keygen/ossl.h"

void
dk_error_set_ossl(const char *fmt, ...)
{
	char ctx[768], num[128];
	const char *reason, *data = NULL;
	unsigned long e;
	va_list ap;
	int n, flags = 0;

	va_start(ap, fmt);
	n = vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	/* A cut context still says what failed; the buffer has no more room. */
	if (n < 0)
		ctx[0] = '\0';
	/*
	 * The oldest entry is where the failure started (a bad base64
	 * character); later ones only say which callers gave up.
	 */
	if ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) == 0) {
		dk_error_set("%s: unknown OpenSSL error", ctx);
		return;
	}
	if ((reason = ERR_reason_error_string(e)) == NULL) {
		ERR_error_string_n(e, num, sizeof(num));
		reason = num;
	}
	/* The detail OpenSSL 3 attaches says more than the reason alone. */
	if ((flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0')
		dk_error_set("%s: %s (%s)", ctx, reason, data);
	else
		dk_error_set("%s: %s", ctx, reason);
	ERR_clear_error();
}
