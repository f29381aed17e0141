/*
 * Fuzz target: the name validators (common/name.c).  Every name that
 * reaches a file path, a zone file, an RPM spec or a DNS query passed
 * one of them, so what they accept must be exactly what docs/design.md §7 and
 * RFC 1035 2.3.1 allow.  A second, independent reading of the rules
 * below must agree with them on every input; a name they accept, once
 * lowered, holds only [a-z0-9.-] and is accepted again unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/name.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The rules, read label by label with indices rather than pointers. */
static int
reference(const char *s, size_t max, size_t minlabels)
{
	size_t len = strlen(s), start = 0, i, labels = 0;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		/* s[start..i) is one label */
		if (i == start || i - start > 63 || s[start] == '-' ||
		    s[i - 1] == '-')
			return 0;
		labels++;
		start = i + 1;
	}
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return 0;
	}
	return labels >= minlabels;
}

static void
one(char *s, int (*check)(const char *), int (*fix)(char *), size_t max,
    size_t minlabels)
{
	size_t i, len = strlen(s);
	int rc;

	rc = check(s);
	if (rc != 0 && rc != DK_EUSAGE)
		abort();
	if ((rc == 0) != reference(s, max, minlabels))
		abort();
	/* A refusal always says why. */
	if (rc != 0 && dk_error_last()[0] == '\0')
		abort();
	if (fix(s) != rc)
		abort();
	if (rc != 0)
		return;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			abort();
	if (check(s) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	/* The name as a C string, cut at the first NUL. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	dk_error_clear();
	one(s, dk_name_domain_check, dk_name_domain, DK_DOMAIN_MAX, 2);
	memcpy(s, data, size);
	s[size] = '\0';
	dk_error_clear();
	one(s, dk_name_selector_check, dk_name_selector, DK_SELECTOR_MAX, 1);
	free(s);
	return 0;
}
