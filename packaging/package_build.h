/*
 * packaging/package_build.c: the package files of one render.
 */
#ifndef DK_PACKAGE_BUILD_H
#define DK_PACKAGE_BUILD_H

#include <stddef.h>

struct dk_gpg_signer;
struct dk_parts;
struct dk_render;
struct dk_rpm_pkg;

/*
 * What every package of r has in common into *pkg (version is the
 * buffer of its version string); private: a private one.
 */
void	dk_package_describe(const struct dk_render *r, int private,
	    char *version, size_t size, struct dk_rpm_pkg *pkg);
/*
 * Both packages into dir, the public one in a child process; signed by
 * s when s->key is set.  The parts built are parts' changed ones.
 */
int	dk_package_build(struct dk_render *r, const struct dk_gpg_signer *s,
	    const struct dk_parts *parts, const char *dir);

#endif
