/*
 * dkimrot package: both RPMs of one commit (docs/design.md §7), each
 * into its own yum repository (rotator/output.h), with formats deb both
 * .deb files into an apt repository beside each, then each one's
 * metadata.  Everything, dkimrot.yaml included, is read from the commit
 * through libgit2, never from the work tree, so the packages always
 * equal a commit.  Only what the build ledger vouches for is signed and
 * indexed (packaging/builds.h, docs/design.md §9).  Run by the
 * post-commit hook.
 */
#include <sys/stat.h>

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
#include "packaging/apt.h"
#include "packaging/builds.h"
#include "packaging/ledger.h"
#include "packaging/package_build.h"
#include "packaging/parts.h"
#include "packaging/render.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "packaging/sign.h"
#include "rotator/git.h"
#include "rotator/output.h"
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
	    "With packaging.formats [rpm, deb], also .deb packages into "
	    "an apt repository\n"
	    "inside each (DIR/private/apt, DIR/public/apt).\n"
	    "\n"
	    "  -r, --rev REV     the commit (default HEAD)\n"
	    "  -o, --output DIR  DIR/private and DIR/public (default: "
	    "packaging.output)\n"
	    "  -w, --wait SECS   wait that long for the repository lock "
	    "(default 0)\n");
	fputs(DK_VAULT_HELP, f);
}

static const char *names[] = { DK_PKG_PRIVATE, DK_PKG_PUBLIC };

/*
 * The build of name, format of this version is in the ledger as a build
 * of this commit, and its bytes on disk are still the ones dkimrot
 * wrote.
 */
static int
ours(const struct dk_output *o, const struct dk_builds *lb,
    const struct dk_render *r, const char *name, int format)
{
	const struct dk_build *b;
	char file[PATH_MAX], dir[PATH_MAX];
	const char *key;

	return dk_builds_where(o, lb, name, format, dir, sizeof(dir),
	    &key) == 0 && dk_ledger_file(file, sizeof(file), format, name,
	    r->version) == 0 &&
	    (b = dk_ledger_find(&lb->l, key, file)) != NULL &&
	    strcmp(b->commit, r->commit) == 0 &&
	    dk_ledger_verify(b, dir, NULL, NULL, NULL) == DK_BUILD_OURS;
}

/* Both packages of this version (and with formats deb both .deb). */
static int
built(const struct dk_output *o, const struct dk_builds *lb,
    const struct dk_render *r)
{
	int debs = (r->cfg->packaging.formats & DK_FORMAT_DEB) != 0;
	size_t i;

	for (i = 0; i < 2; i++)
		if (!ours(o, lb, r, names[i], DK_BUILD_RPM) ||
		    (debs && !ours(o, lb, r, names[i], DK_BUILD_DEB)))
			return 0;
	return 1;
}

/*
 * The version of the packages of r's commit.  dnf installs a package
 * only when its version is above the installed one, so versions must
 * only go up.  The first-parent count does, along one history; after a
 * rewrite (git reset, a rebase) it counts again from lower down, and a
 * 'revoke' built as version N would lose to the abandoned history's N+1
 * still in the repository: the revocation would reach no server.  So a
 * new commit gets max(count, highest version built + 1), and a commit
 * already built keeps its version, so that building it again gives the
 * same bytes (and never a second version of one commit).
 *
 * "Built" is the build ledger's word: a planted file (whatever its name
 * and VCS tag) decides nothing.  A line whose file changed or went
 * still counts: dkimrot built that version, and a client may hold it.
 */
static void
pick_version(const struct dk_builds *lb, struct dk_render *r)
{
	const struct dk_build *b;
	size_t i, highest = 0, same = 0;

	for (i = 0; i < lb->l.n; i++) {
		b = &lb->l.b[i];
		if (strcmp(b->dir, b->format == DK_BUILD_DEB ?
		    dk_builds_apt_key(lb, b->name) : dk_builds_key(lb,
		    b->name)) != 0)
			continue;
		if (b->version > highest)
			highest = b->version;
		if (strcmp(b->commit, r->commit) == 0 && b->version > same)
			same = b->version;
	}
	if (same != 0) {
		r->version = same;
		return;
	}
	if (highest >= r->version) {
		dk_log_info("commit %.12s: its count %zu is not above version "
		    "%zu already built (history rewritten); it becomes version "
		    "%zu", r->commit, r->version, highest, highest + 1);
		r->version = highest + 1;
	}
}

/*
 * NAME-VERSION of another commit (a planted file, another repository's
 * build) is never replaced: a client holding that version would never
 * see ours.  Loudly refused instead.  A file the ledger says is this
 * commit's build is replaced (its bytes changed, or a run died while
 * writing it): the build repairs it.  The same for the .deb files.
 */
static int
collides(const struct dk_output *o, const struct dk_builds *lb,
    const struct dk_render *r, const char *name, int f)
{
	char dir[PATH_MAX], path[PATH_MAX], file[PATH_MAX];
	char vcs[DK_GIT_ID_LEN + 8];
	const struct dk_build *b;
	const char *key;
	struct stat st;

	if (dk_builds_where(o, lb, name, f, dir, sizeof(dir), &key) != 0 ||
	    dk_ledger_file(file, sizeof(file), f, name, r->version) != 0 ||
	    dk_path_join(path, sizeof(path), dir, file) != 0)
		return -1;
	if (lstat(path, &st) == -1)
		return 0;
	if ((b = dk_ledger_find(&lb->l, key, file)) != NULL &&
	    strcmp(b->commit, r->commit) == 0)
		return 0;
	if (f == DK_BUILD_DEB) {
		dk_error_set("refusing to replace '%s': it is not a build of "
		    "commit %.12s (not in the build ledger); move it away",
		    path, r->commit);
		return -1;
	}
	if (dk_rpm_query_vcs(path, vcs, sizeof(vcs)) != 0)
		snprintf(vcs, sizeof(vcs), "unreadable");
	/* A copied or moved repository: its ledger names other paths. */
	if (strcmp(vcs, r->commit) == 0) {
		dk_error_set("refusing to replace '%s': it says it is a build "
		    "of commit %.12s, but the build ledger does not vouch for "
		    "it here (was the output copied or moved?); move it away",
		    path, r->commit);
		return -1;
	}
	dk_error_set("refusing to replace '%s': it is not a build of commit "
	    "%.12s (VCS '%s'); move it away", path, r->commit, vcs);
	return -1;
}

static int
collision(const struct dk_output *o, const struct dk_builds *lb,
    const struct dk_render *r, const struct dk_parts *parts)
{
	size_t i, n;

	n = r->cfg->packaging.formats & DK_FORMAT_DEB ? 4 : 2;
	for (i = 0; i < n; i++)
		if (collides(o, lb, r, names[i % 2], i < 2 ? DK_BUILD_RPM :
		    DK_BUILD_DEB) != 0)
			return -1;
	for (i = 0; i < parts->nbuilt; i++)
		if (collides(o, lb, r, parts->built[i], DK_BUILD_RPM) != 0)
			return -1;
	return 0;
}

/*
 * Both apt repositories' indexes, InRelease signed by s (apt.h): the
 * .deb files of the ledger only, as index_both() the RPMs.
 */
static int
index_apt(const struct dk_output *o, struct dk_builds *lb,
    const struct dk_packaging_conf *pc, const struct dk_gpg_signer *s,
    time_t t)
{
	struct dk_apt_opts ao;
	char dir[PATH_MAX];
	size_t i;
	int rc = 0;

	memset(&ao, 0, sizeof(ao));
	ao.keep_builds = pc->keep_builds;
	ao.accept = dk_builds_accept;
	ao.pruned = dk_builds_pruned;
	ao.arg = lb;
	ao.signer = s->key != NULL ? s : NULL;
	ao.time = t;
	for (i = 0; rc == 0 && i < 2; i++) {
		ao.name = names[i];
		ao.mode = i == 0 ? 0640 : 0644;
		if (dk_builds_where(o, lb, ao.name, DK_BUILD_DEB, dir,
		    sizeof(dir), &lb->key) != 0) {
			rc = -1;
			break;
		}
		lb->dir = dir;
		rc = dk_apt_update(dir, &ao);
	}
	/* dir is gone with this frame: no callback may name it after. */
	lb->dir = NULL;
	lb->key = NULL;
	return rc;
}

/*
 * Each repository's metadata (repomd.xml signed by s), and with formats
 * deb each apt repository's: the packages of the ledger only; the lines
 * of builds pruned go, written after the metadata no longer names them.
 */
static int
index_both(const struct dk_output *o, struct dk_builds *lb,
    const struct dk_packaging_conf *pc, const struct dk_gpg_signer *s,
    time_t t)
{
	struct dk_repo_opts ro;
	int rc;

	memset(&ro, 0, sizeof(ro));
	ro.keep_builds = pc->keep_builds;
	ro.accept = dk_builds_accept;
	ro.pruned = dk_builds_pruned;
	ro.arg = lb;
	ro.signer = s;
	ro.name = DK_PKG_PRIVATE;
	ro.mode = 0640;
	lb->pruned = 0;
	lb->dir = o->priv;
	lb->key = lb->kpriv;
	if ((rc = dk_repo_update_opts(o->priv, &ro)) == 0) {
		ro.name = DK_PKG_PUBLIC;
		ro.mode = 0644;
		lb->dir = o->pub;
		lb->key = lb->kpub;
		rc = dk_repo_update_opts(o->pub, &ro);
	}
	if (rc == 0 && (pc->formats & DK_FORMAT_DEB))
		rc = index_apt(o, lb, pc, s, t);
	/* What was pruned is gone, whatever happened after. */
	if (lb->pruned && dk_ledger_save(&lb->l, lb->repo) != 0)
		return -1;
	return rc;
}

/*
 * Our packages in both repositories signed by s, kept builds re-signed
 * when the key changed, and its public key exported into each: every
 * client needs it.  *changed: a package changed, the metadata must be
 * written again.
 */
static int
sign_both(const struct dk_output *o, struct dk_builds *lb,
    const struct dk_gpg_signer *s, int *changed)
{
	int a, b;

	if (dk_sign_dir(o->priv, lb->kpriv, s, &lb->l, lb->repo, lb->stage,
	    &a) != 0 || dk_sign_dir(o->pub, lb->kpub, s, &lb->l, lb->repo,
	    lb->stage, &b) != 0)
		return -1;
	*changed = a || b;
	return 0;
}

/*
 * The apt repositories, modes as their yum repositories'
 * (rotator/output.h): a private one that others may enter is refused,
 * never mended.
 */
static int
apt_prepare(const struct dk_output *o, const struct dk_packaging_conf *pc)
{
	struct stat st;
	char dir[PATH_MAX];

	if (!(pc->formats & DK_FORMAT_DEB))
		return 0;
	if (dk_builds_apt_dir(dir, sizeof(dir), o, DK_PKG_PUBLIC) != 0 ||
	    dk_dir_make(dir, 0755) != 0 ||
	    dk_builds_apt_dir(dir, sizeof(dir), o, DK_PKG_PRIVATE) != 0 ||
	    dk_dir_make(dir, 0750) != 0)
		return -1;
	if (stat(dir, &st) == -1) {
		dk_error_set_errno(errno, "cannot use repository '%s'", dir);
		return -1;
	}
	if ((st.st_mode & 0007) != 0) {
		dk_error_set("refusing the private repository '%s': mode %04o "
		    "lets every user read the private keys (chmod o-rwx '%s')",
		    dir, (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

/*
 * With formats deb, each apt repository's Release is not older than its
 * .deb of version: a run killed between the yum and the apt index is
 * seen, as dk_output_indexed() sees one killed before the yum index.
 */
static int
apt_indexed(const struct dk_output *o, const struct dk_packaging_conf *pc,
    size_t version)
{
	struct stat d, r;
	char dir[PATH_MAX], path[PATH_MAX];
	size_t i;

	if (!(pc->formats & DK_FORMAT_DEB))
		return 1;
	for (i = 0; i < 2; i++) {
		if (dk_builds_apt_dir(dir, sizeof(dir), o, names[i]) != 0 ||
		    dk_apt_deb_path(path, sizeof(path), dir, names[i],
		    version) != 0 || stat(path, &d) == -1 ||
		    dk_path_join(path, sizeof(path), dir, "Release") != 0 ||
		    stat(path, &r) == -1)
			return 0;
		if (r.st_mtim.tv_sec < d.st_mtim.tv_sec ||
		    (r.st_mtim.tv_sec == d.st_mtim.tv_sec &&
		    r.st_mtim.tv_nsec < d.st_mtim.tv_nsec))
			return 0;
	}
	return 1;
}

/*
 * The keys of the packages that build now, read: a deferred render
 * (packaging/render.h) has not read those of the parts that did not
 * change, and never will.
 */
static int
load_built(struct dk_git *g, struct dk_render *r, struct dk_parts *parts)
{
	unsigned k;

	if (dk_render_load(r, g, parts->main, parts->nmain) != 0)
		return -1;
	for (k = 0; k < parts->n; k++)
		if (parts->part[k].build && dk_render_load(r, g,
		    parts->part[k].files, parts->part[k].nfiles) != 0)
			return -1;
	return 0;
}

static int
package(struct dk_git *g, const char *rev, const char *opt_out)
{
	const struct dk_packaging_conf *pc;
	struct dk_gpg_signer signer;
	struct dk_render *r = NULL;
	struct dk_parts parts;
	struct dk_rpm_pkg base;
	struct dk_output o;
	struct dk_builds lb;
	char id[DK_GIT_ID_LEN], path[PATH_MAX], v[32];
	int rc, resigned = 0;

	memset(&signer, 0, sizeof(signer));
	memset(&lb, 0, sizeof(lb));
	memset(&parts, 0, sizeof(parts));
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
	    (rc = apt_prepare(&o, pc)) != 0 ||
	    (rc = dk_builds_open(g, &o, &lb)) != 0)
		goto done;
	pick_version(&lb, r);
	/* zones: each zone's SOA serial is the version. */
	if ((rc = dk_render_zones(r)) != 0)
		goto done;
	/* packaging.parts: which parts changed (packaging/parts.h). */
	dk_package_describe(r, 1, v, sizeof(v), &base);
	if ((rc = dk_parts_split(r, base.pre_user, base.pre_group,
	    &parts)) != 0 || (rc = dk_parts_plan(&parts, &lb, o.priv,
	    r->version)) != 0)
		goto done;
	if (built(&o, &lb, r) && dk_parts_built(&parts)) {
		/* The key may have changed since: kept builds follow it. */
		if ((rc = sign_both(&o, &lb, &signer, &resigned)) != 0)
			goto done;
		if (!resigned && dk_output_indexed(&o, r->version) &&
		    apt_indexed(&o, pc, r->version)) {
			dk_log_info("commit %.12s is already built (version "
			    "%zu)", id, r->version);
			goto stamp;
		}
		/* A run died between the packages and the metadata. */
		dk_log_info("commit %.12s is built (version %zu); writing "
		    "the repository metadata again", id, r->version);
		rc = index_both(&o, &lb, pc, &signer, r->time);
		goto stamp;
	}
	if ((rc = collision(&o, &lb, r, &parts)) != 0)
		goto done;
	/* docs/design.md §11: the table of targets. */
	if (pc->compress == DK_COMPRESS_ZSTD)
		dk_log_warn("packaging.compression is zstd: the packages need "
		    "rpm 4.14 or later (EL8, EL9, Fedora); EL7's rpm 4.11 "
		    "cannot install them");
	if ((rc = load_built(g, r, &parts)) != 0 ||
	    (rc = dk_package_build(r, &signer, &parts, lb.stage)) != 0 ||
	    (rc = dk_builds_publish(&o, &lb, r->version, r->commit,
	    (pc->formats & DK_FORMAT_DEB) != 0, parts.built,
	    parts.nbuilt)) != 0)
		goto done;
	/* What the parts built now install, once they are the ledger's. */
	if (parts.n > 0 && (rc = dk_parts_save(&parts, lb.repo)) != 0)
		goto done;
	/* Built: the files are not needed again (100 MB at 100,000). */
	dk_parts_dispose(&parts);
	dk_render_release(r);
	DK_FAULT("mid-package");
	if ((rc = dk_output_rpm_path(path, sizeof(path), o.priv,
	    DK_PKG_PRIVATE, r->version)) != 0)
		goto done;
	printf("%s\n", path);
	if ((rc = dk_output_rpm_path(path, sizeof(path), o.pub, DK_PKG_PUBLIC,
	    r->version)) != 0)
		goto done;
	printf("%s\n", path);
	if ((rc = sign_both(&o, &lb, &signer, &resigned)) != 0)
		goto done;
	rc = index_both(&o, &lb, pc, &signer, r->time);
stamp:
	/* What rotate compares HEAD with (rotator/output.h). */
	if (rc == 0 && opt_out == NULL)
		rc = dk_output_stamp_write(dk_git_workdir(g), id, r->version);
done:
	dk_parts_dispose(&parts);
	dk_builds_close(&lb);
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
