/* Unit tests: dkimrot.yaml, its defaults, overrides, errors, template. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/file.h"

#define DAY	86400LL

static int
parse(const char *s, struct dk_config **out)
{
	return dk_config_parse(s, strlen(s), "t.yaml", out);
}

static void
assert_policy_equal(const struct dk_policy *a, const struct dk_policy *b)
{
	assert_int_equal(a->algorithms, b->algorithms);
	assert_int_equal(a->rsa_bits, b->rsa_bits);
	assert_int_equal(a->rotate_every, b->rotate_every);
	assert_int_equal(a->publish_lead, b->publish_lead);
	assert_int_equal(a->min_age, b->min_age);
	assert_int_equal(a->drain, b->drain);
	assert_int_equal(a->keep_published, b->keep_published);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->restrict_email, b->restrict_email);
	assert_int_equal(a->testmode, b->testmode);
	assert_int_equal(a->subdomains, b->subdomains);
}

/* Everything but the domains and the file name equals the defaults. */
static void
assert_is_defaults(const struct dk_config *c)
{
	const struct dk_packaging_conf *p = &c->packaging, *dp;
	struct dk_config d;

	dk_config_defaults(&d);
	dp = &d.packaging;
	assert_policy_equal(&c->defaults, &d.defaults);
	assert_int_equal(c->dns_verify, d.dns_verify);
	assert_int_equal(c->dns_server, d.dns_server);
	assert_int_equal(c->max_serial_lag, d.max_serial_lag);
	assert_int_equal(c->nnameservers, 0);
	assert_null(c->nameservers);
	assert_null(c->ns);
	assert_string_equal(c->git_author, d.git_author);
	assert_string_equal(c->git_name, d.git_name);
	assert_string_equal(c->git_email, d.git_email);
	assert_string_equal(c->git_remote, d.git_remote);
	assert_string_equal(c->git_branch, d.git_branch);
	assert_string_equal(p->output, dp->output);
	assert_string_equal(p->private_output, dp->private_output);
	assert_string_equal(p->public_output, dp->public_output);
	assert_int_equal(p->keep_builds, dp->keep_builds);
	assert_string_equal(p->key_dir, dp->key_dir);
	assert_string_equal(p->table_dir, dp->table_dir);
	assert_string_equal(p->zone_dir, dp->zone_dir);
	assert_string_equal(p->key_owner, dp->key_owner);
	assert_string_equal(p->key_group, dp->key_group);
	assert_string_equal(p->mta_reload, dp->mta_reload);
	assert_string_equal(p->dns_reload, dp->dns_reload);
	assert_string_equal(p->sign_key, dp->sign_key);
	assert_string_equal(p->gnupg_home, dp->gnupg_home);
}

static void
test_config__defaults(void **state)
{
	static const char *empty[] = { "", "# nothing yet\n", "---\n",
	    "defaults:\ndomains:\ndns:\ngit:\npackaging:\n",
	    "defaults: {}\ndomains: []\ndns: {nameservers: []}\n" };
	struct dk_config d, *c;
	size_t i;

	dk_config_defaults(&d);
	assert_int_equal(d.defaults.algorithms, DK_ALG_BIT(DK_ALG_RSA));
	assert_int_equal(d.defaults.rsa_bits, 2048);
	assert_int_equal(d.defaults.rotate_every, 30 * DAY);
	assert_int_equal(d.defaults.publish_lead, DAY);
	assert_int_equal(d.defaults.min_age, 4 * DAY);
	assert_int_equal(d.defaults.drain, 4 * DAY);
	assert_int_equal(d.defaults.keep_published, 2);
	assert_int_equal(d.defaults.ttl, 3600);
	assert_false(d.defaults.restrict_email);
	assert_false(d.defaults.testmode);
	assert_false(d.dns_verify);
	assert_int_equal(d.max_serial_lag, 2);
	assert_int_equal(d.nnameservers, 0);
	assert_int_equal(d.ndomains, 0);
	assert_null(d.file);
	assert_string_equal(d.git_author, "dkimrot <dkimrot@localhost>");
	assert_string_equal(d.git_name, "dkimrot");
	assert_string_equal(d.git_email, "dkimrot@localhost");
	assert_string_equal(d.git_remote, "");
	assert_string_equal(d.git_branch, "main");
	assert_string_equal(d.git_ssh_key, "");
	assert_string_equal(d.git_credentials, "");
	assert_string_equal(d.packaging.output, "rpms");
	/* Below output: rpms/private and rpms/public (rotator/output.h). */
	assert_string_equal(d.packaging.private_output, "");
	assert_string_equal(d.packaging.public_output, "");
	assert_int_equal(d.packaging.keep_builds, 5);
	assert_int_equal(d.packaging.parts, 0);
	/* docs/design.md §11: every target installs it. */
	assert_int_equal(d.packaging.compress, DK_COMPRESS_GZIP);
	assert_int_equal(d.packaging.formats, DK_FORMAT_RPM);
	assert_string_equal(d.packaging.key_dir, "/etc/dkim-keys/keys");
	assert_string_equal(d.packaging.table_dir, "/etc/dkim-keys");
	assert_string_equal(d.packaging.zone_dir, "/var/named/dkim");
	assert_string_equal(d.packaging.key_owner, "opendkim");
	assert_string_equal(d.packaging.key_group, "opendkim");
	assert_string_equal(d.packaging.mta_reload,
	    "systemctl try-reload-or-restart opendkim.service "
	    "'opendkim@*.service'");
	/* rndc reload alone misses a fragment older than the last load. */
	assert_string_equal(d.packaging.dns_reload,
	    "touch -c /var/named/dkim/*.zone && rndc reload");
	assert_int_equal(d.dns_server, DK_SERVER_BIND);
	assert_int_equal(d.packaging.signers, DK_SIGNER_BIT(DK_SIGNER_OPENDKIM));
	assert_string_equal(d.packaging.rspamd_user, "_rspamd");
	assert_string_equal(d.packaging.exim_user, "exim");
	assert_string_equal(d.packaging.sign_key, "");

	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		assert_int_equal(parse(empty[i], &c), 0);
		assert_is_defaults(c);
		assert_int_equal(c->ndomains, 0);
		assert_null(dk_config_domain(c, "example.com"));
		assert_string_equal(c->file, "t.yaml");
		dk_config_free(c);
	}
	dk_config_free(NULL);
}

static const char full[] =
    "defaults:\n"
    "  algorithms: [ed25519, rsa]\n"
    "  rsa_bits: 3072\n"
    "  rotate_every: 2w\n"
    "  publish_lead: 12h\n"
    "  min_age: 5d\n"
    "  drain: 1d12h\n"
    "  keep_published: 3\n"
    "  ttl: 600\n"
    "  restrict: true\n"
    "  testmode: true\n"
    "domains:\n"
    "  - name: Example.COM\n"
    "  - name: example.org\n"
    "    algorithms: [ed25519]\n"
    "    rsa_bits: 1024\n"
    "    rotate_every: 7d\n"
    "    publish_lead: 2d\n"
    "    min_age: 3d\n"
    "    drain: 90m\n"
    "    keep_published: 4\n"
    "    ttl: 2147483647\n"
    "    restrict: false\n"
    "    testmode: false\n"
    "    subdomains: true\n"
    "dns:\n"
    "  verify: true\n"
    "  nameservers: [\"192.0.2.53\", \"127.0.0.2:5353\", \"2001:db8::53\",\n"
    "    \"[2001:DB8:0::54]:5300\", \"[::1]\"]\n"
    "git:\n"
    "  author: \"Key Robot <keys@example.net>\"\n"
    "  remote: ssh://keys@git.example.net:2222/dkim/keys.git\n"
    "  branch: rotation/eu-1\n"
    "  ssh_key: /etc/dkimrot/id_ed25519\n"
    "  known_hosts: .git/dkimrot-known_hosts\n"
    "  credentials: /etc/dkimrot/https-token\n"
    "  ca_file: /etc/dkimrot/git-ca.pem\n"
    "packaging:\n"
    "  output: /srv/repo/dkim\n"
    "  private_output: /srv/mail-only/dkim\n"
    "  public_output: dns\n"
    "  keep_builds: 10\n"
    "  parts: 30\n"
    "  compression: xz\n"
    "  formats: [deb, rpm]\n"
    "  key_dir: /etc/opendkim/dkimrot/keys\n"
    "  table_dir: /etc/opendkim/dkimrot\n"
    "  zone_dir: /var/lib/knot/dkim-2.0_x+y\n"
    "  key_owner: _opendkim\n"
    "  key_group: mail-keys\n"
    "  mta_reload: \"systemctl reload 'opendkim.service' || true\"\n"
    "  dns_reload: knotc reload\n"
    "  sign_key: \"Ops <ops@example.net>\"\n"
    "  gnupg_home: /var/lib/dkimrot/gnupg\n";

/* dns, git and packaging of full[]. */
static void
assert_full_rest(const struct dk_config *c)
{
	const struct dk_packaging_conf *p;

	assert_true(c->dns_verify);
	assert_int_equal(c->nnameservers, 5);
	assert_string_equal(c->nameservers[0], "192.0.2.53");
	assert_int_equal(c->ns[0].family, AF_INET);
	assert_string_equal(c->ns[0].addr, "192.0.2.53");
	assert_int_equal(c->ns[0].port, 53);
	assert_string_equal(c->nameservers[1], "127.0.0.2:5353");
	assert_string_equal(c->ns[1].addr, "127.0.0.2");
	assert_int_equal(c->ns[1].port, 5353);
	assert_int_equal(c->ns[2].family, AF_INET6);
	assert_string_equal(c->ns[2].addr, "2001:db8::53");
	assert_int_equal(c->ns[2].port, 53);
	assert_string_equal(c->nameservers[3], "[2001:DB8:0::54]:5300");
	assert_int_equal(c->ns[3].family, AF_INET6);
	assert_string_equal(c->ns[3].addr, "2001:db8::54");
	assert_int_equal(c->ns[3].port, 5300);
	assert_string_equal(c->ns[4].addr, "::1");
	assert_int_equal(c->ns[4].port, 53);

	assert_string_equal(c->git_author, "Key Robot <keys@example.net>");
	assert_string_equal(c->git_name, "Key Robot");
	assert_string_equal(c->git_email, "keys@example.net");
	assert_string_equal(c->git_remote,
	    "ssh://keys@git.example.net:2222/dkim/keys.git");
	assert_string_equal(c->git_branch, "rotation/eu-1");
	assert_string_equal(c->git_ssh_key, "/etc/dkimrot/id_ed25519");
	assert_string_equal(c->git_known_hosts, ".git/dkimrot-known_hosts");
	assert_string_equal(c->git_credentials, "/etc/dkimrot/https-token");
	assert_string_equal(c->git_ca_file, "/etc/dkimrot/git-ca.pem");

	p = &c->packaging;
	assert_string_equal(p->output, "/srv/repo/dkim");
	assert_string_equal(p->private_output, "/srv/mail-only/dkim");
	assert_string_equal(p->public_output, "dns");
	assert_int_equal(p->keep_builds, 10);
	assert_int_equal(p->parts, 30);
	assert_int_equal(p->compress, DK_COMPRESS_XZ);
	assert_int_equal(p->formats, DK_FORMAT_RPM | DK_FORMAT_DEB);
	assert_string_equal(p->key_dir, "/etc/opendkim/dkimrot/keys");
	assert_string_equal(p->table_dir, "/etc/opendkim/dkimrot");
	assert_string_equal(p->zone_dir, "/var/lib/knot/dkim-2.0_x+y");
	assert_string_equal(p->key_owner, "_opendkim");
	assert_string_equal(p->key_group, "mail-keys");
	assert_string_equal(p->mta_reload,
	    "systemctl reload 'opendkim.service' || true");
	assert_string_equal(p->dns_reload, "knotc reload");
	assert_string_equal(p->sign_key, "Ops <ops@example.net>");
	assert_string_equal(p->gnupg_home, "/var/lib/dkimrot/gnupg");
}

static void
test_config__full(void **state)
{
	const struct dk_domain_conf *d;
	struct dk_config *c;

	assert_int_equal(parse(full, &c), 0);
	assert_int_equal(c->defaults.algorithms,
	    DK_ALG_BIT(DK_ALG_RSA) | DK_ALG_BIT(DK_ALG_ED25519));
	assert_int_equal(c->defaults.rsa_bits, 3072);
	assert_int_equal(c->defaults.rotate_every, 14 * DAY);
	assert_int_equal(c->defaults.publish_lead, 12 * 3600);
	assert_int_equal(c->defaults.min_age, 5 * DAY);
	assert_int_equal(c->defaults.drain, DAY + 12 * 3600);
	assert_int_equal(c->defaults.keep_published, 3);
	assert_int_equal(c->defaults.ttl, 600);
	assert_true(c->defaults.restrict_email);
	assert_true(c->defaults.testmode);

	assert_int_equal(c->ndomains, 2);
	d = &c->domains[0];
	assert_string_equal(d->name, "example.com");
	assert_int_equal(d->line, 13);
	assert_policy_equal(&d->policy, &c->defaults);
	d = &c->domains[1];
	assert_string_equal(d->name, "example.org");
	assert_int_equal(d->line, 14);
	assert_int_equal(d->policy.algorithms, DK_ALG_BIT(DK_ALG_ED25519));
	assert_int_equal(d->policy.rsa_bits, 1024);
	assert_int_equal(d->policy.rotate_every, 7 * DAY);
	assert_int_equal(d->policy.publish_lead, 2 * DAY);
	assert_int_equal(d->policy.min_age, 3 * DAY);
	assert_int_equal(d->policy.drain, 90 * 60);
	assert_int_equal(d->policy.keep_published, 4);
	assert_int_equal(d->policy.ttl, 2147483647u);
	assert_false(d->policy.restrict_email);
	assert_false(d->policy.testmode);
	assert_true(d->policy.subdomains);
	assert_false(c->domains[0].policy.subdomains);
	assert_full_rest(c);
	dk_config_free(c);
}

static void
test_config__overrides(void **state)
{
	/* domains before defaults: the defaults still apply to them */
	static const char text[] =
	    "domains:\n"
	    "  - name: a.example\n"
	    "  - ttl: 60\n"
	    "    name: b.example\n"
	    "  - {name: c.example, rotate_every: 2d, publish_lead: 1h}\n"
	    "defaults:\n"
	    "  rsa_bits: 4096\n"
	    "  ttl: 7200\n"
	    "packaging:\n"
	    "  mta_reload:\n"
	    "  sign_key: ~\n"
	    "  dns_reload: \"\"\n";
	const struct dk_domain_conf *a, *b, *cc;
	struct dk_config *c;

	assert_int_equal(parse(text, &c), 0);
	a = dk_config_domain(c, "a.example");
	b = dk_config_domain(c, "b.example");
	cc = dk_config_domain(c, "c.example");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(cc);
	assert_policy_equal(&a->policy, &c->defaults);
	assert_int_equal(a->policy.rsa_bits, 4096);
	assert_int_equal(a->policy.ttl, 7200);
	assert_int_equal(b->policy.rsa_bits, 4096);
	assert_int_equal(b->policy.ttl, 60);
	assert_int_equal(b->line, 4);
	assert_int_equal(cc->policy.rotate_every, 2 * DAY);
	assert_int_equal(cc->policy.publish_lead, 3600);
	assert_int_equal(cc->policy.min_age, 4 * DAY);
	assert_int_equal(cc->policy.ttl, 7200);
	/* empty commands and sign_key: nothing to run, unsigned */
	assert_string_equal(c->packaging.mta_reload, "");
	assert_string_equal(c->packaging.dns_reload, "");
	assert_string_equal(c->packaging.sign_key, "");
	dk_config_free(c);
}

static void
test_config__lookup(void **state)
{
	struct dk_config *c;
	size_t i;

	assert_int_equal(parse("domains:\n  - name: m.example\n"
	    "  - name: Z.example\n  - name: a.example\n", &c), 0);
	assert_string_equal(c->domains[1].name, "z.example");
	for (i = 0; i < c->ndomains; i++)
		assert_ptr_equal(dk_config_domain(c, c->domains[i].name),
		    &c->domains[i]);
	assert_ptr_equal(dk_config_domain(c, "A.EXAMPLE"), &c->domains[2]);
	assert_null(dk_config_domain(c, "b.example"));
	assert_null(dk_config_domain(c, "zz.example"));
	assert_null(dk_config_domain(c, ""));
	assert_null(dk_config_domain(NULL, "a.example"));
	dk_config_free(c);
}

/* n domains "dN.example", then the names in extra (may be NULL). */
static char *
many(size_t n, const char *extra)
{
	struct dk_buf b = { NULL, 0, 0 };
	size_t i;

	assert_int_equal(dk_buf_puts(&b, "domains:\n"), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(dk_buf_printf(&b, "  - name: d%zu.example\n",
		    i), 0);
	if (extra != NULL)
		assert_int_equal(dk_buf_puts(&b, extra), 0);
	return dk_buf_detach(&b);
}

static void
test_config__many_domains(void **state)
{
	struct dk_config *c;
	char name[32], *text;
	size_t i;

	text = many(10000, NULL);
	assert_int_equal(parse(text, &c), 0);
	free(text);
	assert_int_equal(c->ndomains, 10000);
	for (i = 0; i < c->ndomains; i++) {
		snprintf(name, sizeof(name), "D%zu.Example", i);
		assert_ptr_equal(dk_config_domain(c, name), &c->domains[i]);
	}
	assert_null(dk_config_domain(c, "d10000.example"));
	dk_config_free(c);

	/* Two repetitions: the one earlier in the file is reported. */
	text = many(10000, "  - name: d9000.example\n"
	    "  - name: d17.example\n  - name: d17.example\n");
	assert_int_equal(parse(text, &c), DK_EUSAGE);
	free(text);
	assert_null(c);
	assert_string_equal(dk_error_last(), "t.yaml:10002:11: duplicate "
	    "domain 'd9000.example' (first at line 9002)");
}

/*
 * dns.server picks the default dns_reload for zone_dir, in either order
 * of the two keys; a dns_reload written in the file is kept as written.
 */
static void
test_config__dns_server(void **state)
{
	static const struct {
		const char	*in;
		enum dk_server_type type;
		const char	*reload;
	} cases[] = {
		{ "dns:\n  server: bind\npackaging:\n  zone_dir: /srv/z\n",
		    DK_SERVER_BIND, "touch -c /srv/z/*.zone && rndc reload" },
		{ "packaging:\n  zone_dir: /srv/z\ndns:\n  server: knot\n",
		    DK_SERVER_KNOT, "knotc zone-reload" },
		{ "dns:\n  server: nsd\npackaging:\n  zone_dir: /srv/z\n",
		    DK_SERVER_NSD, "c=/etc/nsd/nsd.conf; "
		    "d=$(nsd-checkconf -o zonesdir $c); for z in "
		    "$(nsd-control zonestatus | "
		    "sed -n \"s/^zone:[[:space:]]*//p\"); do "
		    "f=$(nsd-checkconf -z \"$z\" -o zonefile $c); "
		    "case $f in /*) ;; *) f=$d/$f ;; esac; "
		    "grep -qsF /srv/z/ \"$f\" && touch \"$f\"; done; "
		    "nsd-control reload" },
		{ "dns:\n  server: nsd\npackaging:\n  dns_reload: \"rndc "
		    "reload\"\n", DK_SERVER_NSD, "rndc reload" },
		{ "dns:\n  server: knot\npackaging:\n  dns_reload: \"\"\n",
		    DK_SERVER_KNOT, "" },
	};
	struct dk_config *c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].in, &c), 0);
		assert_int_equal(c->dns_server, cases[i].type);
		assert_string_equal(c->packaging.dns_reload,
		    cases[i].reload);
		dk_config_free(c);
	}
	assert_string_equal(dk_server_type_name(DK_SERVER_NSD), "nsd");
}

/* zones: NS names, secondaries, and a reload that rereads the list. */
static void
test_config__dns_zones(void **state)
{
	static const char *const reload[] = {
		"touch -c /srv/z/*.zone && rndc reconfig && rndc reload",
		"touch -c /srv/z/*.zone && nsd-control reconfig && "
		    "nsd-control reload",
		"knotc reload && knotc zone-reload" };
	static const char *const server[] = { "bind", "nsd", "knot" };
	struct dk_config *c;
	char buf[512];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "dns:\n  publish: zones\n"
		    "  server: %s\n  zone_nameservers: [ns1.example.net, "
		    "ns2.example.org]\n  secondaries: [\"192.0.2.2\", "
		    "\"[2001:db8::2]:5353\"]\n  max_serial_lag: %zu\n"
		    "packaging:\n  zone_dir: /srv/z\n", server[i], i);
		assert_int_equal(parse(buf, &c), 0);
		assert_int_equal(c->dns_publish, DK_PUBLISH_ZONES);
		assert_string_equal(c->packaging.dns_reload, reload[i]);
		assert_int_equal(c->nzone_ns, 2);
		assert_string_equal(c->zone_ns[1], "ns2.example.org");
		assert_int_equal(c->nsecondaries, 2);
		assert_string_equal(c->secondaries[0].addr, "192.0.2.2");
		assert_int_equal(c->secondaries[0].port, 53);
		assert_string_equal(c->secondaries[1].addr, "2001:db8::2");
		assert_int_equal(c->secondaries[1].port, 5353);
		assert_int_equal(c->max_serial_lag, (int)i);
		dk_config_free(c);
	}
}

static void
test_config__template(void **state)
{
	static const char *names[] = { "example.com", "xn--bcher-kva.ch",
	    "mail.example.org" };
	struct dk_config *c;
	char *text;
	size_t i;

	assert_int_equal(dk_config_template(names, 3, NULL, NULL, NULL, 0, &text), 0);
	assert_non_null(strstr(text, "\n  rotate_every: 30d "));
	assert_non_null(strstr(text, "\n  - name: xn--bcher-kva.ch\n"));
	assert_int_equal(parse(text, &c), 0);
	free(text);
	assert_is_defaults(c);
	assert_int_equal(c->ndomains, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(c->domains[i].name, names[i]);
		assert_policy_equal(&c->domains[i].policy, &c->defaults);
	}
	dk_config_free(c);

	assert_int_equal(dk_config_template(NULL, 0, NULL, NULL, NULL, 0, &text), 0);
	assert_non_null(strstr(text, "\ndomains: []\n"));
	assert_int_equal(parse(text, &c), 0);
	free(text);
	assert_is_defaults(c);
	assert_int_equal(c->ndomains, 0);
	dk_config_free(c);
}

/* init -z: zones mode, and the records that delegate the DKIM zones. */
static void
test_config__template_zones(void **state)
{
	static const char *names[] = { "example.com", "example.org" };
	static const char *ns[] = { "ns1.example.net", "NS2.example.net" };
	struct dk_config *c;
	char *text, *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(dk_config_template(names, 2, NULL, NULL, ns, 2,
	    &text), 0);
	assert_non_null(strstr(text, "\n  max_serial_lag: 2 "));
	assert_non_null(strstr(text, "\n  publish: zones "));
	assert_non_null(strstr(text, "rndc reconfig && rndc reload\"\n"));
	assert_non_null(strstr(text, "\n  zone_nameservers: "
	    "[ns1.example.net, NS2.example.net]\n"));
	assert_int_equal(parse(text, &c), 0);
	free(text);
	assert_int_equal(c->dns_publish, DK_PUBLISH_ZONES);
	assert_int_equal(c->nzone_ns, 2);
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(dk_config_delegation(c, names, 2, f), 0);
	/* no domains, or another mode: nothing more */
	assert_int_equal(dk_config_delegation(c, names, 0, f), 0);
	c->dns_publish = DK_PUBLISH_INCLUDE;
	assert_int_equal(dk_config_delegation(c, names, 2, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf,
	    "; dns.publish zones: in each domain's own zone, the delegation "
	    "of its DKIM names\n"
	    "_domainkey.example.com.\t86400\tIN\tNS\tns1.example.net.\n"
	    "_domainkey.example.com.\t86400\tIN\tNS\tNS2.example.net.\n"
	    "_domainkey.example.org.\t86400\tIN\tNS\tns1.example.net.\n"
	    "_domainkey.example.org.\t86400\tIN\tNS\tNS2.example.net.\n");
	free(buf);
	dk_config_free(c);
}

/* What init writes when it made a signing key. */
static void
test_config__template_signed(void **state)
{
	static const char fpr[] = "4062B4F63F3EF9972B8BFCBAB7E824723D245D66";
	struct dk_config *c;
	char *text;

	assert_int_equal(dk_config_template(NULL, 0, fpr,
	    ".git/dkimrot-gnupg", NULL, 0, &text), 0);
	assert_non_null(strstr(text, "\n  sign_key: " ));
	assert_int_equal(parse(text, &c), 0);
	free(text);
	assert_string_equal(c->packaging.sign_key, fpr);
	assert_string_equal(c->packaging.gnupg_home, ".git/dkimrot-gnupg");
	dk_config_free(c);
}

static void
test_config__load(void **state)
{
	char dir[] = "/tmp/dk_t_config.XXXXXX", path[256];
	struct dk_config *c;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dkimrot.yaml", dir);
	assert_int_equal(dk_config_load(path, &c), DK_ENOTFOUND);
	assert_null(c);
	assert_int_equal(dk_file_create(path, full, strlen(full), 0644), 0);
	assert_int_equal(dk_config_load(path, &c), 0);
	assert_string_equal(c->file, path);
	assert_int_equal(c->ndomains, 2);
	dk_config_free(c);
	unlink(path);
	assert_int_equal(dk_file_create(path, "git:\n  author: x\n", 17,
	    0644), 0);
	assert_int_equal(dk_config_load(path, &c), DK_EUSAGE);
	assert_null(c);
	assert_non_null(strstr(dk_error_last(), "/dkimrot.yaml:2:11: author "
	    "must be \"Name <email>\", not 'x'"));
	assert_int_equal(strncmp(dk_error_last(), path, strlen(path)), 0);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

#define ALGS	"algorithms, rsa_bits, rotate_every, publish_lead, min_age, " \
		"drain, keep_published, ttl, restrict, testmode, subdomains"
#define SYSMSG	", which the package would own and re-mode: use a " \
		"dedicated subdirectory such as "
#define DIRMSG	" must be an absolute path of letters, digits and / . _ + - " \
		"without '..', '//' or a final '/', not "
#define RWANT	"a git URL (ssh://, git://, https://, file:// or an absolute " \
	"path) without a password or spaces"
#define BWANT	"a branch name of letters, digits and / . _ - without '..', " \
	"'//' or a final '/' or '.lock'"
#define NSMSG	" (expected IPv4, IPv4:PORT, IPv6 or [IPv6]:PORT with PORT " \
		"from 1 to 65535)"
#define INT(k, lo, hi)	k " must be an integer from " lo " to " hi ", not "
#define DUR(k)	k " must be a duration such as 30d or 1d12h (units s, m, " \
		"h, d, w), not "

static const struct {
	const char	*in;
	const char	*msg;
} errors[] = {
	/* YAML itself (common/yaml.c) */
	{ "a: [1\n", "t.yaml:2:1: did not find expected ',' or ']' while "
	    "parsing a flow sequence" },
	{ "defaults:\n  ttl: 1\n  ttl: 2\n",
	    "t.yaml:3:3: duplicate key 'ttl' (first at line 2)" },
	/* structure */
	{ "- a\n", "t.yaml:1:1: expected a mapping (defaults, domains, dns, "
	    "git, packaging) at the top level, found a sequence" },
	{ "default:\n  rsa_bits: 1024\n", "t.yaml:1:1: unknown key 'default' "
	    "at the top level (expected one of: defaults, domains, dns, git, "
	    "packaging)" },
	{ "defaults:\n  rotate_evry: 30d\n", "t.yaml:2:3: unknown key "
	    "'rotate_evry' in defaults (expected one of: " ALGS ")" },
	{ "defaults: [rsa]\n",
	    "t.yaml:1:11: defaults: expected a mapping, found a sequence" },
	{ "dns: 1\n", "t.yaml:1:6: dns: expected a mapping, found a scalar" },
	{ "git: []\n",
	    "t.yaml:1:6: git: expected a mapping, found a sequence" },
	{ "packaging: []\n",
	    "t.yaml:1:12: packaging: expected a mapping, found a sequence" },
	/* integers */
	{ "defaults:\n  rsa_bits: 512\n",
	    "t.yaml:2:13: " INT("rsa_bits", "1024", "4096") "'512'" },
	{ "defaults:\n  rsa_bits: 4097\n",
	    "t.yaml:2:13: " INT("rsa_bits", "1024", "4096") "'4097'" },
	{ "defaults:\n  rsa_bits: \"2048\"\n", "t.yaml:2:13: "
	    INT("rsa_bits", "1024", "4096") "the quoted string '2048'" },
	{ "defaults:\n  rsa_bits: 2048x\n",
	    "t.yaml:2:13: " INT("rsa_bits", "1024", "4096") "'2048x'" },
	{ "defaults:\n  rsa_bits: 02048\n",
	    "t.yaml:2:13: " INT("rsa_bits", "1024", "4096") "'02048'" },
	{ "defaults:\n  rsa_bits: 99999999999999999999999\n", "t.yaml:2:13: "
	    INT("rsa_bits", "1024", "4096") "'99999999999999999999999'" },
	{ "defaults:\n  rsa_bits:\n  ttl: 5\n", "t.yaml:2:12: rsa_bits: "
	    "expected an integer from 1024 to 4096, found no value" },
	{ "defaults:\n  rsa_bits: [1]\n", "t.yaml:2:13: rsa_bits: "
	    "expected an integer from 1024 to 4096, found a sequence" },
	{ "defaults:\n  keep_published: 0\n",
	    "t.yaml:2:19: " INT("keep_published", "1", "100") "'0'" },
	{ "defaults:\n  keep_published: -1\n",
	    "t.yaml:2:19: " INT("keep_published", "1", "100") "'-1'" },
	{ "defaults:\n  ttl: 0\n",
	    "t.yaml:2:8: " INT("ttl", "1", "2147483647") "'0'" },
	{ "defaults:\n  ttl: 2147483648\n",
	    "t.yaml:2:8: " INT("ttl", "1", "2147483647") "'2147483648'" },
	{ "packaging:\n  keep_builds: 0\n",
	    "t.yaml:2:16: " INT("keep_builds", "1", "10000") "'0'" },
	{ "packaging:\n  parts: 65\n",
	    "t.yaml:2:10: " INT("parts", "0", "64") "'65'" },
	{ "packaging:\n  parts: -1\n",
	    "t.yaml:2:10: " INT("parts", "0", "64") "'-1'" },
	/* booleans */
	{ "defaults:\n  restrict: yes\n",
	    "t.yaml:2:13: restrict must be true or false, not 'yes'" },
	{ "defaults:\n  testmode: \"true\"\n", "t.yaml:2:13: testmode must "
	    "be true or false, not the quoted string 'true'" },
	{ "dns:\n  verify: True\n",
	    "t.yaml:2:11: verify must be true or false, not 'True'" },
	/* durations */
	{ "defaults:\n  rotate_every: 30\n",
	    "t.yaml:2:17: " DUR("rotate_every") "'30'" },
	{ "defaults:\n  min_age: 1.5d\n",
	    "t.yaml:2:12: " DUR("min_age") "'1.5d'" },
	{ "defaults:\n  drain: -1d\n", "t.yaml:2:10: " DUR("drain") "'-1d'" },
	{ "defaults:\n  rotate_every: 0d\n",
	    "t.yaml:2:17: rotate_every must be longer than 0s, not '0d'" },
	{ "defaults:\n  publish_lead: 30d\n", "t.yaml:2:17: publish_lead "
	    "(30d) must be shorter than rotate_every (30d)" },
	{ "defaults:\n  rotate_every: 1d\n", "t.yaml:2:17: publish_lead "
	    "(1d) must be shorter than rotate_every (1d)" },
	/* algorithms */
	{ "defaults:\n  algorithms: []\n", "t.yaml:2:15: algorithms must "
	    "name at least one algorithm (rsa, ed25519)" },
	{ "defaults:\n  algorithms: [rsa, ed25519,\n    rsa]\n",
	    "t.yaml:3:5: duplicate algorithm 'rsa' in algorithms "
	    "(first at line 2)" },
	{ "defaults:\n  algorithms: [dsa]\n", "t.yaml:2:16: unknown "
	    "algorithm 'dsa' (expected rsa or ed25519)" },
	{ "defaults:\n  algorithms: rsa\n", "t.yaml:2:15: algorithms: "
	    "expected a sequence such as [rsa] or [rsa, ed25519], found a "
	    "scalar" },
	{ "defaults:\n  algorithms: [[rsa]]\n", "t.yaml:2:16: algorithms: "
	    "expected rsa or ed25519, found a sequence" },
	/* domains */
	{ "domains: example.com\n", "t.yaml:1:10: domains: expected a "
	    "sequence of domains (- name: example.com), found a scalar" },
	{ "domains:\n  - example.com\n", "t.yaml:2:5: domain entry: "
	    "expected a mapping (- name: example.com), found a scalar" },
	{ "domains:\n  - rsa_bits: 1024\n", "t.yaml:2:5: domain entry has "
	    "no name (expected name: DOMAIN)" },
	{ "domains:\n  - name: [example.com]\n", "t.yaml:2:11: name: "
	    "expected a domain name, found a sequence" },
	{ "domains:\n  - name: exa mple.com\n", "t.yaml:2:11: invalid "
	    "domain 'exa mple.com': only letters, digits, '-' and '.' are "
	    "allowed (IDNs as xn-- A-labels)" },
	{ "domains:\n  - name: com\n",
	    "t.yaml:2:11: invalid domain 'com': needs at least two labels" },
	{ "domains:\n  - name: Example.com\n  - name: example.org\n"
	    "  - name: example.COM\n", "t.yaml:4:11: duplicate domain "
	    "'example.com' (first at line 2)" },
	{ "domains:\n  - name: example.com\n    rsabits: 1024\n",
	    "t.yaml:3:5: unknown key 'rsabits' in domain 'example.com' "
	    "(expected one of: name, " ALGS ")" },
	{ "domains:\n  - name: example.com\n    rotate_every: 1d\n",
	    "t.yaml:3:19: publish_lead (1d) must be shorter than "
	    "rotate_every (1d)" },
	{ "domains:\n  - name: example.com\n    ttl: 0\n",
	    "t.yaml:3:10: " INT("ttl", "1", "2147483647") "'0'" },
	/* dns */
	{ "dns:\n  verfy: true\n", "t.yaml:2:3: unknown key 'verfy' in dns "
	    "(expected one of: verify, nameservers, server, publish, "
	    "zone_nameservers, secondaries, primary, tsig_key_file, "
	    "max_serial_lag)" },
	{ "dns:\n  max_serial_lag: -1\n", "t.yaml:2:19: "
	    INT("max_serial_lag", "0", "1000000") "'-1'" },
	{ "dns:\n  max_serial_lag: 1000001\n", "t.yaml:2:19: "
	    INT("max_serial_lag", "0", "1000000") "'1000001'" },
	{ "dns:\n  max_serial_lag: 1h\n", "t.yaml:2:19: "
	    INT("max_serial_lag", "0", "1000000") "'1h'" },
	{ "dns:\n  verify: true\n", "t.yaml:2:11: verify is true but "
	    "nameservers is empty (expected at least one name server to "
	    "ask)" },
	{ "dns:\n  nameservers: 192.0.2.1\n", "t.yaml:2:16: nameservers: "
	    "expected a sequence of addresses such as [\"192.0.2.53\", "
	    "\"[2001:db8::53]:5353\"], found a scalar" },
	{ "dns:\n  nameservers: [\"300.1.1.1\"]\n",
	    "t.yaml:2:17: invalid name server '300.1.1.1'" NSMSG },
	{ "dns:\n  nameservers: [\"192.0.2.1:0\"]\n",
	    "t.yaml:2:17: invalid name server '192.0.2.1:0'" NSMSG },
	{ "dns:\n  nameservers: [\"192.0.2.1:053\"]\n",
	    "t.yaml:2:17: invalid name server '192.0.2.1:053'" NSMSG },
	{ "dns:\n  nameservers: [\"[2001:db8::1]:65536\"]\n",
	    "t.yaml:2:17: invalid name server '[2001:db8::1]:65536'" NSMSG },
	{ "dns:\n  nameservers: [\"[192.0.2.1]:53\"]\n",
	    "t.yaml:2:17: invalid name server '[192.0.2.1]:53'" NSMSG },
	{ "dns:\n  nameservers: [\"ns.example.com\"]\n",
	    "t.yaml:2:17: invalid name server 'ns.example.com'" NSMSG },
	{ "dns:\n  nameservers: [\"127.0.0.1\", \"127.0.0.1:53\"]\n",
	    "t.yaml:2:30: duplicate name server '127.0.0.1:53' "
	    "(first at line 2)" },
	/* git */
	{ "git:\n  name: x\n", "t.yaml:2:3: unknown key 'name' in git "
	    "(expected one of: author, remote, branch, ssh_key, known_hosts, "
	    "credentials, ca_file)" },
	{ "git:\n  ssh_key: \"a\\tb\"\n", "t.yaml:2:12: ssh_key must be "
	    "a path without control characters, not the quoted string "
	    "'a?b'" },
	{ "git:\n  known_hosts: []\n", "t.yaml:2:16: known_hosts: expected "
	    "a path without control characters, found a sequence" },
	{ "git:\n  remote: https://ci:s3cret@git.example.net/keys.git\n",
	    "t.yaml:2:11: remote must be " RWANT ", not "
	    "'https://ci:s3cret@git.example.net/keys.git'" },
	{ "git:\n  remote: keys:pw@git.example.net:keys.git\n",
	    "t.yaml:2:11: remote must be " RWANT ", not "
	    "'keys:pw@git.example.net:keys.git'" },
	{ "git:\n  remote: http://git.example.net/keys.git\n",
	    "t.yaml:2:11: remote must be " RWANT ", not "
	    "'http://git.example.net/keys.git'" },
	{ "git:\n  remote: keys.git\n",
	    "t.yaml:2:11: remote must be " RWANT ", not 'keys.git'" },
	{ "git:\n  remote: \"/srv/my keys.git\"\n",
	    "t.yaml:2:11: remote must be " RWANT ", not the quoted string "
	    "'/srv/my keys.git'" },
	{ "git:\n  remote: git://127.0.0.1:9418/\n",
	    "t.yaml:2:11: remote must be " RWANT ", not "
	    "'git://127.0.0.1:9418/'" },
	{ "git:\n  remote:\n", "t.yaml:2:10: remote: expected " RWANT
	    ", found no value" },
	{ "git:\n  branch: ../main\n", "t.yaml:2:11: branch must be "
	    BWANT ", not '../main'" },
	{ "git:\n  branch: main.lock\n", "t.yaml:2:11: branch must be "
	    BWANT ", not 'main.lock'" },
	{ "git:\n  branch: -f\n", "t.yaml:2:11: branch must be "
	    BWANT ", not '-f'" },
	{ "git:\n  branch: a//b\n", "t.yaml:2:11: branch must be "
	    BWANT ", not 'a//b'" },
	{ "git:\n  author: dkimrot\n", "t.yaml:2:11: author must be "
	    "\"Name <email>\", not 'dkimrot'" },
	{ "git:\n  author: <a@b>\n", "t.yaml:2:11: author must be "
	    "\"Name <email>\", not '<a@b>'" },
	{ "git:\n  author: A <>\n", "t.yaml:2:11: author must be "
	    "\"Name <email>\", not 'A <>'" },
	{ "git:\n  author: A <a b@c>\n", "t.yaml:2:11: author must be "
	    "\"Name <email>\", not 'A <a b@c>'" },
	{ "git:\n  author: A <a@b> x\n", "t.yaml:2:11: author must be "
	    "\"Name <email>\", not 'A <a@b> x'" },
	{ "git:\n  author: \"A\\n <a@b>\"\n", "t.yaml:2:11: author must be "
	    "\"Name <email>\", not the quoted string 'A? <a@b>'" },
	/* packaging */
	{ "packaging:\n  key_dirs: /x\n", "t.yaml:2:3: unknown key "
	    "'key_dirs' in packaging (expected one of: output, private_output, "
	    "public_output, keep_builds, parts, compression, formats, key_dir, "
	    "table_dir, zone_dir, key_owner, key_group, mta_reload, "
	    "dns_reload, sign_key, gnupg_home, signers, rspamd_user, "
	    "rspamd_group, exim_user, exim_group)" },
	{ "packaging:\n  compression: bzip2\n", "t.yaml:2:16: compression "
	    "must be one of gzip, xz, zstd, not 'bzip2'" },
	{ "packaging:\n  formats: [deb]\n", "t.yaml:2:12: formats must be "
	    "[rpm] or [rpm, deb]: the versions come from the yum repositories, "
	    "so rpm is always built" },
	{ "packaging:\n  formats: [rpm, tgz]\n", "t.yaml:2:18: unknown "
	    "package format 'tgz' (expected rpm or deb)" },
	{ "packaging:\n  formats: [rpm, rpm]\n", "t.yaml:2:18: duplicate "
	    "format 'rpm' in formats" },
	{ "packaging:\n  compression: [xz]\n", "t.yaml:2:16: compression: "
	    "expected one of gzip, xz, zstd, found a sequence" },
	{ "packaging:\n  signers: [opendkim, postfix]\n", "t.yaml:2:23: "
	    "unknown signer 'postfix' (expected opendkim, rspamd or exim)" },
	{ "packaging:\n  signers: [exim, exim]\n", "t.yaml:2:19: duplicate "
	    "signer 'exim' in signers (first at line 2)" },
	{ "packaging:\n  exim_user: \"Debian exim\"\n", "t.yaml:2:14: "
	    "exim_user must be a user name ([A-Za-z_][A-Za-z0-9_-]*, at most "
	    "32 characters), not the quoted string 'Debian exim'" },
	{ "packaging:\n  gnupg_home: \"a%b\"\n", "t.yaml:2:15: gnupg_home "
	    "must be a directory path on one line of printable ASCII without "
	    "'%', not the quoted string 'a%b'" },
	{ "packaging:\n  key_dir: etc/dkim\n",
	    "t.yaml:2:12: key_dir" DIRMSG "'etc/dkim'" },
	{ "packaging:\n  key_dir: /etc/../x\n",
	    "t.yaml:2:12: key_dir" DIRMSG "'/etc/../x'" },
	{ "packaging:\n  key_dir: /etc/./x\n",
	    "t.yaml:2:12: key_dir" DIRMSG "'/etc/./x'" },
	{ "packaging:\n  key_dir: /\n", "t.yaml:2:12: key_dir" DIRMSG "'/'" },
	{ "packaging:\n  table_dir: /etc//x\n",
	    "t.yaml:2:14: table_dir" DIRMSG "'/etc//x'" },
	{ "packaging:\n  zone_dir: /var/named/\n",
	    "t.yaml:2:13: zone_dir" DIRMSG "'/var/named/'" },
	{ "packaging:\n  zone_dir: \"/var/%{name}\"\n", "t.yaml:2:13: "
	    "zone_dir" DIRMSG "the quoted string '/var/%{name}'" },
	{ "packaging:\n  zone_dir: \"/var/a b\"\n", "t.yaml:2:13: "
	    "zone_dir" DIRMSG "the quoted string '/var/a b'" },
	/* system directories: the package would own them (Custody) */
	{ "packaging:\n  key_dir: /etc\n", "t.yaml:2:12: key_dir '/etc' "
	    "is a system directory" SYSMSG "'/etc/dkim'" },
	{ "packaging:\n  key_dir: /etc/opendkim/keys\n", "t.yaml:2:12: "
	    "key_dir '/etc/opendkim/keys' is a system directory" SYSMSG
	    "'/etc/opendkim/keys/dkim'" },
	{ "packaging:\n  table_dir: /etc/opendkim\n", "t.yaml:2:14: "
	    "table_dir '/etc/opendkim' is a system directory" SYSMSG
	    "'/etc/opendkim/dkim'" },
	{ "packaging:\n  table_dir: /etc/rspamd\n", "t.yaml:2:14: "
	    "table_dir '/etc/rspamd' is a system directory" SYSMSG
	    "'/etc/rspamd/dkim'" },
	{ "packaging:\n  zone_dir: /var/named\n", "t.yaml:2:13: zone_dir "
	    "'/var/named' is a system directory" SYSMSG "'/var/named/dkim'" },
	{ "packaging:\n  zone_dir: /etc/bind\n", "t.yaml:2:13: zone_dir "
	    "'/etc/bind' is a system directory" SYSMSG "'/etc/bind/dkim'" },
	{ "packaging:\n  zone_dir: /var/lib/knot\n", "t.yaml:2:13: "
	    "zone_dir '/var/lib/knot' is a system directory" SYSMSG
	    "'/var/lib/knot/dkim'" },
	{ "packaging:\n  zone_dir: /usr\n", "t.yaml:2:13: zone_dir '/usr' "
	    "is a system directory" SYSMSG "'/usr/dkim'" },
	{ "packaging:\n  key_dir:\n", "t.yaml:2:11: key_dir: expected an "
	    "absolute path of letters, digits and / . _ + - without '..', "
	    "'//' or a final '/', found no value" },
	{ "packaging:\n  key_owner: Root\n", "t.yaml:2:14: key_owner must be "
	    "a user name ([a-z_][a-z0-9_-]*, at most 32 characters), not "
	    "'Root'" },
	{ "packaging:\n  key_group: \"a b\"\n", "t.yaml:2:14: key_group must "
	    "be a group name ([a-z_][a-z0-9_-]*, at most 32 characters), not "
	    "the quoted string 'a b'" },
	{ "packaging:\n  key_owner: abcdefghijabcdefghijabcdefghijabc\n",
	    "t.yaml:2:14: key_owner must be a user name ([a-z_][a-z0-9_-]*, "
	    "at most 32 characters), not 'abcdefghijabcdefghijabcdefghijabc'" },
	{ "packaging:\n  mta_reload: \"reload %{x}\"\n", "t.yaml:2:15: "
	    "mta_reload must be a shell command on one line of printable "
	    "ASCII without '%', not the quoted string 'reload %{x}'" },
	{ "packaging:\n  dns_reload: \"rndc reload\\nrm -rf /\"\n",
	    "t.yaml:2:15: dns_reload must be a shell command on one line of "
	    "printable ASCII without '%', not the quoted string "
	    "'rndc reload?rm -rf /'" },
	{ "packaging:\n  dns_reload: \"rndc\\rreload\"\n",
	    "t.yaml:2:15: dns_reload must be a shell command on one line of "
	    "printable ASCII without '%', not the quoted string "
	    "'rndc?reload'" },
	{ "dns:\n  publish: zones\n", "t.yaml:2:3: publish is zones but "
	    "zone_nameservers is empty (expected the host names of the name "
	    "servers of the _domainkey zones)" },
	{ "dns:\n  publish: nsupdate\n", "t.yaml:2:12: publish must be "
	    "include, zones or rfc2136, not 'nsupdate'" },
	{ "dns:\n  publish: rfc2136\n  primary: \"192.0.2.1\"\n",
	    "t.yaml:2:3: publish is rfc2136 but primary or tsig_key_file is "
	    "missing (expected the primary's address and the path of its "
	    "TSIG key)" },
	{ "dns:\n  tsig_key_file: key.tsig\n", "t.yaml:2:18: tsig_key_file "
	    "must be an absolute path of letters, digits and / . _ + - "
	    "without '..', '//' or a final '/', not 'key.tsig'" },
	{ "dns:\n  zone_nameservers: [ns1.example.net, \"ns 2\"]\n",
	    "t.yaml:2:39: invalid host name 'ns 2' in zone_nameservers "
	    "(expected letters, digits, '-' and '.', at least two labels)" },
	{ "dns:\n  zone_nameservers: [ns1.example.net, NS1.example.net]\n",
	    "t.yaml:2:39: duplicate name server 'NS1.example.net' (first at "
	    "line 2)" },
	{ "dns:\n  secondaries: [\"192.0.2.1:0\"]\n", "t.yaml:2:17: invalid "
	    "secondary '192.0.2.1:0' (expected IPv4, IPv4:PORT, IPv6 or "
	    "[IPv6]:PORT with PORT from 1 to 65535)" },
	{ "dns:\n  server: powerdns\n", "t.yaml:2:11: server must be bind, "
	    "nsd or knot, not 'powerdns'" },
	{ "dns:\n  server: [bind]\n", "t.yaml:2:11: server: expected bind, "
	    "nsd or knot, found a sequence" },
	{ "packaging:\n  sign_key: \"a\\tb\"\n", "t.yaml:2:13: sign_key must "
	    "be a GPG key ID or user ID on one line of printable ASCII "
	    "without '%', not the quoted string 'a?b'" },
	{ "packaging:\n  output: \"\"\n", "t.yaml:2:11: output must be a "
	    "non-empty path without control characters, not the quoted "
	    "string ''" },
	{ "packaging:\n  output:\n", "t.yaml:2:10: output: expected a "
	    "non-empty path without control characters, found no value" },
	{ "packaging:\n  private_output: \"/srv/a\\tb\"\n", "t.yaml:2:19: "
	    "private_output must be a path without control characters, or "
	    "\"\", not the quoted string '/srv/a?b'" },
	{ "packaging:\n  public_output: [a]\n", "t.yaml:2:18: "
	    "public_output: expected a path without control characters, or "
	    "\"\", found a sequence" },
};

static void
test_config__errors(void **state)
{
	struct dk_config *c;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		c = (struct dk_config *)1;
		rc = parse(errors[i].in, &c);
		if (rc != DK_EUSAGE || strcmp(dk_error_last(), errors[i].msg))
			print_error("case %zu: %s\n got rc %d: %s\n", i,
			    errors[i].in, rc, dk_error_last());
		assert_int_equal(rc, DK_EUSAGE);
		assert_string_equal(dk_error_last(), errors[i].msg);
		assert_null(c);
	}
}

/* The list is compared after "//", "." and ".." are taken out. */
static void
test_config__system_dir(void **state)
{
	static const char *const sys[] = { "/", "/etc", "/etc/", "/var//named",
	    "/etc/bind/.", "/etc/x/..", "/usr/local/../lib", "/..",
	    "/etc/opendkim", "/var/lib/knot/", "/etc/nsd", "/etc/postfix" };
	static const char *const ok[] = { "/etc/dkim-keys",
	    "/etc/dkim-keys/keys", "/var/named/dkim", "/etc/opendkim/dkimrot",
	    "/etc/nsd/dkim", "/var/lib/dkim-zones", "/etcx", "/etc/bind/../x" };
	size_t i;

	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (!dk_config_system_dir(sys[i]))
			fail_msg("'%s' is a system directory", sys[i]);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (dk_config_system_dir(ok[i]))
			fail_msg("'%s' is not a system directory", ok[i]);
}

static void
test_config__error_limits(void **state)
{
	struct dk_buf b = { NULL, 0, 0 };
	struct dk_config *c;
	char key[201];
	int i;

	/* A long bad value is cut in the message. */
	memset(key, 'k', 200);
	key[200] = '\0';
	assert_int_equal(dk_buf_printf(&b, "%s: 1\n", key), 0);
	assert_int_equal(parse(b.data, &c), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "unknown key 'kkkk"));
	assert_non_null(strstr(dk_error_last(), "k...' at the top level"));
	assert_true(strlen(dk_error_last()) < 200);
	dk_buf_dispose(&b);

	assert_int_equal(dk_buf_puts(&b, "dns:\n  nameservers:\n"), 0);
	for (i = 1; i <= 65; i++)
		assert_int_equal(dk_buf_printf(&b, "    - 127.0.0.%d\n", i),
		    0);
	assert_int_equal(parse(b.data, &c), DK_EUSAGE);
	assert_string_equal(dk_error_last(), "t.yaml:67:7: too many name "
	    "servers (expected at most 64)");
	dk_buf_dispose(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__defaults),
		cmocka_unit_test(test_config__full),
		cmocka_unit_test(test_config__overrides),
		cmocka_unit_test(test_config__lookup),
		cmocka_unit_test(test_config__many_domains),
		cmocka_unit_test(test_config__dns_server),
		cmocka_unit_test(test_config__dns_zones),
		cmocka_unit_test(test_config__template),
		cmocka_unit_test(test_config__template_signed),
		cmocka_unit_test(test_config__template_zones),
		cmocka_unit_test(test_config__load),
		cmocka_unit_test(test_config__errors),
		cmocka_unit_test(test_config__error_limits),
		cmocka_unit_test(test_config__system_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
