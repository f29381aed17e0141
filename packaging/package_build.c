/*
 * The package files of one render (docs/design.md §7): dkim-keys-private
 * with its changed parts and dkim-keys-public, each RPM signed when a
 * key is given, and with formats deb both .deb files too.  The caller
 * (packaging/cmd_package.c) decides what to build and publishes it.
 */
#include <sys/wait.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "packaging/deb.h"
#include "packaging/package_build.h"
#include "packaging/parts.h"
#include "packaging/render.h"
#include "packaging/rpm.h"
#include "packaging/sign.h"
#include "rotator/output.h"

void
dk_package_describe(const struct dk_render *r, int private, char *version,
    size_t size, struct dk_rpm_pkg *pkg)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;

	snprintf(version, size, "%zu", r->version);
	memset(pkg, 0, sizeof(*pkg));
	pkg->version = version;
	pkg->release = "1";
	pkg->vcs = r->commit;
	pkg->packager = r->cfg->git_author;
	pkg->description = r->description;
	if (private && (pc->signers & DK_SIGNER_BIT(DK_SIGNER_OPENDKIM))) {
		pkg->pre_user = pc->key_owner;
		pkg->pre_group = pc->key_group;
	}
	pkg->time = r->time;
	pkg->rpm_mode = private ? 0640 : 0644;
	pkg->compress = pc->compress;
}

/* The parts of dkim-keys-private that changed (packaging/parts.h). */
static int
build_parts(const struct dk_render *r, const struct dk_gpg_signer *s,
    const struct dk_parts *parts, const char *dir)
{
	struct dk_rpm_pkg pkg;
	char version[32], *out;
	unsigned k;
	int rc;

	for (k = 0; k < parts->n; k++) {
		if (!parts->part[k].build)
			continue;
		dk_package_describe(r, 1, version, sizeof(version), &pkg);
		pkg.name = parts->part[k].name;
		pkg.files = parts->part[k].files;
		pkg.nfiles = parts->part[k].nfiles;
		out = NULL;
		if ((rc = dk_rpm_build(dk_spec_dkim_keys_private_part, &pkg,
		    dir, &out)) == 0 && s->key != NULL)
			rc = dk_rpm_sign(out, s, NULL);
		free(out);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Into dir, the vault's stage: what gpg signs there nobody else can
 * write (packaging/sign.c).  With formats deb the .deb too, which holds
 * every private file whatever the parts.
 */
static int
build_one(const struct dk_render *r, const struct dk_gpg_signer *s,
    const struct dk_parts *parts, int private, const char *dir)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	struct dk_rpm_pkg pkg;
	char version[32], *out = NULL;
	int rc;

	if (private && (rc = build_parts(r, s, parts, dir)) != 0)
		return rc;
	dk_package_describe(r, private, version, sizeof(version), &pkg);
	pkg.name = private ? DK_PKG_PRIVATE : DK_PKG_PUBLIC;
	pkg.post = private ? pc->mta_reload : pc->dns_reload;
	pkg.files = private ? parts->main : r->pub;
	pkg.nfiles = private ? parts->nmain : r->npub;
	if (private) {
		pkg.requires = parts->req;
		pkg.nrequires = parts->n;
		pkg.obsoletes = parts->obs;
		pkg.nobsoletes = parts->nobs;
	}
	if ((rc = dk_rpm_build(private ? dk_spec_dkim_keys_private :
	    dk_spec_dkim_keys_public, &pkg, dir, &out)) != 0)
		return rc;
	if (s->key != NULL)
		rc = dk_rpm_sign(out, s, NULL);
	free(out);
	if (rc != 0 || !(pc->formats & DK_FORMAT_DEB))
		return rc;
	/* The same description, every file: the .deb (deb.h). */
	pkg.files = private ? r->priv : r->pub;
	pkg.nfiles = private ? r->npriv : r->npub;
	pkg.nrequires = pkg.nobsoletes = 0;
	return dk_deb_build(&pkg, private ? "DKIM private keys and OpenDKIM "
	    "KeyTable/SigningTable for mail servers" : "DKIM public key "
	    "records (DNS zone fragments) for name servers", dir, NULL);
}

/*
 * Both packages at once, the public one in a child process (librpm's
 * state is per process, not per thread): at 10,000 domains each build
 * is seconds of librpmbuild classifying and compressing files, and a
 * site has cores to spare.  Without fork, one after the other.
 */
int
dk_package_build(struct dk_render *r, const struct dk_gpg_signer *s,
    const struct dk_parts *parts, const char *dir)
{
	pid_t pid;
	int rc, status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		rc = build_one(r, s, parts, 0, dir);
		if (rc != 0)
			dk_log_error("%s", dk_error_last());
		fflush(stderr);
		_exit(rc == 0 ? 0 : 1);
	}
	/*
	 * The child has the public files; this process needs them no more.
	 * malloc_trim gives back the pages freed in the middle of the heap
	 * (the zones alone are some 40 MB at 100,000 domains), which free()
	 * keeps: 225 -> 206 MiB at 100,000 domains.
	 */
	if (pid > 0) {
		dk_render_release_public(r);
		malloc_trim(0);
	}
	rc = build_one(r, s, parts, 1, dir);
	if (pid == -1)
		return rc != 0 ? rc : build_one(r, s, parts, 0, dir);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			dk_error_set_errno(errno, "cannot wait for the build "
			    "of dkim-keys-public");
			return -1;
		}
	}
	if (rc != 0)
		return rc;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		dk_error_set("cannot build dkim-keys-public (see above)");
		return -1;
	}
	return 0;
}
