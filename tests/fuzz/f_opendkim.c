/*
 * Fuzz target: OpenDKIM's KeyTable and SigningTable parsers
 * (rotator/opendkim.c), outside input that import --opendkim reads.
 * The input up to a line "--" is a KeyTable, the rest a SigningTable.
 * Whatever they are fed, what they accept holds valid lower-case names,
 * a key file or inline key, and signing entries that name a key of
 * their own domain; what they refuse has a message per line.
 */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/name.h"
#include "rotator/opendkim.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
lower_valid(const char *s, int (*check)(const char *))
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		assert(!isupper((unsigned char)s[i]));
	assert(check(s) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *sep;
	struct dk_odkim t;
	size_t klen, i;
	int rc;

	memset(&t, 0, sizeof(t));
	sep = size >= 4 ? memmem(buf, size, "\n--\n", 4) : NULL;
	klen = sep != NULL ? (size_t)(sep - buf) + 1 : size;
	rc = dk_odkim_keytable(&t, buf, klen, "KeyTable");
	assert(rc == 0 || rc == DK_EUSAGE || rc == -1);
	assert((rc == DK_EUSAGE) == (t.errors.n > 0));
	for (i = 0; i < t.nkeys; i++) {
		lower_valid(t.keys[i].domain, dk_name_domain_check);
		lower_valid(t.keys[i].selector, dk_name_selector_check);
		assert((t.keys[i].path != NULL) !=
		    (t.keys[i].inline_b64.len > 0));
		assert(t.keys[i].line >= 1);
	}
	if (sep != NULL && rc == 0) {
		rc = dk_odkim_signingtable(&t, sep + 4, size - klen - 3,
		    "SigningTable");
		assert(rc == 0 || rc == DK_EUSAGE || rc == -1);
		for (i = 0; i < t.nsigns; i++) {
			assert(t.signs[i].key < t.nkeys);
			assert(strcmp(t.signs[i].domain,
			    t.keys[t.signs[i].key].domain) == 0);
		}
	}
	for (i = 0; i < t.errors.n; i++)
		assert(strncmp(t.errors.v[i], "KeyTable:", 9) == 0 ||
		    strncmp(t.errors.v[i], "SigningTable:", 13) == 0);
	dk_odkim_dispose(&t);
	return 0;
}
