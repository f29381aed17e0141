/*
 * dkimrot remove -d DOMAIN: a domain leaves (rule 8 of rotator/policy.h).
 * In one commit it stops signing (every key of it retiring, so it is out
 * of the signing tables of the next packages), keys.yaml records it as
 * leaving, and its entry leaves dkimrot.yaml.  rotate then keeps its
 * keys in DNS for drain and retires them; once none is left its records,
 * zone and keys are gone from the packages.  Its history stays in git.
 *
 * A domain the operator already deleted from dkimrot.yaml is confirmed
 * the same way: remove -d DOMAIN records it as leaving.  Until then its
 * keys stay as they are, with a warning on every run: deleting a line
 * of configuration must never, alone, pull keys out from under mail in
 * flight or stop a domain signing (a typo or a bad merge would).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cli.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/tree.h"
#include "common/log.h"
#include "common/name.h"
#include "common/strlist.h"
#include "rotator/config_edit.h"
#include "rotator/keyrepo.h"
#include "rotator/policy.h"
#include "rotator/rotate.h"
#include "rotator/store.h"
#include "rotator/vault.h"

struct removal {
	char			*domain;
	bool			 dry_run;
	bool			 force;
	int			 wait;
	/* Found once the repository is open: */
	const struct dk_domain_conf *dc;	/* NULL: not configured */
	struct dk_domain_keys	*dk;
	struct dk_plan		 plan;
	struct dk_buf		 yaml;	/* dkimrot.yaml without the entry */
	struct dk_buf		 line;	/* "D: ..." what it does */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot remove -d DOMAIN [--dry-run] [--force] "
	    "[--wait SECONDS]\n"
	    "\n"
	    "A domain leaves: it stops signing now (its keys leave the "
	    "signing tables),\n"
	    "its entry leaves dkimrot.yaml, and its keys stay in DNS for "
	    "drain (and\n"
	    "min_age); then rotate retires them and its records, zone and "
	    "keys leave\n"
	    "the packages.  Its history stays in git.  For a domain already "
	    "deleted\n"
	    "from dkimrot.yaml this confirms it.  Adding the domain back "
	    "before it is\n"
	    "gone resumes it with a new key.\n"
	    "\n"
	    "  -d, --domain D    the domain (required)\n"
	    "  -n, --dry-run     print what it would do, change nothing\n"
	    "  -f, --force       act even though the clock went back\n"
	    "  -w, --wait SECS   wait that long for the repository lock "
	    "(default 0)\n");
	fputs(DK_VAULT_HELP, f);
}

static int
parse(int argc, char **argv, struct removal *m)
{
	static const struct option opts[] = {
		{ "domain",	required_argument,	NULL, 'd' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "force",	no_argument,		NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "wait",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "d:fhnw:", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			m->domain = optarg;
			break;
		case 'f':
			m->force = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'n':
			m->dry_run = true;
			break;
		case 'w':
			if (dk_cli_wait(optarg, &m->wait) != 0) {
				dk_log_error("%s", dk_error_last());
				return DK_EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			return DK_EXIT_USAGE;
		}
	}
	if (optind != argc || m->domain == NULL) {
		usage(stderr);
		return DK_EXIT_USAGE;
	}
	if (dk_name_domain(m->domain) != 0) {
		dk_log_error("%s", dk_error_last());
		return DK_EXIT_USAGE;
	}
	return 0;
}

/* dkimrot.yaml without the domain's entry, into m->yaml. */
static int
edit_config(struct dk_keyrepo *r, struct removal *m)
{
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = dk_tree_read(r->path, DK_CONFIG_FILE, DK_CONFIG_MAX_SIZE,
	    &buf, &len)) != 0)
		return rc;
	rc = dk_config_edit_remove(buf, len, m->dc, &m->yaml);
	free(buf);
	return rc;
}

/* What to do: the plan, the edit and the line that says it. */
static int
prepare(struct dk_keyrepo *r, struct removal *m, time_t now,
    struct dk_strlist *paths)
{
	const struct dk_plan_opts po = { .force = m->force, .remove = true,
	    .dropped = true };
	char t[DK_TIME_LEN];
	int rc;

	m->dc = dk_config_domain(r->cfg, m->domain);
	rc = m->dry_run ? dk_store_load(r->path, m->domain, &m->dk) :
	    dk_keyrepo_load_domain(r, m->domain, &m->dk, paths);
	if (rc != 0)
		return rc;
	if (m->dc == NULL && !m->dk->exists) {
		dk_error_set("domain '%s' is not in %s and has no keys",
		    m->domain, DK_CONFIG_FILE);
		return DK_EUSAGE;
	}
	if (m->dc != NULL && (rc = edit_config(r, m)) != 0)
		return rc;
	if (dk_buf_printf(&m->line, "%s: ", m->domain) != 0)
		return -1;
	if (m->dk->leaving != 0) {
		dk_time_format(m->dk->leaving, t);
		return dk_buf_printf(&m->line, "leaving since %s%s", t,
		    m->dc != NULL ? "; out of dkimrot.yaml" : "");
	}
	if (!m->dk->exists)
		return dk_buf_printf(&m->line, "out of dkimrot.yaml (it had "
		    "no keys)");
	if ((rc = dk_policy_plan_opts(m->dk, m->dc != NULL ? &m->dc->policy :
	    &r->cfg->defaults, &po, now, &m->plan)) != 0)
		return rc;
	if (dk_rotate_describe(m->dk, &m->plan, &m->line) != 0)
		return -1;
	return m->dc != NULL ? dk_buf_puts(&m->line, "; out of dkimrot.yaml") :
	    0;
}

static int
carry_out(struct dk_keyrepo *r, struct removal *m, time_t now,
    struct dk_strlist *paths)
{
	struct dk_buf msg = { 0 };
	char t[DK_TIME_LEN];
	bool committed;
	int rc = -1;

	if (m->plan.n > 0 && dk_rotate_apply(r, m->dk, m->dc != NULL ?
	    &m->dc->policy : &r->cfg->defaults, &m->plan, NULL, paths) != 0)
		goto done;
	if (m->dc != NULL) {
		if (dk_keyrepo_begin(r) != 0 ||
		    dk_config_edit_save(r->path, &m->yaml) != 0 ||
		    dk_strlist_add(paths, DK_CONFIG_FILE) != 0) {
			r->partial = true;
			goto done;
		}
	}
	dk_time_format(now, t);
	if (dk_buf_printf(&msg, "dkimrot remove %s at %s\n\n%s\n", m->domain,
	    t, m->line.data) != 0)
		goto done;
	rc = dk_keyrepo_commit(r, paths, msg.data, now, &committed);
done:
	dk_buf_dispose(&msg);
	return rc;
}

int
cmd_remove(int argc, char **argv)
{
	struct removal m;
	struct dk_strlist paths = { 0 };
	struct dk_keyrepo r = { 0 };
	time_t now = dk_clock_now();
	bool committed;
	int rc;

	memset(&m, 0, sizeof(m));
	if ((rc = parse(argc, argv, &m)) != 0)
		return rc == 1 ? DK_EXIT_OK : rc;
	if ((rc = dk_keyrepo_open(&r, dk_cli_repo(), DK_KEYREPO_CONFIG |
	    (m.dry_run ? 0 : DK_KEYREPO_LOCK), m.wait)) != 0)
		goto done;
	if ((rc = prepare(&r, &m, now, &paths)) != 0)
		goto done;
	printf("%s\n", m.line.data);
	if (m.dry_run) {
		dk_log_info("dry run: nothing was changed");
		goto done;
	}
	/* Already leaving and out of the configuration: nothing to do. */
	if (m.dk->leaving != 0 && m.dc == NULL) {
		rc = dk_keyrepo_commit(&r, &paths, "dkimrot remove: repaired "
		    "the key store\n", now, &committed);
		goto done;
	}
	rc = carry_out(&r, &m, now, &paths);
done:
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	dk_plan_dispose(&m.plan);
	dk_domain_keys_free(m.dk);
	dk_buf_dispose(&m.yaml);
	dk_buf_dispose(&m.line);
	dk_strlist_dispose(&paths);
	dk_keyrepo_dispose(&r);
	return dk_error_exit(rc);
}
