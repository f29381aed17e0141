/*
 * dkimrot package: both RPMs of one commit (docs/design.md §7), each into its own
 * yum repository (packaging/output.h), then each one's metadata.
 * Everything, dkimrot.yaml included, is read from the commit through
 * libgit2, never from the work tree, so the packages always equal a
 * commit.  Run by the post-commit hook.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
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
#include "packaging/output.h"
#include "packaging/render.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "packaging/sign.h"
#include "rotator/git.h"
#include "rotator/vault.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot package [--rev REV] [--output DIR] "
	    "[--wait SECONDS]\n"
	    "\n"
	    "Builds dkim-keys-private (keys, KeyTable, SigningTable) and "
	    "dkim-keys-public\n"
	    "(zone fragments) from one commit of the key repository into "
	    "two yum\n"
	    "repositories, private and public, each with its own metadata.  "
	    "Version = the\n"
	    "number of first-parent commits, or one above every version "
	    "there.  Reads the\n"
	    "commit only, never the work tree.  A commit already built is "
	    "not built again.\n"
	    "\n"
	    "  -r, --rev REV     the commit (default HEAD)\n"
	    "  -o, --output DIR  DIR/private and DIR/public (default: "
	    "packaging.output)\n"
	    "  -w, --wait SECS   wait that long for the repository lock "
	    "(default 0)\n");
	fputs(DK_VAULT_HELP, f);
}

/* Both packages of this version exist and name this commit. */
static int
built(const struct dk_output *o, const struct dk_render *r)
{
	static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };
	char path[PATH_MAX], vcs[DK_GIT_ID_LEN + 8];
	size_t i;

	for (i = 0; i < 2; i++) {
		if (dk_output_rpm_path(path, sizeof(path),
		    dk_output_pkg_dir(o, names[i]), names[i], r->version) !=
		    0 || access(path, R_OK) != 0)
			return 0;
		if (dk_rpm_query_vcs(path, vcs, sizeof(vcs)) != 0 ||
		    strcmp(vcs, r->commit) != 0)
			return 0;
	}
	return 1;
}

/* For dk_repo_update_opts(): the VCS tag names a commit we hold. */
static int
known(const char *vcs, void *arg)
{
	return dk_git_has_commit(arg, vcs);
}

struct versions {
	size_t	highest;	/* of our packages in either repository */
	size_t	same;		/* this commit's, 0 if not built */
};

/* Our packages of name in dir: their highest version, this commit's. */
static int
scan_versions(struct dk_git *g, const char *dir, const char *name,
    const char *commit, struct versions *v)
{
	char path[PATH_MAX], vcs[DK_GIT_ID_LEN + 8];
	struct dirent *de;
	size_t n;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if ((n = dk_output_rpm_version(de->d_name, name)) == 0 ||
		    dk_path_join(path, sizeof(path), dir, de->d_name) != 0 ||
		    dk_rpm_query_vcs(path, vcs, sizeof(vcs)) != 0)
			continue;
		/* A foreign file decides nothing (dk_repo_update_opts). */
		if ((rc = dk_git_has_commit(g, vcs)) == -1)
			break;
		if (rc == 0)
			continue;
		rc = 0;
		if (n > v->highest)
			v->highest = n;
		if (strcmp(vcs, commit) == 0 && n > v->same)
			v->same = n;
	}
	if (rc == 0 && errno != 0) {
		dk_error_set_errno(errno, "cannot read repository '%s'", dir);
		rc = -1;
	}
	closedir(d);
	return rc;
}

/*
 * The version of the packages of r's commit.  dnf installs a package
 * only when its version is above the installed one, so versions must
 * only go up.  The first-parent count does, along one history; after a
 * rewrite (git reset, a rebase) it counts again from lower down, and a
 * 'revoke' built as version N would lose to the abandoned history's N+1
 * still in the repository: the revocation would reach no server.  So a
 * new commit gets max(count, highest version there + 1), and a commit
 * already there keeps its version, so that building it again gives the
 * same bytes (and never a second version of one commit).
 */
static int
pick_version(struct dk_git *g, const struct dk_output *o,
    struct dk_render *r)
{
	struct versions v = { 0, 0 };

	if (scan_versions(g, o->priv, DK_PKG_PRIVATE, r->commit, &v) != 0 ||
	    scan_versions(g, o->pub, DK_PKG_PUBLIC, r->commit, &v) != 0)
		return -1;
	if (v.same != 0) {
		r->version = v.same;
		return 0;
	}
	if (v.highest >= r->version) {
		dk_log_info("commit %.12s: its count %zu is not above version "
		    "%zu already built (history rewritten); it becomes version "
		    "%zu", r->commit, r->version, v.highest, v.highest + 1);
		r->version = v.highest + 1;
	}
	return 0;
}

/*
 * NAME-VERSION of another commit (a planted file, another repository's
 * build) is never replaced: a client holding that version would never
 * see ours.  Loudly refused instead.
 */
static int
collision(const struct dk_output *o, const struct dk_render *r)
{
	static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };
	char path[PATH_MAX], vcs[DK_GIT_ID_LEN + 8];
	size_t i;

	for (i = 0; i < 2; i++) {
		if (dk_output_rpm_path(path, sizeof(path),
		    dk_output_pkg_dir(o, names[i]), names[i], r->version) != 0)
			return -1;
		if (access(path, F_OK) != 0)
			continue;
		if (dk_rpm_query_vcs(path, vcs, sizeof(vcs)) == 0 &&
		    strcmp(vcs, r->commit) == 0)
			continue;
		dk_error_set("refusing to replace '%s': it is not a build of "
		    "commit %.12s (VCS '%s'); move it away", path, r->commit,
		    vcs[0] != '\0' ? vcs : "unreadable");
		return -1;
	}
	return 0;
}

static int
build_one(const struct dk_render *r, const struct dk_gpg_signer *s,
    const char *tmpl, const char *name, int private,
    const struct dk_output *o)
{
	const char *dir = dk_output_pkg_dir(o, name);
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
	if (s->key != NULL)
		rc = dk_rpm_sign(out, s, NULL);
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
build_both(const struct dk_render *r, const struct dk_gpg_signer *s,
    const struct dk_output *dir)
{
	pid_t pid;
	int rc, status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		rc = build_one(r, s, dk_spec_dkim_keys_public, DK_PKG_PUBLIC,
		    0, dir);
		if (rc != 0)
			dk_log_error("%s", dk_error_last());
		fflush(stderr);
		_exit(rc == 0 ? 0 : 1);
	}
	rc = build_one(r, s, dk_spec_dkim_keys_private, DK_PKG_PRIVATE, 1,
	    dir);
	if (pid == -1)
		return rc != 0 ? rc : build_one(r, s,
		    dk_spec_dkim_keys_public, DK_PKG_PUBLIC, 0, dir);
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

/* Each repository's metadata (repomd.xml signed by s). */
static int
index_both(struct dk_git *g, const struct dk_output *o,
    const struct dk_packaging_conf *pc, const struct dk_gpg_signer *s)
{
	struct dk_repo_opts ro;
	int rc;

	memset(&ro, 0, sizeof(ro));
	ro.keep_builds = pc->keep_builds;
	ro.known = known;
	ro.arg = g;
	ro.signer = s;
	ro.name = DK_PKG_PRIVATE;
	ro.mode = 0640;
	if ((rc = dk_repo_update_opts(o->priv, &ro)) != 0)
		return rc;
	ro.name = DK_PKG_PUBLIC;
	ro.mode = 0644;
	if ((rc = dk_repo_update_opts(o->pub, &ro)) != 0)
		return rc;
	return 0;
}

/*
 * Our packages in both repositories signed by s, kept builds re-signed
 * when the key changed, and its public key exported into each: every
 * client needs it.  *changed: a package changed, the metadata must be
 * written again.
 */
static int
sign_both(const struct dk_output *o, const struct dk_gpg_signer *s,
    int *changed)
{
	int a, b;

	if (dk_sign_dir(o->priv, s, &a) != 0 ||
	    dk_sign_dir(o->pub, s, &b) != 0)
		return -1;
	*changed = a || b;
	return 0;
}

static int
package(struct dk_git *g, const char *rev, const char *opt_out)
{
	const struct dk_packaging_conf *pc;
	struct dk_gpg_signer signer;
	struct dk_render *r = NULL;
	struct dk_output o;
	char id[DK_GIT_ID_LEN], path[PATH_MAX];
	int rc, resigned = 0;

	memset(&signer, 0, sizeof(signer));
	if ((rc = dk_git_resolve(g, rev, id)) != 0)
		return rc;
	if ((rc = dk_render_commit(g, id, &r)) != 0)
		return rc;
	if ((rc = dk_git_check_pushed(g, r->cfg, id)) != 0)
		goto done;
	pc = &r->cfg->packaging;
	/* A key gpg lacks fails the run before anything is built. */
	if ((rc = dk_sign_setup(dk_git_workdir(g), pc, &signer)) != 0)
		goto done;
	if ((rc = dk_output_dirs(dk_git_workdir(g), opt_out, r->cfg,
	    &o)) != 0 || (rc = dk_output_prepare(&o)) != 0 ||
	    (rc = pick_version(g, &o, r)) != 0)
		goto done;
	if (built(&o, r)) {
		/* The key may have changed since: kept builds follow it. */
		if ((rc = sign_both(&o, &signer, &resigned)) != 0)
			goto done;
		if (!resigned && dk_output_indexed(&o, r->version)) {
			dk_log_info("commit %.12s is already built (version "
			    "%zu)", id, r->version);
			goto stamp;
		}
		/* A run died between the packages and the metadata. */
		dk_log_info("commit %.12s is built (version %zu); writing "
		    "the repository metadata again", id, r->version);
		rc = index_both(g, &o, pc, &signer);
		goto stamp;
	}
	if ((rc = collision(&o, r)) != 0 ||
	    (rc = build_both(r, &signer, &o)) != 0)
		goto done;
	DK_FAULT("mid-package");
	if ((rc = dk_output_rpm_path(path, sizeof(path), o.priv,
	    DK_PKG_PRIVATE, r->version)) != 0)
		goto done;
	printf("%s\n", path);
	if ((rc = dk_output_rpm_path(path, sizeof(path), o.pub, DK_PKG_PUBLIC,
	    r->version)) != 0)
		goto done;
	printf("%s\n", path);
	if ((rc = sign_both(&o, &signer, &resigned)) != 0)
		goto done;
	rc = index_both(g, &o, pc, &signer);
stamp:
	/* What rotate compares HEAD with (output.h). */
	if (rc == 0 && opt_out == NULL)
		rc = dk_output_stamp_write(dk_git_workdir(g), id, r->version);
done:
	dk_gpg_signer_dispose(&signer);
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
	    (rc = dk_vault_check(dk_cli_repo())) == 0 &&
	    (rc = dk_lock_acquire(dk_cli_repo(), wait, &lock)) == 0)
		rc = package(g, rev, out);
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	dk_lock_release(lock);
	dk_git_free(g);
	return dk_error_exit(rc);
}
