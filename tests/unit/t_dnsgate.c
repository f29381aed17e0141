/*
 * Unit tests of rotator/dnsgate.c: may a pending key sign yet?  Two real
 * name servers, NSD started on 127.0.0.1 at free ports by
 * tests/lib/nsd.sh, serve the records of the fixed vectors (as
 * opendkim-genkey wrote them); the second one lacks the record of
 * "good", so that asking every configured server shows.  A third
 * "server" is a bound UDP port that never answers.
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

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "rotator/dnsgate.h"
#include "rotator/store.h"
#include "tests/lib/run.h"

#define DOMAIN	"example.test"
#define VSEL	"20261122131500"	/* the owner in the vectors' .txt */

static char tmpdir[] = "/tmp/dk_t_dnsgate.XXXXXX";
static char repo[PATH_MAX];
static char nsdlib[PATH_MAX];
static char server[2][64];	/* the two NSDs */
static char silent[64];		/* a port that never answers */
static int silent_fd = -1;

/*
 * A case: the key sel (keys/DOMAIN/SEL.private: the rsa1024 vector), the
 * name servers by letter (1 and 2 the NSDs, d the silent port), what
 * dk_dnsgate_check() returns and sets, and the reason it gives ("@1",
 * "@2" for the servers' addresses).
 */
struct gcase {
	const char	*name;
	const char	*sel;
	const char	*servers;
	int		 rc;
	enum dk_dns	 dns;
	const char	*why;
};

static const struct gcase cases[] = {
	{ .name = "no name servers configured", .sel = "good",
	  .servers = "", .rc = 0, .dns = DK_DNS_OK, .why = "" },
	{ .name = "the key's record", .sel = "good", .servers = "1",
	  .rc = 0, .dns = DK_DNS_OK, .why = "" },
	{ .name = "split into strings", .sel = "long", .servers = "12",
	  .rc = 0, .dns = DK_DNS_OK, .why = "" },
	{ .name = "another key's record", .sel = "wrong", .servers = "1",
	  .rc = 0, .dns = DK_DNS_MISSING,
	  .why = "name server @1 serves 1 TXT record at "
	  "'wrong._domainkey." DOMAIN "', not exactly this key's" },
	{ .name = "a second record beside it", .sel = "two", .servers = "1",
	  .rc = 0, .dns = DK_DNS_MISSING,
	  .why = "name server @1 serves 2 TXT records at "
	  "'two._domainkey." DOMAIN "', not exactly this key's" },
	{ .name = "revoked in DNS", .sel = "revoked", .servers = "1",
	  .rc = 0, .dns = DK_DNS_MISSING,
	  .why = "name server @1 serves 1 TXT record at "
	  "'revoked._domainkey." DOMAIN "', not exactly this key's" },
	{ .name = "no record", .sel = "gone", .servers = "1", .rc = 0,
	  .dns = DK_DNS_MISSING,
	  .why = "name server @1 has no TXT record "
	  "'gone._domainkey." DOMAIN "'" },
	{ .name = "every server is asked", .sel = "good", .servers = "12",
	  .rc = 0, .dns = DK_DNS_MISSING,
	  .why = "name server @2 has no TXT record "
	  "'good._domainkey." DOMAIN "'" },
	{ .name = "the first that lacks it is named", .sel = "good",
	  .servers = "21", .rc = 0, .dns = DK_DNS_MISSING,
	  .why = "name server @2 has no TXT record "
	  "'good._domainkey." DOMAIN "'" },
	{ .name = "a server that does not answer", .sel = "good",
	  .servers = "1d", .rc = DK_ETEMP, .dns = DK_DNS_OK, .why = "" },
};

static int
nsd(const char *script, const char *dir, char *out, size_t outlen)
{
	/* $0 is the helper library, $1 the NSD directory */
	char *argv[] = { "/bin/sh", "-c", (char *)script, nsdlib,
	    (char *)dir, NULL };

	return t_run(argv, out, outlen);
}

/* The record of vector name (its .txt) with owner sel, into b. */
static int
put_record(struct dk_buf *b, const char *name, const char *sel)
{
	char path[PATH_MAX], *txt = NULL;
	const char *src = getenv("DKIMROT_SRC");
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/tests/vectors/%s.txt",
	    src != NULL ? src : ".", name);
	if (dk_file_read(path, DK_FILE_MAX, &txt, &len) != 0 ||
	    strncmp(txt, VSEL "._domainkey", strlen(VSEL "._domainkey")) != 0)
		rc = -1;
	else
		rc = dk_buf_printf(b, "%s%s", sel, txt + strlen(VSEL));
	free(txt);
	return rc;
}

/* The zone of ns (1 or 2) in dir/zone.db. */
static int
write_zone(const char *dir, int ns)
{
	struct dk_buf b = { 0 };
	char path[PATH_MAX];
	int rc = -1;

	if (dk_buf_printf(&b, "$ORIGIN " DOMAIN ".\n$TTL 300\n"
	    "@\tIN SOA ns." DOMAIN ". hostmaster." DOMAIN ". 1 3600 600 "
	    "86400 300\n@\tIN NS ns\nns\tIN A 127.0.0.1\n") != 0 ||
	    (ns == 1 && put_record(&b, "rsa1024", "good") != 0) ||
	    put_record(&b, "rsa1024", "long") != 0 ||
	    put_record(&b, "ed25519", "wrong") != 0 ||
	    put_record(&b, "rsa1024", "two") != 0 ||
	    dk_buf_puts(&b, "two._domainkey\tIN\tTXT\t\"v=DKIM1; k=rsa; "
	    "p=leftover\"\n") != 0 ||
	    dk_buf_puts(&b, "revoked._domainkey\tIN\tTXT\t\"v=DKIM1; "
	    "h=sha256; k=rsa; p=\"\n") != 0 ||
	    dk_path_join(path, sizeof(path), dir, "zone.db") != 0)
		goto done;
	rc = dk_file_replace(path, b.data, b.len, 0644);
done:
	dk_buf_dispose(&b);
	return rc;
}

/*
 * "long" is the rsa1024 key too; its record is given in two strings
 * (cut inside p=), which a verifier joins: the gate must join them.
 */
static int
split_long(const char *dir)
{
	char path[PATH_MAX], *z = NULL, *p;
	struct dk_buf b = { 0 };
	size_t len;
	int rc = -1;

	if (dk_path_join(path, sizeof(path), dir, "zone.db") != 0 ||
	    dk_file_read(path, DK_FILE_MAX, &z, &len) != 0 ||
	    (p = strstr(z, "long._domainkey")) == NULL ||
	    (p = strstr(p, "\"p=")) == NULL)
		goto done;
	p += 20;	/* well inside the key data */
	if (dk_buf_printf(&b, "%.*s\" \"%s", (int)(p - z), z, p) != 0)
		goto done;
	rc = dk_file_replace(path, b.data, b.len, 0644);
done:
	free(z);
	dk_buf_dispose(&b);
	return rc;
}

static int
start_nsd(int ns, char *addr, size_t size)
{
	char dir[PATH_MAX], port[16];

	snprintf(dir, sizeof(dir), "%s/ns%d", tmpdir, ns);
	if (mkdir(dir, 0755) != 0 || write_zone(dir, ns) != 0 ||
	    split_long(dir) != 0 ||
	    nsd(". \"$0\"; nsd_start \"$1\" " DOMAIN " zone.db && "
	    "cat \"$1/nsd.port\"", dir, port, sizeof(port)) != 0)
		return -1;
	snprintf(addr, size, "127.0.0.1:%s", port);
	return 0;
}

/* keys/DOMAIN/SEL.private, the rsa1024 vector, for every selector. */
static int
put_keys(void)
{
	static const char *sels[] = { "good", "long", "wrong", "two",
	    "revoked", "gone" };
	const char *src = getenv("DKIMROT_SRC");
	char path[PATH_MAX], *pem = NULL;
	size_t i, len;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/tests/vectors/rsa1024.private",
	    src != NULL ? src : ".");
	if (dk_file_read(path, DK_FILE_MAX, &pem, &len) != 0 ||
	    dk_store_mkdir(repo, DOMAIN) != 0)
		goto done;
	for (i = 0; i < sizeof(sels) / sizeof(sels[0]); i++)
		if (dk_store_key_path(repo, DOMAIN, sels[i], "private", path,
		    sizeof(path)) != 0 ||
		    dk_file_replace(path, pem, len, 0600) != 0)
			goto done;
	rc = 0;
done:
	if (pem != NULL)
		explicit_bzero(pem, len);
	free(pem);
	return rc;
}

static int
setup(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	const char *src = getenv("DKIMROT_SRC");

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(nsdlib, sizeof(nsdlib), "%s/tests/lib/nsd.sh",
	    src != NULL ? src : ".");
	snprintf(repo, sizeof(repo), "%s/repo", tmpdir);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (mkdir(repo, 0700) != 0 || put_keys() != 0 ||
	    (silent_fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(silent_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(silent_fd, (struct sockaddr *)&sin, &slen) != 0)
		return -1;
	snprintf(silent, sizeof(silent), "127.0.0.1:%u",
	    ntohs(sin.sin_port));
	if (start_nsd(1, server[0], sizeof(server[0])) != 0 ||
	    start_nsd(2, server[1], sizeof(server[1])) != 0)
		return -1;	/* cmocka runs the teardown all the same */
	return 0;
}

static int
teardown(void **state)
{
	char *rm[] = { "rm", "-rf", tmpdir, NULL };
	char dir[PATH_MAX];
	int ns;

	for (ns = 1; ns <= 2; ns++) {
		snprintf(dir, sizeof(dir), "%s/ns%d", tmpdir, ns);
		if (access(dir, F_OK) == 0)
			nsd(". \"$0\"; nsd_stop \"$1\"", dir, NULL, 0);
	}
	if (silent_fd != -1)
		close(silent_fd);
	return t_run(rm, NULL, 0) == 0 ? 0 : -1;
}

/* dkimrot.yaml naming the case's name servers, parsed. */
static struct dk_config *
config(const char *servers)
{
	struct dk_config *cfg = NULL;
	struct dk_buf b = { 0 };
	const char *s;

	assert_int_equal(dk_buf_puts(&b, "domains:\n  - name: " DOMAIN "\n"),
	    0);
	/* verify: true wants at least one server; none: no dns section. */
	if (*servers != '\0')
		assert_int_equal(dk_buf_puts(&b, "dns:\n  verify: true\n"
		    "  nameservers: ["), 0);
	for (s = servers; *s != '\0'; s++)
		assert_int_equal(dk_buf_printf(&b, "%s\"%s\"%s",
		    s == servers ? "" : ", ", *s == 'd' ? silent :
		    server[*s - '1'], s[1] == '\0' ? "]\n" : ""), 0);
	if (dk_config_parse(b.data, b.len, "dkimrot.yaml", &cfg) != 0)
		fail_msg("%s", dk_error_last());
	dk_buf_dispose(&b);
	return cfg;
}

/* why with @1 and @2 replaced by the servers' addresses. */
static void
expand(const char *why, char *out, size_t size)
{
	size_t n = 0;

	for (; *why != '\0' && n + 1 < size; why++) {
		if (why[0] == '@' && (why[1] == '1' || why[1] == '2')) {
			n += (size_t)snprintf(out + n, size - n, "%s",
			    server[why[1] - '1']);
			why++;
		} else
			out[n++] = *why;
	}
	assert_true(n < size);
	out[n] = '\0';
}

static void
test_dnsgate__table(void **state)
{
	const struct gcase *c;
	struct dk_keyinfo k;
	struct dk_config *cfg;
	char why[512], want[512];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		cfg = config(c->servers);
		memset(&k, 0, sizeof(k));
		snprintf(k.selector, sizeof(k.selector), "%s", c->sel);
		k.state = DK_STATE_PENDING;
		k.dns = DK_DNS_UNCHECKED;
		rc = dk_dnsgate_check(cfg, repo, DOMAIN, &k, why,
		    sizeof(why));
		if (rc != c->rc)
			fail_msg("%s: rc %d, wanted %d: %s", c->name, rc,
			    c->rc, dk_error_last());
		if (rc == DK_ETEMP)
			assert_non_null(strstr(dk_error_last(), silent));
		else if (k.dns != c->dns)
			fail_msg("%s: dns %d, wanted %d (%s)", c->name,
			    (int)k.dns, (int)c->dns, why);
		expand(c->why, want, sizeof(want));
		if (rc == 0 && strcmp(why, want) != 0)
			fail_msg("%s: '%s', wanted '%s'", c->name, why, want);
		dk_config_free(cfg);
	}
}

/* A key that should be there and is not: an error, not a verdict. */
static void
test_dnsgate__no_key(void **state)
{
	struct dk_config *cfg = config("1");
	struct dk_keyinfo k;
	char why[512];

	memset(&k, 0, sizeof(k));
	snprintf(k.selector, sizeof(k.selector), "nokey");
	k.dns = DK_DNS_UNCHECKED;
	assert_int_equal(dk_dnsgate_check(cfg, repo, DOMAIN, &k, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(dk_error_last(), "keys/" DOMAIN
	    "/nokey.private"));
	assert_int_equal(k.dns, DK_DNS_UNCHECKED);
	dk_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsgate__table),
		cmocka_unit_test(test_dnsgate__no_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
