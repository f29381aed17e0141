/*
 * dkimrot keygen: one key pair in opendkim-genkey's layout, DIR/SEL.private
 * and DIR/SEL.txt, for operators who manage a key by hand.  Every input is
 * checked before anything is written, and nothing is ever overwritten.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/name.h"
#include "keygen/key.h"

#define DEFAULT_RSA_BITS	2048

struct keygen_args {
	char			*domain;
	char			*selector;
	enum dk_alg		 alg;
	int			 bits;		/* 0: not given */
	const char		*dir;
	struct dk_record_opts	 opts;
	char			 selbuf[DK_SELECTOR_TIME_LEN];
	char			 key_path[PATH_MAX];
	char			 txt_path[PATH_MAX];
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot keygen -d DOMAIN [-s SELECTOR] [-a rsa|ed25519] "
	    "[-b BITS]\n"
	    "                      [-D DIR] [--restrict] [--testmode]\n"
	    "\n"
	    "  -d, --domain DOMAIN     the signing domain (required)\n"
	    "  -s, --selector SEL      default: the time, YYYYMMDDHHMMSS UTC\n"
	    "  -a, --algorithm ALG     rsa (default) or ed25519\n"
	    "  -b, --bits BITS         rsa key size, 1024 to 4096 "
	    "(default 2048)\n"
	    "  -D, --directory DIR     where SEL.private and SEL.txt go "
	    "(default .)\n"
	    "  -r, --restrict          s=email: the key signs mail only\n"
	    "  -t, --testmode          t=y: verifiers treat failures as "
	    "untested\n"
	    "  -h, --help              this text\n");
}

/* "what: ARG; see 'dkimrot keygen --help'", as dkimrot.c words it. */
static int
usage_error(const char *what, const char *arg)
{
	dk_log_error("%s%s%s%s; see 'dkimrot keygen --help'", what,
	    arg != NULL ? " '" : "", arg != NULL ? arg : "",
	    arg != NULL ? "'" : "");
	return DK_EXIT_USAGE;
}

static int
parse_bits(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > INT_MAX) {
		dk_error_set("invalid key size '%s': expected a number of bits",
		    s);
		return DK_EUSAGE;
	}
	*out = (int)v;
	return 0;
}

/*
 * Options into a.  0: go on; -1: help was printed; else the enum dk_exit
 * to stop with.
 */
static int
parse_args(int argc, char **argv, struct keygen_args *a)
{
	static const struct option opts[] = {
		{ "algorithm",	required_argument,	NULL, 'a' },
		{ "bits",	required_argument,	NULL, 'b' },
		{ "directory",	required_argument,	NULL, 'D' },
		{ "domain",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "restrict",	no_argument,		NULL, 'r' },
		{ "selector",	required_argument,	NULL, 's' },
		{ "testmode",	no_argument,		NULL, 't' },
		{ NULL,		0,			NULL, 0 }
	};
	char opt[3];
	int ch;

	opterr = 0;	/* our own messages, as "dkimrot: ..." */
	while ((ch = getopt_long(argc, argv, ":a:b:D:d:hrs:t", opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (dk_alg_parse(optarg, &a->alg) != 0)
				goto bad;
			break;
		case 'b':
			if (parse_bits(optarg, &a->bits) != 0)
				goto bad;
			break;
		case 'D':
			a->dir = optarg;
			break;
		case 'd':
			a->domain = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'r':
			a->opts.restrict_email = true;
			break;
		case 's':
			a->selector = optarg;
			break;
		case 't':
			a->opts.testmode = true;
			break;
		case ':':
			return usage_error("missing value for option",
			    argv[optind - 1]);
		default:
			/* GNU getopt: optopt is 0 for an unknown long option. */
			if (optopt != 0) {
				snprintf(opt, sizeof(opt), "-%c", optopt);
				return usage_error("unknown option", opt);
			}
			return usage_error("unknown option",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (a->domain == NULL)
		return usage_error("missing domain (-d DOMAIN)", NULL);
	return 0;
bad:
	/* A bad value says what is expected; no need for the usage hint. */
	dk_log_error("%s", dk_error_last());
	return DK_EXIT_USAGE;
}

/* The checks on values, before anything touches the file system. */
static int
check_args(struct keygen_args *a)
{
	if (dk_name_domain(a->domain) != 0)
		return DK_EUSAGE;
	if (a->selector == NULL) {
		dk_time_selector(dk_clock_now(), a->selbuf);
		a->selector = a->selbuf;
	}
	if (dk_name_selector(a->selector) != 0)
		return DK_EUSAGE;
	if (a->alg == DK_ALG_ED25519 && a->bits != 0) {
		dk_error_set("-b BITS is for rsa keys only; ed25519 keys have "
		    "one size");
		return DK_EUSAGE;
	}
	if (a->alg == DK_ALG_RSA && a->bits == 0)
		a->bits = DEFAULT_RSA_BITS;
	if (a->alg == DK_ALG_RSA && dk_key_check_bits(a->bits) != 0)
		return DK_EUSAGE;
	return 0;
}

/* SEL + suffix into buf. */
static int
file_name(char *buf, size_t size, const char *sel, const char *suffix)
{
	int n;

	n = snprintf(buf, size, "%s%s", sel, suffix);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("selector too long: '%s'", sel);
		return -1;
	}
	return 0;
}

/* DIR must be a directory already; neither output file may exist. */
static int
check_paths(struct keygen_args *a)
{
	char name[DK_SELECTOR_MAX + 16];
	const char *paths[2] = { a->key_path, a->txt_path };
	struct stat st;
	int i;

	if (stat(a->dir, &st) == -1) {
		dk_error_set_errno(errno, "cannot use directory '%s'", a->dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dk_error_set("cannot use directory '%s': Not a directory",
		    a->dir);
		return -1;
	}
	if (file_name(name, sizeof(name), a->selector, ".private") != 0 ||
	    dk_path_join(a->key_path, sizeof(a->key_path), a->dir, name) != 0 ||
	    file_name(name, sizeof(name), a->selector, ".txt") != 0 ||
	    dk_path_join(a->txt_path, sizeof(a->txt_path), a->dir, name) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		/* lstat: a dangling symlink is in the way too. */
		if (lstat(paths[i], &st) == 0) {
			dk_error_set("'%s' already exists; not overwriting it",
			    paths[i]);
			return DK_EEXISTS;
		}
		if (errno != ENOENT) {
			dk_error_set_errno(errno, "cannot use '%s'", paths[i]);
			return -1;
		}
	}
	return 0;
}

static void
remove_file(const char *path)
{
	if (unlink(path) == -1)
		dk_log_warn("cannot remove '%s': %s", path, strerror(errno));
}

static int
write_files(struct keygen_args *a)
{
	char owner[DK_SELECTOR_MAX + 16], *value = NULL, *zone = NULL;
	struct dk_key *key = NULL;
	bool wrote_key = false, wrote_txt = false;
	int rc = -1;

	if (file_name(owner, sizeof(owner), a->selector, "._domainkey") != 0)
		goto done;
	if ((rc = dk_key_generate(&key, a->alg, a->bits)) != 0)
		goto done;
	rc = -1;
	if (dk_record_value(key, &a->opts, &value) != 0 ||
	    dk_record_zone(owner, 0, value, a->selector, a->domain,
	    &zone) != 0)
		goto done;
	if ((rc = dk_key_write(key, NULL, a->key_path, true)) != 0)
		goto done;
	wrote_key = true;
	/* Public data: readable by the DNS server that $INCLUDEs it. */
	if ((rc = dk_file_create(a->txt_path, zone, strlen(zone), 0644)) != 0)
		goto done;
	wrote_txt = true;
	if ((rc = dk_dir_sync(a->dir)) != 0)
		goto done;
	rc = 0;
done:
	/* A key without its record is debris: leave nothing half done. */
	if (rc != 0 && wrote_txt)
		remove_file(a->txt_path);
	if (rc != 0 && wrote_key)
		remove_file(a->key_path);
	free(value);
	free(zone);
	dk_key_free(key);
	return rc;
}

int
cmd_keygen(int argc, char **argv)
{
	struct keygen_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.alg = DK_ALG_RSA;
	a.dir = ".";
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc == -1 ? DK_EXIT_OK : rc;
	if ((rc = check_args(&a)) != 0 || (rc = check_paths(&a)) != 0 ||
	    (rc = write_files(&a)) != 0) {
		dk_log_error("%s", dk_error_last());
		/* Refusing to overwrite is the caller's mistake, not ours. */
		return rc == DK_EEXISTS ? DK_EXIT_USAGE : dk_error_exit(rc);
	}
	dk_log_debug("wrote '%s' and '%s'", a.key_path, a.txt_path);
	printf("%s\n", a.selector);
	return DK_EXIT_OK;
}
