/*
 * The build ledger of one 'dkimrot package' run (packaging/ledger.h),
 * for packaging/cmd_package.c: the ledger loaded (or an older output
 * adopted), what it calls the two repositories (their real paths, so
 * that --output and packaging.output naming one directory two ways
 * agree), and the stage in the vault where packages are built and
 * signed before they are copied out.
 */
#ifndef DK_BUILDS_H
#define DK_BUILDS_H

#include <limits.h>
#include <stddef.h>

#include "packaging/ledger.h"

struct dk_git;
struct dk_output;

struct dk_builds {
	struct dk_ledger	 l;
	const char		*repo;		/* the work tree */
	char			 stage[PATH_MAX];	/* in the vault */
	char			 kpriv[PATH_MAX];
	char			 kpub[PATH_MAX];
	/* For cmd_package.c's callbacks of dk_repo_update_opts(). */
	const char		*dir;
	const char		*key;
	int			 pruned;
};

/*
 * lb (zeroed by the caller) for output o of the repository of g: the
 * ledger loaded; with none, the packages of o whose VCS tag names a
 * commit of g adopted into a new one, with one warning; a build that a
 * killed run left in the stage with the bytes the ledger records copied
 * into o; then the stage made empty (0700).  -1 for a damaged ledger.
 */
int	dk_builds_open(struct dk_git *g, const struct dk_output *o,
	    struct dk_builds *lb);
/* The stage removed, the ledger freed; lb may be half opened. */
void	dk_builds_close(struct dk_builds *lb);
/* The directory of package name as the ledger names it. */
const char *dk_builds_key(const struct dk_builds *, const char *name);
/* NAME-VERSION-1.noarch.rpm into buf. */
int	dk_builds_file(char *buf, size_t size, const char *name,
	    size_t version);

#endif
