/*
 * dkimrot package: both RPMs of one commit (docs/design.md §7), then the yum
 * repository's metadata.  Everything, dkimrot.yaml included, is read
 * from the commit through libgit2, never from the work tree, so the
 * packages always equal a commit.  Run by the post-commit hook.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/error.h"
#include "common/fault.h"
#include "common/file.h"
#include "common/lock.h"
#include "common/log.h"
#include "packaging/gpg.h"
#include "packaging/output.h"
#include "packaging/render.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "rotator/git.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot package [--rev REV] [--output DIR] "
	    "[--wait SECONDS]\n"
	    "\n"
	    "Builds dkim-keys-private (keys, KeyTable, SigningTable) and "
	    "dkim-keys-public\n"
	    "(zone fragments) from one commit of the key repository, "
	    "Version = the\n"
	    "number of first-parent commits, and updates the yum "
	    "repository's metadata.\n"
	    "Reads the commit only, never the work tree.  A commit already "
	    "built is\n"
	    "not built again.\n"
	    "\n"
	    "  -r, --rev REV     the commit (default HEAD)\n"
	    "  -o, --output DIR  the yum repository (default: "
	    "packaging.output)\n"
	    "  -w, --wait SECS   wait that long for the repository lock "
	    "(default 0)\n");
}

/* Both packages of this version exist and name this commit. */
static int
built(const char *dir, const struct dk_render *r)
{
	static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };
	char path[PATH_MAX], vcs[DK_GIT_ID_LEN + 8];
	size_t i;

	for (i = 0; i < 2; i++) {
		if (dk_output_rpm_path(path, sizeof(path), dir, names[i],
		    r->version) != 0 || access(path, R_OK) != 0)
			return 0;
		if (dk_rpm_query_vcs(path, vcs, sizeof(vcs)) != 0 ||
		    strcmp(vcs, r->commit) != 0)
			return 0;
	}
	return 1;
}

static int
build_one(const struct dk_render *r, const char *tmpl, const char *name,
    int private, const char *dir)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	struct dk_rpm_pkg pkg;
	char version[32], *out = NULL;
	int rc;

	snprintf(version, sizeof(version), "%zu", r->version);
	memset(&pkg, 0, sizeof(pkg));
	pkg.name = name;
	pkg.version = version;
	pkg.release = "1";
	pkg.vcs = r->commit;
	pkg.packager = r->cfg->git_author;
	pkg.description = r->description;
	pkg.post = private ? pc->mta_reload : pc->dns_reload;
	pkg.time = r->time;
	pkg.rpm_mode = private ? 0640 : 0644;
	pkg.files = private ? r->priv : r->pub;
	pkg.nfiles = private ? r->npriv : r->npub;
	if ((rc = dk_rpm_build(tmpl, &pkg, dir, &out)) != 0)
		return rc;
	if (pc->sign_key != NULL && pc->sign_key[0] != '\0')
		rc = dk_rpm_sign(out, pc->sign_key);
	free(out);
	return rc;
}

/*
 * Both packages at once, the public one in a child process (librpm's
 * state is per process, not per thread): at 10,000 domains each build
 * is seconds of librpmbuild classifying and compressing files, and a
 * site has cores to spare.  Without fork, one after the other.
 */
static int
build_both(const struct dk_render *r, const char *dir)
{
	pid_t pid;
	int rc, status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		rc = build_one(r, dk_spec_dkim_keys_public, DK_PKG_PUBLIC,
		    0, dir);
		if (rc != 0)
			dk_log_error("%s", dk_error_last());
		fflush(stderr);
		_exit(rc == 0 ? 0 : 1);
	}
	rc = build_one(r, dk_spec_dkim_keys_private, DK_PKG_PRIVATE, 1,
	    dir);
	if (pid == -1)
		return rc != 0 ? rc : build_one(r, dk_spec_dkim_keys_public,
		    DK_PKG_PUBLIC, 0, dir);
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

static int
package(struct dk_git *g, const char *rev, const char *opt_out)
{
	const struct dk_packaging_conf *pc;
	struct dk_render *r = NULL;
	char id[DK_GIT_ID_LEN], dir[PATH_MAX], key[PATH_MAX], path[PATH_MAX];
	int rc;

	if ((rc = dk_git_resolve(g, rev, id)) != 0)
		return rc;
	if ((rc = dk_render_commit(g, id, &r)) != 0)
		return rc;
	pc = &r->cfg->packaging;
	/* It holds the private package: not for everyone's eyes. */
	if ((rc = dk_output_dir(dk_git_workdir(g), opt_out, r->cfg, dir,
	    sizeof(dir))) != 0 || (rc = dk_dir_make(dir, 0750)) != 0)
		goto done;
	if (built(dir, r)) {
		if (dk_output_indexed(dir, r->version)) {
			dk_log_info("commit %.12s is already built (version "
			    "%zu)", id, r->version);
			goto stamp;
		}
		/* A run died between the packages and the metadata. */
		dk_log_info("commit %.12s is built (version %zu); writing "
		    "the repository metadata again", id, r->version);
		rc = dk_repo_update(dir, pc->keep_builds);
		goto stamp;
	}
	if ((rc = build_both(r, dir)) != 0)
		goto done;
	DK_FAULT("mid-package");
	if ((rc = dk_output_rpm_path(path, sizeof(path), dir, DK_PKG_PRIVATE,
	    r->version)) != 0)
		goto done;
	printf("%s\n", path);
	if ((rc = dk_output_rpm_path(path, sizeof(path), dir, DK_PKG_PUBLIC,
	    r->version)) != 0)
		goto done;
	printf("%s\n", path);
	if (pc->sign_key != NULL && pc->sign_key[0] != '\0') {
		if ((rc = dk_path_join(key, sizeof(key), dir,
		    "RPM-GPG-KEY-dkimrot")) != 0 ||
		    (rc = dk_gpg_export(pc->sign_key, key)) != 0)
			goto done;
	}
	rc = dk_repo_update(dir, pc->keep_builds);
stamp:
	/* What rotate compares HEAD with (output.h). */
	if (rc == 0 && opt_out == NULL)
		rc = dk_output_stamp_write(dk_git_workdir(g), id, r->version);
done:
	dk_render_free(r);
	return rc;
}

int
cmd_package(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "output",	required_argument,	NULL, 'o' },
		{ "rev",	required_argument,	NULL, 'r' },
		{ "wait",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *rev = "HEAD", *out = NULL;
	struct dk_lock *lock = NULL;
	struct dk_git *g = NULL;
	int ch, rc, wait = 0;

	while ((ch = getopt_long(argc, argv, "ho:r:w:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return DK_EXIT_OK;
		case 'o':
			out = optarg;
			break;
		case 'r':
			rev = optarg;
			break;
		case 'w':
			if (dk_cli_wait(optarg, &wait) != 0) {
				dk_log_error("%s", dk_error_last());
				return DK_EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			return DK_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return DK_EXIT_USAGE;
	}
	if ((rc = dk_git_open(&g, dk_cli_repo())) == 0 &&
	    (rc = dk_lock_acquire(dk_cli_repo(), wait, &lock)) == 0)
		rc = package(g, rev, out);
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	dk_lock_release(lock);
	dk_git_free(g);
	return dk_error_exit(rc);
}
