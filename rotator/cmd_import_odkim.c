/*
 * dkimrot import --opendkim KEYTABLE [--signing-table FILE]: adopts every
 * key of an existing OpenDKIM installation in one commit, adding its
 * domains to dkimrot.yaml (rotator/opendkim.h reads the tables).
 *
 * What an operator moving to dkimrot needs: mail keeps being signed with
 * the keys it is signed with today, and nothing that verifiers may
 * still look up leaves DNS before drain.  So:
 *  - a key the SigningTable uses becomes active.  Its record is in DNS
 *    already; with dns.verify every name server must serve it (the DNS
 *    gate of rule 2), else the key is refused: signing with it would
 *    break mail.  Without a SigningTable, a domain's only key of an
 *    algorithm is the one OpenDKIM signs with;
 *  - any other key of a domain becomes retiring, so its record stays
 *    published for drain, when it is served (dns.verify) or when DNS is
 *    not checked; with dns.verify and not served it is left out, with a
 *    warning: publishing a key nobody signs with does no good;
 *  - a domain none of whose keys the SigningTable uses is left out,
 *    with a warning: OpenDKIM does not sign for it, nor should dkimrot;
 *  - selectors stay as they are ("default", "mail"): they are in DNS.
 *    The next rotation gives each domain a timestamp selector.
 * Any line that cannot be mapped refuses the whole import, each named
 * with its file and line: half an installation adopted is worse than
 * none.
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
#include "common/strlist.h"
#include "keygen/key.h"
#include "rotator/config_edit.h"
#include "rotator/dnsgate.h"
#include "rotator/keyrepo.h"
#include "rotator/opendkim.h"
#include "rotator/policy.h"
#include "rotator/rotate.h"
#include "rotator/store.h"
#include "rotator/vault.h"

#include "rotator/import_odkim.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot import --opendkim KEYTABLE [--signing-table FILE] "
	    "[--dry-run]\n"
	    "                      [--wait SECONDS]\n"
	    "\n"
	    "Adopts every key of an existing OpenDKIM installation in one "
	    "commit and adds\n"
	    "its domains to dkimrot.yaml.  Keys the SigningTable uses sign "
	    "(with\n"
	    "dns.verify, only once every name server serves their record); "
	    "the others\n"
	    "stay published for drain.  Selectors are kept; the next rotation "
	    "moves\n"
	    "each domain to timestamp selectors.  An entry it cannot map "
	    "(a pattern\n"
	    "other than *@DOMAIN, a key it cannot read) is refused with its "
	    "line, and\n"
	    "nothing is imported.\n"
	    "\n"
	    "  -o, --opendkim FILE        the KeyTable\n"
	    "  -t, --signing-table FILE   the SigningTable (refile: or file:)\n"
	    "  -n, --dry-run              print what it would do, change "
	    "nothing\n"
	    "  -w, --wait SECS            wait that long for the repository "
	    "lock\n");
	fputs(DK_VAULT_HELP, f);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "dry-run",	   no_argument,		NULL, 'n' },
		{ "help",	   no_argument,		NULL, 'h' },
		{ "opendkim",	   required_argument,	NULL, 'o' },
		{ "signing-table", required_argument,	NULL, 't' },
		{ "wait",	   required_argument,	NULL, 'w' },
		{ NULL,		   0,			NULL, 0 }
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hno:t:w:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 1;
		case 'n':
			o->dry_run = true;
			break;
		case 'o':
			o->keytable = optarg;
			break;
		case 't':
			o->signingtable = optarg;
			break;
		case 'w':
			if (dk_cli_wait(optarg, &o->wait) != 0) {
				dk_log_error("%s", dk_error_last());
				return DK_EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			return DK_EXIT_USAGE;
		}
	}
	if (optind != argc || o->keytable == NULL) {
		usage(stderr);
		return DK_EXIT_USAGE;
	}
	return 0;
}

/* The repository's view of each domain: configured, free of keys. */
static int
check_domains(struct run *u)
{
	struct dk_domain_keys *dk;
	struct dom *d;
	size_t i;
	int rc;

	for (i = 0; i < u->ndoms; i++) {
		d = &u->doms[i];
		if (d->algs == 0) {
			d->skip = true;
			dk_log_warn("%s: no key of it is in the SigningTable; "
			    "not imported", d->name);
			continue;
		}
		d->dc = dk_config_domain(u->r.cfg, d->name);
		d->pol = d->dc != NULL ? d->dc->policy : u->r.cfg->defaults;
		if (d->dc == NULL)
			d->pol.algorithms = d->algs;
		else if ((d->algs & ~d->pol.algorithms) != 0 && dk_import_refuse(u,
		    "%s: %s signs with %s keys, which dkimrot.yaml does not "
		    "configure for it", u->o.keytable, d->name,
		    (d->algs & ~d->pol.algorithms) & DK_ALG_BIT(DK_ALG_RSA) ?
		    "rsa" : "ed25519") != 0)
			return -1;
		dk = NULL;
		if ((rc = dk_store_load(u->r.path, d->name, &dk)) != 0) {
			if (dk_import_refuse(u, "%s: %s", d->name, dk_error_last()) != 0)
				return -1;
		} else if (dk->exists && dk->n > 0 && dk_import_refuse(u, "%s: %s "
		    "already has keys in the repository (import -d adopts "
		    "one key)", u->o.keytable, d->name) != 0) {
			dk_domain_keys_free(dk);
			return -1;
		}
		dk_domain_keys_free(dk);
	}
	return 0;
}

/*
 * With dns.verify: a signing key must be served by every name server;
 * another key is kept (retiring) only when it is.
 */
static int
check_dns(struct run *u)
{
	const struct dk_odkim_key *tk;
	enum dk_dns dns;
	char why[512];
	size_t i;
	int rc;

	if (!u->r.cfg->dns_verify)
		return 0;
	for (i = 0; i < u->t.nkeys; i++) {
		tk = &u->t.keys[i];
		if (!u->keys[i].keep || u->doms[u->dom_of[i]].skip)
			continue;
		if ((rc = dk_dnsgate_check_key(u->r.cfg, tk->domain,
		    tk->selector, u->keys[i].key, &dns, why,
		    sizeof(why))) != 0)
			return rc;
		if (dns == DK_DNS_OK)
			continue;
		if (u->keys[i].signs) {
			if (dk_import_refuse(u, "%s:%d: key '%s' of %s signs, but %s; "
			    "mail it signed would fail verification",
			    u->o.keytable, tk->line, tk->selector, tk->domain,
			    why) != 0)
				return -1;
			continue;
		}
		u->keys[i].keep = false;
		dk_log_warn("%s: key '%s' is not in DNS (%s): left out",
		    tk->domain, tk->selector, why);
	}
	return 0;
}

/* The keys of each domain and the plan that makes them what they are. */
static int
plan(struct run *u, time_t now)
{
	const struct dk_odkim_key *tk;
	struct dk_keyinfo k;
	struct dom *d;
	size_t i;
	int n = 0;

	for (i = 0; i < u->ndoms; i++) {
		d = &u->doms[i];
		if (d->skip)
			continue;
		if (dk_domain_keys_new(d->name, &d->dk) != 0 ||
		    dk_buf_printf(&d->line, "%s: ", d->name) != 0)
			return -1;
		d->plan.now = now;
		snprintf(d->plan.domain, sizeof(d->plan.domain), "%s",
		    d->name);
	}
	for (i = 0; i < u->t.nkeys; i++) {
		tk = &u->t.keys[i];
		d = &u->doms[u->dom_of[i]];
		if (d->skip || !u->keys[i].keep)
			continue;
		memset(&k, 0, sizeof(k));
		memcpy(k.selector, tk->selector, sizeof(k.selector));
		k.alg = dk_key_alg(u->keys[i].key);
		k.bits = dk_key_bits(u->keys[i].key);
		k.state = DK_STATE_PENDING;
		k.created = k.published = now;
		if (dk_domain_keys_add(d->dk, &k) != 0 ||
		    dk_plan_add(&d->plan, u->keys[i].signs ? DK_ACT_ACTIVATE :
		    DK_ACT_DEACTIVATE, k.alg, k.selector, "%s",
		    u->keys[i].signs ? "imported: OpenDKIM signs with it" :
		    "imported: published until drain is over") == NULL ||
		    dk_buf_printf(&d->line, "%s+%s imported (%s %d) %s",
		    d->dk->n > 1 ? "; " : "", k.selector, dk_alg_name(k.alg),
		    k.bits, u->keys[i].signs ? "active" : "retiring") != 0)
			return -1;
		n++;
	}
	for (i = 0; i < u->ndoms; i++)
		if (!u->doms[i].skip && u->doms[i].dc == NULL &&
		    dk_buf_puts(&u->doms[i].line, "; added to dkimrot.yaml") !=
		    0)
			return -1;
	return 0;
}

/* "[rsa, ed25519]" when the domain's algorithms are not the defaults'. */
static const char *
algs_entry(const struct run *u, const struct dom *d)
{
	if (d->algs == u->r.cfg->defaults.algorithms)
		return NULL;
	if (d->algs == (DK_ALG_BIT(DK_ALG_RSA) | DK_ALG_BIT(DK_ALG_ED25519)))
		return "[rsa, ed25519]";
	return d->algs == DK_ALG_BIT(DK_ALG_RSA) ? "[rsa]" : "[ed25519]";
}

/* dkimrot.yaml with the new domains at the end of the list. */
static int
edit_config(struct run *u, struct dk_buf *out)
{
	const char **names = NULL, **algs = NULL;
	char *buf = NULL;
	size_t i, n = 0, len;
	int rc = -1;

	names = calloc(u->ndoms + 1, sizeof(*names));
	algs = calloc(u->ndoms + 1, sizeof(*algs));
	if (names == NULL || algs == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	for (i = 0; i < u->ndoms; i++) {
		if (u->doms[i].skip || u->doms[i].dc != NULL)
			continue;
		names[n] = u->doms[i].name;
		algs[n++] = algs_entry(u, &u->doms[i]);
	}
	if (n == 0) {
		rc = 1;
		goto done;
	}
	if ((rc = dk_tree_read(u->r.path, DK_CONFIG_FILE, DK_CONFIG_MAX_SIZE,
	    &buf, &len)) != 0)
		goto done;
	rc = dk_config_edit_append(buf, len, names, algs, n, out);
done:
	free(buf);
	free(names);
	free(algs);
	return rc;
}

/* Writes every key, every keys.yaml and dkimrot.yaml; one commit. */
static int
execute(struct run *u, const struct dk_buf *yaml, time_t now)
{
	struct dk_strlist paths = { 0 };
	struct dk_buf msg = { 0 };
	char t[DK_TIME_LEN];
	struct dom *d;
	bool committed;
	size_t i;
	int rc = -1;

	if (dk_keyrepo_begin(&u->r) != 0)
		goto done;
	for (i = 0; i < u->t.nkeys; i++) {
		d = &u->doms[u->dom_of[i]];
		if (d->skip || !u->keys[i].keep)
			continue;
		if (dk_keyrepo_write_key(&u->r, d->name,
		    u->t.keys[i].selector, u->keys[i].key, &d->pol,
		    &paths, NULL) != 0)
			goto fail;
	}
	dk_time_format(now, t);
	if (dk_buf_printf(&msg, "dkimrot import --opendkim at %s\n\n", t) != 0)
		goto fail;
	for (i = 0; i < u->ndoms; i++) {
		d = &u->doms[i];
		if (d->skip)
			continue;
		if (dk_rotate_apply(&u->r, d->dk, &d->pol, &d->plan, NULL,
		    &paths) != 0 || dk_buf_printf(&msg, "%s\n",
		    d->line.data) != 0)
			goto fail;
	}
	if (yaml->len > 0 && (dk_config_edit_save(u->r.path, yaml) != 0 ||
	    dk_strlist_add(&paths, DK_CONFIG_FILE) != 0))
		goto fail;
	rc = dk_keyrepo_commit(&u->r, &paths, msg.data, now, &committed);
	goto done;
fail:
	/* The journal stays: the next run rolls the work tree back. */
	u->r.partial = true;
done:
	dk_buf_dispose(&msg);
	dk_strlist_dispose(&paths);
	return rc;
}

/* The refusals, each on its own line, then exit 2. */
static int
report(struct run *u)
{
	size_t i;

	for (i = 0; i < u->errors.n; i++)
		dk_log_error("%s", u->errors.v[i]);
	for (i = 0; i < u->t.errors.n; i++)
		dk_log_error("%s", u->t.errors.v[i]);
	dk_error_set("nothing imported: %zu entr%s cannot be mapped",
	    u->errors.n + u->t.errors.n, u->errors.n + u->t.errors.n == 1 ?
	    "y" : "ies");
	return DK_EUSAGE;
}

/* Checks everything, writes nothing: 0, a refusal, or -1. */
static int
prepare(struct run *u, time_t now)
{
	int rc;

	if ((rc = dk_import_read_table(u, u->o.keytable, true)) == -1)
		return -1;
	if (rc == DK_EUSAGE && u->t.errors.n == 0)
		return DK_EUSAGE;	/* unreadable: the message is set */
	if (rc == 0 && u->o.signingtable != NULL &&
	    (rc = dk_import_read_table(u, u->o.signingtable, false)) == -1)
		return -1;
	if (rc == DK_EUSAGE && u->t.errors.n == 0)
		return DK_EUSAGE;
	if (u->t.errors.n > 0)
		return report(u);
	if (dk_import_load_keys(u, u->o.keytable) != 0 || dk_import_group(u) != 0 ||
	    dk_import_choose(u) != 0)
		return -1;
	if (u->errors.n > 0)
		return report(u);
	if ((rc = dk_keyrepo_open(&u->r, dk_cli_repo(), DK_KEYREPO_CONFIG |
	    (u->o.dry_run ? 0 : DK_KEYREPO_LOCK), u->o.wait)) != 0)
		return rc;
	if (check_domains(u) != 0 || (rc = check_dns(u)) != 0)
		return rc != 0 ? rc : -1;
	if (u->errors.n > 0)
		return report(u);
	return plan(u, now);
}

static void
run_dispose(struct run *u)
{
	size_t i;

	for (i = 0; u->keys != NULL && i < u->t.nkeys; i++)
		dk_key_free(u->keys[i].key);
	for (i = 0; u->doms != NULL && i < u->ndoms; i++) {
		dk_domain_keys_free(u->doms[i].dk);
		dk_plan_dispose(&u->doms[i].plan);
		dk_buf_dispose(&u->doms[i].line);
	}
	free(u->keys);
	free(u->doms);
	free(u->dom_of);
	dk_odkim_dispose(&u->t);
	dk_strlist_dispose(&u->errors);
	dk_keyrepo_dispose(&u->r);
}

int
cmd_import_opendkim(int argc, char **argv)
{
	struct dk_buf yaml = { 0 };
	time_t now = dk_clock_now();
	struct run u;
	size_t i;
	int rc;

	memset(&u, 0, sizeof(u));
	if ((rc = parse(argc, argv, &u.o)) != 0)
		return rc == 1 ? DK_EXIT_OK : rc;
	if ((rc = prepare(&u, now)) != 0)
		goto done;
	if ((rc = edit_config(&u, &yaml)) < 0)
		goto done;
	for (i = 0; i < u.ndoms; i++)
		if (!u.doms[i].skip)
			printf("%s\n", u.doms[i].line.data);
	if (u.o.dry_run) {
		dk_log_info("dry run: nothing was changed");
		rc = 0;
		goto done;
	}
	rc = execute(&u, &yaml, now);
done:
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	dk_buf_dispose(&yaml);
	run_dispose(&u);
	return dk_error_exit(rc);
}
