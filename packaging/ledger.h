/*
 * The build ledger (docs/design.md §9): which package files dkimrot
 * built and still keeps, and the SHA-256 of their bytes as dkimrot last
 * wrote them (after signing).  Only a file whose bytes still have that
 * checksum is one of ours: signed, indexed, counted as built.  A file
 * name, a VCS tag or a commit id proves nothing (every public package
 * carries a real commit id); whoever can write an output directory can
 * plant those, but not a line in the vault.
 *
 * The ledger lives in the vault, .git/dkimrot-builds, mode 0600, never
 * in the work tree and never committed.  Written whole and atomically
 * (temp file, fsync, rename, fsync of .git) under the key repository's
 * lock.  Its text:
 *
 *   dkimrot-builds 1
 *   KIND DIR FILE NAME VERSION COMMIT SHA256
 *   ...
 *
 * KIND private or public for an RPM, private-deb or public-deb for a
 * .deb; DIR the repository directory (the yum one of an RPM, its apt/
 * of a .deb), absolute, as realpath(3) gave it, with every byte below
 * '!', '%' and DEL written %XX; FILE NAME-VERSION-1.noarch.rpm for an
 * RPM, NAME_VERSION_all.deb for a .deb; NAME dkim-keys-private for
 * private (or, for an RPM, one of its parts dkim-keys-private-part-NN,
 * packaging/parts.h), dkim-keys-public for public; VERSION decimal; COMMIT 40
 * lower-case hex digits; SHA256 64.  One space between fields, one line
 * a file, no two lines for one DIR and FILE.  Anything else is an error
 * naming the file and line: the ledger decides what is signed and
 * indexed, so a damaged one is never half trusted.
 */
#ifndef DK_LEDGER_H
#define DK_LEDGER_H

#include <stdbool.h>
#include <stddef.h>

#include "rotator/git.h"

#define DK_LEDGER_FILE	".git/dkimrot-builds"
#define DK_SHA256_HEX	65	/* 64 lower-case hex digits and a NUL */
/* A package read whole to be checked: far above 10,000 domains. */
#define DK_PKG_MAX	((size_t)1 << 30)

/* struct dk_build's format */
#define DK_BUILD_RPM		0
#define DK_BUILD_DEB		1

struct dk_build {
	char		*dir;
	char		*file;
	const char	*name;		/* DK_PKG_PRIVATE, _PUBLIC or a part
				   (static: rotator/output.h) */
	int		 format;	/* DK_BUILD_RPM or DK_BUILD_DEB */
	size_t		 version;
	char		 commit[DK_GIT_ID_LEN];
	char		 sha256[DK_SHA256_HEX];
};

struct dk_ledger {
	struct dk_build	*b;
	size_t		 n;
	size_t		 cap;
};

/* dk_ledger_verify() */
#define DK_BUILD_OURS		0	/* in the ledger, bytes unchanged */
#define DK_BUILD_UNKNOWN	1	/* not in the ledger */
#define DK_BUILD_CHANGED	2	/* in it, other bytes on disk now */

void	dk_ledger_dispose(struct dk_ledger *);
/*
 * The ledger text of len bytes into l (empty before); where names it
 * in messages.  -1: "invalid build ledger 'WHERE:LINE': REASON".
 */
int	dk_ledger_parse(struct dk_ledger *l, const char *text, size_t len,
	    const char *where);
/* The text of l, NUL-terminated, for the caller to free. */
int	dk_ledger_format(const struct dk_ledger *, char **out, size_t *len);
/* repo/.git/dkimrot-builds into l: DK_ENOTFOUND when there is none. */
int	dk_ledger_load(struct dk_ledger *l, const char *repo);
/* l as repo/.git/dkimrot-builds, 0600, atomically. */
int	dk_ledger_save(const struct dk_ledger *, const char *repo);
/* The line of dir and file, NULL when there is none. */
struct dk_build *dk_ledger_find(const struct dk_ledger *, const char *dir,
	    const char *file);
/*
 * Adds or replaces the line of dir and NAME-VERSION-1.noarch.rpm;
 * name is DK_PKG_PRIVATE, DK_PKG_PUBLIC or a part.  DK_EUSAGE for a value the
 * parser would refuse.
 */
int	dk_ledger_set(struct dk_ledger *, const char *dir, const char *name,
	    size_t version, const char *commit, const char *sha256);
/* The same for the .deb NAME_VERSION_all.deb of apt repository dir. */
int	dk_ledger_set_deb(struct dk_ledger *, const char *dir,
	    const char *name, size_t version, const char *commit,
	    const char *sha256);
/* The FILE of a build of format (DK_BUILD_RPM, _DEB) into buf. */
int	dk_ledger_file(char *buf, size_t size, int format, const char *name,
	    size_t version);
/* Removes the line of dir and file: 1 when there was one. */
int	dk_ledger_remove(struct dk_ledger *, const char *dir,
	    const char *file);
/*
 * What dir/FILE is to b, the ledger's line of it (dk_ledger_find(), by
 * the directory as the ledger names it; dir is where to read it):
 * DK_BUILD_OURS, _UNKNOWN (b is NULL) or _CHANGED, with *why (when not
 * NULL) saying it for a warning; -1 when it cannot be read (a link, a
 * FIFO, gone).  With buf, the bytes read are handed over (*buf, *len,
 * the caller frees them with dk_ledger_bytes_free()), so that what is
 * used next is exactly what was checked.
 */
int	dk_ledger_verify(const struct dk_build *b, const char *dir,
	    const char **why, char **buf, size_t *len);

/*
 * Frees package bytes read by dk_ledger_verify() and its callers: a
 * private package's payload is key material, wiped first (dk_secret_free).
 */
void	dk_ledger_bytes_free(char *data, size_t len);

#endif
