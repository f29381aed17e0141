/*
 * The package output directory of a key repository (packaging.output,
 * docs/design.md §7) and the names of the packages in it, for 'dkimrot package'
 * and for the runs that check whether HEAD was packaged.
 */
#ifndef DK_OUTPUT_H
#define DK_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

struct dk_config;

#define DK_PKG_PRIVATE	"dkim-keys-private"
#define DK_PKG_PUBLIC	"dkim-keys-public"

/*
 * The directory: opt when not NULL (as given), else packaging.output of
 * cfg, relative to repo unless absolute.  Nothing is created.
 */
int	dk_output_dir(const char *repo, const char *opt,
	    const struct dk_config *, char *, size_t);
/* DIR/NAME-VERSION-1.noarch.rpm */
int	dk_output_rpm_path(char *, size_t, const char *dir, const char *name,
	    size_t version);
/* Both packages of version are in dir (their contents are not read). */
bool	dk_output_built(const char *dir, size_t version);
/*
 * dir/repodata/repomd.xml exists and is not older than the packages of
 * version: the metadata was written after them (dk_repo_update() runs
 * last), so a run killed in between is seen.
 */
bool	dk_output_indexed(const char *dir, size_t version);

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
