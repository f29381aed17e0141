/*
 * The yum/dnf repository of dkimrot's packages (docs/design.md §7): a directory
 * of RPMs with repodata/ (primary, filelists, other; no sqlite) written by
 * libcreaterepo_c, the only user of it.
 */
#ifndef DK_REPO_H
#define DK_REPO_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Brings the repository in dir up to date: of every package name it
 * keeps the keep_builds newest builds (rpm version order, so "10" is
 * newer than "9"; 0 keeps everything), except that a part of
 * dkim-keys-private is kept while a kept dkim-keys-private requires it
 * (repo.c, mark()), regenerates repodata/ from the packages kept, then
 * deletes the others.
 *
 * A reader never sees a half-written repository: the metadata is built
 * in dir/.repodata.tmp and exchanged with repodata/ in one rename
 * (renameat2 RENAME_EXCHANGE), and packages are deleted only once no
 * metadata names them.  Only regular files "*.rpm" not starting with '.'
 * count; anything else in dir (RPM-GPG-KEY-dkimrot, a README) stays.
 * The caller holds the key repository's lock: two concurrent updates of
 * one directory are not supported.
 *
 * With s (common/gpg.h) and s->key set, repodata/repomd.xml.asc,
 * its detached ASCII-armored signature by s, is made in the new
 * metadata before the exchange (for repo_gpgcheck); the packages are
 * dk_sign_dir()'s business.  s NULL or s->key NULL: unsigned.
 *
 * DK_EUSAGE when keep_builds < 0; -1 when a package is unreadable or
 * the metadata cannot be written or signed (the old repodata/ is then
 * untouched).
 */
struct dk_gpg_signer;
int	dk_repo_update(const char *dir, int keep_builds,
	    const struct dk_gpg_signer *s);

/*
 * dk_repo_update() for one of dkimrot's two repositories
 * (rotator/output.h), which indexes only what the key repository
 * built.  A package is left out of the metadata and left on disk (the
 * operator decides what it is) when:
 *   its header cannot be read, or name is not NULL and the header names
 *   another package (dkim-keys-private's parts belong with it) (with a
 *   warning naming the file);
 *   accept is not NULL and accept(file, sha256, arg) is 0, where sha256
 *   is the checksum of the very bytes indexed (primary.xml's pkgid,
 *   which dnf checks every download against), so nothing can change
 *   between the check and the index; accept gives the warning, if any.
 * Pruning (keep_builds) counts and removes indexed packages only, and
 * tells pruned(file, arg), when not NULL, of each one removed.
 * mode: of the metadata files (0 = 0644); repodata/ gets an x bit for
 * each r bit, so 0640 gives the private repository's 0750.
 * signer: as s of dk_repo_update().
 */
struct dk_repo_opts {
	int				 keep_builds;
	mode_t				 mode;
	const char			*name;
	int				(*accept)(const char *file,
					    const char *sha256, void *arg);
	void				(*pruned)(const char *file, void *arg);
	void				*arg;
	const struct dk_gpg_signer	*signer;
};
int	dk_repo_update_opts(const char *dir, const struct dk_repo_opts *);

/*
 * The SHA-256 of len bytes at data as 64 lower-case hex digits and a
 * NUL into out (packaging/ledger.h's checksum, primary.xml's pkgid).
 */
int	dk_repo_sha256(const void *data, size_t len, char out[65]);

#endif
