/*
 * dkimrot rotate: apply the policy (docs/design.md §4) to every configured
 * domain at NOW, write the new keys and keys.yaml, commit, run the hook.
 *
 * Phases, so that one domain's trouble never spoils another's and the
 * costly part (key generation) runs in one batch across all cores:
 *   1. load, repair and plan every domain (DNS looked up where the plan
 *      needs it);
 *   2. generate every key the plans ask for;
 *   3. per domain: write the key files, apply the plan, save keys.yaml;
 *   4. one commit for all of it, then the post-commit hook.
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
#include "keygen/key.h"
#include "rotator/dnsgate.h"
#include "rotator/policy.h"
#include "rotator/keyrepo.h"
#include "rotator/rotate.h"
#include "rotator/store.h"
#include "rotator/vault.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot rotate [--start] [--dry-run] [--no-commit] "
	    "[--force]\n"
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
	rc = dk_rotate_run(dk_cli_repo(), &o, dk_clock_now());
	dk_strlist_dispose(&only);
	return rc;
}
