#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/probe.h"
#include "check/serial.h"
#include "common/dktime.h"
#include "common/error.h"
#include "rotator/keys.h"
#include "rotator/output.h"
#include "rotator/store.h"

/* Lookups wait on the network far more than on the CPU. */
#define THREADS_MAX	16

/* One lookup to make, and what the key's age says beside it. */
struct job {
	struct dk_probe		 probe;
	size_t			 result;
	enum dk_check_status	 age_status;
	char			 age_msg[128];
};

struct run {
	const char		*repo;
	const struct dk_check_opts *opts;
	time_t			 now;
	struct dk_check_report	*rep;
	size_t			 capres;
	struct job		*jobs;
	size_t			 njobs;
	size_t			 capjobs;
	atomic_int		*silent;	/* per server */
	/* the zones' serials: nservers lookups per domain, in order */
	struct dk_serial_ref	 ref;
	struct dk_serial	*soas;
	size_t			 nsoas;
	size_t			 capsoas;
	atomic_size_t		 next;	/* the next job or lookup */
};

static const char *const status_names[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN"
};

const char *
dk_check_status_name(enum dk_check_status st)
{
	return (unsigned)st < 4 ? status_names[st] : "UNKNOWN";
}

enum dk_check_status
dk_check_worse(enum dk_check_status a, enum dk_check_status b)
{
	static const int rank[] = { 0, 2, 3, 1 };

	return rank[a] >= rank[b] ? a : b;
}

/*
 * A new result for domain (and key k, if not NULL) at the end of rep,
 * zeroed otherwise; *cap is the room of rep->results.
 */
struct dk_check_result *
dk_check_result_add(struct dk_check_report *rep, size_t *cap,
    const char *domain, const struct dk_keyinfo *k, int server, time_t now)
{
	struct dk_check_result *r;
	size_t n;

	if (rep->n == *cap) {
		n = *cap ? *cap * 2 : 64;
		if ((r = reallocarray(rep->results, n, sizeof(*r))) == NULL) {
			dk_error_set("out of memory");
			return NULL;
		}
		rep->results = r;
		*cap = n;
	}
	r = &rep->results[rep->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	r->state = -1;
	r->server = server;
	r->age = -1;
	r->serial = -2;
	if (k != NULL) {
		snprintf(r->selector, sizeof(r->selector), "%s", k->selector);
		r->alg = k->alg;
		r->state = (int)k->state;
		r->age = (long long)(now - k->created);
	}
	return r;
}

/*
 * The message is shown on terminals and in monitoring systems: bytes
 * that are not printable ASCII become '?'; a message too long for the
 * buffer ends in "...".
 */
void
dk_check_verdict(struct dk_check_result *r, enum dk_check_status st,
    const char *fmt, ...)
{
	va_list ap;
	size_t i;
	int n;

	r->status = st;
	va_start(ap, fmt);
	n = vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		r->message[0] = '\0';
	else if ((size_t)n >= sizeof(r->message))
		memcpy(r->message + sizeof(r->message) - 4, "...", 4);
	for (i = 0; r->message[i] != '\0'; i++)
		if (r->message[i] < 0x20 || r->message[i] > 0x7e)
			r->message[i] = '?';
}

static struct job *
add_job(struct run *w)
{
	struct job *j;
	size_t cap;

	if (w->njobs == w->capjobs) {
		cap = w->capjobs ? w->capjobs * 2 : 64;
		if ((j = reallocarray(w->jobs, cap, sizeof(*j))) == NULL) {
			dk_error_set("out of memory");
			return NULL;
		}
		w->jobs = j;
		w->capjobs = cap;
	}
	j = &w->jobs[w->njobs++];
	memset(j, 0, sizeof(*j));
	return j;
}

/* What an active key's age says: overdue for rotation, or far past it. */
static enum dk_check_status
age_verdict(long long age, long long warn, long long crit, char *msg,
    size_t len)
{
	char a[32], t[32];

	dk_duration_format(age, a, sizeof(a));
	if (age > crit) {
		dk_duration_format(crit, t, sizeof(t));
		snprintf(msg, len, "key is %s old (critical after %s)", a, t);
		return DK_CHECK_CRITICAL;
	}
	if (age > warn) {
		dk_duration_format(warn, t, sizeof(t));
		snprintf(msg, len, "key is %s old, rotation is overdue "
		    "(warning after %s)", a, t);
		return DK_CHECK_WARNING;
	}
	return DK_CHECK_OK;
}

/* A result of its own for each configured algorithm without an active key. */
static int
plan_missing(struct run *w, const struct dk_domain_conf *dc,
    const struct dk_domain_keys *dk)
{
	struct dk_check_result *r;
	const char *pending;
	bool active;
	size_t i;
	int a;

	for (a = 0; a < DK_ALG_COUNT; a++) {
		if (!(dc->policy.algorithms & DK_ALG_BIT(a)))
			continue;
		active = false;
		pending = NULL;
		for (i = 0; i < dk->n; i++) {
			if (dk->keys[i].alg != (enum dk_alg)a)
				continue;
			if (dk->keys[i].state == DK_STATE_ACTIVE)
				active = true;
			else if (dk->keys[i].state == DK_STATE_PENDING)
				pending = dk->keys[i].selector;
		}
		if (active)
			continue;
		if ((r = dk_check_result_add(w->rep, &w->capres, dc->name,
		    NULL, -1, w->now)) == NULL)
			return -1;
		r->alg = (enum dk_alg)a;
		r->status = pending ? DK_CHECK_WARNING : DK_CHECK_CRITICAL;
		if (pending)
			snprintf(r->message, sizeof(r->message), "no active %s "
			    "key yet; %s is pending", dk_alg_name(a), pending);
		else
			snprintf(r->message, sizeof(r->message), "no active %s "
			    "key", dk_alg_name(a));
	}
	return 0;
}

/* Anything of the domain in DNS (dk NULL: its keys could not be read)? */
static bool
in_dns(const struct dk_domain_keys *dk)
{
	size_t i;

	for (i = 0; dk != NULL && i < dk->n; i++)
		if (dk_state_published(dk->keys[i].state) ||
		    dk->keys[i].state == DK_STATE_REVOKED)
			return true;
	return dk == NULL;
}

/*
 * A result and a SOA lookup per server for the domain's DKIM zone; none
 * for a domain with nothing in DNS, which zones leaves out of the
 * package (packaging/render.c).
 */
static int
plan_serials(struct run *w, const char *domain,
    const struct dk_domain_keys *dk)
{
	struct dk_serial *s;
	size_t i, cap;

	if (!w->rep->serials || !in_dns(dk))
		return 0;
	for (i = 0; i < w->opts->nservers; i++) {
		if (w->nsoas == w->capsoas) {
			cap = w->capsoas ? w->capsoas * 2 : 64;
			if ((s = reallocarray(w->soas, cap,
			    sizeof(*s))) == NULL) {
				dk_error_set("out of memory");
				return -1;
			}
			w->soas = s;
			w->capsoas = cap;
		}
		if (dk_check_result_add(w->rep, &w->capres, domain, NULL,
		    (int)i, w->now) == NULL)
			return -1;
		s = &w->soas[w->nsoas++];
		memset(s, 0, sizeof(*s));
		s->server = &w->opts->servers[i];
		s->timeout_ms = w->opts->timeout_ms;
		s->silent = &w->silent[i];
		s->result = w->rep->n - 1;
	}
	return 0;
}

/* The results and lookups of one domain's keys. */
static int
plan_domain(struct run *w, const struct dk_domain_conf *dc,
    const struct dk_domain_keys *dk)
{
	const struct dk_check_opts *o = w->opts;
	struct dk_check_report *rep = w->rep;
	const struct dk_keyinfo *k;
	enum dk_check_status st;
	long long warn, crit;
	char msg[128];
	struct job *j;
	size_t i, s;

	warn = o->warn_age ? o->warn_age : dc->policy.rotate_every +
	    dc->policy.publish_lead + DK_CHECK_AGE_GRACE;
	crit = o->crit_age ? o->crit_age : DK_CHECK_CRIT_AGE;
	if (rep->warn_min == 0 || warn < rep->warn_min)
		rep->warn_min = warn;
	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		rep->nkeys++;
		st = DK_CHECK_OK;
		if (k->state == DK_STATE_ACTIVE) {
			st = age_verdict(w->now - k->created, warn, crit, msg,
			    sizeof(msg));
			if (w->now - k->created > rep->age_max)
				rep->age_max = w->now - k->created;
		}
		for (s = 0; s < o->nservers; s++) {
			if (dk_check_result_add(w->rep, &w->capres, dc->name, k,
			    (int)s, w->now) == NULL ||
			    (j = add_job(w)) == NULL)
				return -1;
			j->result = rep->n - 1;
			j->probe.repo = w->repo;
			j->probe.key = k;
			j->probe.server = &o->servers[s];
			j->probe.timeout_ms = o->timeout_ms;
			j->probe.lead_left = (long long)(k->published +
			    dc->policy.publish_lead - w->now);
			j->probe.silent = &w->silent[s];
			j->age_status = st;
			if (st != DK_CHECK_OK)
				memcpy(j->age_msg, msg, sizeof(msg));
		}
	}
	return plan_missing(w, dc, dk);
}

static void *
worker(void *arg)
{
	struct run *w = arg;
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->njobs + w->nsoas)
		if (i < w->njobs)
			dk_probe_run(&w->jobs[i].probe);
		else
			dk_serial_run(&w->soas[i - w->njobs]);
	return NULL;
}

/* All lookups, on up to THREADS_MAX threads, this one among them. */
static void
run_jobs(struct run *w)
{
	pthread_t tid[THREADS_MAX - 1];
	size_t i, n = 0, want;

	for (i = 0; i < w->njobs; i++)
		w->jobs[i].probe.out = &w->rep->results[w->jobs[i].result];
	for (i = 0; i < w->nsoas; i++)
		w->soas[i].out = &w->rep->results[w->soas[i].result];
	want = w->njobs + w->nsoas < THREADS_MAX ? w->njobs + w->nsoas :
	    THREADS_MAX;
	/* Fewer threads than wanted only makes it slower. */
	while (n + 1 < want && pthread_create(&tid[n], NULL, worker, w) == 0)
		n++;
	worker(w);
	for (i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
}

/* An active key's age joins what its lookups found. */
static void
merge_age(struct run *w)
{
	struct dk_check_result *r;
	struct job *j;
	char msg[DK_CHECK_MSG];
	size_t i;
	int n;

	for (i = 0; i < w->njobs; i++) {
		j = &w->jobs[i];
		r = &w->rep->results[j->result];
		if (j->age_status == DK_CHECK_OK)
			continue;
		if (r->status == DK_CHECK_OK)
			snprintf(r->message, sizeof(r->message), "%s",
			    j->age_msg);
		else {
			/* the lookup's finding first; the age may be cut */
			n = snprintf(msg, sizeof(msg), "%s; %s", r->message,
			    j->age_msg);
			if (n < 0 || (size_t)n >= sizeof(msg))
				memcpy(msg + sizeof(msg) - 4, "...", 4);
			memcpy(r->message, msg, sizeof(msg));
		}
		r->status = dk_check_worse(r->status, j->age_status);
	}
}

static int
check_domains(struct run *w, const struct dk_domain_conf **dcs, size_t n,
    struct dk_domain_keys **dks)
{
	struct dk_check_result *r;
	size_t i;

	long long lag;

	for (i = 0; i < n; i++) {
		if (dk_store_load(w->repo, dcs[i]->name, &dks[i]) == 0) {
			if (plan_domain(w, dcs[i], dks[i]) != 0 ||
			    plan_serials(w, dcs[i]->name, dks[i]) != 0)
				return -1;
			continue;
		}
		if ((r = dk_check_result_add(w->rep, &w->capres,
		    dcs[i]->name, NULL, -1, w->now)) == NULL)
			return -1;
		r->status = DK_CHECK_UNKNOWN;
		snprintf(r->message, sizeof(r->message), "%s",
		    dk_error_last());
		if (plan_serials(w, dcs[i]->name, NULL) != 0)
			return -1;
	}
	run_jobs(w);
	merge_age(w);
	for (i = 0; i < w->nsoas; i += w->opts->nservers) {
		lag = dk_serial_judge(&w->soas[i], w->opts->nservers, &w->ref);
		if (lag > w->rep->lag_max)
			w->rep->lag_max = lag;
	}
	return 0;
}

/*
 * What the zones' serials are compared with: the newest package that
 * `package` completed here (zones), dns.max_serial_lag, and which
 * server is the primary (rfc2136).
 */
static void
serial_ref(struct run *w, const char *repo, const struct dk_config *cfg)
{
	char commit[128];
	struct dk_dns_server p;
	size_t i;

	w->rep->serials = true;
	w->rep->max_lag = cfg->max_serial_lag;
	w->ref.mode = cfg->dns_publish;
	w->ref.max_lag = cfg->max_serial_lag;
	w->ref.primary = -1;
	if (cfg->dns_publish == DK_PUBLISH_ZONES &&
	    dk_output_stamp_read(repo, commit, sizeof(commit),
	    &w->ref.newest) != 0)
		w->ref.newest = 0;
	if (cfg->primary == NULL || dk_dns_server_parse(cfg->primary, &p) != 0)
		return;
	for (i = 0; i < w->opts->nservers; i++)
		if (strcmp(w->opts->servers[i].text, p.text) == 0)
			w->ref.primary = (int)i;
}

int
dk_check_run(const char *repo, const struct dk_config *cfg,
    char *const *domains, size_t ndomains, const struct dk_check_opts *opts,
    time_t now, struct dk_check_report *out)
{
	const struct dk_domain_conf **dcs = NULL;
	struct dk_domain_keys **dks = NULL;
	struct run w;
	size_t i, n = ndomains ? ndomains : cfg->ndomains;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	if (opts->nservers == 0 || opts->timeout_ms <= 0) {
		dk_error_set("no name server to check, or a bad timeout");
		return DK_EUSAGE;
	}
	w.repo = repo;
	w.opts = opts;
	w.now = now;
	w.rep = out;
	out->age_max = -1;
	out->lag_max = -1;
	if (cfg->dns_publish != DK_PUBLISH_INCLUDE)
		serial_ref(&w, repo, cfg);
	out->crit_age = opts->crit_age ? opts->crit_age : DK_CHECK_CRIT_AGE;
	if ((dcs = calloc(n + 1, sizeof(*dcs))) == NULL ||
	    (dks = calloc(n + 1, sizeof(*dks))) == NULL ||
	    (w.silent = calloc(opts->nservers, sizeof(*w.silent))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		dcs[i] = ndomains ? dk_config_domain(cfg, domains[i]) :
		    &cfg->domains[i];
		if (dcs[i] == NULL) {
			dk_error_set("domain '%s' is not in dkimrot.yaml",
			    domains[i]);
			rc = DK_EUSAGE;
			goto done;
		}
	}
	if (check_domains(&w, dcs, n, dks) != 0)
		goto done;
	for (i = 0; i < out->n; i++) {
		out->counts[out->results[i].status]++;
		out->status = dk_check_worse(out->status,
		    out->results[i].status);
	}
	rc = 0;
done:
	for (i = 0; dks != NULL && i < n; i++)
		dk_domain_keys_free(dks[i]);
	free(dks);
	free(dcs);
	free(w.silent);
	free(w.jobs);
	free(w.soas);
	if (rc != 0)
		dk_check_report_dispose(out);
	return rc;
}

void
dk_check_report_dispose(struct dk_check_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->results);
	memset(rep, 0, sizeof(*rep));
}
