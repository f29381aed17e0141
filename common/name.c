#include <ctype.h>
#include <string.h>

#include "common/error.h"
#include "common/name.h"

/*
 * Checks dot-separated LDH labels.  Returns NULL if fine, else why not.
 * Upper case letters are accepted here; the caller lowers them.
 */
static const char *
ldh_labels(const char *s, size_t max, int minlabels)
{
	size_t len, lab = 0;
	int labels = 0;
	const char *p;

	len = strlen(s);
	if (len == 0)
		return "empty";
	if (len > max)
		return "too long";
	for (p = s; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (lab == 0)
				return "empty label";
			if (p[-1] == '-')
				return "label ends with '-'";
			labels++;
			lab = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (lab == 0 && *p == '-')
			return "label starts with '-'";
		if (!isascii((unsigned char)*p) ||
		    (!isalnum((unsigned char)*p) && *p != '-'))
			return "only letters, digits, '-' and '.' are allowed "
			    "(IDNs as xn-- A-labels)";
		if (++lab > 63)
			return "label longer than 63 characters";
	}
	if (labels < minlabels)
		return "needs at least two labels";
	return NULL;
}

int
dk_name_domain_check(const char *name)
{
	const char *why;

	if ((why = ldh_labels(name, DK_DOMAIN_MAX, 2)) != NULL) {
		dk_error_set("invalid domain '%s': %s", name, why);
		return DK_EUSAGE;
	}
	return 0;
}

int
dk_name_selector_check(const char *sel)
{
	const char *why;

	if ((why = ldh_labels(sel, DK_SELECTOR_MAX, 1)) != NULL) {
		dk_error_set("invalid selector '%s': %s", sel, why);
		return DK_EUSAGE;
	}
	return 0;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

int
dk_name_domain(char *name)
{
	int rc;

	if ((rc = dk_name_domain_check(name)) != 0)
		return rc;
	lower(name);
	return 0;
}

int
dk_name_selector(char *sel)
{
	int rc;

	if ((rc = dk_name_selector_check(sel)) != 0)
		return rc;
	lower(sel);
	return 0;
}
