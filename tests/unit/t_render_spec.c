/*
 * Unit tests of what packaging/render.c hands the package builds beyond
 * the files of tests/unit/t_render.c: the OpenDKIM instance files, the
 * copies of the keys for rspamd and Exim, and the spec templates
 * rendered with a commit's files and domains.  No rpm build.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/trender.h"
#include "common/config.h"
#include "packaging/parts.h"
#include "rotator/output.h"
#include "rotator/policy.h"

static const char yaml_signers[] =
    "domains:\n"
    "  - name: example.com\n"
    "    algorithms: [rsa, ed25519]\n"
    "packaging:\n"
    "  signers: [rspamd, exim]\n"
    "  exim_user: Debian-exim\n"
    "  exim_group: Debian-exim\n";


/* The repositories: one active key; a dual domain; table_dir, owners. */
static const struct rcase one = {
	.name = "one active key",
	.yaml = yaml_one,
	.doms = { { "example.com", { K("a1", "rsa1024", 1024, ACTIVE) } } },
};

static const struct rcase dual = {
	.name = "dual signing",
	.yaml = yaml_dual,
	.doms = { { "example.com", {
		K("r1", "rsa1024", 1024, ACTIVE),
		E("e1", ACTIVE) } } },
};

static const struct rcase flags = {
	.name = "policy, directories",
	.yaml = yaml_flags,
	.doms = { { "example.com", { K("k1", "rsa2048", 2048, ACTIVE) } } },
};

static const char yaml_parts[] =
    "domains:\n"
    "  - name: example.com\n"
    "  - name: example.org\n"
    "  - name: example.net\n"
    "packaging:\n"
    "  parts: 3\n";

static const struct rcase parts = {
	.name = "parts",
	.yaml = yaml_parts,
	.doms = {
		{ "example.com", { K("a1", "rsa1024", 1024, ACTIVE) } },
		{ "example.org", { E("e1", ACTIVE) } },
		{ "example.net", { K("n1", "rsa1024", 1024, ACTIVE),
		    K("n2", "rsa1024", 1024, PENDING) } },
	},
};

/* The same with rspamd beside OpenDKIM: rspamd's form of e1 is derived. */
static const char yaml_parts_rspamd[] =
    "domains:\n"
    "  - name: example.com\n"
    "  - name: example.org\n"
    "  - name: example.net\n"
    "packaging:\n"
    "  parts: 3\n"
    "  signers: [opendkim, rspamd]\n";

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

	g = make_repo(&flags, id);
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
	struct rcase c = dual;
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

	g = make_repo(&one, id);
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

/* The part of a domain: its due day in the cycle, kept by a rotation. */
static void
test_parts__slot(void **state)
{
	struct dk_keyinfo keys[2];
	struct dk_domain_keys dk;
	struct dk_config cfg;
	struct dk_policy pol;
	long long due, stagger;
	unsigned s, d, seen = 0;

	dk_config_defaults(&cfg);
	pol = cfg.defaults;
	memset(&dk, 0, sizeof(dk));
	memset(keys, 0, sizeof(keys));
	dk.keys = keys;
	assert_int_equal(dk_parts_slot(&pol, &dk, 30), 0);	/* no key */
	for (d = 0; d < 400; d++) {
		snprintf(dk.domain, sizeof(dk.domain), "d%u.example", d);
		dk.n = 1;
		keys[0].alg = DK_ALG_RSA;
		keys[0].state = DK_STATE_ACTIVE;
		keys[0].created = T0;
		s = dk_parts_slot(&pol, &dk, 30);
		assert_true(s < 30);
		seen |= 1u << s;
		/* Its successor, made when due, keeps it in its part. */
		due = dk_policy_due(&dk, &keys[0], &pol, &stagger);
		keys[1] = keys[0];
		keys[1].state = DK_STATE_PENDING;
		keys[1].created = (time_t)due;
		dk.n = 2;
		assert_int_equal(dk_parts_slot(&pol, &dk, 30), s);
		/* And once it signs and the first is retired. */
		keys[0].state = DK_STATE_RETIRED;
		keys[1].state = DK_STATE_ACTIVE;
		assert_int_equal(dk_parts_slot(&pol, &dk, 30), s);
	}
	/*
	 * The staggered first keys of one day spread over the parts their
	 * window reaches: rotate_every less min_age and publish_lead, 25 of
	 * 30 days (and a day cut in two).
	 */
	assert_int_equal(__builtin_popcount(seen), 26);
	/* One part: always 0. */
	assert_int_equal(dk_parts_slot(&pol, &dk, 1), 0);
}

/*
 * The private files split into dkim-keys-private and its parts: each
 * key in one part, with its domain's other keys; the key directory in
 * every part that has keys; the digests the same for the same files.
 */
static void
test_parts__split(void **state)
{
	const struct dk_rpm_file *f;
	struct dk_rpm_pkg pkg;
	struct dk_parts p, q;
	struct dk_render *r;
	char id[DK_GIT_ID_LEN], *spec, dom[64];
	struct dk_git *g;
	size_t i, j, keys = 0, found;
	unsigned k, owner[3];

	g = make_repo(&parts, id);
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	assert_int_equal(dk_parts_split(r, "opendkim", "opendkim", &p), 0);
	assert_int_equal(p.n, 3);
	for (i = 0; i < p.nmain; i++)
		assert_null(strstr(p.main[i].path, ".private"));
	memset(owner, 0xff, sizeof(owner));
	for (i = 0; i < r->npriv; i++) {
		if (strstr(r->priv[i].path, ".private") == NULL)
			continue;
		keys++;
		found = 0;
		for (k = 0; k < p.n; k++)
			for (j = 0; j < p.part[k].nfiles; j++)
				if (p.part[k].files[j].path == r->priv[i].path) {
					found++;
					sscanf(r->priv[i].path,
					    "/etc/dkim-keys/keys/%63[^/]", dom);
					owner[dom[8] == 'c' ? 0 : dom[8] ==
					    'o' ? 1 : 2] = k;
					assert_ptr_equal(p.part[k].files[0].path,
					    strstr(p.part[k].files[0].path,
					    "/etc/dkim-keys"));
				}
		assert_int_equal(found, 1);
	}
	assert_int_equal(keys, 4);
	/* Every part with a key has the key directory, 0700, first. */
	for (k = 0; k < p.n; k++) {
		if (p.part[k].nfiles == 0)
			continue;
		f = NULL;
		for (j = 0; j < p.part[k].nfiles; j++)
			if (strcmp(p.part[k].files[j].path,
			    "/etc/dkim-keys/keys") == 0)
				f = &p.part[k].files[j];
		assert_non_null(f);
		assert_true((f->flags & DK_RPM_DIR) && f->mode == 0700);
	}
	/* The same files, the same digests; another owner, another. */
	assert_int_equal(dk_parts_split(r, "opendkim", "opendkim", &q), 0);
	for (k = 0; k < p.n; k++)
		assert_string_equal(p.part[k].sha256, q.part[k].sha256);
	dk_parts_dispose(&q);
	assert_int_equal(dk_parts_split(r, "mail", "opendkim", &q), 0);
	for (k = 0; k < p.n; k++)
		assert_string_not_equal(p.part[k].sha256, q.part[k].sha256);
	dk_parts_dispose(&q);
	/* dkim-keys-private requires each part at its exact version. */
	for (k = 0; k < p.n; k++) {
		p.req[k].name = dk_pkg_part_name(k);
		p.req[k].version = k == 1 ? "2" : "7";
	}
	p.obs[0].name = dk_pkg_part_name(3);
	p.obs[0].version = "7";
	memset(&pkg, 0, sizeof(pkg));
	pkg.name = DK_PKG_PRIVATE;
	pkg.version = "7";
	pkg.vcs = r->commit;
	pkg.time = r->time;
	pkg.files = p.main;
	pkg.nfiles = p.nmain;
	pkg.requires = p.req;
	pkg.nrequires = p.n;
	pkg.obsoletes = p.obs;
	pkg.nobsoletes = 1;
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_private, &pkg,
	    &spec), 0);
	assert_non_null(strstr(spec, "\nRequires:\tdkim-keys-private-part-00 "
	    "= 7-1\nRequires:\tdkim-keys-private-part-01 = 2-1\nRequires:\t"
	    "dkim-keys-private-part-02 = 7-1\nObsoletes:\t"
	    "dkim-keys-private-part-03 < 7\n"));
	free(spec);
	/* A name or version that could inject a spec line is refused. */
	p.req[1].version = "2\nRequires: evil";
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_private, &pkg,
	    &spec), DK_EUSAGE);
	p.req[1].version = "2";
	p.obs[0].name = "x%{evil}";
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_private, &pkg,
	    &spec), DK_EUSAGE);
	dk_parts_dispose(&p);
	dk_render_free(r);
	dk_git_free(g);
}

/*
 * The one file of p's parts whose path ends in suffix, and its part in
 * *part (NULL: not wanted).
 */
static struct dk_rpm_file *
part_file(const struct dk_parts *p, const char *suffix, unsigned *part)
{
	struct dk_rpm_file *f = NULL;
	size_t j, n = strlen(suffix), len;
	unsigned k;

	for (k = 0; k < p->n; k++)
		for (j = 0; j < p->part[k].nfiles; j++) {
			len = strlen(p->part[k].files[j].path);
			if (len < n || strcmp(p->part[k].files[j].path +
			    len - n, suffix) != 0)
				continue;
			if (f != NULL)
				fail_msg("two files end in '%s'", suffix);
			f = &p->part[k].files[j];
			if (part != NULL)
				*part = k;
		}
	if (f == NULL)
		fail_msg("no part holds '%s'", suffix);
	return f;
}

/*
 * With parts, the keys a part's digest needs are not read (render.h,
 * deferred): once the record cache knows them, every key file is its
 * git blob id and no contents; dk_render_load() reads them, the key
 * byte for byte, rspamd's form derived; a part's digest is the same
 * loaded or not, and another key changes its part's digest only.
 */
static void
test_parts__deferred(void **state)
{
	struct rcase c = parts, c2;
	struct dk_parts p, q;
	struct dk_render *r, *r2;
	const struct dk_rpm_file *f;
	char id[DK_GIT_ID_LEN], *pem, seed1[46];	/* base64, newline */
	struct dk_git *g;
	size_t i, len, keys = 0;
	unsigned k, net;
	bool seed;

	c.yaml = yaml_parts_rspamd;
	g = make_repo(&c, id);
	/* The first render derives every record, so it reads every key. */
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	assert_true(r->defer);
	for (i = 0; i < r->npriv; i++)
		assert_false(dk_rpm_file_unloaded(&r->priv[i]));
	f = find(r, "/rspamd/keys/example.org/e1.private");
	assert_int_equal(f->len, sizeof(seed1) - 1);
	memcpy(seed1, f->data, f->len);
	dk_render_free(r);
	assert_int_equal(dk_render_commit(g, id, &r), 0);
	for (i = 0; i < r->npriv; i++) {
		f = &r->priv[i];
		if (strstr(f->path, ".private") == NULL) {
			assert_null(f->source);
			continue;
		}
		keys++;
		assert_true(dk_rpm_file_unloaded(f));
		seed = strstr(f->path, "/rspamd/keys/example.org/e1") != NULL;
		assert_int_equal(strncmp(f->source, "rspamd-seed:", 12) == 0,
		    seed);
		assert_int_equal(strlen(f->source + (seed ? 12 : 0)),
		    DK_GIT_ID_LEN - 1);
	}
	assert_int_equal(keys, 8);	/* 4 keys, OpenDKIM and rspamd */
	assert_int_equal(dk_parts_split(r, "opendkim", "opendkim", &p), 0);
	for (k = 0; k < p.n; k++)
		assert_int_equal(dk_render_load(r, g, p.part[k].files,
		    p.part[k].nfiles), 0);
	for (k = 0; k < p.n; k++)
		for (i = 0; i < p.part[k].nfiles; i++)
			assert_false(dk_rpm_file_unloaded(&p.part[k].files[i]));
	f = part_file(&p, "/etc/dkim-keys/keys/example.com/a1.private", NULL);
	pem = slurp(vector("rsa1024", "private"), &len);
	assert_int_equal(f->len, len);
	assert_memory_equal(f->data, pem, len);
	free(pem);
	/* rspamd's form, as when it was not deferred */
	f = part_file(&p, "/rspamd/keys/example.org/e1.private", NULL);
	assert_int_equal(f->len, sizeof(seed1) - 1);
	assert_memory_equal(f->data, seed1, f->len);
	/* Loaded or not, the same digests. */
	assert_int_equal(dk_render_load(r, g, r->priv, r->npriv), 0);
	assert_int_equal(dk_parts_split(r, "opendkim", "opendkim", &q), 0);
	for (k = 0; k < p.n; k++)
		assert_string_equal(p.part[k].sha256, q.part[k].sha256);
	dk_parts_dispose(&q);
	/* Another key for n2: its part's digest changes, no other. */
	c2 = c;
	c2.doms[2].keys[1] = (struct rkey)K("n2", "rsa2048", 2048, PENDING);
	dk_git_free(g);
	g = make_repo(&c2, id);
	assert_int_equal(dk_render_commit(g, id, &r2), 0);
	assert_int_equal(dk_parts_split(r2, "opendkim", "opendkim", &q), 0);
	part_file(&p, "/etc/dkim-keys/keys/example.net/n2.private", &net);
	part_file(&q, "/etc/dkim-keys/keys/example.net/n2.private", &k);
	assert_int_equal(k, net);
	for (k = 0; k < p.n; k++)
		if (k == net)
			assert_string_not_equal(p.part[k].sha256,
			    q.part[k].sha256);
		else
			assert_string_equal(p.part[k].sha256, q.part[k].sha256);
	dk_parts_dispose(&q);
	dk_parts_dispose(&p);
	dk_render_free(r2);
	dk_render_free(r);
	dk_git_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__spec),
		cmocka_unit_test(test_render__signer),
		cmocka_unit_test(test_render__signers),
		cmocka_unit_test(test_parts__slot),
		cmocka_unit_test(test_parts__split),
		cmocka_unit_test(test_parts__deferred),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
