/*
 * dkimrot: global options, the subcommand table, exit codes.  Nothing
 * else lives here; only this file exits.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/log.h"

static int	cmd_help(int, char **);

static const struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*summary;
} commands[] = {
	{ "check",	cmd_check,	"DNS against the keys; sign and verify" },
	{ "help",	cmd_help,	"this list, or a command's usage" },
	{ "hook",	cmd_hook,	"install the post-commit hook" },
	{ "import",	cmd_import,	"adopt an existing key" },
	{ "init",	cmd_init,	"create a key repository" },
	{ "keygen",	cmd_keygen,	"one key pair, opendkim-genkey compatible" },
	{ "package",	cmd_package,	"build both RPMs of a commit" },
	{ "remove",	cmd_remove,	"a domain leaves: stop signing, drain" },
	{ "revoke",	cmd_revoke,	"revoke a compromised key" },
	{ "rotate",	cmd_rotate,	"apply the rotation policy, commit" },
	{ "status",	cmd_status,	"keys, states, next transitions" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: dkimrot [-C REPO] [--now TIME] [-q|-v] COMMAND [OPTIONS]\n"
	    "\n"
	    "  -C REPO      the key repository (default: $DKIMROT_REPO, else "
	    "the current directory)\n"
	    "  --now TIME   the clock, RFC 3339 UTC (2026-11-22T13:15:00Z) or "
	    "@EPOCH; env DKIMROT_NOW\n"
	    "  -q, --quiet  errors only\n"
	    "  -v, --verbose\n"
	    "  -h, --help   this text; COMMAND --help for a command's\n"
	    "  -V, --version\n"
	    "\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
		    commands[i].summary);
}

static int
cmd_help(int argc, char **argv)
{
	char *help[] = { NULL, "--help", NULL };
	size_t i;

	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return DK_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		help[0] = argv[1];
		optind = 0;
		return commands[i].run(2, help);
	}
	dk_log_error("'%s' is not a dkimrot command", argv[1]);
	return DK_EXIT_USAGE;
}

/* The absolute path of this binary, for hooks that must find it again. */
static void
find_self(const char *argv0)
{
	static char path[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n > 0) {
		path[n] = '\0';
		dk_cli_set_self(path);
	} else if (argv0 != NULL && argv0[0] == '/')
		dk_cli_set_self(argv0);
}

/*
 * Before anything else: the key repository is a vault (docs/design.md §9).  Every
 * file and directory this process or its children (git, the hook's
 * package run) create is for root's eyes only, whatever umask cron, a
 * shell or systemd hands us.  And no core dump: a process that holds
 * private keys must never leave them in a core file (or let a ptrace of
 * the same uid read them; PR_SET_DUMPABLE 0 also makes /proc/PID/mem and
 * friends root-owned).  Failure of either is not fatal (a kernel without
 * prctl), but is said.
 */
static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	umask(077);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		dk_log_warn("cannot make the process undumpable: %s",
		    strerror(errno));
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		dk_log_warn("cannot disable core dumps (RLIMIT_CORE): %s",
		    strerror(errno));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "now",	required_argument,	NULL, 'N' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *now = getenv("DKIMROT_NOW"), *repo = getenv("DKIMROT_REPO");
	time_t t;
	size_t i;
	int ch, rc;

	harden();
	find_self(argv[0]);
	/* "+": stop at the command name; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+C:hqvV", opts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			repo = optarg;
			break;
		case 'h':
			usage(stdout);
			return DK_EXIT_OK;
		case 'N':
			now = optarg;
			break;
		case 'q':
			dk_log_set_level(DK_LOG_QUIET);
			break;
		case 'v':
			dk_log_set_level(DK_LOG_VERBOSE);
			break;
		case 'V':
			printf("dkimrot %s\n", DKIMROT_VERSION);
			return DK_EXIT_OK;
		default:
			usage(stderr);
			return DK_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return DK_EXIT_USAGE;
	}
	if (repo != NULL && repo[0] != '\0')
		dk_cli_set_repo(repo);
	if (now != NULL && now[0] != '\0') {
		if (dk_time_parse(now, &t) != 0) {
			dk_log_error("%s", dk_error_last());
			return DK_EXIT_USAGE;
		}
		dk_clock_set(t);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		optind = 0;	/* GNU getopt: start afresh for the command */
		rc = commands[i].run(argc, argv);
		fflush(stdout);
		if (ferror(stdout)) {
			dk_log_error("cannot write to standard output");
			return DK_EXIT_FAIL;
		}
		/* 0..3 (3: Nagios UNKNOWN from check --nagios) and 75. */
		if ((rc >= 0 && rc <= 3) || rc == DK_EXIT_TEMP)
			return rc;
		return DK_EXIT_FAIL;
	}
	dk_log_error("'%s' is not a dkimrot command; see 'dkimrot --help'",
	    argv[0]);
	return DK_EXIT_USAGE;
}
