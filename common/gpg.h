/*
 * gpg, the program, for package and repository signing (docs/design.md §5:
 * packaging.sign_key, packaging.gnupg_home): the checks a key name and
 * a GnuPG home pass before any command line carries them, the key
 * 'init' makes, the detached signature of repomd.xml, and the public
 * key a repository publishes.  dk_rpm_sign() signs the packages.
 */
#ifndef DK_GPG_H
#define DK_GPG_H

#include <stdbool.h>
#include <stddef.h>

/* The public key's file name, next to repodata/ in the repository. */
#define DK_GPG_KEY_FILE	"RPM-GPG-KEY-dkimrot"
/* The GnuPG home 'init' makes, relative to the repository: never committed. */
#define DK_GPG_HOME	".git/dkimrot-gnupg"
#define DK_GPG_FPR_LEN	40	/* hex digits of a v4 fingerprint */
#define DK_GPG_KEYID_LEN 16	/* hex digits of a long key id */
#define DK_GPG_MAXIDS	16

/*
 * The key that signs: its name as configured, the GnuPG home (NULL:
 * $GNUPGHOME or ~/.gnupg), the long ids of the keys (primary and
 * subkeys) of it that can sign now, and the newest creation time among
 * them.
 */
struct dk_gpg_signer {
	char		*key;
	char		*home;
	char		 ids[DK_GPG_MAXIDS][DK_GPG_KEYID_LEN + 1];
	size_t		 nids;
	long long	 created;
};

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
 * 0 when home is a directory of the user running dkimrot that group and
 * others cannot enter (gpg warns otherwise); DK_EUSAGE naming the path
 * and the fix when it is missing, not a directory, someone else's, or
 * open to group or others.
 */
int	dk_gpg_home_check(const char *home);
/*
 * Fills s for key in home (NULL: $GNUPGHOME or ~/.gnupg), which
 * dk_gpg_home_check() must pass: DK_EUSAGE when gpg has no secret key
 * of that name there or none of it can sign.  dk_gpg_signer_dispose()
 * releases it.
 */
int	dk_gpg_signer_open(struct dk_gpg_signer *s, const char *key,
	    const char *home);
void	dk_gpg_signer_dispose(struct dk_gpg_signer *s);
/* keyid (16 hex digits, any case) is one of s's signing keys. */
bool	dk_gpg_signer_has(const struct dk_gpg_signer *s, const char *keyid);
/*
 * Makes the GnuPG home home (mode 0700, it must not exist) holding a
 * new RSA 3072 signing key without passphrase for uid, unattended; its
 * fingerprint (40 hex digits) into out.
 */
int	dk_gpg_generate(const char *home, const char *uid, char *out,
	    size_t size);
/*
 * An ASCII-armored detached signature of file by s into asc (made or
 * replaced), SHA-256: repodata/repomd.xml.asc for repo_gpgcheck.
 */
int	dk_gpg_sign_detached(const struct dk_gpg_signer *s, const char *file,
	    const char *asc);
/*
 * The same, clear-signed: file and its signature in one text into out
 * (made or replaced): an apt repository's InRelease.
 */
int	dk_gpg_sign_clear(const struct dk_gpg_signer *s, const char *file,
	    const char *out);
/*
 * Writes the ASCII-armored public key of key (`gpg --batch --armor
 * --export`, in home or $GNUPGHOME or ~/.gnupg) to path, mode 0644,
 * atomically: for `rpm --import` and a repository's gpgkey=.
 * DK_ENOTFOUND when gpg has no such key, DK_EUSAGE for a bad key name.
 */
int	dk_gpg_export(const char *key, const char *home, const char *path);

#endif
