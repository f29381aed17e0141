/*
 * The build ledger of one 'dkimrot package' run (packaging/ledger.h),
 * for packaging/cmd_package.c: the ledger loaded (or an older output
 * adopted), what it calls the two repositories (their real paths, so
 * that --output and packaging.output naming one directory two ways
 * agree), and the stage in the vault where packages are built and
 * signed before they are copied out.  The .deb files of an apt
 * repository (packaging/apt.h) are lines of the same ledger.
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
	char			 kapriv[PATH_MAX];	/* the apt ones */
	char			 kapub[PATH_MAX];
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
/* The same of its apt repository. */
const char *dk_builds_apt_key(const struct dk_builds *, const char *name);
/* NAME-VERSION-1.noarch.rpm into buf. */
int	dk_builds_file(char *buf, size_t size, const char *name,
	    size_t version);
/*
 * The apt repository of package name: DIR/apt beside the yum repository
 * DIR of the same package, so that the one URL a web server gives only
 * the mail servers serves both (docs/design.md §11).
 */
int	dk_builds_apt_dir(char *buf, size_t size, const struct dk_output *,
	    const char *name);
/*
 * Where the builds of name in format (DK_BUILD_RPM: its yum
 * repository, DK_BUILD_DEB: its apt one) are into dir, and *key the
 * ledger's name of that directory.
 */
int	dk_builds_where(const struct dk_output *o, const struct dk_builds *lb,
	    const char *name, int format, char *dir, size_t size,
	    const char **key);

/*
 * The packages of version, commit built in the stage (both RPMs, and
 * with debs both .deb files, and parts[0..nparts) of dkim-keys-private
 * built at this version, packaging/parts.h) into their repositories of
 * o, the parts first.  The ledger
 * learns their checksums first, so that a run killed in between leaves
 * a file the ledger calls this commit's but "changed" (or none): left
 * out, and the next run rebuilds it in place, the commit being built
 * per the ledger at that version.  The other order would leave a file
 * the ledger does not know at a version it does not count, and the
 * next build would have to refuse it as a stranger's.
 */
int	dk_builds_publish(const struct dk_output *o, struct dk_builds *lb,
	    size_t version, const char *commit, int debs,
	    const char *const *parts, size_t nparts);

/*
 * For dk_repo_update_opts() and dk_apt_update(), with lb->dir (for
 * messages) and lb->key (the ledger's name of it) set: accept() is 1
 * only for a file of the ledger whose bytes (sha256) are the ones
 * dkimrot wrote, and warns of the rest; pruned() drops the line of a
 * build pruned and sets lb->pruned.
 */
int	dk_builds_accept(const char *file, const char *sha256, void *lb);
void	dk_builds_pruned(const char *file, void *lb);

#endif
