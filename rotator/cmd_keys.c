/*
 * Commands that act on one key: import (adopt a key already in DNS, e.g.
 * from an opendkim-genkey setup) and revoke (a compromised key stops
 * signing now and is published with p= empty, RFC 6376 3.6.1).
 */
#include <getopt.h>
#include <stdbool.h>
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
#include "keygen/batch.h"
#include "keygen/key.h"
#include "rotator/policy.h"
#include "rotator/keyrepo.h"
#include "rotator/remote.h"
#include "rotator/rotate.h"
#include "rotator/store.h"
#include "rotator/vault.h"

struct keyargs {
	char	*domain;
	char	*selector;
	char	*private;
	int	 active;
	int	 force;
	int	 wait;
};

/*
 * Shared option parsing: -d, -s, --private, --active and --force
 * (import), --wait.
 */
static int
parse(int argc, char **argv, int import, struct keyargs *a,
    void (*usage)(FILE *))
{
	static const struct option opts[] = {
		{ "active",	no_argument,		NULL, 'a' },
		{ "domain",	required_argument,	NULL, 'd' },
		{ "force",	no_argument,		NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "private",	required_argument,	NULL, 'p' },
		{ "selector",	required_argument,	NULL, 's' },
		{ "wait",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof(*a));
	while ((ch = getopt_long(argc, argv, "ad:fhp:s:w:", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'a':
			if (!import)
				goto bad;
			a->active = 1;
			break;
		case 'd':
			a->domain = optarg;
			break;
		case 'f':
			if (!import)
				goto bad;
			a->force = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'p':
			if (!import)
				goto bad;
			a->private = optarg;
			break;
		case 's':
			a->selector = optarg;
			break;
		case 'w':
			if (dk_cli_wait(optarg, &a->wait) != 0) {
				dk_log_error("%s", dk_error_last());
				return DK_EXIT_USAGE;
			}
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc || a->domain == NULL || a->selector == NULL ||
	    (import && a->private == NULL))
		goto bad;
	if (dk_name_domain(a->domain) != 0 ||
	    dk_name_selector(a->selector) != 0) {
		dk_log_error("%s", dk_error_last());
		return DK_EXIT_USAGE;
	}
	return 0;
bad:
	usage(stderr);
	return DK_EXIT_USAGE;
}

/* Opens the repository and loads the domain, which must be configured. */
static int
open_domain(struct dk_keyrepo *r, const struct keyargs *a,
    const struct dk_domain_conf **dc, struct dk_domain_keys **dk,
    struct dk_strlist *paths)
{
	int rc;

	if ((rc = dk_keyrepo_open(r, dk_cli_repo(), DK_KEYREPO_LOCK |
	    DK_KEYREPO_CONFIG, a->wait)) != 0)
		return rc;
	if ((*dc = dk_config_domain(r->cfg, a->domain)) == NULL) {
		dk_error_set("domain '%s' is not in %s", a->domain,
		    DK_CONFIG_FILE);
		return DK_EUSAGE;
	}
	return dk_keyrepo_load_domain(r, a->domain, dk, paths);
}

/* Carries out plan, prints and commits it as "VERB DOMAIN: changes". */
static int
execute(struct dk_keyrepo *r, const char *verb, const char *first,
    struct dk_domain_keys *dk, const struct dk_policy *pol,
    const struct dk_plan *plan, struct dk_keyreq *reqs,
    struct dk_strlist *paths, time_t now)
{
	struct dk_buf line = { 0 }, msg = { 0 };
	bool committed;
	int rc = -1;

	if (dk_buf_printf(&line, "%s: %s%s", dk->domain, first,
	    first[0] != '\0' && dk_plan_has_changes(plan) ? "; " : "") != 0 ||
	    dk_rotate_describe(dk, plan, &line) != 0)
		goto done;
	if ((rc = dk_rotate_apply(r, dk, pol, plan, reqs, paths)) != 0)
		goto done;
	printf("%s\n", line.data);
	rc = -1;
	if (dk_buf_printf(&msg, "dkimrot %s\n\n%s\n", verb, line.data) != 0)
		goto done;
	rc = dk_keyrepo_commit(r, paths, msg.data, now, &committed);
done:
	dk_buf_dispose(&line);
	dk_buf_dispose(&msg);
	return rc;
}

static void
import_usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot import -d DOMAIN -s SELECTOR --private FILE "
	    "[--active] [--force]\n"
	    "       dkimrot import --opendkim KEYTABLE [--signing-table FILE] "
	    "[--dry-run]\n"
	    "\n"
	    "Adopts an existing key (PKCS#8 or PKCS#1 PEM, as opendkim-genkey "
	    "writes),\n"
	    "e.g. one already published in DNS, into the key repository.  It "
	    "starts as\n"
	    "pending; with --active it signs at once and the current signing "
	    "key\n"
	    "starts retiring.  Use --active only for a key whose record is "
	    "already\n"
	    "in DNS.\n"
	    "\n"
	    "  -d, --domain D      a domain of dkimrot.yaml\n"
	    "  -s, --selector S    the key's selector (as in DNS)\n"
	    "  -p, --private FILE  the private key\n"
	    "  -a, --active        make it the signing key now\n"
	    "  -f, --force         import even though the clock went back\n"
	    "  -w, --wait SECS     wait that long for the repository lock\n");
	fputs(DK_VAULT_HELP, f);
}

/*
 * Rule 4 of rotator/policy.h, as dk_policy_plan() has it for rotate: a
 * key created before the domain's last event would look older than it
 * is.
 */
static int
clock_check(const struct dk_domain_keys *dk, time_t now)
{
	char t1[DK_TIME_LEN], t2[DK_TIME_LEN];
	time_t latest = dk_domain_keys_latest(dk);

	if (now >= latest)
		return 0;
	dk_time_format(now, t1);
	dk_time_format(latest, t2);
	dk_error_set("clock went back: %s is earlier than the last recorded "
	    "event %s for %s; use --force", t1, t2, dk->domain);
	return -1;
}

static int
import_plan(struct dk_domain_keys *dk, const struct keyargs *a,
    const struct dk_key *key, time_t now, struct dk_plan *plan)
{
	struct dk_keyinfo k;
	size_t i;

	memset(&k, 0, sizeof(k));
	snprintf(k.selector, sizeof(k.selector), "%s", a->selector);
	k.alg = dk_key_alg(key);
	k.bits = dk_key_bits(key);
	k.state = DK_STATE_PENDING;
	k.created = k.published = now;
	if (dk_domain_keys_add(dk, &k) != 0)
		return -1;
	plan->now = now;
	snprintf(plan->domain, sizeof(plan->domain), "%s", dk->domain);
	if (!a->active)
		return 0;
	for (i = 0; i < dk->n; i++) {
		if (dk->keys[i].state != DK_STATE_ACTIVE ||
		    dk->keys[i].alg != k.alg)
			continue;
		if (dk_plan_add(plan, DK_ACT_DEACTIVATE, k.alg,
		    dk->keys[i].selector, "replaced by imported %s",
		    a->selector) == NULL)
			return -1;
	}
	if (dk_plan_add(plan, DK_ACT_ACTIVATE, k.alg, a->selector,
	    "imported as the signing key") == NULL)
		return -1;
	return 0;
}

static int
import_once(int argc, char **argv)
{
	const struct dk_domain_conf *dc;
	struct dk_domain_keys *dk = NULL;
	struct dk_strlist paths = { 0 };
	struct dk_plan plan = { 0 };
	struct dk_keyreq req;
	struct dk_key *key = NULL;
	struct keyargs a;
	struct dk_keyrepo r = { 0 };
	time_t now = dk_clock_now();
	char first[128];
	int rc;

	/* Another form: a whole OpenDKIM installation. */
	for (rc = 1; rc < argc; rc++)
		if (strncmp(argv[rc], "--opendkim", 10) == 0 &&
		    (argv[rc][10] == '\0' || argv[rc][10] == '='))
			return cmd_import_opendkim(argc, argv);
	if ((rc = parse(argc, argv, 1, &a, import_usage)) != 0)
		return rc == 1 ? DK_EXIT_OK : rc;
	if ((rc = dk_key_load(&key, a.private)) != 0)
		goto done;
	if ((rc = open_domain(&r, &a, &dc, &dk, &paths)) != 0)
		goto done;
	if (!a.force && (rc = clock_check(dk, now)) != 0)
		goto done;
	if (dk_domain_keys_find(dk, a.selector) != NULL) {
		dk_error_set("selector '%s' already exists for '%s'",
		    a.selector, a.domain);
		rc = DK_EUSAGE;
		goto done;
	}
	if (!(dc->policy.algorithms & DK_ALG_BIT(dk_key_alg(key)))) {
		dk_error_set("'%s' is not configured for %s keys",
		    a.domain, dk_alg_name(dk_key_alg(key)));
		rc = DK_EUSAGE;
		goto done;
	}
	if ((rc = import_plan(dk, &a, key, now, &plan)) != 0)
		goto done;
	/* The key files are written like a generated key's, from req. */
	memset(&req, 0, sizeof(req));
	req.key = key;
	if ((rc = dk_keyrepo_write_key(&r, a.domain, a.selector, key,
	    &dc->policy, &paths, NULL)) != 0)
		goto done;
	snprintf(first, sizeof(first), "+%s imported (%s %d)", a.selector,
	    dk_alg_name(dk_key_alg(key)), dk_key_bits(key));
	rc = execute(&r, "import", first, dk, &dc->policy, &plan, &req,
	    &paths, now);
	if (rc != 0)
		dk_store_remove_key_files(r.path, a.domain, a.selector,
		    DK_STORE_PRIVATE | DK_STORE_TXT);
done:
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	dk_plan_dispose(&plan);
	dk_domain_keys_free(dk);
	dk_key_free(key);
	dk_strlist_dispose(&paths);
	dk_keyrepo_dispose(&r);
	return dk_error_exit(rc);
}

/* The reason revoke gives for sel of a domain, when keys.yaml lacks it. */
static void
not_found(const struct dk_keyrepo *r, const char *domain, const char *sel)
{
	struct dk_domain_keys *old;
	bool archived = false;
	char *why;

	/* Reading the archive sets errors of its own (none: ENOENT). */
	if ((why = strdup(dk_error_last())) == NULL)
		return;
	if (dk_store_load_retired(r->path, domain, &old) == 0) {
		archived = dk_domain_keys_find(old, sel) != NULL;
		dk_domain_keys_free(old);
	}
	if (archived)
		dk_error_set("cannot revoke key '%s' of %s: it is retired and "
		    "no longer published (%s/%s/%s)", sel, domain,
		    DK_STORE_KEYS_DIR, domain, DK_STORE_RETIRED);
	else
		dk_error_set("%s", why);
	free(why);
}

static void
revoke_usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot revoke -d DOMAIN -s SELECTOR\n"
	    "\n"
	    "For a compromised key: it stops signing now and its record is "
	    "published\n"
	    "with an empty p= (revoked, RFC 6376 3.6.1) until drain has "
	    "passed; its\n"
	    "private key leaves the repository.  If it was the signing key, "
	    "the newest\n"
	    "pending key signs at once, or a new key is made and signs at "
	    "once (a\n"
	    "warning says so: its record may not be in DNS yet).\n"
	    "\n"
	    "  -d, --domain D      a domain of dkimrot.yaml\n"
	    "  -s, --selector S    the key to revoke\n"
	    "  -w, --wait SECS     wait that long for the repository lock\n");
	fputs(DK_VAULT_HELP, f);
}

static int
revoke_once(int argc, char **argv)
{
	const struct dk_domain_conf *dc;
	struct dk_domain_keys *dk = NULL;
	struct dk_strlist paths = { 0 };
	struct dk_plan plan = { 0 };
	struct dk_keyreq req[DK_ALG_COUNT];
	struct keyargs a;
	struct dk_keyrepo r = { 0 };
	time_t now = dk_clock_now();
	size_t i, n = 0;
	int rc;

	memset(req, 0, sizeof(req));
	if ((rc = parse(argc, argv, 0, &a, revoke_usage)) != 0)
		return rc == 1 ? DK_EXIT_OK : rc;
	if ((rc = open_domain(&r, &a, &dc, &dk, &paths)) != 0)
		goto done;
	rc = dk_policy_revoke(dk, a.selector, &dc->policy, now, &plan);
	if (rc == DK_ENOTFOUND && dk_domain_keys_find(dk, a.selector) == NULL)
		not_found(&r, a.domain, a.selector);
	if (rc == DK_EEXISTS) {
		dk_log_info("%s: %s is already revoked", a.domain, a.selector);
		rc = 0;
		goto done;
	}
	if (rc != 0)
		goto done;
	for (i = 0; i < plan.n && n < DK_ALG_COUNT; i++) {
		if (plan.actions[i].type != DK_ACT_GENERATE)
			continue;
		req[n].alg = plan.actions[i].alg;
		req[n].bits = plan.actions[i].bits;
		n++;
	}
	if ((rc = dk_key_generate_batch(req, n, 0, false)) != 0)
		goto done;
	rc = execute(&r, "revoke", "", dk, &dc->policy, &plan, req, &paths,
	    now);
done:
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	for (i = 0; i < n; i++)
		dk_key_free(req[i].key);
	dk_plan_dispose(&plan);
	dk_domain_keys_free(dk);
	dk_strlist_dispose(&paths);
	dk_keyrepo_dispose(&r);
	return dk_error_exit(rc);
}

/* With a remote, a run that lost the race plans again (rotator/remote.h). */
int
cmd_import(int argc, char **argv)
{
	return dk_remote_retry(import_once, argc, argv);
}

int
cmd_revoke(int argc, char **argv)
{
	return dk_remote_retry(revoke_once, argc, argv);
}
