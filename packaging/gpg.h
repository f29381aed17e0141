/*
 * gpg, the program, for package signing (docs/design.md §5:
 * packaging.sign_key): the checks a key name passes before any command line
 * carries it, the gpg dk_rpm_sign() runs, and the public key a repository
 * publishes.
 */
#ifndef DK_GPG_H
#define DK_GPG_H

#include <stddef.h>

/* The public key's file name, next to repodata/ in the repository. */
#define DK_GPG_KEY_FILE	"RPM-GPG-KEY-dkimrot"

/*
 * 0 when key (a GPG key id, fingerprint or user id such as
 * "dkimrot <dkimrot@example.com>") is safe on a gpg command line and in
 * an rpm macro: no quotes, '%', '\', '`', '$', control characters or
 * leading '-'.  DK_EUSAGE with a message otherwise.
 */
int	dk_gpg_key_check(const char *key);
/* The absolute path of gpg in $PATH into buf; -1 if there is none. */
int	dk_gpg_find(char *buf, size_t size);
/*
 * Writes the ASCII-armored public key of key (`gpg --batch --armor
 * --export`, $GNUPGHOME or ~/.gnupg) to path, mode 0644, atomically:
 * for `rpm --import` and a repository's gpgkey=.  DK_ENOTFOUND when gpg
 * has no such key, DK_EUSAGE for a bad key name.
 */
int	dk_gpg_export(const char *key, const char *path);

#endif
