/*
 * dkimrot check: what the name servers serve against the key repository
 * (check/check.h), as text, JSON or one Nagios status line.  Reads only;
 * takes no lock.  Name servers: --nameserver, else every name server
 * dkimrot.yaml names (dns.nameservers, dns.primary, dns.secondaries),
 * never the system resolver (its cache can hand out a record the name
 * servers no longer serve, or not yet, and it cannot say which name
 * server is wrong).
 */
#include <sys/socket.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/milter.h"
#include "common/cli.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "common/name.h"
#include "common/strlist.h"
#include "rotator/keyrepo.h"
#include "rotator/keys.h"
#include "rotator/vault.h"

enum format { TEXT, JSON, NAGIOS };

struct opts {
	struct dk_strlist	 domains;
	struct dk_strlist	 servers;	/* as given */
	struct dk_strlist	 milters;	/* --milter */
	struct dk_check_opts	 check;
	enum format		 format;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dkimrot check [--nameserver ADDR[:PORT]]... "
	    "[--json | --nagios]\n"
	    "                     [--domain DOMAIN]... [--timeout MS] "
	    "[--warn-age DUR]\n"
	    "                     [--crit-age DUR] [--milter SOCKET]...\n"
	    "\n"
	    "Asks every name server for every key of every domain: published "
	    "keys must be\n"
	    "served with the p= of their private key, revoked ones with p= "
	    "empty, retired\n"
	    "ones not at all; libopendkim verifies a message signed with "
	    "each active key.\n"
	    "With dns.publish zones or rfc2136, also each domain's DKIM "
	    "zone serial at every\n"
	    "server: WARNING behind the newest, CRITICAL past "
	    "dns.max_serial_lag.\n"
	    "Exit 0 when all is well, 1 on any problem (--nagios: 0 OK, 1 "
	    "WARNING,\n"
	    "2 CRITICAL, 3 UNKNOWN).\n"
	    "\n"
	    "  -n, --nameserver A  ask this server (repeatable; default: "
	    "dns.nameservers,\n"
	    "                      dns.primary, dns.secondaries)\n"
	    "  -j, --json          machine-readable (schema in dkimrot(1))\n"
	    "      --nagios        one status line with performance data\n"
	    "  -d, --domain D      only this domain (repeatable)\n"
	    "  -t, --timeout MS    per lookup (default %d)\n"
	    "  -w, --warn-age DUR  active key older: WARNING (default: "
	    "rotate_every +\n"
	    "                      publish_lead + 2d)\n"
	    "  -c, --crit-age DUR  active key older: CRITICAL (default "
	    "180d)\n"
	    "  -m, --milter S      also have the running signing milter at "
	    "S (inet:PORT@ADDR,\n"
	    "                      unix:PATH) sign a message of every "
	    "domain, and verify\n"
	    "                      each signature through the name servers "
	    "(repeatable)\n", DK_CHECK_TIMEOUT_MS);
	fputs(DK_VAULT_HELP, f);
}

/* Printable ASCII only; '|' would end a Nagios status text. */
static void
text(const char *s, int nagios)
{
	for (; *s != '\0'; s++)
		putchar(*s < 0x20 || *s > 0x7e || (nagios && *s == '|') ?
		    '?' : *s);
}

/* "example.com 20261122131500 @192.0.2.53:53: message", no newline */
static void
describe(const struct dk_check_opts *o, const struct dk_check_result *r,
    int nagios)
{
	printf("%s %s ", r->domain, r->selector[0] ? r->selector : "-");
	if (r->server >= 0)
		printf("@%s: ", o->servers[r->server].text);
	else
		printf("-: ");
	text(r->message, nagios);
}

static void
summary(const struct dk_check_opts *o, const struct dk_check_report *rep)
{
	printf("%zu key%s on %zu server%s", rep->nkeys,
	    rep->nkeys == 1 ? "" : "s", o->nservers,
	    o->nservers == 1 ? "" : "s");
}

static void
out_text(const struct dk_check_opts *o, const struct dk_check_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++) {
		printf("%s ", dk_check_status_name(rep->results[i].status));
		describe(o, &rep->results[i], 0);
		putchar('\n');
	}
	printf("DKIM %s: ", dk_check_status_name(rep->status));
	summary(o, rep);
	printf(", %zu checks: %zu OK, %zu WARNING, %zu CRITICAL, %zu "
	    "UNKNOWN\n", rep->n, rep->counts[0], rep->counts[1],
	    rep->counts[2], rep->counts[3]);
}

/*
 * Monitoring-plugins conventions: one status line "DKIM STATE - text |
 * perfdata", then every problem on a line of its own (long output).
 */
static void
out_nagios(const struct dk_check_opts *o, const struct dk_check_report *rep)
{
	const struct dk_check_result *r, *first = NULL;
	size_t i, problems = rep->n - rep->counts[DK_CHECK_OK];

	for (i = 0; i < rep->n && first == NULL; i++)
		if (rep->results[i].status == rep->status &&
		    rep->status != DK_CHECK_OK)
			first = &rep->results[i];
	printf("DKIM %s - ", dk_check_status_name(rep->status));
	if (first == NULL)
		summary(o, rep);
	else {
		describe(o, first, 1);
		if (problems > 1)
			printf(" (%zu problems)", problems);
	}
	printf(" | keys=%zu;;;0 servers=%zu;;;0 warning=%zu;;;0 "
	    "critical=%zu;;;0 unknown=%zu;;;0", rep->nkeys, o->nservers,
	    rep->counts[DK_CHECK_WARNING], rep->counts[DK_CHECK_CRITICAL],
	    rep->counts[DK_CHECK_UNKNOWN]);
	if (rep->age_max >= 0)
		printf(" age_max=%llds;%lld;%lld;0", rep->age_max,
		    rep->warn_min, rep->crit_age);
	/* WARNING when more than 0 behind, CRITICAL past the lag */
	if (rep->lag_max >= 0)
		printf(" serial_lag=%lld;0;%d;0", rep->lag_max, rep->max_lag);
	putchar('\n');
	for (i = 0; i < rep->n; i++) {
		r = &rep->results[i];
		if (r->status == DK_CHECK_OK)
			continue;
		printf("%s ", dk_check_status_name(r->status));
		describe(o, r, 1);
		putchar('\n');
	}
}

static void
out_json(const struct dk_check_opts *o, const struct dk_check_report *rep,
    time_t now)
{
	const struct dk_check_result *r;
	char t[DK_TIME_LEN];
	size_t i;

	dk_time_format(now, t);
	printf("{\"now\": \"%s\", \"status\": \"%s\",\n \"servers\": [", t,
	    dk_check_status_name(rep->status));
	for (i = 0; i < o->nservers; i++) {
		printf("%s", i ? ", " : "");
		dk_json_quote(stdout, o->servers[i].text);
	}
	printf("], \"keys\": %zu,\n \"counts\": {\"OK\": %zu, \"WARNING\": "
	    "%zu, \"CRITICAL\": %zu, \"UNKNOWN\": %zu},\n \"checks\": [",
	    rep->nkeys, rep->counts[0], rep->counts[1], rep->counts[2],
	    rep->counts[3]);
	for (i = 0; i < rep->n; i++) {
		r = &rep->results[i];
		printf("%s\n  {\"domain\": ", i ? "," : "");
		dk_json_quote(stdout, r->domain);
		printf(", \"selector\": ");
		if (r->selector[0])
			dk_json_quote(stdout, r->selector);
		else
			printf("null");
		if (r->serial == -2)
			printf(", \"algorithm\": \"%s\"", dk_alg_name(r->alg));
		else
			printf(", \"algorithm\": null");
		printf(", \"state\": ");
		if (r->state >= 0)
			printf("\"%s\"", dk_state_name(r->state));
		else
			printf("null");
		printf(", \"age\": ");
		if (r->age >= 0)
			printf("%lld", r->age);
		else
			printf("null");
		printf(", \"server\": ");
		if (r->server >= 0)
			dk_json_quote(stdout, o->servers[r->server].text);
		else
			printf("null");
		if (r->serial >= 0)
			printf(", \"serial\": %lld", r->serial);
		else if (r->serial == -1)
			printf(", \"serial\": null");
		printf(", \"status\": \"%s\", \"message\": ",
		    dk_check_status_name(r->status));
		dk_json_quote(stdout, r->message);
		putchar('}');
	}
	printf("%s]}\n", rep->n ? "\n " : "");
}

/* A failure before any check ran: exit 2, or Nagios UNKNOWN. */
static int
fail(const struct opts *o, int rc)
{
	if (o->format == NAGIOS) {
		printf("DKIM UNKNOWN - ");
		text(dk_error_last(), 1);
		putchar('\n');
		return DK_CHECK_UNKNOWN;
	}
	dk_log_error("%s", dk_error_last());
	return dk_error_exit(rc);
}

/*
 * The name servers dkimrot.yaml names: dns.nameservers, the primary
 * that takes the updates, the secondaries the zones are transferred to.
 * A lagging secondary serves old records to whoever asks it, so check
 * asks it whether or not dns.nameservers lists it (docs/design.md §13).
 */
static int
configured(const struct dk_config *cfg, struct dk_strlist *out)
{
	const struct dk_nameserver *ns;
	char buf[DK_DNS_SERVER_MAX];
	size_t i;

	for (i = 0; i < cfg->nnameservers; i++)
		if (dk_strlist_add(out, cfg->nameservers[i]) != 0)
			return -1;
	if (cfg->primary != NULL && dk_strlist_add(out, cfg->primary) != 0)
		return -1;
	for (i = 0; i < cfg->nsecondaries; i++) {
		ns = &cfg->secondaries[i];
		snprintf(buf, sizeof(buf), ns->family == AF_INET6 ?
		    "[%s]:%u" : "%s:%u", ns->addr, (unsigned)ns->port);
		if (dk_strlist_add(out, buf) != 0)
			return -1;
	}
	return 0;
}

/* --nameserver, else those of dkimrot.yaml; each once, in order. */
static int
servers(const struct opts *o, const struct dk_config *cfg,
    struct dk_dns_server **out, size_t *n)
{
	struct dk_strlist conf = { 0 };
	const struct dk_strlist *v = &o->servers;
	struct dk_dns_server *s = NULL;
	size_t i, j;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (v->n == 0) {
		if (configured(cfg, &conf) != 0)
			goto done;
		v = &conf;
	}
	if (v->n == 0) {
		dk_error_set("no name server to ask: give --nameserver or set "
		    "dns.nameservers in dkimrot.yaml");
		rc = DK_EUSAGE;
		goto done;
	}
	if ((s = calloc(v->n, sizeof(*s))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	for (i = 0; i < v->n; i++) {
		if ((rc = dk_dns_server_parse(v->v[i], &s[*n])) != 0)
			goto done;
		for (j = 0; j < *n; j++)
			if (strcmp(s[j].text, s[*n].text) == 0)
				break;
		if (j == *n)
			(*n)++;
	}
	*out = s;
	s = NULL;
	rc = 0;
done:
	if (rc != 0)
		*n = 0;
	free(s);
	dk_strlist_dispose(&conf);
	return rc;
}

static int
run(struct opts *o)
{
	struct dk_check_report rep;
	struct dk_dns_server *srv = NULL;
	struct dk_keyrepo r;
	time_t now = dk_clock_now();
	int rc;

	if ((rc = dk_keyrepo_open(&r, dk_cli_repo(), DK_KEYREPO_CONFIG,
	    0)) != 0)
		return fail(o, rc);
	if ((rc = servers(o, r.cfg, &srv, &o->check.nservers)) != 0) {
		rc = fail(o, rc);
		goto done;
	}
	o->check.servers = srv;
	/* common/dns.h: a TCP peer that resets the connection raises SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = dk_check_run(r.path, r.cfg, o->domains.v, o->domains.n,
	    &o->check, now, &rep)) != 0) {
		rc = fail(o, rc);
		goto done;
	}
	if (o->milters.n > 0 && (rc = dk_check_milter(r.path, r.cfg,
	    o->domains.v, o->domains.n, o->milters.v, o->milters.n, &o->check,
	    now, &rep)) != 0) {
		dk_check_report_dispose(&rep);
		rc = fail(o, rc);
		goto done;
	}
	if (o->format == NAGIOS) {
		out_nagios(&o->check, &rep);
		rc = rep.status;
	} else {
		if (o->format == JSON)
			out_json(&o->check, &rep, now);
		else
			out_text(&o->check, &rep);
		rc = rep.status == DK_CHECK_OK ? DK_EXIT_OK : DK_EXIT_FAIL;
	}
	dk_check_report_dispose(&rep);
done:
	free(srv);
	dk_keyrepo_dispose(&r);
	return rc;
}

/* One option; -1 for a bad value (the message in the error buffer). */
static int
option(struct opts *o, int ch, char *arg)
{
	char *end;
	long v;

	switch (ch) {
	case 'c':
	case 'w':
		return dk_duration_parse(arg, ch == 'c' ? &o->check.crit_age :
		    &o->check.warn_age) != 0 ? -1 : 0;
	case 'd':
		if (dk_name_domain(arg) != 0)
			return -1;
		return dk_strlist_add(&o->domains, arg);
	case 'G':
	case 'j':
		if (o->format != TEXT) {
			dk_error_set("--json and --nagios exclude each other");
			return -1;
		}
		o->format = ch == 'G' ? NAGIOS : JSON;
		return 0;
	case 'm':
		if (dk_milter_spec_check(arg) != 0)
			return -1;
		return dk_strlist_add(&o->milters, arg);
	case 'n':
		return dk_strlist_add(&o->servers, arg);
	case 't':
		v = strtol(arg, &end, 10);
		if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || v < 1 ||
		    v > 60000) {
			dk_error_set("bad timeout '%s': milliseconds from 1 to "
			    "60000", arg);
			return -1;
		}
		o->check.timeout_ms = (int)v;
		return 0;
	}
	dk_error_set("bad usage; see 'dkimrot check --help'");
	return -1;
}

int
cmd_check(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "crit-age",	required_argument,	NULL, 'c' },
		{ "domain",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "milter",	required_argument,	NULL, 'm' },
		{ "nagios",	no_argument,		NULL, 'G' },
		{ "nameserver",	required_argument,	NULL, 'n' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "warn-age",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct opts o;
	int ch, bad = 0, rc;

	memset(&o, 0, sizeof(o));
	o.check.timeout_ms = DK_CHECK_TIMEOUT_MS;
	/* Every option first: --nagios decides how an error is told. */
	while ((ch = getopt_long(argc, argv, "c:d:hjm:n:t:w:", lopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			usage(stdout);
			rc = DK_EXIT_OK;
			goto done;
		}
		if (option(&o, ch, optarg) != 0 && !bad)
			bad = ch == '?' || ch == ':' ? 2 : 1;
	}
	if (!bad && optind != argc) {
		dk_error_set("unexpected argument '%s'", argv[optind]);
		bad = 2;
	}
	if (bad == 2 && o.format != NAGIOS) {
		usage(stderr);
		rc = DK_EXIT_USAGE;
	} else if (bad)
		rc = fail(&o, DK_EUSAGE);
	else
		rc = run(&o);
done:
	dk_strlist_dispose(&o.domains);
	dk_strlist_dispose(&o.servers);
	dk_strlist_dispose(&o.milters);
	return rc;
}
