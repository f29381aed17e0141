/*
 * An apt repository of one package (docs/design.md §11): a flat
 * repository ("deb [signed-by=KEY] URL ./") in DIR, beside the yum
 * repository of the same package and behind the same access:
 *   DIR/NAME_VERSION_all.deb    the builds kept
 *   DIR/Packages                their control files, Filename, Size,
 *                               SHA256
 *   DIR/Release                 the SHA256 and size of Packages
 *   DIR/InRelease               Release clear-signed by the signer
 *   DIR/DK_APT_KEY_FILE         the signer's public key, armored, for
 *                               signed-by=
 * Only packages accept() vouches for (the build ledger's, by the
 * SHA-256 of the very bytes Packages names) and whose control names the
 * version of their file are indexed or pruned; anything else in DIR is
 * left alone.
 */
#ifndef DK_APT_H
#define DK_APT_H

#include <sys/types.h>
#include <time.h>

struct dk_gpg_signer;

#define DK_APT_KEY_FILE	"dkimrot-archive-keyring.asc"

struct dk_apt_opts {
	const char	*name;		/* the package */
	int		 keep_builds;	/* the newest kept, the rest removed */
	/*
	 * 1 when file (NAME_VERSION_all.deb) with bytes of SHA-256 sha256
	 * is one dkimrot built; it warns of a 0.  NULL: every file.
	 */
	int		(*accept)(const char *file, const char *sha256,
			    void *arg);
	/* When not NULL, told of each file pruned. */
	void		(*pruned)(const char *file, void *arg);
	void		*arg;
	/* NULL or no key: Release unsigned, no InRelease */
	const struct dk_gpg_signer *signer;
	mode_t		 mode;		/* of the index: 0640, 0644 */
	time_t		 time;		/* Release's Date: the build's */
};

/* Writes the index of dir (which must exist), see above. */
int	dk_apt_update(const char *dir, const struct dk_apt_opts *o);

/* DIR/NAME_VERSION_all.deb */
int	dk_apt_deb_path(char *, size_t, const char *dir, const char *name,
	    size_t version);

#endif
