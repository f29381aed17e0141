/*
 * Unit tests of packaging/render.c: a small key repository made in /tmp
 * (the fixed keys of tests/vectors/, committed with rotator/git.h), one
 * commit rendered, and every file of both packages checked: paths,
 * modes, owners, KeyTable, SigningTable and the zone fragments, whose
 * records come from the vectors' .txt files (made by opendkim-genkey,
 * not by dkimrot).  Private keys are compared byte for byte with the
 * vector files, never printed.  No rpm build, no name server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "packaging/render.h"
#include "packaging/rpm.h"
#include "rotator/git.h"
#include "rotator/keys.h"
#include "rotator/store.h"
#include "tests/lib/run.h"
#include "tests/lib/tmpdir.h"

#define T0	1795353300	/* 2026-11-22T13:15:00Z */
#define DAY	86400
#define VSEL	"20261122131500"	/* the selector of the vectors */
#define VDOM	"example.com"		/* and their domain */

/* A key of a case: its vector (KEY.private, TXT.txt) and state. */
struct rkey {
	const char	*sel;
	const char	*key;		/* tests/vectors/KEY.private */
	const char	*txt;		/* tests/vectors/TXT.txt */
	enum dk_alg	 alg;
	int		 bits;
	enum dk_state	 state;
	bool		 nofile;	/* in keys.yaml, not in the commit */
};

struct rdom {
	const char	*name;
	struct rkey	 keys[5];
	bool		 leaving;	/* dkimrot remove (policy.h rule 8) */
};

struct rcase {
	const char	*name;
	const char	*yaml;		/* dkimrot.yaml */
	struct rdom	 doms[3];
	int		 rc;
	const char	*err;		/* rc != 0: part of the message */
	/*
	 * Every file of both packages, in order: "P" private or "p" public,
	 * the path, the mode, owner:group, " dir" or " config".
	 */
	const char	*files;
	/*
	 * The lines after the comment of KeyTable and SigningTable, which
	 * are also KeyTable.rsa's and SigningTable.rsa's; then those of
	 * KeyTable.ed25519 and SigningTable.ed25519 (NULL: none).
	 */
	const char	*keytable;
	const char	*signingtable;
	const char	*keytable_ed;
	const char	*signingtable_ed;
	/*
	 * Per zone fragment, "DOMAIN TTL SEL..." naming the keys it holds
	 * in order; "-" after a selector: revoked, p= empty.
	 */
	const char	*zones[3];
	const char	*description;
};

#define K(s, v, b, st)	{ s, v, v, DK_ALG_RSA, b, DK_STATE_##st, false }
#define E(s, st)	{ s, "ed25519", "ed25519", DK_ALG_ED25519, 256, \
			  DK_STATE_##st, false }

static const char yaml_one[] =
    "domains:\n"
    "  - name: example.com\n";

static const char yaml_dual[] =
    "domains:\n"
    "  - name: example.com\n"
    "    algorithms: [rsa, ed25519]\n";

static const char yaml_sub[] =
    "domains:\n"
    "  - name: example.com\n"
    "    subdomains: true\n"
    "  - name: example.org\n";

static const char yaml_signers[] =
    "domains:\n"
    "  - name: example.com\n"
    "    algorithms: [rsa, ed25519]\n"
    "packaging:\n"
    "  signers: [rspamd, exim]\n"
    "  exim_user: Debian-exim\n"
    "  exim_group: Debian-exim\n";

static const char yaml_flags[] =
    "defaults:\n"
    "  ttl: 600\n"
    "domains:\n"
    "  - name: example.com\n"
    "    restrict: true\n"
    "    testmode: true\n"
    "  - name: nokeys.example\n"
    "packaging:\n"
    "  key_dir: /srv/keys\n"
    "  table_dir: /srv/tables\n"
    "  zone_dir: /srv/zones\n"
    "  key_owner: mail\n"
    "  key_group: mail\n";

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

static char tmpdir[] = "/tmp/dk_t_render.XXXXXX";
static char repo[PATH_MAX];

static const char *
vector(const char *name, const char *ext)
{
	static char path[PATH_MAX];
	const char *src = getenv("DKIMROT_SRC");
	int n;

	n = snprintf(path, sizeof(path), "%s/tests/vectors/%s.%s",
	    src != NULL ? src : ".", name, ext);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	return path;
}

static char *
slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;

	if (dk_file_read(path, DK_FILE_MAX, &buf, &n) != 0)
		fail_msg("%s", dk_error_last());
	if (len != NULL)
		*len = n;
	return buf;
}

static void
put(const char *rel, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX], *slash;

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(dk_dir_make(path, 0700), 0);
	*slash = '/';
	assert_int_equal(dk_file_replace(path, data, len, mode), 0);
}

static void
add_path(struct dk_buf *paths, const char *rel)
{
	assert_int_equal(dk_buf_printf(paths, "%s%c", rel, '\0'), 0);
}

/* keys/D/keys.yaml and the key files of d; their paths into paths. */
static void
put_domain(const struct rdom *d, struct dk_buf *paths)
{
	struct dk_domain_keys *dk;
	struct dk_keyinfo k;
	struct dk_buf y = { 0 };
	const struct rkey *rk;
	char rel[PATH_MAX], *pem;
	size_t i, len;

	assert_int_equal(dk_domain_keys_new(d->name, &dk), 0);
	if (d->leaving)
		dk->leaving = T0 - DAY;
	for (i = 0; i < 5 && d->keys[i].sel != NULL; i++) {
		rk = &d->keys[i];
		memset(&k, 0, sizeof(k));
		snprintf(k.selector, sizeof(k.selector), "%s", rk->sel);
		k.alg = rk->alg;
		k.bits = rk->bits;
		k.state = rk->state;
		k.created = k.published = T0 - (time_t)(50 - i) * DAY;
		if (rk->state != DK_STATE_PENDING)
			k.active_from = k.created + DAY;
		if (rk->state == DK_STATE_RETIRING ||
		    rk->state == DK_STATE_RETIRED ||
		    rk->state == DK_STATE_REVOKED)
			k.active_until = k.active_from + DAY;
		if (rk->state == DK_STATE_RETIRED)
			k.retired = k.active_until + 5 * DAY;
		if (rk->state == DK_STATE_REVOKED)
			k.revoked = k.active_until;
		assert_int_equal(dk_domain_keys_add(dk, &k), 0);
		if (!dk_state_published(rk->state) || rk->nofile)
			continue;
		assert_int_equal(dk_store_key_path(NULL, d->name, rk->sel,
		    "private", rel, sizeof(rel)), 0);
		pem = slurp(vector(rk->key, "private"), &len);
		put(rel, pem, len, 0600);
		free(pem);
		add_path(paths, rel);
	}
	assert_int_equal(dk_store_format(dk, &y), 0);
	assert_int_equal(dk_store_yaml_path(NULL, d->name, rel, sizeof(rel)),
	    0);
	put(rel, y.data, y.len, 0644);
	add_path(paths, rel);
	dk_buf_dispose(&y);
	dk_domain_keys_free(dk);
}

/* A fresh repository holding the case, committed; its id to id. */
static struct dk_git *
make_repo(const struct rcase *c, char id[DK_GIT_ID_LEN])
{
	char *rm[] = { "rm", "-rf", repo, NULL };
	struct dk_buf paths = { 0 };
	const char *v[32];
	struct dk_git *g;
	size_t i, n = 0;
	const char *p;

	assert_int_equal(t_run(rm, NULL, 0), 0);
	assert_int_equal(dk_git_init(&g, repo), 0);
	put("dkimrot.yaml", c->yaml, strlen(c->yaml), 0644);
	add_path(&paths, "dkimrot.yaml");
	for (i = 0; i < 3 && c->doms[i].name != NULL; i++)
		put_domain(&c->doms[i], &paths);
	for (p = paths.data; p < paths.data + paths.len; p += strlen(p) + 1) {
		assert_true(n < sizeof(v) / sizeof(v[0]));
		v[n++] = p;
	}
	assert_int_equal(dk_git_commit(g, v, n, "t", "t@localhost", T0,
	    c->name, id), 0);
	dk_buf_dispose(&paths);
	return g;
}

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

static const struct dk_rpm_file *
find(const struct dk_render *r, const char *suffix)
{
	size_t i, n = strlen(suffix), len;

	for (i = 0; i < r->npriv + r->npub; i++) {
		const struct dk_rpm_file *f = i < r->npriv ? &r->priv[i] :
		    &r->pub[i - r->npriv];

		len = strlen(f->path);
		if (len >= n && strcmp(f->path + len - n, suffix) == 0)
			return f;
	}
	fail_msg("no file ending in '%s'", suffix);
	return NULL;
}

static void
check_file(const struct dk_rpm_file *f, const char *want)
{
	assert_int_equal(f->len, strlen(want));
	if (memcmp(f->data, want, f->len) != 0)
		fail_msg("%s:\n%.*s\nwanted:\n%s", f->path, (int)f->len,
		    (const char *)f->data, want);
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

static bool
has(const struct dk_rpm_file *f, const char *s)
{
	return memmem(f->data, f->len, s, strlen(s)) != NULL;
}

/*
 * The OpenDKIM instance files follow table_dir, key_owner and key_group:
 * each instance reads its own tables with its own algorithm.
 */
static void
test_render__signer(void **state)
{
	static const char want_conf[] =
	    "# OpenDKIM instance opendkim@ed25519 (dkim-keys-private, "
	    "dkimrot):\n"
	    "# signs with the Ed25519 keys only.  Released OpenDKIM signs "
	    "every\n"
	    "# key of its KeyTable with its one SignatureAlgorithm, so each\n"
	    "# algorithm has an instance of its own:\n"
	    "#   systemctl enable --now opendkim@rsa opendkim@ed25519\n"
	    "# and Postfix passes mail through both (postfix-milters.cf).\n"
	    "# An edited copy is kept on upgrade: set InternalHosts to\n"
	    "# every network whose mail this host signs.\n"
	    "Mode\t\t\ts\n"
	    "SignatureAlgorithm\ted25519-sha256\n"
	    "KeyTable\t\t/srv/tables/KeyTable.ed25519\n"
	    "SigningTable\t\trefile:/srv/tables/SigningTable.ed25519\n"
	    "Socket\t\t\tinet:8892@127.0.0.1\n"
	    "UserID\t\t\tmail:mail\n"
	    "InternalHosts\t\t127.0.0.1,::1\n"
	    "Canonicalization\trelaxed/simple\n"
	    "OversignHeaders\t\tFrom\n"
	    "Syslog\t\t\tyes\n"
	    "SyslogSuccess\t\tyes\n";
	const struct dk_rpm_file *f;
	struct dk_render *r;
	char id[DK_GIT_ID_LEN];
	struct dk_git *g;

	g = make_repo(&cases[3], id);
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	check_file(find(r, "/opendkim-ed25519.conf"), want_conf);
	f = find(r, "/opendkim-rsa.conf");
	assert_true(has(f,
	    "SignatureAlgorithm\trsa-sha256\n"
	    "KeyTable\t\t/srv/tables/KeyTable.rsa\n"
	    "SigningTable\t\trefile:/srv/tables/SigningTable.rsa\n"
	    "Socket\t\t\tinet:8891@127.0.0.1\n"));
	f = find(r, "/opendkim@.service");
	assert_true(has(f, "\nExecStart=/usr/sbin/"
	    "opendkim -x /srv/tables/opendkim-%i.conf -P "
	    "/run/opendkim-%i/opendkim.pid\n"));
	f = find(r, "/postfix-milters.cf");
	assert_true(has(f, "\nsmtpd_milters = "
	    "inet:127.0.0.1:8891, inet:127.0.0.1:8892\nnon_smtpd_milters = "
	    "$smtpd_milters\n"));
	dk_render_free(r);
	dk_git_free(g);
}

/*
 * signers: [rspamd, exim]: no OpenDKIM files, a copy of each key per
 * signer owned by its user, rspamd's Ed25519 key as a base64 seed, and
 * Exim's lookups naming both keys of the dual domain.
 */
static void
test_render__signers(void **state)
{
	struct rcase c = cases[2];	/* dual signing */
	const struct dk_rpm_file *f;
	struct dk_render *r;
	char id[DK_GIT_ID_LEN];
	struct dk_git *g;
	size_t i;

	c.yaml = yaml_signers;
	g = make_repo(&c, id);
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	for (i = 0; i < r->npriv; i++)
		if (strstr(r->priv[i].path, "KeyTable") != NULL ||
		    strstr(r->priv[i].path, "opendkim") != NULL ||
		    strncmp(r->priv[i].path, "/etc/dkim-keys/keys", 19) == 0)
			fail_msg("%s without opendkim", r->priv[i].path);
	f = find(r, "/rspamd/keys/example.com/e1.private");
	assert_string_equal(f->owner, "_rspamd");
	assert_int_equal(f->mode, 0600);
	assert_int_equal(f->len, 45);	/* base64 of 32 bytes, newline */
	assert_null(memchr(f->data, '-', f->len));
	f = find(r, "/rspamd/keys/example.com/r1.private");
	assert_true(has(f, "-----BEGIN "));
	f = find(r, "/exim/keys/example.com/e1.private");
	assert_string_equal(f->owner, "Debian-exim");
	assert_true(has(f, "-----BEGIN "));
	check_file(find(r, "/exim/selectors"), "example.com: r1 : e1\n");
	check_file(find(r, "/exim/paths"), "r1@example.com: /etc/dkim-keys/"
	    "exim/keys/example.com/r1.private\ne1@example.com: /etc/dkim-keys/"
	    "exim/keys/example.com/e1.private\n");
	f = find(r, "/rspamd/dkim_signing.conf");
	assert_true(has(f, "domain {\n  \"example.com\" {\n    selectors [\n"
	    "      { selector = \"r1\"; path = \"/etc/dkim-keys/rspamd/keys/"
	    "example.com/r1.private\"; },\n      { selector = \"e1\"; path = "
	    "\"/etc/dkim-keys/rspamd/keys/example.com/e1.private\"; },\n"
	    "    ];\n  }\n}\n"));
	check_file(find(r, "/rspamd/selectors.map"), "example.com r1\n");
	dk_render_free(r);
	dk_git_free(g);
}

/* The %files section of a rendered spec, as a new string. */
static char *
files_section(const char *spec)
{
	const char *s = strstr(spec, "\n%files\n"), *e;

	assert_non_null(s);
	s += strlen("\n%files\n");
	/* The template has an empty line before %changelog. */
	assert_non_null(e = strstr(s, "\n%changelog"));
	assert_true(e > s && e[-1] == '\n');
	e--;
	return strndup(s, (size_t)(e - s));
}

/* What the spec templates get from a render: the files and the domains. */
static void
test_render__spec(void **state)
{
	/*
	 * In path order; a directory all alike below is one line
	 * (packaging/spec_files.c), the rest one line each.
	 */
	static const char want_priv[] =
	    "%dir %attr(0755,root,root) /etc/dkim-keys\n"
	    "%config %attr(0644,root,root) /etc/dkim-keys/KeyTable\n"
	    "%config %attr(0644,root,root) /etc/dkim-keys/KeyTable.ed25519\n"
	    "%config %attr(0644,root,root) /etc/dkim-keys/KeyTable.rsa\n"
	    "%config %attr(0644,root,root) /etc/dkim-keys/SigningTable\n"
	    "%config %attr(0644,root,root) /etc/dkim-keys/"
	    "SigningTable.ed25519\n"
	    "%config %attr(0644,root,root) /etc/dkim-keys/SigningTable.rsa\n"
	    "%defattr(0600,opendkim,opendkim,0700)\n"
	    "/etc/dkim-keys/keys\n"
	    "%defattr(-,root,root,-)\n"
	    "%config(noreplace) %attr(0644,root,root) /etc/dkim-keys/"
	    "opendkim-ed25519.conf\n"
	    "%config(noreplace) %attr(0644,root,root) /etc/dkim-keys/"
	    "opendkim-rsa.conf\n"
	    "%config %attr(0644,root,root) /etc/dkim-keys/"
	    "postfix-milters.cf\n"
	    "%attr(0644,root,root) /usr/lib/systemd/system/"
	    "opendkim@.service\n";
	static const char want_pub[] =
	    "%defattr(0644,root,root,0755)\n"
	    "%config /var/named/dkim\n";
	struct dk_rpm_pkg pkg;
	struct dk_render *r;
	char id[DK_GIT_ID_LEN], *spec, *files;
	struct dk_git *g;

	g = make_repo(&cases[0], id);
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	memset(&pkg, 0, sizeof(pkg));
	pkg.name = "dkim-keys-private";
	pkg.version = "1";
	pkg.vcs = r->commit;
	pkg.description = r->description;
	pkg.time = r->time;
	pkg.files = r->priv;
	pkg.nfiles = r->npriv;
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_private, &pkg,
	    &spec), 0);
	files = files_section(spec);
	assert_string_equal(files, want_priv);
	assert_non_null(strstr(spec, "\nDomains (1): example.com\n"));
	/* No owner given (as for the public package): no %pre. */
	assert_null(strstr(spec, "%pre"));
	free(files);
	free(spec);
	/* The keys' owner is made at install when missing, or it fails. */
	pkg.pre_user = "opendkim";
	pkg.pre_group = "mail";
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_private, &pkg,
	    &spec), 0);
	assert_non_null(strstr(spec, "\n%pre\ndk_has() {\n"));
	assert_non_null(strstr(spec, "\ndk_has group 'mail' || groupadd -r "
	    "'mail' 2>/dev/null || {\n"));
	assert_non_null(strstr(spec, "\ndk_has passwd 'opendkim' || useradd "
	    "-r -g 'mail' -d / -s /sbin/nologin -c 'DKIM signer' 'opendkim' "
	    "2>/dev/null || {\n\techo \"dkim-keys-private: no user "
	    "'opendkim' (packaging.key_owner) and useradd failed\" >&2\n"
	    "\texit 1\n}\nexit 0\n"));
	free(spec);
	pkg.pre_user = "bad user";
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_private, &pkg,
	    &spec), DK_EUSAGE);
	pkg.pre_user = NULL;
	pkg.pre_group = NULL;
	pkg.name = "dkim-keys-public";
	pkg.files = r->pub;
	pkg.nfiles = r->npub;
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_public, &pkg,
	    &spec), 0);
	files = files_section(spec);
	assert_string_equal(files, want_pub);
	assert_null(strstr(spec, "PRIVATE KEY"));
	free(files);
	free(spec);
	dk_render_free(r);
	dk_git_free(g);
}

static int
setup(void **state)
{
	return t_tmpdir_make(tmpdir, repo, sizeof(repo));
}

static int
teardown(void **state)
{
	return t_tmpdir_remove(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__table),
		cmocka_unit_test(test_render__spec),
		cmocka_unit_test(test_render__signer),
		cmocka_unit_test(test_render__signers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
