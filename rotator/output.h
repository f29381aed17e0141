/*
 * The package output of a key repository (packaging.output, docs/design.md §7):
 * two yum repositories, one per package, so that a name server given
 * the public one can neither list nor fetch the private keys.
 *   private: dkim-keys-private and its repodata/, 0750 and 0640 (a web
 *            server's group may be given it: mail servers only)
 *   public:  dkim-keys-public and its repodata/, 0755 and 0644
 * By default OUTPUT/private and OUTPUT/public; packaging.private_output
 * and packaging.public_output place either elsewhere.  For 'dkimrot
 * package' and for the runs that check whether HEAD was packaged.
 */
#ifndef DK_OUTPUT_H
#define DK_OUTPUT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct dk_config;

#define DK_PKG_PRIVATE	"dkim-keys-private"
#define DK_PKG_PUBLIC	"dkim-keys-public"
/*
 * With packaging.parts N, the keys are in the part packages
 * DK_PKG_PART "00" to N-1, two digits, which dkim-keys-private requires
 * at their exact versions (packaging/parts.h); they live in the private
 * repository.
 */
#define DK_PKG_PART	"dkim-keys-private-part-"

/* The name of part i (below DK_PARTS_MAX): a static string. */
const char *dk_pkg_part_name(unsigned i);
/* The part a package name is, -1 when it is none. */
int	dk_pkg_part_index(const char *name);
/* name is DK_PKG_PRIVATE or one of its parts: private key material. */
bool	dk_pkg_private(const char *name);

struct dk_output {
	char	top[PATH_MAX];	/* packaging.output, or --output */
	char	priv[PATH_MAX];	/* the private repository */
	char	pub[PATH_MAX];	/* the public repository */
};

/*
 * The directories: with opt (--output, as given) OPT/private and
 * OPT/public whatever the configuration says; else packaging.output of
 * cfg and the two repositories, each relative to repo unless absolute.
 * DK_EUSAGE when both repositories are one directory, or one is inside
 * the other (each has its own repodata/).  Nothing is created.
 */
int	dk_output_dirs(const char *repo, const char *opt,
	    const struct dk_config *, struct dk_output *);
/* The repository that holds package name (dk_pkg_private() or not). */
const char *dk_output_pkg_dir(const struct dk_output *, const char *name);
/* DIR/NAME-VERSION-1.noarch.rpm */
int	dk_output_rpm_path(char *, size_t, const char *dir, const char *name,
	    size_t version);
/*
 * The version of NAME-VERSION-1.noarch.rpm named file (no directory),
 * 0 when file is not so named.
 */
size_t	dk_output_rpm_version(const char *file, const char *name);
/* Both packages of version are there (their contents are not read). */
bool	dk_output_built(const struct dk_output *, size_t version);
/*
 * Each repository's repodata/repomd.xml exists and is not older than
 * its package of version: the metadata was written after them
 * (dk_repo_update() runs last), so a run killed in between is seen.
 */
bool	dk_output_indexed(const struct dk_output *, size_t version);
/*
 * Makes both repositories (the public one and its parents 0755, the
 * private one 0750; an existing one keeps its mode, but a private one
 * that others can read or enter is refused) and moves an older
 * single-directory output into them: every dkim-keys-private-*.rpm and
 * dkim-keys-public-*.rpm directly in top goes to its repository, and
 * top's repodata/ is removed so that its URL serves no private key any
 * more, with one warning.  Anything else in top stays.
 */
int	dk_output_prepare(const struct dk_output *);

/*
 * The stamp .git/dkimrot.packaged of repo: the last commit (full id)
 * whose packages are complete in the configured output directory, and
 * its version.  'package' writes it; rotate compares it with HEAD, which
 * costs nothing, where counting HEAD's version walks all history.
 * DK_ENOTFOUND when there is none or it is not ours.
 */
int	dk_output_stamp_write(const char *repo, const char *commit,
	    size_t version);
int	dk_output_stamp_read(const char *repo, char *commit, size_t size,
	    size_t *version);

#endif
