/*
 * dkimrot rotate: apply the policy (docs/design.md §4) to every configured
 * domain at NOW, write the new keys and keys.yaml, commit, run the hook.
 *
 * Phases (rotator/rotate.h), so that one domain's trouble never spoils
 * another's and the costly part (key generation) runs in one batch
 * across all cores:
 *   1. load, repair and plan every domain (DNS looked up where the plan
 *      needs it);
 *   2. generate every key the plans ask for;
 *   3. the write protocol for every domain with changes (docs/design.md
 *      §8);
 *   4. one commit for all of it, then the post-commit hook.
 * This file prints the plan, logs the run's own failures and turns the
 * outcome into an exit code; rotator/rotate.c is the library.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cli.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/log.h"
#include "common/name.h"
#include "common/strlist.h"
#include "rotator/keyrepo.h"
#include "rotator/leaving.h"
#include "rotator/publish.h"
#include "rotator/remote.h"
#include "rotator/rotate.h"
#include "rotator/vault.h"

/*
 * Key directories of domains the configuration no longer lists, unless
 * they are leaving (dkimrot remove).
 */
static void
warn_unconfigured(const struct dk_rotate *run)
{
	size_t i;

	for (i = 0; i < run->unconfigured.n; i++)
		dk_log_warn("%s: has keys but is not in %s; its keys are left "
		    "as they are", run->unconfigured.v[i], DK_CONFIG_FILE);
}

/* The plan of every domain that changes, one line each, on stdout. */
static void
print_lines(const struct dk_rotate *run)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		if (run->jobs[i].rc == 0 && run->jobs[i].line.len > 0)
			printf("%s\n", run->jobs[i].line.data);
}

/*
 * Rotates the repository at repo at now.  Returns an exit code: 0 (also
 * when nothing was due), 1 when any domain failed (the others are done
 * and committed), 2 for usage or configuration errors, 75 when the lock
 * is held or a name server did not answer, DK_EXIT_AGAIN when another
 * host pushed first (cmd_rotate() then runs it again).
 */
static int
rotate(const char *repo, const struct dk_rotate_opts *o, time_t now)
{
	struct dk_rotate run;
	int rc, failed = 0, again = 0, temp = 0;

	if ((rc = dk_rotate_open(&run, repo, o, now)) != 0) {
		dk_log_error("%s", dk_error_last());
		dk_rotate_dispose(&run);
		return dk_error_exit(rc);
	}
	/* An emptied dkimrot.yaml would otherwise stop rotation silently. */
	if (run.r.cfg->ndomains == 0)
		dk_log_warn("%s lists no domains: nothing to rotate",
		    DK_CONFIG_FILE);
	if (o->only->n == 0)
		warn_unconfigured(&run);
	/*
	 * rfc2136 (rotator/publish.h): what the last run committed is out
	 * before we plan, so the DNS gate asks about records that were
	 * sent; a refused update activates nothing.
	 */
	if (!o->dry_run && (rc = dk_publish_run(run.r.cfg, run.r.path)) !=
	    0) {
		dk_log_error("%s", dk_error_last());
		dk_rotate_dispose(&run);
		return rc == DK_ETEMP ? DK_EXIT_TEMP : DK_EXIT_FAIL;
	}
	dk_rotate_plan(&run, now);
	if ((!o->dry_run && dk_rotate_generate(&run) != 0) ||
	    dk_rotate_describe_jobs(&run) != 0 ||
	    (!o->dry_run && dk_rotate_write(&run) != 0)) {
		dk_log_error("%s", dk_error_last());
		failed = 1;
	} else {
		print_lines(&run);
		dk_rotate_settle(&run, now);
		if ((rc = dk_rotate_commit(&run, now)) != 0 ||
		    /* and what this run committed (and pushed), at once */
		    (!o->dry_run && !o->no_commit &&
		    (rc = dk_publish_run(run.r.cfg, run.r.path)) != 0)) {
			dk_log_error("%s", dk_error_last());
			/* Lost the race: nothing of this run stands. */
			if (rc == DK_ERACE)
				again = 1;
			else if (rc == DK_ETEMP)
				temp = 1;
			else
				failed = 1;
		}
		if (o->dry_run)
			dk_log_info("dry run: nothing was changed");
	}
	rc = dk_rotate_status(&run);
	dk_rotate_index(&run, now, !failed && !again);
	dk_rotate_dispose(&run);
	if (again)
		return DK_EXIT_AGAIN;
	if (failed || rc == -1)
		return DK_EXIT_FAIL;
	return rc == DK_ETEMP || temp ? DK_EXIT_TEMP : DK_EXIT_OK;
}

/*
 * With a remote, a run that lost the race (another host pushed first)
 * plans again from the remote's head at a new NOW (rotator/remote.h).
 */
static int
rotate_retrying(const char *repo, const struct dk_rotate_opts *o)
{
	int attempt, rc;

	for (attempt = 1;; attempt++) {
		if ((rc = rotate(repo, o, dk_clock_now())) != DK_EXIT_AGAIN)
			return rc;
		if (!dk_remote_again(attempt))
			return DK_EXIT_TEMP;
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot rotate [--start] [--dry-run] [--no-commit] "
	    "[--force] [--package]\n"
	    "                      [--wait SECONDS] [--domain DOMAIN]...\n"
	    "\n"
	    "Applies the rotation policy at NOW (--now) to every domain of "
	    "dkimrot.yaml,\n"
	    "or to the ones named: new keys are published before they sign, "
	    "old ones\n"
	    "leave DNS only after min_age and drain.  The changes are one "
	    "commit;\n"
	    "the post-commit hook then builds the packages.\n"
	    "\n"
	    "  -s, --start       begin a rotation now, whatever the keys' "
	    "age: a new\n"
	    "                    pending key per algorithm, which signs "
	    "after publish_lead\n"
	    "                    (and the DNS gate) while the old one drains\n"
	    "  -n, --dry-run     print the plan, change nothing\n"
	    "      --no-commit   change the files but do not commit\n"
	    "      --force       act even though the clock went back\n"
	    "      --package     build the packages here instead of the hook, "
	    "and fail\n"
	    "                    if that fails (CI: a fresh clone, one "
	    "command)\n"
	    "  -w, --wait SECS   wait that long for the repository lock "
	    "(default 0)\n"
	    "  -d, --domain D    only this domain (repeatable)\n");
	fputs(DK_VAULT_HELP, f);
}

int
cmd_rotate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain",	required_argument,	NULL, 'd' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "force",	no_argument,		NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "no-commit",	no_argument,		NULL, 'N' },
		{ "package",	no_argument,		NULL, 'P' },
		{ "start",	no_argument,		NULL, 's' },
		{ "wait",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct dk_rotate_opts o;
	struct dk_strlist only = { 0 };
	int ch, rc;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "d:fhnNsw:", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (dk_name_domain(optarg) != 0) {
				dk_log_error("%s", dk_error_last());
				dk_strlist_dispose(&only);
				return DK_EXIT_USAGE;
			}
			if (dk_strlist_add(&only, optarg) != 0) {
				dk_strlist_dispose(&only);
				return DK_EXIT_FAIL;
			}
			break;
		case 'f':
			o.force = true;
			break;
		case 'h':
			usage(stdout);
			dk_strlist_dispose(&only);
			return DK_EXIT_OK;
		case 'n':
			o.dry_run = true;
			break;
		case 'N':
			o.no_commit = true;
			break;
		case 'P':
			o.package = true;
			break;
		case 's':
			o.start = true;
			break;
		case 'w':
			if (dk_cli_wait(optarg, &o.wait) != 0) {
				dk_log_error("%s", dk_error_last());
				dk_strlist_dispose(&only);
				return DK_EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			dk_strlist_dispose(&only);
			return DK_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		dk_strlist_dispose(&only);
		return DK_EXIT_USAGE;
	}
	o.only = &only;
	rc = rotate_retrying(dk_cli_repo(), &o);
	dk_strlist_dispose(&only);
	return rc;
}

