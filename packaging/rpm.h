/*
 * Binary RPMs built in process (the only user of librpm, librpmbuild and
 * librpmsign), signed with librpmsign.
 *
 * A package is described in memory: its files (contents, mode, owner) and
 * a few strings that fill the placeholders of a spec template
 * (specs/NAME.spec.in, compiled in as dk_spec_NAME[] below).
 * dk_rpm_build() renders the spec, has librpmbuild parse it into the
 * package's header, and writes the package file itself
 * (packaging/rpm_write.c): the file list into the header, the files
 * from memory into the payload.  No build root, no %install step:
 * private keys never pass through a shell or a file system, and the
 * payload is exactly the data given.  The package is what `rpmbuild -bb`
 * makes of the same spec with the files in a build root, entry for entry
 * (tests/e2e/rpm_header.sh), less the libmagic file classes.  The output
 * is deterministic: the same description gives the same bytes (build
 * time, file times and the changelog date are pkg->time, the build host
 * is "dkimrot", the payload pkg->compress).
 *
 * Every string is validated before it reaches the spec, and escaped so
 * that it can never expand an RPM macro, run a shell command at build
 * time or add a spec directive; invalid input is DK_EUSAGE with a message
 * naming the field.
 *
 * librpm keeps global state: the functions here serialize on one process
 * mutex, which packaging/repo.c also takes (createrepo_c uses librpm).
 *
 * The two packages of docs/design.md §7, as `dkimrot package` should describe
 * them (name = template name, version = first-parent commit count, vcs = commit
 * id, time = commit time, packager = git.author):
 *   dkim-keys-private (dk_spec_dkim_keys_private, rpm_mode 0640,
 *   post = mta_reload): key_dir DK_RPM_DIR 0700 key_owner:key_group, each
 *   key 0600 key_owner:key_group without DK_RPM_CONFIG (an upgrade must
 *   replace it and no .rpmsave copy of a secret may linger), KeyTable and
 *   SigningTable 0644 root:root DK_RPM_CONFIG; table_dir DK_RPM_DIR 0755
 *   only when dkimrot alone uses it.
 *   dkim-keys-public (dk_spec_dkim_keys_public, rpm_mode 0644,
 *   post = dns_reload): zone_dir DK_RPM_DIR 0755, one fragment per
 *   domain 0644 root:root DK_RPM_CONFIG.
 *   description: e.g. "Domains: example.com example.org" (wrapped).
 * A %post makes rpm add "Requires(post): /bin/sh"; every real host has it.
 */
#ifndef DK_RPM_H
#define DK_RPM_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* dk_rpm_file.flags */
#define DK_RPM_DIR	0x1	/* a directory the package owns (%dir) */
#define DK_RPM_CONFIG	0x2	/* %config: a locally modified copy is kept
				   as .rpmsave and ours installed.  Never
				   "noreplace": keys and tables must be
				   replaced on upgrade. */
#define DK_RPM_NOREPLACE 0x4	/* with DK_RPM_CONFIG: %config(noreplace),
				   for a file the admin edits (a signer's
				   configuration), never keys or tables */

struct dk_rpm_file {
	/*
	 * Absolute install path: '/'-separated components of
	 * [A-Za-z0-9._+-], no "." or "..", no trailing '/'.
	 * Parent directories not listed themselves are not owned by the
	 * package (/etc, /var/named): rpm creates them on install.
	 */
	const char	*path;
	const void	*data;		/* contents; ignored for DK_RPM_DIR */
	size_t		 len;
	mode_t		 mode;		/* permission bits, at most 0777 */
	const char	*owner;		/* user name; NULL = "root" */
	const char	*group;		/* group name; NULL = "root" */
	unsigned	 flags;		/* DK_RPM_DIR, DK_RPM_CONFIG */
	/*
	 * What names the contents, NULL for nothing: a key's git blob id
	 * (packaging/render.h, dk_render_load()).  A part's digest
	 * (packaging/parts.h) describes such a file by it, not by its
	 * bytes, which need not be loaded; a build refuses a file that
	 * has a source and no data.
	 */
	const char	*source;
};

/*
 * What fills a template's placeholders.  Single-line strings refuse
 * control characters and backslashes; '%' is escaped.
 *   @NAME@ @VERSION@ @RELEASE@ @VCS@ @PACKAGER@   the strings below
 *   @DATE@            pkg->time as a %changelog date ("Sun Nov 22 2026")
 *   @DKIMROT_VERSION@ the version of this program
 *   @DESCRIPTION@     description below (may be empty)
 *   @URL@             a whole "URL:" line, or nothing
 *   @PRE@             a whole %pre section making pre_user, or nothing
 *   @POST@            a whole %post section running post, or nothing
 *   @POSTUN@          a whole %postun section running post on erase
 *                     (not on upgrade), or nothing
 *   @REQUIRES@        a "Requires: NAME = VERSION-1" line per entry
 *                     of requires, an "Obsoletes: NAME < VERSION" line
 *                     per entry of obsoletes, or nothing
 *   @FILES@           the %files lines, one per file
 * Any other @UPPER_CASE@ word in a template is an error.
 */
/* A package required at its exact version (release "1"), or obsoleted
   below a version. */
struct dk_rpm_dep {
	const char	*name;		/* as dk_rpm_pkg.name */
	const char	*version;	/* as dk_rpm_pkg.version */
};

/* f has a source and its contents are not loaded: no build takes it. */
int	dk_rpm_file_unloaded(const struct dk_rpm_file *f);

struct dk_rpm_pkg {
	const char	*name;		/* [A-Za-z0-9][A-Za-z0-9._+-]* */
	const char	*version;	/* [A-Za-z0-9._+~^]+ */
	const char	*release;	/* same; NULL = "1" */
	const char	*vcs;		/* commit id: [A-Za-z0-9._:/#+-]+ */
	const char	*packager;	/* "Name <email>"; NULL = "dkimrot
					   <dkimrot@localhost>" */
	const char	*url;		/* NULL or "" = no URL tag */
	/*
	 * Extra %description text (lines of printable text, none starting
	 * with '%'); NULL = none.  E.g. the domains the package serves.
	 */
	const char	*description;
	/*
	 * A shell command line for %post (installs and upgrades), run as
	 * /bin/sh -c 'post' exactly as configured; its failure prints a
	 * warning and never fails the installation.  NULL or "" = no %post.
	 * The same command runs from %postun when the package is erased.
	 */
	const char	*post;
	/*
	 * The user and group that own the package's keys: %pre creates
	 * them (useradd -r, groupadd -r) when missing, or fails the
	 * install, rather than let rpm give the files to root where the
	 * signer cannot read them.  NULL = no %pre.
	 */
	const char	*pre_user;
	const char	*pre_group;
	time_t		 time;		/* commit time: SOURCE_DATE_EPOCH */
	mode_t		 rpm_mode;	/* mode of the .rpm written; 0 = 0644.
					   Use 0640/0600 for private keys. */
	/*
	 * The payload's compression, enum dk_compress of common/config.h:
	 * 0 = gzip level 9, xz level 2, zstd level 9.  Only zstd adds an
	 * rpmlib() requirement rpm 4.11 (EL7) lacks: PayloadIsZstd, rpm
	 * 4.14 (EL8) and later.
	 */
	int		 compress;
	const struct dk_rpm_file *files;
	size_t		 nfiles;
	/* @REQUIRES@: the parts of dkim-keys-private (packaging/parts.h) */
	const struct dk_rpm_dep *requires;
	size_t		 nrequires;
	const struct dk_rpm_dep *obsoletes;
	size_t		 nobsoletes;
};

/* The embedded templates: specs/NAME.spec.in as dk_spec_NAME (make). */
extern const char dk_spec_dkim_keys_private[];
extern const char dk_spec_dkim_keys_public[];
extern const char dk_spec_dkim_keys_private_part[];

/*
 * Builds the package described by pkg from the template text into
 * outdir/NAME-VERSION-RELEASE.noarch.rpm (the template must say
 * "BuildArch: noarch"), replaced atomically with mode pkg->rpm_mode (a
 * rebuild of the same input gives the same bytes).  On success *out (if
 * out is not NULL) is that path, which the caller frees.
 *
 * The payload is compressed into a memfd and the package assembled in
 * memory, wiped after: no key material is written anywhere but the
 * package.  The spec (no key material) passes through a private
 * directory under $TMPDIR (else /tmp), removed after.
 *
 * DK_EUSAGE for invalid input, -1 for a failed build (rpm's last error
 * in the message; all of rpm's log goes to dk_log_debug).
 */
int	dk_rpm_build(const char *tmpl, const struct dk_rpm_pkg *,
	    const char *outdir, char **out);

/*
 * Makes the package at path signed by s (common/gpg.h), in place,
 * with librpmsign: nothing when its header signature is already by one
 * of s's keys; else an OpenPGP header signature (as `rpmsign
 * --addsign`; the header holds the payload's digest, so it covers the
 * whole package) replaces whatever signature it had.  The signature is
 * dated at the package's build time (or the key's creation, if later),
 * so one package signed by one key is always the same bytes.
 * *changed (when not NULL) is 1 when the package was signed now.
 * The key must have no passphrase; the gpg in $PATH runs with --batch
 * in s's GnuPG home.  The public key to publish with the repository:
 * dk_gpg_export() (common/gpg.h).
 */
struct dk_gpg_signer;
int	dk_rpm_sign(const char *path, const struct dk_gpg_signer *s,
	    int *changed);

/*
 * The VCS tag (the commit id) of the package at path, into out; -1 when
 * it cannot be read or has none.  `package` uses it to skip a commit
 * already built.
 */
int	dk_rpm_query_vcs(const char *path, char *out, size_t size);

/*
 * The SHA-256 of data as 64 lower-case hex digits into hex (size at
 * least 65), with librpm's digests: for the apt index (packaging/apt.c),
 * which has no digest of its own.
 */
int	dk_rpm_sha256(const void *data, size_t len, char *hex, size_t size);

/*
 * For packaging/repo.c only, around its libcreaterepo_c calls (which use
 * librpm): takes the process-wide librpm lock, reads rpm's configuration
 * afresh and routes rpm's log into dk_log_debug; dk_rpm_leave() undoes
 * all of it.  -1 (lock not held) when rpm's configuration is unreadable.
 */
int	dk_rpm_enter(void);
void	dk_rpm_leave(void);

/*
 * Renders the spec text for pkg from tmpl (what dk_rpm_build() builds),
 * for tests and for `--dry-run` style output; the caller frees *out.
 * DK_EUSAGE when a value is invalid.  Pure: no librpm, no files.
 */
int	dk_rpm_spec_render(const char *tmpl, const struct dk_rpm_pkg *,
	    char **out);

#endif
