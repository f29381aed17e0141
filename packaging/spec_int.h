/*
 * Internal to packaging/spec*.c (spec.c renders a spec, spec_files.c
 * its %files section) and packaging/rpm_write.c, which checks the files
 * it writes as the %files section would.
 */
#ifndef DK_SPEC_INT_H
#define DK_SPEC_INT_H

#include "common/buf.h"
#include "packaging/rpm.h"

/* A user or group name for a file or %pre; NULL passes. */
int	dk_spec_check_user(const char *what, const char *s);
/* One file of a package: its path, owner, group, mode and flags. */
int	dk_spec_check_file(const struct dk_rpm_file *f);
/* The %files lines of pkg into b, every file checked first. */
int	dk_spec_put_files(struct dk_buf *b, const struct dk_rpm_pkg *pkg);

#endif
