/*
 * Debian binary packages (.deb) built in process with libarchive, the
 * only user of libarchive (docs/design.md §11).
 *
 * A .deb is an ar archive of three members: debian-binary ("2.0\n"),
 * control.tar.gz (control, conffiles, postinst, postrm) and data.tar.gz,
 * .xz or .zst (the files).  The package is the one dk_rpm_build() builds
 * from the same description (packaging/rpm.h), with the same files and
 * modes, the Debian way:
 *   - every file is root:root in data.tar; the owners of the
 *     description (key_owner:key_group) are applied by postinst with
 *     chown, and a failed chown warns and never fails the installation;
 *   - DK_RPM_CONFIG files are conffiles, as %config in the RPM; keys are
 *     not, so an upgrade replaces them and leaves no .dpkg-old copy;
 *   - postinst runs pkg->post after every install and upgrade
 *     ("configure"), postrm on "remove" only (an upgrade's postinst
 *     reloads already), a failure a warning, as the RPM's scriptlets.
 * The same description gives the same bytes: every time is pkg->time,
 * every entry is in path order, the compressors are single-threaded.
 */
#ifndef DK_DEB_H
#define DK_DEB_H

#include <stddef.h>

struct dk_rpm_pkg;

/* The field of the control file that names the commit built. */
#define DK_DEB_COMMIT_FIELD	"Dkimrot-Commit"

/*
 * Builds outdir/NAME_VERSION_all.deb from pkg (pkg->vcs is the commit,
 * pkg->compress the data member's compression; the control member is
 * always gzip), replaced atomically with mode pkg->rpm_mode (0 = 0644).
 * summary is the one-line Description.  On success *out (when out is
 * not NULL) is the path, which the caller frees.  DK_EUSAGE for input
 * the RPM build would refuse too.
 */
int	dk_deb_build(const struct dk_rpm_pkg *pkg, const char *summary,
	    const char *outdir, char **out);

/*
 * The control file of the .deb at path into *out (NUL-terminated, the
 * caller frees it): for the apt index (packaging/apt.h).  -1 when path
 * is not a .deb with a control file.
 */
int	dk_deb_control(const char *path, char **out);
/* The same from the bytes of a .deb (the fuzz target's entry). */
int	dk_deb_control_mem(const void *data, size_t len, char **out);
/*
 * The value of field name of control (a line "NAME: VALUE") into buf;
 * -1 when there is none or it does not fit.
 */
int	dk_deb_field(const char *control, const char *name, char *buf,
	    size_t size);

#endif
