/*
 * Unit tests of check/check.c without a name server: the states' order,
 * refused arguments, domains without an active key, and a server that
 * never answers (a UDP socket of ours that reads nothing), where the
 * active key's age still shows; and the verdicts on the DKIM zones'
 * serials (check/serial.h) from answers made up here.  The verdicts on
 * served records are tested end to end against NSD
 * (tests/e2e/check_breakage.sh), the serials against a lagging BIND
 * secondary (tests/e2e/dns_zones.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "check/serial.h"
#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "rotator/store.h"

#define T0	1795353300	/* 2026-11-22T13:15:00Z */
#define DAY	86400

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static struct dk_config *
config(const char *yaml)
{
	struct dk_config *cfg = NULL;

	assert_int_equal(dk_config_parse(yaml, strlen(yaml), "t.yaml", &cfg),
	    0);
	return cfg;
}

static void
server(const char *text, struct dk_dns_server *s)
{
	assert_int_equal(dk_dns_server_parse(text, s), 0);
}

static void
test_check__worse(void **state)
{
	static const struct {
		enum dk_check_status a, b, want;
	} t[] = {
		{ DK_CHECK_OK, DK_CHECK_OK, DK_CHECK_OK },
		{ DK_CHECK_OK, DK_CHECK_UNKNOWN, DK_CHECK_UNKNOWN },
		{ DK_CHECK_UNKNOWN, DK_CHECK_WARNING, DK_CHECK_WARNING },
		{ DK_CHECK_WARNING, DK_CHECK_UNKNOWN, DK_CHECK_WARNING },
		{ DK_CHECK_CRITICAL, DK_CHECK_WARNING, DK_CHECK_CRITICAL },
		{ DK_CHECK_UNKNOWN, DK_CHECK_CRITICAL, DK_CHECK_CRITICAL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(dk_check_worse(t[i].a, t[i].b), t[i].want);
	assert_string_equal(dk_check_status_name(DK_CHECK_OK), "OK");
	assert_string_equal(dk_check_status_name(DK_CHECK_WARNING),
	    "WARNING");
	assert_string_equal(dk_check_status_name(DK_CHECK_CRITICAL),
	    "CRITICAL");
	assert_string_equal(dk_check_status_name(DK_CHECK_UNKNOWN),
	    "UNKNOWN");
}

static void
test_check__refused(void **state)
{
	struct dk_config *cfg = config("domains:\n  - name: example.com\n");
	struct dk_dns_server s;
	struct dk_check_opts o = { &s, 1, 100, 0, 0 };
	struct dk_check_report rep;
	char *other[] = { "example.org" };

	server("127.0.0.1:9", &s);
	assert_int_equal(dk_check_run("/nonexistent", cfg, other, 1, &o, T0,
	    &rep), DK_EUSAGE);
	assert_string_equal(dk_error_last(),
	    "domain 'example.org' is not in dkimrot.yaml");
	assert_null(rep.results);
	o.nservers = 0;
	assert_int_equal(dk_check_run("/nonexistent", cfg, NULL, 0, &o, T0,
	    &rep), DK_EUSAGE);
	dk_config_free(cfg);
}

/* No keys yet: one result per configured algorithm, and no lookup. */
static void
test_check__no_active_key(void **state)
{
	struct dk_config *cfg = config("domains:\n  - name: example.org\n"
	    "    algorithms: [rsa, ed25519]\n");
	struct dk_dns_server s;
	struct dk_check_opts o = { &s, 1, 100, 0, 0 };
	struct dk_check_report rep;

	server("127.0.0.1:9", &s);
	assert_int_equal(dk_check_run("/nonexistent", cfg, NULL, 0, &o, T0,
	    &rep), 0);
	assert_int_equal(rep.n, 2);
	assert_int_equal(rep.nkeys, 0);
	assert_int_equal(rep.status, DK_CHECK_CRITICAL);
	assert_int_equal(rep.counts[DK_CHECK_CRITICAL], 2);
	assert_int_equal(rep.age_max, -1);
	assert_string_equal(rep.results[0].domain, "example.org");
	assert_string_equal(rep.results[0].selector, "");
	assert_int_equal(rep.results[0].server, -1);
	assert_int_equal(rep.results[0].state, -1);
	assert_string_equal(rep.results[0].message, "no active rsa key");
	assert_string_equal(rep.results[1].message, "no active ed25519 key");
	dk_check_report_dispose(&rep);
	dk_check_report_dispose(&rep);
	dk_check_report_dispose(NULL);
	dk_config_free(cfg);
}

static void
add(struct dk_domain_keys *dk, const char *sel, enum dk_state st, time_t cr)
{
	struct dk_keyinfo k;

	memset(&k, 0, sizeof(k));
	snprintf(k.selector, sizeof(k.selector), "%s", sel);
	k.alg = DK_ALG_RSA;
	k.bits = 1024;
	k.state = st;
	k.created = cr;
	k.published = cr;
	if (st != DK_STATE_PENDING)
		k.active_from = cr + DAY;
	if (st == DK_STATE_RETIRED) {
		k.active_until = cr + 30 * DAY;
		k.retired = cr + 35 * DAY;
	}
	assert_int_equal(dk_domain_keys_add(dk, &k), 0);
}

static void
put(const char *repo, const char *rel, mode_t mode)
{
	char path[512];

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	assert_int_equal(dk_file_create(path, "not read\n", 9, mode), 0);
}

/*
 * A server that never answers: CRITICAL for each key, each asked once
 * and the run waiting out the timeout (the queries are counted: a wall
 * clock's upper bound failed under valgrind on a loaded machine); the
 * 200 days old active key is CRITICAL for its age too, said after what
 * the lookup found.
 */
static void
test_check__silent_server(void **state)
{
	struct dk_config *cfg = config("domains:\n  - name: example.com\n");
	char repo[] = "/tmp/dk_t_check.XXXXXX", addr[32];
	struct dk_domain_keys *dk;
	struct dk_dns_server s;
	struct dk_check_opts o = { &s, 1, 300, 0, 0 };
	struct dk_check_report rep;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct timespec t0, t1;
	long long ms;
	char buf[512];
	int fd, n;

	assert_non_null(mkdtemp(repo));
	assert_int_equal(dk_domain_keys_new("example.com", &dk), 0);
	add(dk, "20260301000000", DK_STATE_RETIRED, T0 - 266 * DAY);
	add(dk, "20260506000000", DK_STATE_ACTIVE, T0 - 200 * DAY);
	add(dk, "20261122131500", DK_STATE_PENDING, T0);
	assert_int_equal(dk_store_save(repo, dk), 0);
	put(repo, "keys/example.com/20260506000000.private", 0600);
	put(repo, "keys/example.com/20260506000000.txt", 0644);
	put(repo, "keys/example.com/20261122131500.private", 0600);
	put(repo, "keys/example.com/20261122131500.txt", 0644);

	/* bound, never read: queries go nowhere, nothing comes back */
	assert_true((fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	server(addr, &s);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(dk_check_run(repo, cfg, NULL, 0, &o, T0, &rep), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* It waited out the timeout... */
	assert_true(ms >= 300);
	/* ...and asked once per key, not again (counted, not timed). */
	for (n = 0; recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; n++)
		;
	assert_int_equal(n, 3);
	assert_int_equal(rep.n, 3);
	assert_int_equal(rep.nkeys, 3);
	assert_int_equal(rep.counts[DK_CHECK_CRITICAL], 3);
	assert_int_equal(rep.age_max, 200LL * DAY);
	assert_int_equal(rep.warn_min, 33LL * DAY);
	assert_int_equal(rep.crit_age, 180LL * DAY);
	assert_string_equal(rep.results[0].selector, "20260301000000");
	assert_string_equal(rep.results[0].message, "did not answer in 300 ms");
	assert_int_equal(rep.results[1].state, DK_STATE_ACTIVE);
	assert_int_equal(rep.results[1].age, 200LL * DAY);
	assert_string_equal(rep.results[1].message, "did not answer in 300 ms; "
	    "key is 28w4d old (critical after 25w5d)");
	assert_string_equal(rep.results[2].message, "did not answer in 300 ms");
	dk_check_report_dispose(&rep);

	/* the thresholds given: the age alone is a warning */
	o.warn_age = 100LL * DAY;
	o.crit_age = 300LL * DAY;
	assert_int_equal(dk_check_run(repo, cfg, NULL, 0, &o, T0, &rep), 0);
	assert_string_equal(rep.results[1].message, "did not answer in 300 ms; "
	    "key is 28w4d old, rotation is overdue (warning after 14w2d)");
	assert_int_equal(rep.results[1].status, DK_CHECK_CRITICAL);
	assert_int_equal(rep.warn_min, 100LL * DAY);
	dk_check_report_dispose(&rep);

	close(fd);
	dk_domain_keys_free(dk);
	dk_config_free(cfg);
	assert_int_equal(nftw(repo, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* One server's answer for a case: the zone and serial, or no SOA. */
struct answer {
	int		 rc;	/* 0, or what dk_dns_soa() returned */
	const char	*zone;
	uint32_t	 serial;
	bool		 aa;
};

static void
judge(const struct dk_serial_ref *ref, const struct answer *a, size_t n,
    const char *const *want, long long lag)
{
	struct dk_check_result res[4];
	struct dk_serial v[4];
	size_t i;

	memset(v, 0, sizeof(v));
	memset(res, 0, sizeof(res));
	for (i = 0; i < n; i++) {
		snprintf(res[i].domain, sizeof(res[i].domain), "a.example");
		v[i].out = &res[i];
		v[i].rc = a[i].rc;
		if (a[i].rc != 0) {
			dk_check_verdict(&res[i], DK_CHECK_CRITICAL, "lookup "
			    "failed");
			continue;
		}
		snprintf(v[i].soa.zone, sizeof(v[i].soa.zone), "%s",
		    a[i].zone);
		v[i].soa.serial = a[i].serial;
		v[i].soa.authoritative = a[i].aa;
	}
	assert_int_equal(dk_serial_judge(v, n, ref), lag);
	for (i = 0; i < n; i++) {
		char got[DK_CHECK_MSG + 16];

		snprintf(got, sizeof(got), "%s %s",
		    dk_check_status_name(res[i].status), res[i].message);
		assert_string_equal(got, want[i]);
	}
}

#define Z	"_domainkey.a.example"

static void
test_check__serials(void **state)
{
	struct dk_serial_ref zones = { DK_PUBLISH_ZONES, 7, 2, -1 };
	struct dk_serial_ref rfc = { DK_PUBLISH_RFC2136, 0, 2, 1 };
	const struct answer behind[] = { { 0, Z, 7, true }, { 0, Z, 6, true },
	    { 0, Z, 4, true } };
	const char *const behind_w[] = {
	    "OK zone '" Z "' at serial 7, the newest package's",
	    "WARNING zone '" Z "' at serial 6, 1 behind 7, the newest "
	    "package's; critical when more than 2 behind",
	    "CRITICAL zone '" Z "' at serial 4, 3 behind 7, the newest "
	    "package's; more than dns.max_serial_lag 2" };
	/* a server ahead of the package: the package's record is stale */
	const struct answer ahead[] = { { 0, Z, 9, true }, { 0, Z, 7, true } };
	const char *const ahead_w[] = {
	    "OK zone '" Z "' at serial 9, the highest served",
	    "WARNING zone '" Z "' at serial 7, 2 behind 9, the highest "
	    "served; critical when more than 2 behind" };
	/* RFC 1982: 3 is 5 after 4294967294 */
	const struct answer wrap[] = { { 0, Z, 4294967294u, true },
	    { 0, Z, 3, true } };
	const char *const wrap_w[] = {
	    "WARNING zone '" Z "' at serial 4294967294, 5 behind 3, the "
	    "highest served; critical when more than 5 behind",
	    "OK zone '" Z "' at serial 3, the highest served" };
	/* not the DKIM zone, no authority, no answer */
	const struct answer wrong[] = { { 0, "a.example", 7, true },
	    { 0, Z, 7, false }, { DK_ETEMP, NULL, 0, false },
	    { 0, Z, 5, true } };
	const char *const wrong_w[] = {
	    "CRITICAL does not serve zone '" Z "': '" Z "' is in its zone "
	    "'a.example' (serial 7)",
	    "CRITICAL does not serve zone '" Z "': its SOA of '" Z "' comes "
	    "without authority (AA)",
	    "CRITICAL lookup failed",
	    "WARNING zone '" Z "' at serial 5, 2 behind 7, the newest "
	    "package's; critical when more than 2 behind" };
	/* rfc2136: the zone and the serial are the primary's (server 1) */
	const struct answer prim[] = { { 0, "a.example", 40, true },
	    { 0, "a.example", 41, true }, { 0, Z, 41, true } };
	const char *const prim_w[] = {
	    "WARNING zone 'a.example' at serial 40, 1 behind 41, the "
	    "primary's; critical when more than 2 behind",
	    "OK zone 'a.example' at serial 41, the primary's",
	    "CRITICAL does not serve zone 'a.example': '" Z "' is in its "
	    "zone '" Z "' (serial 41)" };
	const struct answer none[] = { { DK_ETEMP, NULL, 0, false } };
	const char *const none_w[] = { "CRITICAL lookup failed" };
	struct dk_serial_ref wrapref = { DK_PUBLISH_ZONES, 0, 5, -1 };

	judge(&zones, behind, 3, behind_w, 3);
	judge(&zones, ahead, 2, ahead_w, 2);
	judge(&wrapref, wrap, 2, wrap_w, 5);
	judge(&zones, wrong, 4, wrong_w, 2);
	judge(&rfc, prim, 3, prim_w, 1);
	judge(&rfc, none, 1, none_w, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check__worse),
		cmocka_unit_test(test_check__refused),
		cmocka_unit_test(test_check__no_active_key),
		cmocka_unit_test(test_check__silent_server),
		cmocka_unit_test(test_check__serials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
