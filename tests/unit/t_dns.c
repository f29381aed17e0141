/*
 * Unit tests of common/dns.c against a real name server: NSD started on
 * 127.0.0.1 at a free port by tests/lib/nsd.sh (the helper the e2e tests
 * use), serving a zone with the cases `dkimrot check` meets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/dns.h"
#include "common/dns_update.h"
#include "common/error.h"
#include "common/file.h"
#include "tests/lib/run.h"

#define ZONE	"example.test"

static char tmpdir[] = "/tmp/dk_t_dns.XXXXXX";
static char nsdlib[PATH_MAX];
static char server[64];
static char bigrec[2048];	/* the DKIM record of an RSA-4096 key */

/* The zone; serial and extra lines change for the reload test. */
static int
write_zone(int serial, const char *extra)
{
	char path[PATH_MAX], line[300];
	struct dk_buf b = { 0 };
	size_t off, n;
	int rc = -1;

	if (dk_path_join(path, sizeof(path), tmpdir, "zone.db") == -1 ||
	    dk_buf_printf(&b,
	    "$ORIGIN " ZONE ".\n"
	    "$TTL 300\n"
	    "@\tIN SOA ns." ZONE ". hostmaster." ZONE ". %d 3600 600 "
	    "86400 300\n"
	    "@\tIN NS ns\n"
	    "ns\tIN A 127.0.0.1\n"
	    "short\tIN TXT \"v=DKIM1; k=rsa; p=short\"\n"
	    "two\tIN TXT \"first\"\n"
	    "two\tIN TXT \"second\"\n"
	    "nodata\tIN A 127.0.0.1\n"
	    "alias\tIN CNAME short\n"
	    "deleg\tIN NS ns.elsewhere.example.\n"
	    "quoted\tIN TXT \"say \\\"hi\\\";\" \"\" \" there\"\n"
	    "big._domainkey\tIN TXT (", serial) == -1)
		goto done;
	/* RFC 1035 3.3: at most 255 bytes per character-string */
	for (off = 0; bigrec[off] != '\0'; off += n) {
		n = strlen(bigrec + off);
		n = n > 255 ? 255 : n;
		snprintf(line, sizeof(line), "\n\t\"%.*s\"", (int)n,
		    bigrec + off);
		if (dk_buf_puts(&b, line) == -1)
			goto done;
	}
	if (dk_buf_puts(&b, " )\n") == -1 || dk_buf_puts(&b, extra) == -1)
		goto done;
	rc = dk_file_replace(path, b.data, b.len, 0644);
done:
	dk_buf_dispose(&b);
	return rc;
}

static int
nsd(const char *script, char *out, size_t outlen)
{
	/* $0 is the helper library, $1 the NSD directory */
	char *argv[] = { "/bin/sh", "-c", (char *)script, nsdlib, tmpdir,
	    NULL };

	return t_run(argv, out, outlen);
}

static int
teardown(void **state)
{
	char *rm[] = { "rm", "-rf", tmpdir, NULL };

	nsd(". \"$0\"; nsd_stop \"$1\"", NULL, 0);
	return t_run(rm, NULL, 0) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	char key[PATH_MAX], b64[1024], port[16];
	const char *src = getenv("DKIMROT_SRC");
	char *gen[] = { "openssl", "genpkey", "-quiet", "-algorithm", "RSA",
	    "-pkeyopt", "rsa_keygen_bits:4096", "-out", key, NULL };
	char *pub[] = { "/bin/sh", "-c", "openssl pkey -in \"$0\" -pubout "
	    "-outform DER | base64 -w0", key, NULL };

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(nsdlib, sizeof(nsdlib), "%s/tests/lib/nsd.sh",
	    src != NULL ? src : ".");
	snprintf(key, sizeof(key), "%s/k.pem", tmpdir);
	if (t_run(gen, NULL, 0) != 0 || t_run(pub, b64, sizeof(b64)) != 0 ||
	    strlen(b64) < 700)
		return -1;
	snprintf(bigrec, sizeof(bigrec), "v=DKIM1; k=rsa; p=%s", b64);
	if (write_zone(1, "") == -1 ||
	    nsd(". \"$0\"; nsd_start \"$1\" " ZONE " zone.db && "
	    "cat \"$1/nsd.port\"", port, sizeof(port)) != 0)
		return -1;	/* cmocka runs the teardown all the same */
	snprintf(server, sizeof(server), "127.0.0.1:%s", port);
	return 0;
}

static void
test_dns__short(void **state)
{
	struct dk_dns_answer a;

	assert_int_equal(dk_dns_txt(server, "short." ZONE, 2000, &a), 0);
	assert_int_equal(a.nrrs, 1);
	assert_string_equal(a.rrs[0].data, "v=DKIM1; k=rsa; p=short");
	assert_int_equal(a.rrs[0].len, strlen("v=DKIM1; k=rsa; p=short"));
	assert_int_equal(a.rrs[0].ttl, 300);
	assert_true(a.authoritative);
	assert_false(a.tcp);
	dk_dns_answer_dispose(&a);
	/* case does not matter, a final dot is allowed */
	assert_int_equal(dk_dns_txt(server, "SHORT.Example.Test.", 2000, &a),
	    0);
	assert_int_equal(a.nrrs, 1);
	dk_dns_answer_dispose(&a);
	dk_dns_answer_dispose(&a);	/* twice is harmless */
	dk_dns_answer_dispose(NULL);
}

static void
test_dns__split_record_edns(void **state)
{
	struct dk_dns_answer a;

	/* 700+ bytes fit the 4096-byte EDNS0 buffer: one UDP answer */
	assert_int_equal(dk_dns_txt(server, "big._domainkey." ZONE, 2000, &a),
	    0);
	assert_int_equal(a.nrrs, 1);
	assert_int_equal(a.rrs[0].len, strlen(bigrec));
	assert_string_equal(a.rrs[0].data, bigrec);
	assert_false(a.tcp);
	dk_dns_answer_dispose(&a);
}

static void
test_dns__split_record_tcp(void **state)
{
	struct dk_dns_answer a;

	/* without EDNS0 the UDP answer stops at 512 bytes: TC, then TCP */
	assert_int_equal(dk_dns_txt_edns(server, "big._domainkey." ZONE,
	    2000, 0, &a), 0);
	assert_int_equal(a.nrrs, 1);
	assert_string_equal(a.rrs[0].data, bigrec);
	assert_true(a.tcp);
	dk_dns_answer_dispose(&a);
	/* a small answer without EDNS0 stays on UDP */
	assert_int_equal(dk_dns_txt_edns(server, "short." ZONE, 2000, 0, &a),
	    0);
	assert_false(a.tcp);
	dk_dns_answer_dispose(&a);
}

static void
test_dns__two_records(void **state)
{
	struct dk_dns_answer a;
	int first;

	assert_int_equal(dk_dns_txt(server, "two." ZONE, 2000, &a), 0);
	assert_int_equal(a.nrrs, 2);
	first = strcmp(a.rrs[0].data, "first") == 0;
	assert_string_equal(a.rrs[first ? 0 : 1].data, "first");
	assert_string_equal(a.rrs[first ? 1 : 0].data, "second");
	dk_dns_answer_dispose(&a);
}

static void
test_dns__strings_joined(void **state)
{
	struct dk_dns_answer a;

	/* zone-file escapes undone, empty string kept, nothing inserted */
	assert_int_equal(dk_dns_txt(server, "quoted." ZONE, 2000, &a), 0);
	assert_int_equal(a.nrrs, 1);
	assert_string_equal(a.rrs[0].data, "say \"hi\"; there");
	dk_dns_answer_dispose(&a);
}

static void
test_dns__cname(void **state)
{
	struct dk_dns_answer a;

	assert_int_equal(dk_dns_txt(server, "alias." ZONE, 2000, &a), 0);
	assert_int_equal(a.nrrs, 1);
	assert_string_equal(a.rrs[0].data, "v=DKIM1; k=rsa; p=short");
	dk_dns_answer_dispose(&a);
}

static void
test_dns__not_found(void **state)
{
	struct dk_dns_answer a;

	assert_int_equal(dk_dns_txt(server, "nope._domainkey." ZONE, 2000,
	    &a), DK_ENOTFOUND);
	assert_true(a.nxdomain);
	assert_int_equal(a.nrrs, 0);
	assert_non_null(strstr(dk_error_last(), "NXDOMAIN"));
	assert_non_null(strstr(dk_error_last(), "'nope._domainkey." ZONE
	    "'"));
	dk_dns_answer_dispose(&a);

	assert_int_equal(dk_dns_txt(server, "nodata." ZONE, 2000, &a),
	    DK_ENOTFOUND);
	assert_false(a.nxdomain);
	assert_int_equal(a.nrrs, 0);
	assert_null(a.rrs);
	assert_non_null(strstr(dk_error_last(), "no TXT record"));
	dk_dns_answer_dispose(&a);
}

static void
test_dns__refused(void **state)
{
	struct dk_dns_answer a;

	/* NSD refuses names outside its zones: try later, elsewhere */
	assert_int_equal(dk_dns_txt(server, "sel._domainkey.example.org", 2000,
	    &a), DK_ETEMP);
	assert_non_null(strstr(dk_error_last(), "REFUSED"));
	assert_non_null(strstr(dk_error_last(), server));
	dk_dns_answer_dispose(&a);
}

static void
test_dns__soa(void **state)
{
	struct dk_dns_soa soa;
	char want[256];

	/* the apex: its own SOA, the serial the zone file has */
	assert_int_equal(dk_dns_soa(server, ZONE, 2000, &soa), 0);
	assert_string_equal(soa.zone, ZONE);
	assert_int_equal(soa.serial, 1);
	assert_true(soa.apex);
	assert_true(soa.authoritative);
	/* below the apex (NODATA) and a name that is not (NXDOMAIN) */
	assert_int_equal(dk_dns_soa(server, "short." ZONE, 2000, &soa), 0);
	assert_string_equal(soa.zone, ZONE);
	assert_int_equal(soa.serial, 1);
	assert_false(soa.apex);
	assert_int_equal(dk_dns_soa(server, "_domainkey.nope." ZONE ".", 2000,
	    &soa), 0);
	assert_string_equal(soa.zone, ZONE);
	assert_false(soa.apex);
	assert_true(soa.authoritative);
	/* a delegated name: a referral, no SOA of this server's */
	assert_int_equal(dk_dns_soa(server, "_domainkey.deleg." ZONE, 2000,
	    &soa), DK_ENOTFOUND);
	snprintf(want, sizeof(want), "name server %s is not authoritative "
	    "for '_domainkey.deleg." ZONE "' (no SOA in its answer)", server);
	assert_string_equal(dk_error_last(), want);
	/* a zone it does not serve: refused, and not worth asking again */
	assert_int_equal(dk_dns_soa(server, "_domainkey.example.org", 2000,
	    &soa), -1);
	snprintf(want, sizeof(want), "name server %s answered REFUSED for "
	    "'_domainkey.example.org' SOA", server);
	assert_string_equal(dk_error_last(), want);
	assert_int_equal(dk_dns_soa(server, "a b." ZONE, 2000, &soa),
	    DK_EUSAGE);
	assert_int_equal(dk_dns_soa(server, ZONE, 0, &soa), DK_EUSAGE);
}

static long long
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_dns__dead_server(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct dk_dns_answer a;
	struct dk_dns_soa soa;
	char srv[64], want[256];
	long long t0, dt;
	int s;

	/* a port that is ours and never answers */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_not_equal(s = socket(AF_INET, SOCK_DGRAM, 0), -1);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &slen), 0);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", ntohs(sin.sin_port));
	t0 = ms();
	assert_int_equal(dk_dns_txt(srv, "sel._domainkey.example.com", 300,
	    &a), DK_ETEMP);
	dt = ms() - t0;
	assert_true(dt >= 250 && dt < 1500);
	snprintf(want, sizeof(want), "name server %s did not answer for "
	    "'sel._domainkey.example.com' TXT (timeout 300 ms)", srv);
	assert_string_equal(dk_error_last(), want);
	dk_dns_answer_dispose(&a);
	/* the same budget for a SOA */
	t0 = ms();
	assert_int_equal(dk_dns_soa(srv, "_domainkey.example.com", 300, &soa),
	    DK_ETEMP);
	dt = ms() - t0;
	close(s);
	assert_true(dt >= 250 && dt < 1500);
	snprintf(want, sizeof(want), "name server %s did not answer for "
	    "'_domainkey.example.com' SOA (timeout 300 ms)", srv);
	assert_string_equal(dk_error_last(), want);
}

/*
 * An update to a port where nothing listens fails at once, as temporary
 * (rotate exits 75), and says it could not connect, not that no answer
 * came.
 */
static void
test_dns__update_refused(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct dk_dns_tsig key = { "hmac-sha256.", "dkimrot-key.",
	    "dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=" };
	const char *v[] = { "v=DKIM1; k=ed25519; p=AAAA" };
	struct dk_dns_change ch = { "s._domainkey.example.com", v, 1, 300 };
	char srv[64], want[256];
	long long t0;
	int s;

	/* bound, never listening: the connection is refused */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_not_equal(s = socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &slen), 0);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", ntohs(sin.sin_port));
	t0 = ms();
	assert_int_equal(dk_dns_update(srv, "example.com", &key, &ch, 1,
	    3000), DK_ETEMP);
	assert_true(ms() - t0 < 1500);
	close(s);
	snprintf(want, sizeof(want), "cannot update zone 'example.com': "
	    "cannot connect to name server %s (Connection refused)", srv);
	assert_string_equal(dk_error_last(), want);
}

static void
test_dns__bad_input(void **state)
{
	struct dk_dns_answer a;

	assert_int_equal(dk_dns_txt("localhost", "x.example", 100, &a),
	    DK_EUSAGE);
	assert_string_equal(dk_error_last(), "bad name server 'localhost': "
	    "expected ADDR, ADDR:PORT or [IPV6]:PORT");
	assert_int_equal(dk_dns_txt(server, "a b.example", 100, &a),
	    DK_EUSAGE);
	assert_int_equal(dk_dns_txt(server, "a\\.b.example", 100, &a),
	    DK_EUSAGE);
	assert_int_equal(dk_dns_txt(server, "", 100, &a), DK_EUSAGE);
	assert_int_equal(dk_dns_txt(server, "x.example", 0, &a), DK_EUSAGE);
}

static void
test_dns__server_parse(void **state)
{
	static const struct { const char *in, *text; int family; } ok[] = {
		{ "127.0.0.1", "127.0.0.1:53", AF_INET },
		{ "192.0.2.53:5353", "192.0.2.53:5353", AF_INET },
		{ "127.0.0.2:65535", "127.0.0.2:65535", AF_INET },
		{ "::1", "[::1]:53", AF_INET6 },
		{ "[::1]:5353", "[::1]:5353", AF_INET6 },
		{ "[2001:db8::53]", "[2001:db8::53]:53", AF_INET6 },
		{ "2001:db8::1:53", "[2001:db8::1:53]:53", AF_INET6 },
	};
	static const char *bad[] = { "", "localhost", "127.0.0.1:",
	    "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:53x",
	    "127.0.0.1:+53", "127.0.0.1:-1", " 127.0.0.1", "127.0.0.1 ",
	    "1.2.3", "[::1", "[::1]x", "[::1]:", "[127.0.0.1]:53",
	    "fe80::1%lo", "[::1]:99999", "127.0.0.1:5353:1", "[]:53",
	    "127.0.0.1:000053x" };
	struct dk_dns_server s;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(dk_dns_server_parse(ok[i].in, &s), 0);
		assert_string_equal(s.text, ok[i].text);
		assert_int_equal(s.family, ok[i].family);
	}
	assert_int_equal(dk_dns_server_parse("192.0.2.53:5353", &s), 0);
	assert_int_equal(s.port, 5353);
	assert_memory_equal(s.addr, "\xc0\x00\x02\x35", 4);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dk_dns_server_parse(bad[i], &s), DK_EUSAGE);
		assert_non_null(strstr(dk_error_last(), bad[i]));
	}
}

static void
test_dns__reload(void **state)
{
	struct dk_dns_answer a;
	struct dk_dns_soa soa;

	/* the shared helper: edit, bump the serial, reload, see it */
	assert_int_equal(dk_dns_txt(server, "late." ZONE, 2000, &a),
	    DK_ENOTFOUND);
	dk_dns_answer_dispose(&a);
	assert_int_equal(write_zone(2, "late\tIN TXT \"v=DKIM1; p=late\"\n"),
	    0);
	assert_int_equal(nsd(". \"$0\"; nsd_reload \"$1\"", NULL, 0), 0);
	assert_int_equal(dk_dns_txt(server, "late." ZONE, 2000, &a), 0);
	assert_string_equal(a.rrs[0].data, "v=DKIM1; p=late");
	dk_dns_answer_dispose(&a);
	/* and the new serial */
	assert_int_equal(dk_dns_soa(server, ZONE, 2000, &soa), 0);
	assert_int_equal(soa.serial, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns__short),
		cmocka_unit_test(test_dns__split_record_edns),
		cmocka_unit_test(test_dns__split_record_tcp),
		cmocka_unit_test(test_dns__two_records),
		cmocka_unit_test(test_dns__strings_joined),
		cmocka_unit_test(test_dns__cname),
		cmocka_unit_test(test_dns__not_found),
		cmocka_unit_test(test_dns__refused),
		cmocka_unit_test(test_dns__soa),
		cmocka_unit_test(test_dns__dead_server),
		cmocka_unit_test(test_dns__update_refused),
		cmocka_unit_test(test_dns__bad_input),
		cmocka_unit_test(test_dns__server_parse),
		cmocka_unit_test(test_dns__reload),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
