/*
 * Unit tests of packaging/render.c: a small key repository made in /tmp
 * (the fixed keys of tests/vectors/, committed with rotator/git.h,
 * tests/lib/trender.h), one commit rendered, and every file of both
 * packages checked: paths, modes, owners, KeyTable, SigningTable and
 * the zone fragments, whose records come from the vectors' .txt files
 * (made by opendkim-genkey, not by dkimrot); with dns.publish zones, the
 * zones and the zone lists of packaging/render_zones.c.  Private keys are
 * compared byte for byte with the vector files, never printed.  No rpm
 * build, no name server.  The spec and the signers' files:
 * t_render_spec.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/trender.h"

static const char yaml_sub[] =
    "domains:\n"
    "  - name: example.com\n"
    "    subdomains: true\n"
    "  - name: example.org\n";


/* The private package's files come first, then the public one's. */
#define PDIRS \
    "P /etc/dkim-keys 0755 root:root dir\n" \
    "P /etc/dkim-keys/keys 0700 opendkim:opendkim dir\n"
#define STABLES(t) \
    "P " t "/KeyTable 0644 root:root config\n" \
    "P " t "/SigningTable 0644 root:root config\n" \
    "P " t "/KeyTable.rsa 0644 root:root config\n" \
    "P " t "/SigningTable.rsa 0644 root:root config\n" \
    "P " t "/KeyTable.ed25519 0644 root:root config\n" \
    "P " t "/SigningTable.ed25519 0644 root:root config\n" \
    "P " t "/opendkim-rsa.conf 0644 root:root noreplace\n" \
    "P " t "/opendkim-ed25519.conf 0644 root:root noreplace\n" \
    "P " t "/postfix-milters.cf 0644 root:root config\n" \
    "P /usr/lib/systemd/system/opendkim@.service 0644 root:root\n"
#define PTABLES	STABLES("/etc/dkim-keys")
#define KEYDIR(d) \
    "P /etc/dkim-keys/keys/" d " 0700 opendkim:opendkim dir\n"
#define KEY(d, s) \
    "P /etc/dkim-keys/keys/" d "/" s ".private 0600 opendkim:opendkim\n"
#define ZDIR	"p /var/named/dkim 0755 root:root dir\n"
#define ZONE(d) \
    "p /var/named/dkim/" d ".zone 0644 root:root config\n"

static const struct rcase cases[] = {
	{
		.name = "one active key",
		.yaml = yaml_one,
		.doms = { { "example.com",
		    { K("a1", "rsa1024", 1024, ACTIVE) } } },
		.files = PDIRS KEYDIR("example.com") KEY("example.com", "a1")
		    PTABLES ZDIR ZONE("example.com"),
		.keytable = "a1._domainkey.example.com example.com:a1:"
		    "/etc/dkim-keys/keys/example.com/a1.private\n",
		.signingtable = "*@example.com a1._domainkey.example.com\n",
		.zones = { "example.com 3600 a1" },
		.description = "Domains (1): example.com",
	},
	{
		/* Only the active key signs; retired keys are gone. */
		.name = "every state",
		.yaml = yaml_one,
		.doms = { { "example.com", {
			K("old", "rsa1024", 1024, RETIRED),
			K("ring", "rsa2048", 2048, RETIRING),
			K("rev", "rsa1024", 1024, REVOKED),
			K("act", "rsa4096", 4096, ACTIVE),
			K("pend", "rsa1024", 1024, PENDING) } } },
		.files = PDIRS KEYDIR("example.com")
		    KEY("example.com", "ring") KEY("example.com", "act")
		    KEY("example.com", "pend") PTABLES ZDIR
		    ZONE("example.com"),
		.keytable = "act._domainkey.example.com example.com:act:"
		    "/etc/dkim-keys/keys/example.com/act.private\n",
		.signingtable = "*@example.com act._domainkey.example.com\n",
		.zones = { "example.com 3600 ring rev- act pend" },
		.description = "Domains (1): example.com",
	},
	{
		/*
		 * Released OpenDKIM signs every key with its one
		 * SignatureAlgorithm: the Ed25519 key goes to its own
		 * instance's tables only, never to the single table.
		 */
		.name = "dual signing",
		.yaml = yaml_dual,
		.doms = { { "example.com", {
			K("r1", "rsa1024", 1024, ACTIVE),
			E("e1", ACTIVE) } } },
		.files = PDIRS KEYDIR("example.com") KEY("example.com", "r1")
		    KEY("example.com", "e1") PTABLES ZDIR ZONE("example.com"),
		.keytable = "r1._domainkey.example.com example.com:r1:"
		    "/etc/dkim-keys/keys/example.com/r1.private\n",
		.signingtable = "*@example.com r1._domainkey.example.com\n",
		.keytable_ed = "e1._domainkey.example.com example.com:e1:"
		    "/etc/dkim-keys/keys/example.com/e1.private\n",
		.signingtable_ed = "*@example.com e1._domainkey.example.com\n",
		.zones = { "example.com 3600 r1 e1" },
		.description = "Domains (1): example.com",
	},
	{
		/*
		 * The domain's ttl, restrict and testmode reach its records;
		 * a domain without keys yet is left out; a domain no longer
		 * configured keeps its keys, with the defaults' flags.
		 */
		.name = "policy, directories, no keys, not configured",
		.yaml = yaml_flags,
		.doms = {
			{ "example.com", { { "k1", "rsa2048", "rsa2048-rt",
			  DK_ALG_RSA, 2048, DK_STATE_ACTIVE, false } } },
			{ "gone.example",
			  { K("g1", "rsa2048", 2048, ACTIVE) } },
		},
		.files =
		    "P /srv/tables 0755 root:root dir\n"
		    "P /srv/keys 0700 mail:mail dir\n"
		    "P /srv/keys/example.com 0700 mail:mail dir\n"
		    "P /srv/keys/example.com/k1.private 0600 mail:mail\n"
		    "P /srv/keys/gone.example 0700 mail:mail dir\n"
		    "P /srv/keys/gone.example/g1.private 0600 mail:mail\n"
		    STABLES("/srv/tables")
		    "p /srv/zones 0755 root:root dir\n"
		    "p /srv/zones/example.com.zone 0644 root:root config\n"
		    "p /srv/zones/gone.example.zone 0644 root:root config\n",
		.keytable = "k1._domainkey.example.com example.com:k1:"
		    "/srv/keys/example.com/k1.private\n"
		    "g1._domainkey.gone.example gone.example:g1:"
		    "/srv/keys/gone.example/g1.private\n",
		.signingtable = "*@example.com k1._domainkey.example.com\n"
		    "*@gone.example g1._domainkey.gone.example\n",
		.zones = { "example.com 600 k1", "gone.example 600 g1" },
		.description = "Domains (2): example.com gone.example",
	},
	{
		/*
		 * subdomains: mail of any subdomain signed with the parent's
		 * key, by a pattern after every exact line (refile matches
		 * in order: a subdomain configured itself keeps its own).
		 */
		.name = "subdomains",
		.yaml = yaml_sub,
		.doms = {
			{ "example.com", { K("c1", "rsa1024", 1024, ACTIVE) } },
			{ "example.org", { K("o1", "rsa1024", 1024, ACTIVE) } },
		},
		.files = PDIRS KEYDIR("example.com") KEY("example.com", "c1")
		    KEYDIR("example.org") KEY("example.org", "o1") PTABLES
		    ZDIR ZONE("example.com") ZONE("example.org"),
		.keytable = "c1._domainkey.example.com example.com:c1:"
		    "/etc/dkim-keys/keys/example.com/c1.private\n"
		    "o1._domainkey.example.org example.org:o1:"
		    "/etc/dkim-keys/keys/example.org/o1.private\n",
		.signingtable = "*@example.com c1._domainkey.example.com\n"
		    "*@example.org o1._domainkey.example.org\n"
		    "*@*.example.com c1._domainkey.example.com\n",
		.zones = { "example.com 3600 c1", "example.org 3600 o1" },
		.description = "Domains (2): example.com example.org",
	},
	{
		/*
		 * Rule 8: a domain that leaves signs no more (out of both
		 * tables) while its retiring keys drain, still published
		 * and shipped; no warning (not checked here).
		 */
		.name = "a leaving domain, draining",
		.yaml = yaml_one,
		.doms = {
			{ "example.com",
			  { K("a1", "rsa1024", 1024, ACTIVE) } },
			{ "left.example",
			  { K("l0", "rsa1024", 1024, RETIRED),
			    K("l1", "rsa2048", 2048, RETIRING) }, true },
		},
		.files = PDIRS KEYDIR("example.com") KEY("example.com", "a1")
		    KEYDIR("left.example") KEY("left.example", "l1")
		    PTABLES ZDIR ZONE("example.com") ZONE("left.example"),
		.keytable = "a1._domainkey.example.com example.com:a1:"
		    "/etc/dkim-keys/keys/example.com/a1.private\n",
		.signingtable = "*@example.com a1._domainkey.example.com\n",
		.zones = { "example.com 3600 a1", "left.example 3600 l1" },
		.description = "Domains (2): example.com left.example",
	},
	{
		/* Its keys retired: its records, zone and keys are gone. */
		.name = "a leaving domain, gone",
		.yaml = yaml_one,
		.doms = {
			{ "example.com",
			  { K("a1", "rsa1024", 1024, ACTIVE) } },
			{ "left.example",
			  { K("l0", "rsa1024", 1024, RETIRED),
			    K("l1", "rsa2048", 2048, RETIRED) }, true },
		},
		.files = PDIRS KEYDIR("example.com") KEY("example.com", "a1")
		    PTABLES ZDIR ZONE("example.com"),
		.keytable = "a1._domainkey.example.com example.com:a1:"
		    "/etc/dkim-keys/keys/example.com/a1.private\n",
		.signingtable = "*@example.com a1._domainkey.example.com\n",
		.zones = { "example.com 3600 a1" },
		.description = "Domains (1): example.com",
	},
	{
		.name = "no keys at all",
		.yaml = yaml_one,
		.files = PDIRS PTABLES ZDIR,
		.keytable = "",
		.signingtable = "",
		.description = "Domains (0): none",
	},
	{
		.name = "a key file the commit lacks",
		.yaml = yaml_one,
		.doms = { { "example.com", { { "a1", "rsa1024", "rsa1024",
		  DK_ALG_RSA, 1024, DK_STATE_ACTIVE, true } } } },
		.rc = -1,
		.err = "example.com: commit @ID lacks "
		    "'keys/example.com/a1.private' (keys.yaml names it, "
		    "state active)",
	},
};

static void
list_files(struct dk_buf *b, char c, const struct dk_rpm_file *f,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(dk_buf_printf(b, "%c %s %04o %s:%s%s%s\n", c,
		    f[i].path, (unsigned)f[i].mode,
		    f[i].owner != NULL ? f[i].owner : "root",
		    f[i].group != NULL ? f[i].group : "root",
		    f[i].flags & DK_RPM_DIR ? " dir" : "",
		    f[i].flags & DK_RPM_NOREPLACE ? " noreplace" :
		    f[i].flags & DK_RPM_CONFIG ? " config" : ""), 0);
}


/*
 * The record of vector txt as render must write it: owner absolute,
 * the TTL, the comment naming sel and domain; p= empty when revoked.
 */
static void
want_record(struct dk_buf *b, const char *txt, const char *sel,
    const char *domain, const char *ttl, bool revoked)
{
	char *v, *rest, *p, *q;

	v = slurp(vector(txt, "txt"), NULL);
	assert_int_equal(strncmp(v, VSEL "._domainkey\tIN\t",
	    strlen(VSEL "._domainkey\tIN\t")), 0);
	rest = v + strlen(VSEL "._domainkey\tIN");
	p = strstr(rest, "\"p=");
	q = strstr(rest, " )  ; ----- DKIM key " VSEL " for " VDOM "\n");
	assert_non_null(p);
	assert_non_null(q);
	assert_int_equal(dk_buf_printf(b, "%s._domainkey.%s.\t%s\tIN%.*s",
	    sel, domain, ttl, (int)(p - rest), rest), 0);
	if (revoked)
		assert_int_equal(dk_buf_puts(b, "\"p=\""), 0);
	else
		assert_int_equal(dk_buf_printf(b, "%.*s", (int)(q - p), p), 0);
	assert_int_equal(dk_buf_printf(b, " )  ; ----- DKIM key %s for %s\n",
	    sel, domain), 0);
	free(v);
}

static const struct rkey *
case_key(const struct rcase *c, const char *domain, const char *sel)
{
	size_t i, j;

	for (i = 0; i < 3 && c->doms[i].name != NULL; i++)
		for (j = 0; j < 5 && c->doms[i].keys[j].sel != NULL; j++)
			if (strcmp(c->doms[i].name, domain) == 0 &&
			    strcmp(c->doms[i].keys[j].sel, sel) == 0)
				return &c->doms[i].keys[j];
	fail_msg("%s: no key %s/%s", c->name, domain, sel);
	return NULL;
}

static void
check_zone(const struct rcase *c, const struct dk_render *r,
    const char *spec)
{
	char *buf, *domain, *ttl, *sel, *save, suffix[300];
	struct dk_buf want = { 0 };
	const struct rkey *k;
	bool revoked;
	size_t n;

	assert_non_null(buf = strdup(spec));
	domain = strtok_r(buf, " ", &save);
	ttl = strtok_r(NULL, " ", &save);
	assert_int_equal(dk_buf_printf(&want, "; DKIM keys of %s, from "
	    "commit %s of the key repository.\n; Generated by dkimrot "
	    "(package dkim-keys-public): do not edit.\n; $INCLUDE it into "
	    "the zone of %s or a parent; owner names are absolute.\n",
	    domain, r->commit, domain), 0);
	while ((sel = strtok_r(NULL, " ", &save)) != NULL) {
		n = strlen(sel);
		if ((revoked = sel[n - 1] == '-'))
			sel[n - 1] = '\0';
		k = case_key(c, domain, sel);
		want_record(&want, k->txt, sel, domain, ttl, revoked);
	}
	snprintf(suffix, sizeof(suffix), "/%s.zone", domain);
	check_file(find(r, suffix), want.data);
	dk_buf_dispose(&want);
	free(buf);
}

/* Every published key's file holds its vector, byte for byte. */
static void
check_keys(const struct rcase *c, const struct dk_render *r)
{
	const struct dk_rpm_file *f;
	const struct rkey *k;
	char suffix[300], *pem;
	size_t i, j, len;

	for (i = 0; i < 3 && c->doms[i].name != NULL; i++)
		for (j = 0; j < 5 && c->doms[i].keys[j].sel != NULL; j++) {
			k = &c->doms[i].keys[j];
			if (!dk_state_published(k->state))
				continue;
			snprintf(suffix, sizeof(suffix), "/%s/%s.private",
			    c->doms[i].name, k->sel);
			f = find(r, suffix);
			pem = slurp(vector(k->key, "private"), &len);
			assert_int_equal(f->len, len);
			if (memcmp(f->data, pem, len) != 0)
				fail_msg("%s: %s differs from its vector",
				    c->name, f->path);
			free(pem);
		}
}

static void
check_case(const struct rcase *c, const struct dk_render *r)
{
	struct dk_buf b = { 0 };
	char want[4096];
	size_t i;

	list_files(&b, 'P', r->priv, r->npriv);
	list_files(&b, 'p', r->pub, r->npub);
	if (strcmp(b.data, c->files) != 0)
		fail_msg("%s: files\n%s\nwanted:\n%s", c->name, b.data,
		    c->files);
	dk_buf_dispose(&b);
	snprintf(want, sizeof(want), "# OpenDKIM KeyTable from commit %s "
	    "(dkimrot): do not edit.\n%s", r->commit, c->keytable);
	check_file(find(r, "/KeyTable"), want);
	snprintf(want, sizeof(want), "# OpenDKIM SigningTable (refile:) "
	    "from commit %s (dkimrot): do not edit.\n%s", r->commit,
	    c->signingtable);
	check_file(find(r, "/SigningTable"), want);
	snprintf(want, sizeof(want), "# OpenDKIM KeyTable of opendkim@rsa "
	    "from commit %s (dkimrot): do not edit.\n%s", r->commit,
	    c->keytable);
	check_file(find(r, "/KeyTable.rsa"), want);
	snprintf(want, sizeof(want), "# OpenDKIM SigningTable (refile:) of "
	    "opendkim@rsa from commit %s (dkimrot): do not edit.\n%s",
	    r->commit, c->signingtable);
	check_file(find(r, "/SigningTable.rsa"), want);
	snprintf(want, sizeof(want), "# OpenDKIM KeyTable of opendkim@ed25519 "
	    "from commit %s (dkimrot): do not edit.\n%s", r->commit,
	    c->keytable_ed != NULL ? c->keytable_ed : "");
	check_file(find(r, "/KeyTable.ed25519"), want);
	snprintf(want, sizeof(want), "# OpenDKIM SigningTable (refile:) of "
	    "opendkim@ed25519 from commit %s (dkimrot): do not edit.\n%s",
	    r->commit, c->signingtable_ed != NULL ? c->signingtable_ed : "");
	check_file(find(r, "/SigningTable.ed25519"), want);
	for (i = 0; i < 3 && c->zones[i] != NULL; i++)
		check_zone(c, r, c->zones[i]);
	check_keys(c, r);
	assert_string_equal(r->description, c->description);
	assert_int_equal(r->version, 1);
	assert_int_equal(r->time, T0);
}

static void
test_render__table(void **state)
{
	struct dk_render *r;
	char id[DK_GIT_ID_LEN], err[512], *at;
	struct dk_git *g;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		g = make_repo(&cases[i], id);
		rc = dk_render_commit(g, id, &r);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d: %s", cases[i].name, rc,
			    dk_error_last());
		if (rc == 0)
			check_case(&cases[i], r);
		else {
			/* "@ID" stands for the commit's id, cut to 12. */
			snprintf(err, sizeof(err), "%s", cases[i].err);
			if ((at = strstr(err, "@ID")) != NULL)
				snprintf(at, sizeof(err) - (size_t)(at - err),
				    "%.12s%s", id, strstr(cases[i].err, "@ID") +
				    3);
			if (strstr(dk_error_last(), err) == NULL)
				fail_msg("%s: '%s', wanted '%s'", cases[i].name,
				    dk_error_last(), err);
			assert_null(r);
		}
		dk_render_free(r);
		dk_git_free(g);
	}
}

static const char yaml_zones[] =
    "domains:\n"
    "  - name: example.com\n"
    "  - name: example.org\n"
    "    ttl: 600\n"
    "  - name: nokeys.example\n"
    "dns:\n"
    "  publish: zones\n"
    "  zone_nameservers: [ns1.example.net, ns2.example.net]\n"
    "  secondaries: [\"192.0.2.54\", \"[2001:db8::54]:5353\"]\n"
    "packaging:\n"
    "  zone_dir: /srv/dkim\n";

static const struct rcase zones = {
	.name = "zones",
	.yaml = yaml_zones,
	.doms = {
		{ "example.com", { K("a1", "rsa1024", 1024, ACTIVE),
		    K("rv", "rsa1024", 1024, REVOKED) } },
		{ "example.org", { K("o1", "rsa2048", 2048, PENDING) } },
	},
};

/* A record a DKIM zone must hold: the key, its vector, p= empty. */
struct zrec {
	const char	*sel;
	const char	*txt;
	bool		 revoked;
};

/* The zone _domainkey.DOMAIN: SOA with the version, NS, the records. */
static void
check_dkim_zone(const struct dk_render *r, const char *domain,
    const char *ttl, const struct zrec *rec, size_t n)
{
	struct dk_buf want = { 0 };
	char suffix[300];
	size_t i;

	assert_int_equal(dk_buf_printf(&want, "; The DKIM zone of %s, from "
	    "commit %s of the key repository.\n; Generated by dkimrot "
	    "(package dkim-keys-public): do not edit.\n; %s delegates it: "
	    "_domainkey.%s. NS, one record per name server below.\n"
	    "$ORIGIN _domainkey.%s.\n$TTL %s\n@\tIN\tSOA\tns1.example.net. "
	    "hostmaster.%s. 7 3600 600 1209600 300\n"
	    "@\tIN\tNS\tns1.example.net.\n@\tIN\tNS\tns2.example.net.\n",
	    domain, r->commit, domain, domain, domain, ttl, domain), 0);
	for (i = 0; i < n; i++)
		want_record(&want, rec[i].txt, rec[i].sel, domain, ttl,
		    rec[i].revoked);
	snprintf(suffix, sizeof(suffix), "/_domainkey.%s.zone", domain);
	check_file(find(r, suffix), want.data);
	dk_buf_dispose(&want);
}

/* A zone list: its head naming the commit and how to include it. */
static void
check_list(const struct dk_render *r, const char *name, const char *how,
    const char *body)
{
	struct dk_buf want = { 0 };
	char suffix[64];

	assert_int_equal(dk_buf_printf(&want, "# The DKIM zones of commit %s "
	    "(dkimrot, package\n# dkim-keys-public): do not edit.  Pulled in "
	    "by\n# %s\n%s", r->commit, how, body), 0);
	snprintf(suffix, sizeof(suffix), "/%s", name);
	check_file(find(r, suffix), want.data);
	dk_buf_dispose(&want);
}

/* The example.com zone of commit id, rendered with version 7 (malloc'd). */
static char *
zone_of(struct dk_git *g, const char *id)
{
	const struct dk_rpm_file *f;
	struct dk_render *r;
	char *z;

	assert_int_equal(dk_render_commit(g, id, &r), 0);
	r->version = 7;
	assert_int_equal(dk_render_zones(r), 0);
	f = find(r, "/_domainkey.example.com.zone");
	assert_non_null(z = strndup(f->data, f->len));
	dk_render_free(r);
	return z;
}

/* line without its last field, with " QUJD" (base64 of ABC) instead. */
static void
fake_pub(struct dk_buf *b, char *line)
{
	if (strncmp(line, "dkimrot", 7) == 0 || strncmp(line, "end ", 4) == 0) {
		assert_int_equal(dk_buf_printf(b, "%s\n", line), 0);
		return;
	}
	*strrchr(line, ' ') = '\0';
	assert_int_equal(dk_buf_printf(b, "%s QUJD\n", line), 0);
}

/*
 * The record cache (rotator/records.h): written by the first render
 * with the two published keys (not the revoked one, which has no PEM),
 * used by the next (a planted public key shows in the zone), ignored
 * and written again when damaged.
 */
static void
test_render__record_cache(void **state)
{
	char id[DK_GIT_ID_LEN], path[PATH_MAX], *first, *z, *cache, *fake;
	char *p, *q;
	struct dk_buf b = { 0 };
	struct dk_git *g;
	size_t len, lines = 0;

	g = make_repo(&zones, id);
	snprintf(path, sizeof(path), "%s/.git/dkimrot-records",
	    dk_git_workdir(g));
	unlink(path);
	first = zone_of(g, id);
	assert_int_equal(dk_file_read(path, 1 << 20, &cache, &len), 0);
	for (p = cache; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, 4);
	assert_int_equal(strncmp(cache, "dkimrot-records 1\n", 18), 0);
	assert_non_null(strstr(cache, "\nend 2\n"));
	for (p = cache; (q = strchr(p, '\n')) != NULL; p = q + 1) {
		*q = '\0';
		fake_pub(&b, p);
	}
	assert_int_equal(dk_file_replace(path, b.data, b.len, 0600), 0);
	fake = zone_of(g, id);
	assert_non_null(strstr(fake, "p=QUJD\""));
	assert_null(strstr(first, "p=QUJD"));
	/* A damaged line: the whole file is ignored, and written again. */
	assert_non_null(p = strstr(b.data, "\nend "));
	memcpy(p + 1, "xnd", 3);
	assert_int_equal(dk_file_replace(path, b.data, b.len, 0600), 0);
	z = zone_of(g, id);
	assert_string_equal(z, first);
	free(cache);
	assert_int_equal(dk_file_read(path, 1 << 20, &cache, &len), 0);
	assert_non_null(strstr(cache, "\nend 2\n"));
	assert_null(strstr(cache, "QUJD"));
	free(cache);
	free(first);
	free(fake);
	free(z);
	dk_buf_dispose(&b);
	dk_git_free(g);
}

/* The version dk_render_commit() counts with .git/dkimrot-count as text. */
static size_t
version_with(struct dk_git *g, const char *id, const char *path,
    const char *text)
{
	struct dk_render *r;
	size_t v;

	if (text != NULL)
		assert_int_equal(dk_file_replace(path, text, strlen(text),
		    0600), 0);
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	v = r->version;
	dk_render_free(r);
	return v;
}

/*
 * The commit count (render.c, count_commits): written by a render, used
 * by the next where its walk meets the commit (a planted count shows in
 * the version), ignored when damaged or of another commit.
 */
static void
test_render__count(void **state)
{
	char id[DK_GIT_ID_LEN], path[PATH_MAX], want[64], *text;
	struct dk_git *g;
	size_t len;

	g = make_repo(&zones, id);
	snprintf(path, sizeof(path), "%s/.git/dkimrot-count",
	    dk_git_workdir(g));
	unlink(path);
	assert_int_equal(version_with(g, id, path, NULL), 1);
	snprintf(want, sizeof(want), "%s 1\n", id);
	assert_int_equal(dk_file_read(path, 128, &text, &len), 0);
	assert_string_equal(text, want);
	free(text);
	snprintf(want, sizeof(want), "%s 9\n", id);
	assert_int_equal(version_with(g, id, path, want), 9);
	snprintf(want, sizeof(want), "%s -9\n", id);
	assert_int_equal(version_with(g, id, path, want), 1);
	snprintf(want, sizeof(want), "%s 9", id);
	assert_int_equal(version_with(g, id, path, want), 1);
	assert_int_equal(version_with(g, id, path,
	    "0123456789abcdef0123456789abcdef01234567 9\n"), 1);
	snprintf(want, sizeof(want), "%s 1\n", id);
	assert_int_equal(dk_file_read(path, 128, &text, &len), 0);
	assert_string_equal(text, want);
	free(text);
	dk_git_free(g);
}

/*
 * dns.publish zones: no fragments; once the package's version is known
 * (7 here), a zone per domain with keys, its SOA serial the version,
 * its NS records zone_nameservers, and the zone lists of BIND, NSD and
 * Knot with NOTIFY and transfers for each secondary, at its port.
 */
static void
test_render__zones(void **state)
{
	static const struct zrec com[] = { { "a1", "rsa1024", false },
	    { "rv", "rsa1024", true } };
	static const struct zrec org[] = { { "o1", "rsa2048", false } };
	static const char files[] =
	    "p /srv/dkim 0755 root:root dir\n"
	    "p /srv/dkim/_domainkey.example.com.zone 0644 root:root config\n"
	    "p /srv/dkim/_domainkey.example.org.zone 0644 root:root config\n"
	    "p /srv/dkim/named.conf 0644 root:root config\n"
	    "p /srv/dkim/nsd.conf 0644 root:root config\n"
	    "p /srv/dkim/knot.conf 0644 root:root config\n";
	struct dk_render *r;
	struct dk_buf b = { 0 };
	char id[DK_GIT_ID_LEN];
	struct dk_git *g;

	g = make_repo(&zones, id);
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	/* the domains' records wait for the version */
	assert_int_equal(r->nzones, 2);
	r->version = 7;
	assert_int_equal(dk_render_zones(r), 0);
	list_files(&b, 'p', r->pub, r->npub);
	assert_string_equal(b.data, files);
	dk_buf_dispose(&b);
	check_dkim_zone(r, "example.com", "3600", com, 2);
	check_dkim_zone(r, "example.org", "600", org, 1);
	check_list(r, "named.conf", "include \"/srv/dkim/named.conf\"; in "
	    "named.conf",
	    "zone \"_domainkey.example.com\" {\n\ttype primary;\n"
	    "\tfile \"/srv/dkim/_domainkey.example.com.zone\";\n"
	    "\tnotify explicit;\n"
	    "\talso-notify { 192.0.2.54 port 53; 2001:db8::54 port 5353; };\n"
	    "\tallow-transfer { 192.0.2.54; 2001:db8::54; };\n};\n"
	    "zone \"_domainkey.example.org\" {\n\ttype primary;\n"
	    "\tfile \"/srv/dkim/_domainkey.example.org.zone\";\n"
	    "\tnotify explicit;\n"
	    "\talso-notify { 192.0.2.54 port 53; 2001:db8::54 port 5353; };\n"
	    "\tallow-transfer { 192.0.2.54; 2001:db8::54; };\n};\n");
	check_list(r, "nsd.conf", "include: \"/srv/dkim/nsd.conf\" in "
	    "nsd.conf, after the server: section",
	    "zone:\n\tname: \"_domainkey.example.com\"\n"
	    "\tzonefile: \"/srv/dkim/_domainkey.example.com.zone\"\n"
	    "\tnotify: 192.0.2.54 NOKEY\n\tprovide-xfr: 192.0.2.54 NOKEY\n"
	    "\tnotify: 2001:db8::54@5353 NOKEY\n"
	    "\tprovide-xfr: 2001:db8::54 NOKEY\n"
	    "zone:\n\tname: \"_domainkey.example.org\"\n"
	    "\tzonefile: \"/srv/dkim/_domainkey.example.org.zone\"\n"
	    "\tnotify: 192.0.2.54 NOKEY\n\tprovide-xfr: 192.0.2.54 NOKEY\n"
	    "\tnotify: 2001:db8::54@5353 NOKEY\n"
	    "\tprovide-xfr: 2001:db8::54 NOKEY\n");
	check_list(r, "knot.conf", "include: /srv/dkim/knot.conf in knot.conf",
	    "remote:\n  - id: dkimrot-secondary-1\n    address: 192.0.2.54\n"
	    "  - id: dkimrot-secondary-2\n    address: 2001:db8::54@5353\n"
	    "acl:\n  - id: dkimrot-transfer\n"
	    "    address: [192.0.2.54, 2001:db8::54]\n    action: transfer\n"
	    "zone:\n  - domain: _domainkey.example.com\n"
	    "    file: /srv/dkim/_domainkey.example.com.zone\n"
	    "    zonefile-sync: -1\n    zonefile-load: whole\n"
	    "    journal-content: none\n"
	    "    notify: [dkimrot-secondary-1, dkimrot-secondary-2]\n"
	    "    acl: [dkimrot-transfer]\n"
	    "  - domain: _domainkey.example.org\n"
	    "    file: /srv/dkim/_domainkey.example.org.zone\n"
	    "    zonefile-sync: -1\n    zonefile-load: whole\n"
	    "    journal-content: none\n"
	    "    notify: [dkimrot-secondary-1, dkimrot-secondary-2]\n"
	    "    acl: [dkimrot-transfer]\n");
	dk_render_free(r);
	dk_git_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__table),
		cmocka_unit_test(test_render__zones),
		cmocka_unit_test(test_render__record_cache),
		cmocka_unit_test(test_render__count),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
