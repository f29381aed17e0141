/*
 * Fuzz target: DKIM key records as they come from DNS.  A record that
 * parses must have a p= of valid base64 and k= set; whatever its value,
 * the opendkim-genkey split of it must give strings of at most 255 bytes
 * that join back to it, and its zone form must be made without fault.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strlist.h"
#include "keygen/key.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
split_check(const char *v)
{
	struct dk_strlist s = { 0 };
	size_t i, off = 0;
	char *zone;

	if (dk_txt_split(v, &s) != 0)
		return;
	for (i = 0; i < s.n; i++) {
		if (strlen(s.v[i]) > DK_TXT_CHUNK ||
		    strncmp(v + off, s.v[i], strlen(s.v[i])) != 0)
			abort();
		off += strlen(s.v[i]);
	}
	if (off != strlen(v))
		abort();
	dk_strlist_dispose(&s);
	if (dk_record_zone("s._domainkey", 300, v, "s", "example.com",
	    &zone) == 0)
		free(zone);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_record r;
	char *v;

	if (dk_record_parse((const char *)data, size, &r) == 0) {
		if (r.p == NULL || r.k == NULL ||
		    strpbrk(r.p, " \t\r\n") != NULL)
			abort();
		dk_record_dispose(&r);
	}
	/* The value as a C string, cut at the first NUL. */
	if ((v = malloc(size + 1)) == NULL)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	split_check(v);
	free(v);
	return 0;
}
