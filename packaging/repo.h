/*
 * The yum/dnf repository of dkimrot's packages (docs/design.md §7): a directory
 * of RPMs with repodata/ (primary, filelists, other; no sqlite) written by
 * libcreaterepo_c, the only user of it.
 */
#ifndef DK_REPO_H
#define DK_REPO_H

/*
 * Brings the repository in dir up to date: of every package name it
 * keeps the keep_builds newest builds (rpm version order, so "10" is
 * newer than "9"; 0 keeps everything), regenerates repodata/ from the
 * packages kept, then deletes the older packages.
 *
 * A reader never sees a half-written repository: the metadata is built
 * in dir/.repodata.tmp and exchanged with repodata/ in one rename
 * (renameat2 RENAME_EXCHANGE), and packages are deleted only once no
 * metadata names them.  Only regular files "*.rpm" not starting with '.'
 * count; anything else in dir (RPM-GPG-KEY-dkimrot, a README) stays.
 * The caller holds the key repository's lock: two concurrent updates of
 * one directory are not supported.
 *
 * DK_EUSAGE when keep_builds < 0; -1 when a package is unreadable or
 * the metadata cannot be written (the old repodata/ is then untouched).
 */
int	dk_repo_update(const char *dir, int keep_builds);

#endif
