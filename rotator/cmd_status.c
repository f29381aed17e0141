/*
 * dkimrot status: every configured domain's keys, their states and ages,
 * and when each may next change (the policy's plan at NOW, docs/design.md §4).
 * Reads only; takes no lock.  --json: the schema of docs/design.md §6, extended
 * with "age" and "next" (documented in dkimrot(1)).  With dns.publish
 * zones the text ends with the NS records that delegate the DKIM zones of
 * the domains shown, for a domain added since init (§13); -q leaves them
 * out.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "common/name.h"
#include "common/strlist.h"
#include "rotator/policy.h"
#include "rotator/keyrepo.h"
#include "rotator/leaving.h"
#include "rotator/remote.h"
#include "rotator/store.h"
#include "rotator/vault.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot status [--json] [--domain DOMAIN]...\n"
	    "\n"
	    "Shows every configured domain's keys, their states and ages, "
	    "and when each\n"
	    "may next change at NOW (--now).  Changes nothing.\n"
	    "\n"
	    "  -j, --json        machine-readable (schema in dkimrot(1))\n"
	    "  -d, --domain D    only this domain (repeatable)\n");
	fputs(DK_VAULT_HELP, f);
}

static void
jtime(time_t t)
{
	char buf[DK_TIME_LEN];

	if (t == 0) {
		fputs("null", stdout);
		return;
	}
	dk_time_format(t, buf);
	printf("\"%s\"", buf);
}

/* What happens next to key sel: an action due now, or the plan's WAIT. */
static const struct dk_action *
next_for(const struct dk_plan *plan, const struct dk_keyinfo *k)
{
	const struct dk_action *a;
	size_t i;

	for (i = 0; i < plan->n; i++) {
		a = &plan->actions[i];
		if (a->type != DK_ACT_WAIT && a->type != DK_ACT_GENERATE &&
		    a->alg == k->alg && strcmp(a->selector, k->selector) == 0)
			return a;
	}
	return dk_plan_find(plan, DK_ACT_WAIT, k->alg, k->selector);
}

static const char *
target(const struct dk_action *a)
{
	switch (a->type) {
	case DK_ACT_ACTIVATE:
		return "active";
	case DK_ACT_DEACTIVATE:
		return "retiring";
	case DK_ACT_RETIRE:
		return "retired";
	case DK_ACT_REVOKE:
		return "revoked";
	case DK_ACT_NEED_DNS:
		return "active";
	default:
		return dk_state_name(a->to);
	}
}

static void
json_next(const struct dk_action *a, time_t now)
{
	if (a == NULL) {
		fputs("null", stdout);
		return;
	}
	printf("{\"state\": ");
	dk_json_quote(stdout, target(a));
	printf(", \"at\": ");
	jtime(a->type == DK_ACT_WAIT ? a->at : now);
	printf(", \"reason\": ");
	dk_json_quote(stdout, a->reason);
	putchar('}');
}

/*
 * The active key of alg when it is not what the configuration makes now
 * (rsa_bits changed since it was made; policy.h rule 7), else NULL.
 */
static const struct dk_keyinfo *
outdated(const struct dk_domain_keys *dk, enum dk_alg alg,
    const struct dk_policy *pol)
{
	const struct dk_keyinfo *k;
	size_t i;

	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		if (k->alg == alg && k->state == DK_STATE_ACTIVE)
			return dk_policy_current(k, pol) ? NULL : k;
	}
	return NULL;
}

/* When the track's next key is due: its WAIT, 0 when due now or unknown. */
static time_t
next_rotation(const struct dk_plan *plan, enum dk_alg alg)
{
	const struct dk_action *a;

	a = dk_plan_find(plan, DK_ACT_WAIT, alg, "");
	return a != NULL ? a->at : 0;
}

/*
 * "changes": the settings that wait for the next rotation, per track:
 * [{"algorithm": "rsa", "setting": "rsa_bits", "from": 2048, "to":
 * 4096, "at": "..."}]; at is null when a rotation is under way already.
 */
static void
json_changes(const struct dk_domain_keys *dk, const struct dk_plan *plan,
    const struct dk_policy *pol)
{
	const struct dk_keyinfo *k;
	int n = 0;

	printf(", \"changes\": [");
	if ((k = outdated(dk, DK_ALG_RSA, pol)) != NULL &&
	    (pol->algorithms & DK_ALG_BIT(DK_ALG_RSA))) {
		printf("%s{\"algorithm\": \"rsa\", \"setting\": "
		    "\"rsa_bits\", \"from\": %d, \"to\": %d, \"at\": ",
		    n++ ? ", " : "", k->bits, pol->rsa_bits);
		jtime(next_rotation(plan, DK_ALG_RSA));
		putchar('}');
	}
	putchar(']');
}

/* The same, in words. */
static void
text_changes(const struct dk_domain_keys *dk, const struct dk_plan *plan,
    const struct dk_policy *pol)
{
	const struct dk_keyinfo *k;
	char at[DK_TIME_LEN];
	time_t t;

	if ((k = outdated(dk, DK_ALG_RSA, pol)) == NULL ||
	    !(pol->algorithms & DK_ALG_BIT(DK_ALG_RSA)))
		return;
	if ((t = next_rotation(plan, DK_ALG_RSA)) == 0) {
		printf("  rsa_bits %d (active key %s has %d) takes effect "
		    "with the rotation under way\n", pol->rsa_bits,
		    k->selector, k->bits);
		return;
	}
	dk_time_format(t, at);
	printf("  rsa_bits %d (active key %s has %d) takes effect at the "
	    "next rotation, %s;\n  'dkimrot rotate --start' brings it "
	    "forward\n", pol->rsa_bits, k->selector, k->bits, at);
}

/*
 * Rule 8: when a leaving domain is gone from DNS and the packages: the
 * latest time its keys wait to retire, or that they retired; 0 when a
 * key waits for something other than the clock.  *gone: already.
 */
static time_t
gone_at(const struct dk_domain_keys *dk, const struct dk_plan *plan,
    bool *gone)
{
	const struct dk_action *a;
	time_t t = 0;
	size_t i;

	*gone = true;
	for (i = 0; i < dk->n; i++) {
		if (dk->keys[i].state == DK_STATE_RETIRED) {
			if (dk->keys[i].retired > t)
				t = dk->keys[i].retired;
			continue;
		}
		*gone = false;
	}
	if (*gone)
		return t;
	t = 0;
	for (i = 0; i < plan->n; i++) {
		a = &plan->actions[i];
		if (a->type == DK_ACT_RETIRE)
			t = t > plan->now ? t : plan->now;
		if (a->type != DK_ACT_WAIT || a->to != DK_STATE_RETIRED)
			continue;
		if (a->at == 0)
			return 0;
		if (a->at > t)
			t = a->at;
	}
	return t;
}

/* "leaving": null, or {"since": ..., "gone": ..., "resumes": bool}. */
static void
json_leaving(const struct dk_domain_keys *dk, const struct dk_plan *plan)
{
	bool gone;
	time_t t;

	printf(", \"leaving\": ");
	if (dk->leaving == 0) {
		fputs("null", stdout);
		return;
	}
	printf("{\"since\": ");
	jtime(dk->leaving);
	t = gone_at(dk, plan, &gone);
	printf(", \"gone\": ");
	jtime(t);
	printf(", \"resumes\": %s}", dk_plan_find(plan, DK_ACT_RESUME,
	    DK_ALG_RSA, "") != NULL ? "true" : "false");
}

static void
text_leaving(const struct dk_domain_keys *dk, const struct dk_plan *plan)
{
	char since[DK_TIME_LEN], at[DK_TIME_LEN];
	bool gone;
	time_t t;

	if (dk->leaving == 0)
		return;
	dk_time_format(dk->leaving, since);
	if (dk_plan_find(plan, DK_ACT_RESUME, DK_ALG_RSA, "") != NULL) {
		printf("  leaving since %s, but back in dkimrot.yaml: "
		    "resumes at the next rotate\n", since);
		return;
	}
	t = gone_at(dk, plan, &gone);
	if (t != 0)
		dk_time_format(t, at);
	if (gone)
		printf("  left: removed %s, out of DNS and the packages "
		    "since %s\n", since, t != 0 ? at : "its removal");
	else if (t != 0)
		printf("  leaving: removed %s, signs no more; gone from DNS "
		    "and the packages at %s\n", since, at);
	else
		printf("  leaving: removed %s, signs no more; its keys wait "
		    "to retire\n", since);
}

static void
json_domain(const struct dk_domain_keys *dk, const struct dk_plan *plan,
    const struct dk_policy *pol, time_t now, int first)
{
	const struct dk_keyinfo *k;
	size_t i;

	printf("%s\n  {\"domain\": ", first ? "" : ",");
	dk_json_quote(stdout, dk->domain);
	printf(", \"keys\": [");
	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		printf("%s\n    {\"selector\": ", i ? "," : "");
		dk_json_quote(stdout, k->selector);
		printf(", \"algorithm\": \"%s\", \"bits\": %d, \"state\": "
		    "\"%s\", \"created\": ", dk_alg_name(k->alg), k->bits,
		    dk_state_name(k->state));
		jtime(k->created);
		printf(", \"published\": ");
		jtime(k->published);
		printf(", \"active_from\": ");
		jtime(k->active_from);
		printf(", \"active_until\": ");
		jtime(k->active_until);
		printf(", \"retired\": ");
		jtime(k->retired);
		printf(", \"revoked\": ");
		jtime(k->revoked);
		printf(", \"age\": %lld, \"next\": ",
		    (long long)(now - k->created));
		json_next(k->state == DK_STATE_RETIRED ? NULL :
		    next_for(plan, k), now);
		putchar('}');
	}
	printf("%s]", dk->n ? "\n  " : "");
	json_changes(dk, plan, pol);
	json_leaving(dk, plan);
	putchar('}');
}

static void
text_domain(const struct dk_domain_keys *dk, const struct dk_plan *plan,
    const struct dk_policy *pol, time_t now)
{
	const struct dk_action *a;
	const struct dk_keyinfo *k;
	char age[32], at[DK_TIME_LEN];
	size_t i;

	printf("%s\n", dk->domain);
	text_leaving(dk, plan);
	if (dk->n == 0)
		printf("  no keys yet\n");
	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		/*
		 * A key created after NOW (status --now in the past) is
		 * not 0s old: its age is negative, shown as such.
		 */
		if (k->created > now) {
			age[0] = '-';
			dk_duration_format(k->created - now, age + 1,
			    sizeof(age) - 1);
		} else
			dk_duration_format(now - k->created, age, sizeof(age));
		printf("  %-16s %-7s %4d  %-8s age %-8s", k->selector,
		    dk_alg_name(k->alg), k->bits, dk_state_name(k->state),
		    age);
		a = k->state == DK_STATE_RETIRED ? NULL : next_for(plan, k);
		if (a == NULL)
			printf("\n");
		else if (a->type != DK_ACT_WAIT || a->at == 0 || a->at <= now)
			printf("  -> %s: %s\n", target(a), a->reason);
		else {
			dk_time_format(a->at, at);
			printf("  -> %s at %s\n", target(a), at);
		}
	}
	for (i = 0; i < plan->n; i++) {
		a = &plan->actions[i];
		if (a->type == DK_ACT_GENERATE)
			printf("  next key: due now (%s)\n", a->reason);
		else if (a->type == DK_ACT_WAIT && a->selector[0] == '\0' &&
		    a->at != 0) {
			dk_time_format(a->at, at);
			printf("  next %s key: %s\n", dk_alg_name(a->alg), at);
		}
	}
	text_changes(dk, plan, pol);
}

/*
 * "remote 'URL' branch 'main': up to date", or "ahead 1", "behind 2",
 * "diverged: ahead 1, behind 2" (docs/design.md §14).
 */
static int
show_remote(struct dk_keyrepo *r, int json)
{
	struct dk_remote_standing st;

	if (!dk_remote_configured(r))
		return 0;
	if (dk_remote_standing(r, &st) != 0) {
		dk_log_error("%s", dk_error_last());
		return DK_EXIT_FAIL;
	}
	if (json) {
		printf(" \"remote\": {\"url\": ");
		dk_json_quote(stdout, r->cfg->git_remote);
		printf(", \"branch\": ");
		dk_json_quote(stdout, r->cfg->git_branch);
		printf(", \"fetched\": %s, \"state\": \"%s\", \"ahead\": %zu, "
		    "\"behind\": %zu},\n", st.fetched ? "true" : "false",
		    st.state, st.ahead, st.behind);
		return 0;
	}
	printf("remote '%s' branch '%s': %s", r->cfg->git_remote,
	    r->cfg->git_branch, st.state);
	if (st.ahead > 0 && st.behind > 0)
		printf(": ahead %zu, behind %zu", st.ahead, st.behind);
	else if (st.ahead > 0 || st.behind > 0)
		printf(" %zu", st.ahead + st.behind);
	printf("%s\n", st.fetched ? "" : " (as last fetched)");
	return 0;
}

static int
show(struct dk_keyrepo *r, const struct dk_strlist *only, int json, time_t now)
{
	const struct dk_domain_conf *dc;
	struct dk_domain_keys *dk = NULL;
	struct dk_plan plan = { 0 };
	struct dk_plan_opts po = { .force = true };
	struct dk_leaving left = { 0 };
	struct dk_strlist shown = { 0 };
	size_t i, n;
	char t[DK_TIME_LEN];
	int rc, failed = 0;

	/* Leaving domains no longer configured, after the others. */
	if (dk_leaving_load(r->path, r->cfg, &left, NULL) != 0) {
		dk_log_error("%s", dk_error_last());
		return DK_EXIT_FAIL;
	}
	n = only->n ? only->n : r->cfg->ndomains + left.n;

	if (json) {
		dk_time_format(now, t);
		printf("{\"now\": \"%s\",\n", t);
	}
	failed = show_remote(r, json);
	if (json)
		printf(" \"domains\": [");
	for (i = 0; i < n; i++) {
		dc = !only->n ? i < r->cfg->ndomains ? &r->cfg->domains[i] :
		    &left.v[i - r->cfg->ndomains] :
		    dk_config_domain(r->cfg, only->v[i]) != NULL ?
		    dk_config_domain(r->cfg, only->v[i]) :
		    dk_leaving_find(&left, only->v[i]);
		if (dc == NULL) {
			dk_log_error("domain '%s' is not in %s", only->v[i],
			    DK_CONFIG_FILE);
			failed = DK_EXIT_USAGE;
			continue;
		}
		rc = dk_store_load(r->path, dc->name, &dk);
		/* Planned with DNS unchecked: status asks no name server. */
		po.dropped = dk_config_domain(r->cfg, dc->name) == NULL;
		if (rc == 0)
			rc = dk_policy_plan_opts(dk, &dc->policy, &po, now,
			    &plan);
		if (rc != 0) {
			dk_log_error("%s: %s", dc->name, dk_error_last());
			failed = failed ? failed : DK_EXIT_FAIL;
		} else if (json)
			json_domain(dk, &plan, &dc->policy, now, i == 0);
		else
			text_domain(dk, &plan, &dc->policy, now);
		if (!json && !po.dropped && dk_strlist_add(&shown,
		    dc->name) != 0)
			failed = DK_EXIT_FAIL;
		dk_plan_dispose(&plan);
		dk_domain_keys_free(dk);
		dk = NULL;
	}
	if (json)
		printf("\n ]}\n");
	else if (dk_log_level() >= DK_LOG_NORMAL &&
	    dk_config_delegation(r->cfg, (const char *const *)shown.v,
	    shown.n, stdout) != 0) {
		dk_log_error("%s", dk_error_last());
		failed = DK_EXIT_FAIL;
	}
	dk_strlist_dispose(&shown);
	dk_leaving_dispose(&left);
	return failed;
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL,		0,			NULL, 0 }
	};
	struct dk_strlist only = { 0 };
	struct dk_keyrepo r;
	int ch, json = 0, rc = DK_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "d:hj", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (dk_name_domain(optarg) != 0) {
				dk_log_error("%s", dk_error_last());
				goto done;
			}
			if (dk_strlist_add(&only, optarg) != 0) {
				rc = DK_EXIT_FAIL;
				goto done;
			}
			break;
		case 'h':
			usage(stdout);
			rc = DK_EXIT_OK;
			goto done;
		case 'j':
			json = 1;
			break;
		default:
			usage(stderr);
			goto done;
		}
	}
	if (optind != argc) {
		usage(stderr);
		goto done;
	}
	if ((rc = dk_keyrepo_open(&r, dk_cli_repo(), DK_KEYREPO_CONFIG,
	    0)) != 0) {
		dk_log_error("%s", dk_error_last());
		rc = dk_error_exit(rc);
		goto done;
	}
	rc = show(&r, &only, json, dk_clock_now());
	dk_keyrepo_dispose(&r);
done:
	dk_strlist_dispose(&only);
	return rc;
}
