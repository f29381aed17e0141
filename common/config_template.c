/*
 * The dkimrot.yaml that `init` writes: every default spelled out and
 * explained, so that an operator sees every knob.  The values come from
 * dk_config_defaults(), so the text cannot drift from the code; a unit
 * test parses it back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/config_value.h"
#include "common/yaml.h"

#define COMMENT_COL	30	/* where a trailing comment starts */

/* "  key: value" then the comment at COMMENT_COL, or one space after. */
static int
line(struct dk_buf *b, const char *key, const char *value,
    const char *comment)
{
	size_t start = b->len;

	if (dk_buf_printf(b, "  %s: %s", key, value) == -1)
		return -1;
	if (comment == NULL)
		return dk_buf_puts(b, "\n");
	do {
		if (dk_buf_puts(b, " ") == -1)
			return -1;
	} while (b->len - start < COMMENT_COL - 1);
	return dk_buf_printf(b, "# %s\n", comment);
}

/* A string value, quoted when YAML needs it. */
static int
sline(struct dk_buf *b, const char *key, const char *value,
    const char *comment)
{
	struct dk_buf v = { NULL, 0, 0 };
	int rc;

	if (dk_yaml_emit_scalar(&v, value) == -1)
		return -1;
	rc = line(b, key, v.data, comment);
	dk_buf_dispose(&v);
	return rc;
}

static int
dline(struct dk_buf *b, const char *key, long long secs,
    const char *comment)
{
	char v[24];

	dk_config_duration_text(secs, v, sizeof(v));
	return line(b, key, v, comment);
}

static int
nline(struct dk_buf *b, const char *key, long long n, const char *comment)
{
	char v[24];

	snprintf(v, sizeof(v), "%lld", n);
	return line(b, key, v, comment);
}

static int
algorithms(struct dk_buf *b, unsigned set)
{
	struct dk_buf v = { NULL, 0, 0 };
	int a, rc = -1;

	if (dk_buf_puts(&v, "[") == -1)
		goto done;
	for (a = 0; a < DK_ALG_COUNT; a++)
		if ((set & DK_ALG_BIT(a)) && dk_buf_printf(&v, "%s%s",
		    v.len > 1 ? ", " : "", dk_alg_name((enum dk_alg)a)) == -1)
			goto done;
	if (dk_buf_puts(&v, "]") == -1)
		goto done;
	rc = line(b, "algorithms", v.data, "rsa, ed25519, or both "
	    "(dual signing)");
done:
	dk_buf_dispose(&v);
	return rc;
}

static int
policy(struct dk_buf *b, const struct dk_policy *p)
{
	if (dk_buf_puts(b, "# The lifecycle of every domain's keys.  A domain "
	    "entry below may\n# override any of these.\ndefaults:\n") == -1 ||
	    algorithms(b, p->algorithms) == -1 ||
	    nline(b, "rsa_bits", p->rsa_bits, "1024 to 4096") == -1 ||
	    dline(b, "rotate_every", p->rotate_every, "a new key this often "
	    "(units s m h d w)") == -1 ||
	    dline(b, "publish_lead", p->publish_lead, "in DNS this long "
	    "before it signs") == -1 ||
	    dline(b, "min_age", p->min_age, "a key stays in DNS at least "
	    "this old") == -1 ||
	    dline(b, "drain", p->drain, "and this long after it last "
	    "signed") == -1 ||
	    nline(b, "keep_published", p->keep_published, "keys per domain "
	    "and algorithm in DNS") == -1 ||
	    nline(b, "ttl", p->ttl, "of the TXT records, seconds") == -1 ||
	    line(b, "restrict", p->restrict_email ? "true" : "false",
	    "s=email: the keys are for email only") == -1 ||
	    line(b, "testmode", p->testmode ? "true" : "false",
	    "t=y: the domain is testing DKIM") == -1)
		return -1;
	return 0;
}

static int
domains(struct dk_buf *b, const char *const *names, size_t n)
{
	size_t i;

	if (dk_buf_puts(b, "\n# The mail domains, one entry each, with any "
	    "key of defaults:\n#   - name: example.org\n#     algorithms: "
	    "[rsa, ed25519]\n") == -1)
		return -1;
	if (n == 0)
		return dk_buf_puts(b, "domains: []\n");
	if (dk_buf_puts(b, "domains:\n") == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (dk_buf_puts(b, "  - name: ") == -1 ||
		    dk_yaml_emit_scalar(b, names[i]) == -1 ||
		    dk_buf_puts(b, "\n") == -1)
			return -1;
	return 0;
}

/* zones (init -z): the mode and the NS names of every DKIM zone. */
static int
zones(struct dk_buf *b, const char *const *ns, size_t n)
{
	struct dk_buf v = { NULL, 0, 0 };
	size_t i;
	int rc = -1;

	if (n == 0)
		return 0;
	if (dk_buf_puts(&v, "[") == -1)
		goto done;
	for (i = 0; i < n; i++)
		if (dk_buf_puts(&v, i ? ", " : "") == -1 ||
		    dk_yaml_emit_scalar(&v, ns[i]) == -1)
			goto done;
	if (dk_buf_puts(&v, "]") == -1 ||
	    line(b, "publish", "zones", "a zone _domainkey.DOMAIN per "
	    "domain") == -1 ||
	    line(b, "zone_nameservers", v.data, NULL) == -1)
		goto done;
	rc = 0;
done:
	dk_buf_dispose(&v);
	return rc;
}

static int
rest(struct dk_buf *b, const struct dk_config *d, const char *sign_key,
    const char *home, const char *const *zone_ns, size_t nzone_ns,
    const char *reload)
{
	const struct dk_packaging_conf *p = &d->packaging;

	if (dk_buf_puts(b, "\ndns:\n") == -1 ||
	    line(b, "verify", d->dns_verify ? "true" : "false",
	    "sign only once every name server serves a key") == -1 ||
	    line(b, "nameservers", "[]",
	    "e.g. [\"192.0.2.53\", \"[2001:db8::53]:5353\"]") == -1 ||
	    line(b, "server", dk_server_type_name(d->dns_server),
	    "bind, nsd or knot: picks dns_reload") == -1 ||
	    nline(b, "max_serial_lag", d->max_serial_lag,
	    "check: CRITICAL past this many serials behind") == -1 ||
	    zones(b, zone_ns, nzone_ns) == -1 ||
	    dk_buf_puts(b, "\ngit:\n") == -1 ||
	    sline(b, "author", d->git_author,
	    "of the commits dkimrot makes") == -1 ||
	    dk_buf_puts(b, "\npackaging:\n") == -1 ||
	    sline(b, "output", p->output,
	    "yum repository; relative or absolute") == -1 ||
	    nline(b, "keep_builds", p->keep_builds,
	    "builds of each package kept in output") == -1 ||
	    dk_buf_puts(b,
	    "  # Where the packages install their files.\n") == -1 ||
	    line(b, "key_dir", p->key_dir,
	    "private keys (mail servers)") == -1 ||
	    line(b, "table_dir", p->table_dir,
	    "KeyTable, SigningTable") == -1 ||
	    line(b, "zone_dir", p->zone_dir,
	    "zone fragments (name servers)") == -1 ||
	    sline(b, "key_owner", p->key_owner,
	    "owner of the private keys") == -1 ||
	    sline(b, "key_group", p->key_group, NULL) == -1 ||
	    dk_buf_puts(b, "  # Shell commands run by the packages' %post; "
	    "\"\" runs nothing.\n") == -1 ||
	    sline(b, "mta_reload", p->mta_reload, NULL) == -1 ||
	    dk_buf_puts(b, "  # dns_reload: left out, dns.server picks it "
	    "(dkimrot.yaml(5)); bind's:\n  #   ") == -1 ||
	    dk_yaml_emit_scalar(b, reload) == -1 ||
	    dk_buf_puts(b, "\n") == -1 ||
	    dk_buf_puts(b, "  # The GPG key that signs both packages and "
	    "repodata/repomd.xml;\n  # \"\" signs nothing.  gnupg_home: "
	    "its GnuPG home (relative to the\n  # repository; \"\" = "
	    "$GNUPGHOME or ~/.gnupg), never committed.\n") == -1 ||
	    sline(b, "sign_key", sign_key != NULL ? sign_key : p->sign_key,
	    NULL) == -1 ||
	    sline(b, "gnupg_home", home != NULL ? home : p->gnupg_home,
	    NULL) == -1)
		return -1;
	return 0;
}

int
dk_config_template(const char *const *names, size_t n, const char *sign_key,
    const char *home, const char *const *zone_ns, size_t nzone_ns,
    char **out)
{
	struct dk_buf b = { NULL, 0, 0 };
	struct dk_config d;
	char *reload = NULL;
	int rc = -1;

	*out = NULL;
	dk_config_defaults(&d);
	/* the comment shows the reload the mode's default would run */
	if (dk_config_dns_reload(d.dns_server, nzone_ns > 0 ?
	    DK_PUBLISH_ZONES : DK_PUBLISH_INCLUDE, d.packaging.zone_dir,
	    &reload) != 0)
		return -1;
	if (dk_buf_puts(&b, "# dkimrot.yaml: the configuration of this DKIM "
	    "key repository, see\n# dkimrot.yaml(5).  Every value below is "
	    "the built-in default; a key\n# left out takes that default.\n"
	    "\n") == -1 ||
	    policy(&b, &d.defaults) == -1 ||
	    domains(&b, names, n) == -1 ||
	    rest(&b, &d, sign_key, home, zone_ns, nzone_ns, reload) == -1)
		goto done;
	if ((*out = dk_buf_detach(&b)) == NULL)
		goto done;
	rc = 0;
done:
	free(reload);
	dk_buf_dispose(&b);
	return rc;
}
