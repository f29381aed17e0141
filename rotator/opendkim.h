/*
 * An existing OpenDKIM installation's tables, for import --opendkim
 * (docs/design.md §4, import): the KeyTable ("KEYNAME DOMAIN:SELECTOR:KEY",
 * KEY a file name or the key itself, base64 DER) and
 * the SigningTable ("PATTERN KEYNAME"), as opendkim.conf(5) has them:
 * KEY starting with "/", "./" or "../" is a file, else the key itself.
 * Pure parsers: no files, no keys read here.
 *
 * dkimrot signs whole domains with keys of their own domain, so only
 * what maps onto that is accepted: SigningTable patterns "*@DOMAIN" (a
 * refile: table) or "DOMAIN" (a file: table), naming a KeyTable entry
 * of that very domain.  Everything else (user@domain, *.domain, '%' for
 * the domain, a key of another domain) is refused with its line, every
 * refusal of the file in turn, so one run shows them all.
 */
#ifndef DK_OPENDKIM_H
#define DK_OPENDKIM_H

#include <stddef.h>

#include "common/buf.h"
#include "common/name.h"
#include "common/strlist.h"

#define DK_ODKIM_NAME_MAX	255	/* a KeyTable key name */

struct dk_odkim_key {
	char		 name[DK_ODKIM_NAME_MAX + 1];
	char		 domain[DK_DOMAIN_MAX + 1];	/* lower case */
	char		 selector[DK_SELECTOR_MAX + 1];	/* lower case */
	char		*path;		/* a file, or NULL: inline */
	struct dk_buf	 inline_b64;	/* the key itself; wiped */
	int		 line;
};

struct dk_odkim_sign {
	char		 domain[DK_DOMAIN_MAX + 1];	/* lower case */
	size_t		 key;		/* index into keys */
	int		 line;
};

struct dk_odkim {
	struct dk_odkim_key	*keys;
	size_t			 nkeys;
	struct dk_odkim_sign	*signs;
	size_t			 nsigns;
	/* "FILE:LINE: why", one per refused line, in file order. */
	struct dk_strlist	 errors;
};

/*
 * Parses a KeyTable into t (zeroed first, or holding nothing yet).
 * file names it in errors.  0 with t->errors empty when every line
 * maps; DK_EUSAGE with the errors listed (t->errors); -1 out of memory.
 */
int	dk_odkim_keytable(struct dk_odkim *t, const char *buf, size_t len,
	    const char *file);
/* Then the SigningTable, against the KeyTable read before. */
int	dk_odkim_signingtable(struct dk_odkim *t, const char *buf,
	    size_t len, const char *file);
/* The KeyTable entry named name, or -1. */
long	dk_odkim_find(const struct dk_odkim *, const char *name);
void	dk_odkim_dispose(struct dk_odkim *);

#endif
