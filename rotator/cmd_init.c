/*
 * dkimrot init: a new key repository (docs/design.md §6): git init,
 * dkimrot.yaml, .gitignore for the package output, the post-commit hook,
 * first commit.  With -z, dns.publish zones, and the NS records each
 * domain's owner adds to delegate its DKIM zone (§13).
 * dkimrot hook install: (re)install the hook in an existing repository.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cli.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gpg.h"
#include "common/log.h"
#include "common/name.h"
#include "common/strlist.h"
#include "rotator/git.h"
#include "rotator/keyrepo.h"

/*
 * The hook calls the binary that installed it by absolute path, so the
 * repository keeps working whatever PATH cron or git hands it
 * (docs/design.md §6).  Hooks run from the top of the work tree.  The log
 * stays in .git/, out of the work tree and of every commit.
 */
static int
hook_script(struct dk_buf *b)
{
	const char *self = dk_cli_self(), *p;

	for (p = self; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\n') {
			dk_error_set("cannot install a hook for a binary "
			    "whose path holds a quote or newline: '%s'", self);
			return -1;
		}
	}
	return dk_buf_printf(b,
	    "#!/bin/sh\n"
	    "# Installed by dkimrot: builds the RPMs of each new commit.\n"
	    "# dkimrot runs this itself after its own commits (libgit2 runs "
	    "no hooks).\n"
	    "'%s' -C . package --rev HEAD --wait 600 \\\n"
	    "    >>.git/dkimrot-package.log 2>&1\n"
	    "rc=$?\n"
	    "# libgit2 never packs loose objects; let git do it now and "
	    "then.\n"
	    "if command -v git >/dev/null 2>&1; then\n"
	    "\tgit gc --auto --quiet >/dev/null 2>&1\n"
	    "fi\n"
	    "exit $rc\n", self);
}

static int
install_hook(struct dk_git *g)
{
	struct dk_buf b = { 0 };
	int rc;

	if ((rc = hook_script(&b)) == 0)
		rc = dk_git_install_hook(g, "post-commit", b.data);
	dk_buf_dispose(&b);
	return rc;
}

static void
init_usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot [-C REPO] init [--domain DOMAIN]... "
	    "[--no-sign | --sign-key KEY]\n"
	    "                          [--zone-nameserver HOST]...\n"
	    "\n"
	    "Creates a key repository at REPO (made if missing): git init, "
	    "dkimrot.yaml\n"
	    "listing the domains, .gitignore for the package output, the "
	    "post-commit\n"
	    "hook that builds the RPMs, and a first commit.  Keys come with "
	    "the first\n"
	    "'dkimrot rotate'.\n"
	    "Makes a GPG key (RSA 3072, no passphrase) in "
	    "REPO/" DK_GPG_HOME ", never\n"
	    "committed, that signs the packages and the repository "
	    "metadata.\n"
	    "\n"
	    "  -d, --domain D    a domain to sign for (repeatable)\n"
	    "  -n, --no-sign     make no key: packages and metadata "
	    "unsigned\n"
	    "  -k, --sign-key K  sign with this existing key of $GNUPGHOME "
	    "(or ~/.gnupg)\n"
	    "  -z, --zone-nameserver HOST\n"
	    "                    dns.publish zones with HOST among the "
	    "name servers of every\n"
	    "                    _domainkey zone (repeatable); prints the "
	    "NS records that\n"
	    "                    delegate them\n");
}

static int
write_new(const char *repo, const char *name, const char *text,
    struct dk_strlist *paths)
{
	char path[PATH_MAX];
	int rc;

	if (dk_path_join(path, sizeof(path), repo, name) != 0)
		return -1;
	rc = dk_file_create(path, text, strlen(text), 0644);
	if (rc != 0)
		return rc;
	return dk_strlist_add(paths, name);
}

/*
 * The repository and its .git are 0700 whatever existed before or the
 * umask was (docs/design.md §9): its history will hold every private key, and the
 * reading commands refuse anything looser (rotator/vault.c).  This is
 * the command that makes the vault, so here setting the mode is right.
 */
static int
close_dir(const char *repo, const char *name)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	if (dk_path_join(path, sizeof(path), repo, name) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fchmod(fd, 0700) == -1) {
		dk_error_set_errno(errno, "cannot make '%s' mode 0700", path);
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * The signing key: made in the repository's own GnuPG home (no key),
 * or one the operator has (key, checked now rather than at the first
 * package run), or none (no_sign).  The home is below .git/: never in
 * a commit, a package or a clone.
 */
static int
signing(const char *repo, int no_sign, const char *key, char *fpr,
    size_t size, const char **sign_key, const char **home)
{
	struct dk_gpg_signer s;
	char path[PATH_MAX];
	int rc;

	*sign_key = NULL;
	*home = NULL;
	if (no_sign)
		return 0;
	if (key != NULL) {
		if ((rc = dk_gpg_signer_open(&s, key, NULL)) != 0)
			return rc;
		dk_gpg_signer_dispose(&s);
		*sign_key = key;
		return 0;
	}
	if (dk_path_join(path, sizeof(path), repo, DK_GPG_HOME) != 0 ||
	    (rc = dk_gpg_generate(path, "dkimrot <dkimrot@localhost>", fpr,
	    size)) != 0)
		return -1;
	*sign_key = fpr;
	*home = DK_GPG_HOME;
	return 0;
}

static int
init_repo(const char *repo, struct dk_strlist *domains,
    const struct dk_strlist *zone_ns, int no_sign, const char *key)
{
	struct dk_strlist paths = { 0 };
	struct dk_config *cfg = NULL;
	struct dk_buf ignore = { 0 };
	struct dk_git *g = NULL;
	char *yaml = NULL, id[DK_GIT_ID_LEN], fpr[DK_GPG_FPR_LEN + 1];
	char gpg[PATH_MAX];
	const char *sign_key, *home;
	int rc;

	/* No gpg: say so before there is a repository to retry in. */
	if (!no_sign && dk_gpg_find(gpg, sizeof(gpg)) != 0) {
		dk_error_set("cannot make a signing key: no gpg program in "
		    "PATH (install GnuPG, or use --no-sign)");
		return DK_EUSAGE;
	}
	if ((rc = dk_git_init(&g, repo)) != 0) {
		if (rc == DK_EEXISTS)
			dk_error_set("'%s' is already a git repository; "
			    "'dkimrot init' makes new ones only", repo);
		return rc;
	}
	if ((rc = close_dir(repo, ".")) != 0 ||
	    (rc = close_dir(repo, ".git")) != 0 ||
	    (rc = signing(repo, no_sign, key, fpr, sizeof(fpr), &sign_key,
	    &home)) != 0)
		goto done;
	if ((rc = dk_config_template((const char *const *)domains->v,
	    domains->n, sign_key, home, (const char *const *)zone_ns->v,
	    zone_ns->n, &yaml)) != 0)
		goto done;
	if ((rc = dk_config_parse(yaml, strlen(yaml), DK_CONFIG_FILE,
	    &cfg)) != 0)
		goto done;
	if ((rc = write_new(repo, DK_CONFIG_FILE, yaml, &paths)) != 0)
		goto done;
	/* The packages are built from commits, never committed. */
	if ((rc = dk_buf_printf(&ignore, "/%s/\n*.tmp.*\n",
	    cfg->packaging.output)) != 0)
		goto done;
	if ((rc = write_new(repo, ".gitignore", ignore.data, &paths)) != 0)
		goto done;
	if ((rc = install_hook(g)) != 0)
		goto done;
	rc = dk_git_commit(g, (const char *const *)paths.v, paths.n,
	    cfg->git_name, cfg->git_email, dk_clock_now(),
	    "dkimrot init\n\nA new DKIM key repository.", id);
	if (rc == DK_GIT_UNCHANGED)
		rc = 0;
	if (rc == 0 && home != NULL)
		printf("made signing key %s in '%s/%s'; back it up: clones "
		    "do not carry it\n", sign_key, repo, home);
	if (rc != 0)
		goto done;
	printf("initialized key repository '%s' with %zu domain%s\n", repo,
	    domains->n, domains->n == 1 ? "" : "s");
	/* Unless -q: what each domain's owner adds to its zone. */
	if (dk_log_level() >= DK_LOG_NORMAL)
		rc = dk_config_delegation(cfg, (const char *const *)domains->v,
		    domains->n, stdout);
done:
	dk_strlist_dispose(&paths);
	dk_buf_dispose(&ignore);
	dk_config_free(cfg);
	free(yaml);
	dk_git_free(g);
	return rc;
}

/* -z HOST: a host name, as zone_nameservers takes it, given once. */
static int
zone_nameserver(struct dk_strlist *ns, const char *host)
{
	size_t i;

	if (dk_name_domain_check(host) != 0) {
		dk_log_error("invalid host name '%s' for --zone-nameserver "
		    "(expected letters, digits, '-' and '.', at least two "
		    "labels)", host);
		return DK_EXIT_USAGE;
	}
	for (i = 0; i < ns->n; i++)
		if (strcasecmp(ns->v[i], host) == 0) {
			dk_log_error("name server '%s' given twice", host);
			return DK_EXIT_USAGE;
		}
	return dk_strlist_add(ns, host) != 0 ? DK_EXIT_FAIL : 0;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "no-sign",	no_argument,		NULL, 'n' },
		{ "sign-key",	required_argument,	NULL, 'k' },
		{ "zone-nameserver", required_argument,	NULL, 'z' },
		{ NULL,		0,			NULL, 0 }
	};
	struct dk_strlist domains = { 0 }, zone_ns = { 0 };
	const char *key = NULL;
	int ch, rc = DK_EXIT_USAGE, no_sign = 0;

	while ((ch = getopt_long(argc, argv, "d:hk:nz:", opts, NULL)) != -1) {
		switch (ch) {
		case 'z':
			if ((rc = zone_nameserver(&zone_ns, optarg)) != 0)
				goto done;
			break;
		case 'k':
			if (dk_gpg_key_check(optarg) != 0) {
				dk_log_error("%s", dk_error_last());
				goto done;
			}
			key = optarg;
			break;
		case 'n':
			no_sign = 1;
			break;
		case 'd':
			if (dk_name_domain(optarg) != 0) {
				dk_log_error("%s", dk_error_last());
				goto done;
			}
			if (dk_strlist_has(&domains, optarg)) {
				dk_log_error("domain '%s' given twice", optarg);
				goto done;
			}
			if (dk_strlist_add(&domains, optarg) != 0) {
				rc = DK_EXIT_FAIL;
				goto done;
			}
			break;
		case 'h':
			init_usage(stdout);
			rc = DK_EXIT_OK;
			goto done;
		default:
			init_usage(stderr);
			goto done;
		}
	}
	if (optind != argc) {
		init_usage(stderr);
		goto done;
	}
	if (no_sign && key != NULL) {
		dk_log_error("--no-sign and --sign-key '%s' exclude each other",
		    key);
		goto done;
	}
	if ((rc = init_repo(dk_cli_repo(), &domains, &zone_ns, no_sign,
	    key)) != 0) {
		dk_log_error("%s", dk_error_last());
		rc = dk_error_exit(rc);
		goto done;
	}
	rc = DK_EXIT_OK;
done:
	dk_strlist_dispose(&domains);
	dk_strlist_dispose(&zone_ns);
	return rc;
}

static void
hook_usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot [-C REPO] hook install\n"
	    "\n"
	    "Installs (or replaces) the post-commit hook of the key "
	    "repository: after\n"
	    "every commit it runs this dkimrot binary's 'package', logging to "
	    ".git/dkimrot-package.log.\n");
}

int
cmd_hook(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct dk_git *g = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			hook_usage(stdout);
			return DK_EXIT_OK;
		}
		hook_usage(stderr);
		return DK_EXIT_USAGE;
	}
	if (optind + 1 != argc || strcmp(argv[optind], "install") != 0) {
		hook_usage(stderr);
		return DK_EXIT_USAGE;
	}
	if ((rc = dk_git_open(&g, dk_cli_repo())) == 0)
		rc = install_hook(g);
	dk_git_free(g);
	if (rc != 0) {
		dk_log_error("%s", dk_error_last());
		return dk_error_exit(rc);
	}
	printf("installed post-commit hook running '%s'\n", dk_cli_self());
	return DK_EXIT_OK;
}
