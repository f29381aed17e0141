/*
 * dkimrot.yaml (docs/design.md §5), read from the YAML tree of common/yaml.c:
 * the schema, the defaults, per-domain overrides.  Every error names the
 * FILE:LINE:COL of the node at fault, what was wrong and what was expected
 * there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/file.h"
#include "common/name.h"
#include "common/yaml.h"

/* "" places the repository below output (rotator/output.h). */
static bool
check_repo_dir(const char *s)
{
	return *s == '\0' || dk_config_check_output(s);
}

#define PKG(f)	offsetof(struct dk_packaging_conf, f)

/* Debian's Exim runs as Debian-exim: a capital letter, there only. */
static bool
check_exim_user(const char *s)
{
	char low[40];
	size_t i;

	if (strlen(s) >= sizeof(low))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		low[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') :
		    s[i];
	low[i] = '\0';
	return dk_config_check_user(low);
}

static const struct pkg_string {
	const char	*name;
	size_t		 off;
	bool		(*check)(const char *);
	bool		 may_be_empty;	/* and a null reads as "" */
	const char	*want;
} pkg_strings[] = {
	{ "output", PKG(output), dk_config_check_output, false,
	    "a non-empty path without control characters" },
	{ "private_output", PKG(private_output), check_repo_dir, true,
	    "a path without control characters, or \"\"" },
	{ "public_output", PKG(public_output), check_repo_dir, true,
	    "a path without control characters, or \"\"" },
	{ "key_dir", PKG(key_dir), dk_config_check_dir, false, DK_CFG_DIR_WANT },
	{ "table_dir", PKG(table_dir), dk_config_check_dir, false, DK_CFG_DIR_WANT },
	{ "zone_dir", PKG(zone_dir), dk_config_check_dir, false, DK_CFG_DIR_WANT },
	{ "key_owner", PKG(key_owner), dk_config_check_user, false,
	    "a user name ([a-z_][a-z0-9_-]*, at most 32 characters)" },
	{ "key_group", PKG(key_group), dk_config_check_user, false,
	    "a group name ([a-z_][a-z0-9_-]*, at most 32 characters)" },
	{ "mta_reload", PKG(mta_reload), dk_config_check_text, true,
	    "a shell command on " DK_CFG_TEXT_WANT },
	{ "dns_reload", PKG(dns_reload), dk_config_check_text, true,
	    "a shell command on " DK_CFG_TEXT_WANT },
	{ "sign_key", PKG(sign_key), dk_config_check_text, true,
	    "a GPG key ID or user ID on " DK_CFG_TEXT_WANT },
	{ "gnupg_home", PKG(gnupg_home), dk_config_check_text, true,
	    "a directory path on " DK_CFG_TEXT_WANT },
	{ "rspamd_user", PKG(rspamd_user), dk_config_check_user, false,
	    "a user name ([a-z_][a-z0-9_-]*, at most 32 characters)" },
	{ "rspamd_group", PKG(rspamd_group), dk_config_check_user, false,
	    "a group name ([a-z_][a-z0-9_-]*, at most 32 characters)" },
	{ "exim_user", PKG(exim_user), check_exim_user, false,
	    "a user name ([A-Za-z_][A-Za-z0-9_-]*, at most 32 characters)" },
	{ "exim_group", PKG(exim_group), check_exim_user, false,
	    "a group name ([A-Za-z_][A-Za-z0-9_-]*, at most 32 characters)" },
};

#define PKG_KEYS	"output, private_output, public_output, keep_builds, " \
			"parts, " \
			"compression, formats, key_dir, table_dir, zone_dir, " \
			"key_owner, key_group, mta_reload, dns_reload, sign_key, " \
			"gnupg_home, signers, rspamd_user, rspamd_group, " \
			"exim_user, exim_group"

static int
pkg_string(const struct dk_cfgctx *c, const struct pkg_string *ps,
    const struct dk_ynode *n)
{
	char **field = (char **)(void *)((char *)&c->cfg->packaging +
	    ps->off);
	const char *value;

	if (ps->may_be_empty && dk_yaml_is_null(n))
		value = "";
	else if (dk_cfg_scalar(c, ps->name, n, ps->want) != 0)
		return DK_EUSAGE;
	else
		value = n->scalar;
	if (!ps->check(value))
		return dk_cfg_bad_value(c, ps->name, n, ps->want);
	if (ps->off == PKG(dns_reload))
		c->cfg->packaging.dns_reload_given = true;
	if (ps->check == dk_config_check_dir && dk_config_system_dir(value))
		return dk_cfg_fail(c, n, "%s '%s' is a system directory, "
		    "which the package would own and re-mode: use a "
		    "dedicated subdirectory such as '%s/dkim'", ps->name,
		    value, value);
	return dk_cfg_set_string(field, value);
}

static const char *const compress_names[] = {
	[DK_COMPRESS_GZIP] = "gzip",
	[DK_COMPRESS_XZ] = "xz",
	[DK_COMPRESS_ZSTD] = "zstd",
};

const char *
dk_compress_name(int c)
{
	if (c < 0 || (size_t)c >= sizeof(compress_names) /
	    sizeof(compress_names[0]))
		return "?";
	return compress_names[c];
}

static int
compression(const struct dk_cfgctx *c, const struct dk_ynode *n)
{
	static const char want[] = "one of gzip, xz, zstd";
	size_t i;

	if (dk_cfg_scalar(c, "compression", n, want) != 0)
		return DK_EUSAGE;
	for (i = 0; i < sizeof(compress_names) / sizeof(compress_names[0]);
	    i++) {
		if (strcmp(n->scalar, compress_names[i]) == 0) {
			c->cfg->packaging.compress = (int)i;
			return 0;
		}
	}
	return dk_cfg_bad_value(c, "compression", n, want);
}

/*
 * The versions and the record of what was built come from the yum
 * repositories (cmd_package.c), so rpm is always built: [deb] alone is
 * refused rather than quietly building RPMs nobody asked for.
 */
static int
formats(const struct dk_cfgctx *c, const struct dk_ynode *n)
{
	static const char want[] = "[rpm] or [rpm, deb]";
	const struct dk_ynode *it;
	char v[DK_CFG_SHOWN + 4];
	unsigned set = 0, bit;
	size_t i;

	if (n->type != DK_Y_SEQ)
		return dk_cfg_wrong_type(c, "formats", n,
		    "a sequence such as [rpm] or [rpm, deb]");
	for (i = 0; i < n->n; i++) {
		it = n->items[i];
		if (dk_cfg_scalar(c, "formats", it, "rpm or deb") != 0)
			return DK_EUSAGE;
		if (strcmp(it->scalar, "rpm") == 0)
			bit = DK_FORMAT_RPM;
		else if (strcmp(it->scalar, "deb") == 0)
			bit = DK_FORMAT_DEB;
		else
			return dk_cfg_fail(c, it, "unknown package format "
			    "'%s' (expected rpm or deb)",
			    dk_cfg_shown(it->scalar, v));
		if (set & bit)
			return dk_cfg_fail(c, it, "duplicate format '%s' in "
			    "formats", it->scalar);
		set |= bit;
	}
	if (!(set & DK_FORMAT_RPM))
		return dk_cfg_fail(c, n, "formats must be %s: the versions "
		    "come from the yum repositories, so rpm is always "
		    "built", want);
	c->cfg->packaging.formats = set;
	return 0;
}

static const char *const signer_names[DK_SIGNER_COUNT] = {
	"opendkim", "rspamd", "exim"
};

const char *
dk_signer_name(enum dk_signer s)
{
	return (unsigned)s < DK_SIGNER_COUNT ? signer_names[s] : "?";
}

static int
signers(const struct dk_cfgctx *c, const struct dk_ynode *n, unsigned *out)
{
	int seen[DK_SIGNER_COUNT] = { 0 };
	const struct dk_ynode *it;
	char v[DK_CFG_SHOWN + 4];
	unsigned set = 0;
	size_t i, s;

	if (n->type != DK_Y_SEQ || n->n == 0)
		return dk_cfg_wrong_type(c, "signers", n, "a non-empty "
		    "sequence such as [opendkim] or [opendkim, rspamd, exim]");
	for (i = 0; i < n->n; i++) {
		it = n->items[i];
		if (dk_cfg_scalar(c, "signers", it, "opendkim, rspamd or "
		    "exim") != 0)
			return DK_EUSAGE;
		for (s = 0; s < DK_SIGNER_COUNT; s++)
			if (strcmp(it->scalar, signer_names[s]) == 0)
				break;
		if (s == DK_SIGNER_COUNT)
			return dk_cfg_fail(c, it, "unknown signer '%s' "
			    "(expected opendkim, rspamd or exim)",
			    dk_cfg_shown(it->scalar, v));
		if (seen[s])
			return dk_cfg_fail(c, it, "duplicate signer '%s' in "
			    "signers (first at line %d)", signer_names[s],
			    seen[s]);
		seen[s] = it->line;
		set |= DK_SIGNER_BIT(s);
	}
	*out = set;
	return 0;
}

static int
parse_packaging(const struct dk_cfgctx *c, const struct dk_ynode *map)
{
	const char *k;
	long long x;
	size_t i, j;
	int rc;

	if (dk_yaml_is_null(map))
		return 0;
	if (map->type != DK_Y_MAP)
		return dk_cfg_wrong_type(c, "packaging", map, "a mapping");
	for (i = 0; i < map->n; i++) {
		k = map->keys[i]->scalar;
		if (strcmp(k, "signers") == 0) {
			if ((rc = signers(c, map->items[i],
			    &c->cfg->packaging.signers)) != 0)
				return rc;
			continue;
		}
		if (strcmp(k, "keep_builds") == 0) {
			if ((rc = dk_cfg_integer(c, k, map->items[i], 1,
			    10000, &x)) != 0)
				return rc;
			c->cfg->packaging.keep_builds = (int)x;
			continue;
		}
		if (strcmp(k, "parts") == 0) {
			if ((rc = dk_cfg_integer(c, k, map->items[i], 0,
			    DK_PARTS_MAX, &x)) != 0)
				return rc;
			c->cfg->packaging.parts = (int)x;
			continue;
		}
		if (strcmp(k, "formats") == 0) {
			if ((rc = formats(c, map->items[i])) != 0)
				return rc;
			continue;
		}
		if (strcmp(k, "compression") == 0) {
			if ((rc = compression(c, map->items[i])) != 0)
				return rc;
			continue;
		}
		for (j = 0; j < sizeof(pkg_strings) / sizeof(pkg_strings[0]);
		    j++)
			if (strcmp(k, pkg_strings[j].name) == 0)
				break;
		if (j == sizeof(pkg_strings) / sizeof(pkg_strings[0]))
			return dk_cfg_unknown(c, map->keys[i], "in packaging",
			    PKG_KEYS);
		if ((rc = pkg_string(c, &pkg_strings[j], map->items[i])) != 0)
			return rc;
	}
	return 0;
}

/* dns_reload left out: the reload of dns.server for zone_dir. */
static int
default_reload(struct dk_config *cfg)
{
	struct dk_packaging_conf *p = &cfg->packaging;
	char *cmd;

	if (p->dns_reload_given)
		return 0;
	if (dk_config_dns_reload(cfg->dns_server, cfg->dns_publish,
	    p->zone_dir, &cmd) != 0)
		return -1;
	free(p->dns_reload);
	p->dns_reload = cmd;
	return 0;
}

static int
parse_root(const struct dk_cfgctx *c, const struct dk_ynode *root)
{
	static const char top[] = "defaults, domains, dns, git, packaging";
	const char *k;
	size_t i;
	int rc;

	if (root->type != DK_Y_MAP)
		return dk_cfg_fail(c, root, "expected a mapping (%s) at the "
		    "top level, found %s", top, dk_yaml_type_name(root));
	for (i = 0; i < root->n; i++) {
		k = root->keys[i]->scalar;
		if (strcmp(k, "defaults") != 0 && strcmp(k, "domains") != 0 &&
		    strcmp(k, "dns") != 0 && strcmp(k, "git") != 0 &&
		    strcmp(k, "packaging") != 0)
			return dk_cfg_unknown(c, root->keys[i],
			    "at the top level", top);
	}
	/* The defaults first: every domain starts from them. */
	if ((rc = dk_cfg_defaults(c, dk_yaml_get(root, "defaults"))) != 0 ||
	    (rc = dk_cfg_dns(c, dk_yaml_get(root, "dns"))) != 0 ||
	    (rc = dk_cfg_git(c, dk_yaml_get(root, "git"))) != 0 ||
	    (rc = parse_packaging(c, dk_yaml_get(root, "packaging"))) != 0 ||
	    (rc = dk_cfg_domains(c, dk_yaml_get(root, "domains"))) != 0)
		return rc;
	return default_reload(c->cfg);
}

/* Every string of a config, for copying the defaults and for freeing. */
#define NSTRINGS	25
static void
strings(struct dk_config *cfg, char **f[NSTRINGS])
{
	struct dk_packaging_conf *p = &cfg->packaging;
	size_t i = 0;

	f[i++] = &cfg->git_author;
	f[i++] = &cfg->git_remote;
	f[i++] = &cfg->git_branch;
	f[i++] = &cfg->git_ssh_key;
	f[i++] = &cfg->git_known_hosts;
	f[i++] = &cfg->git_credentials;
	f[i++] = &cfg->git_ca_file;
	f[i++] = &cfg->git_name;
	f[i++] = &cfg->git_email;
	f[i++] = &p->output;
	f[i++] = &p->private_output;
	f[i++] = &p->public_output;
	f[i++] = &p->key_dir;
	f[i++] = &p->table_dir;
	f[i++] = &p->zone_dir;
	f[i++] = &p->key_owner;
	f[i++] = &p->key_group;
	f[i++] = &p->mta_reload;
	f[i++] = &p->dns_reload;
	f[i++] = &p->sign_key;
	f[i++] = &p->gnupg_home;
	f[i++] = &p->rspamd_user;
	f[i++] = &p->rspamd_group;
	f[i++] = &p->exim_user;
	f[i++] = &p->exim_group;
}

void
dk_config_defaults(struct dk_config *cfg)
{
	struct dk_policy *d = &cfg->defaults;
	struct dk_packaging_conf *p = &cfg->packaging;

	memset(cfg, 0, sizeof(*cfg));
	d->algorithms = DK_ALG_BIT(DK_ALG_RSA);
	d->rsa_bits = 2048;
	d->rotate_every = 30 * 86400;
	d->publish_lead = 86400;
	d->min_age = 4 * 86400;
	d->drain = 4 * 86400;
	d->keep_published = 2;
	d->ttl = 3600;
	d->restrict_email = false;
	d->testmode = false;
	d->subdomains = false;
	cfg->dns_verify = false;
	/* docs/design.md §13: one package on its way is normal */
	cfg->max_serial_lag = 2;
	cfg->git_author = "dkimrot <dkimrot@localhost>";
	cfg->git_remote = "";
	cfg->git_branch = "main";
	cfg->git_ssh_key = "";
	cfg->git_known_hosts = "";
	cfg->git_credentials = "";
	cfg->git_ca_file = "";
	cfg->git_name = "dkimrot";
	cfg->git_email = "dkimrot@localhost";
	p->output = "rpms";
	p->private_output = "";
	p->public_output = "";
	p->keep_builds = 5;
	/* Every supported rpm and dpkg reads it (docs/design.md §11). */
	p->compress = DK_COMPRESS_GZIP;
	p->formats = DK_FORMAT_RPM;
	p->key_dir = "/etc/dkim-keys/keys";
	p->table_dir = "/etc/dkim-keys";
	p->zone_dir = "/var/named/dkim";
	p->key_owner = "opendkim";
	p->key_group = "opendkim";
	/*
	 * The single instance and every instance of the template unit the
	 * private package ships (packaging/signer.h); a pattern matches
	 * only loaded units, so a site running either form reloads it.
	 */
	p->mta_reload = "systemctl try-reload-or-restart opendkim.service "
	    "'opendkim@*.service'";
	/* dk_config_dns_reload() of bind and the zone_dir above */
	p->dns_reload = "touch -c /var/named/dkim/*.zone && rndc reload";
	p->sign_key = "";
	p->gnupg_home = "";
	p->signers = DK_SIGNER_BIT(DK_SIGNER_OPENDKIM);
	/* rspamd's and Exim's users on EL (Fedora, EPEL) */
	p->rspamd_user = "_rspamd";
	p->rspamd_group = "_rspamd";
	p->exim_user = "exim";
	p->exim_group = "exim";
}

/* The defaults with strings of their own, which dk_config_free() frees. */
static struct dk_config *
config_new(const char *file)
{
	struct dk_config *cfg;
	const char *lit[NSTRINGS];
	char **f[NSTRINGS];
	size_t i;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		dk_cfg_oom();
		return NULL;
	}
	dk_config_defaults(cfg);
	strings(cfg, f);
	for (i = 0; i < NSTRINGS; i++) {
		lit[i] = *f[i];
		*f[i] = NULL;
	}
	for (i = 0; i < NSTRINGS; i++) {
		if ((*f[i] = strdup(lit[i])) == NULL) {
			dk_cfg_oom();
			dk_config_free(cfg);
			return NULL;
		}
	}
	if ((cfg->file = strdup(file)) == NULL) {
		dk_cfg_oom();
		dk_config_free(cfg);
		return NULL;
	}
	return cfg;
}

int
dk_config_parse(const char *buf, size_t len, const char *file,
    struct dk_config **out)
{
	struct dk_config *cfg = NULL;
	struct dk_ynode *root = NULL;
	struct dk_cfgctx c;
	int rc = -1;

	*out = NULL;
	if (file == NULL)
		file = "dkimrot.yaml";
	if ((cfg = config_new(file)) == NULL)
		goto done;
	if ((rc = dk_yaml_parse(buf, len, file, &root)) != 0)
		goto done;
	c.file = file;
	c.cfg = cfg;
	/* An empty document ("", "---") is the defaults, no domains. */
	if (!dk_yaml_is_null(root) && (rc = parse_root(&c, root)) != 0)
		goto done;
	*out = cfg;
	cfg = NULL;
	rc = 0;
done:
	dk_yaml_free(root);
	dk_config_free(cfg);
	return rc;
}

int
dk_config_load(const char *path, struct dk_config **out)
{
	size_t len;
	char *buf;
	int rc;

	*out = NULL;
	if ((rc = dk_file_read(path, DK_CONFIG_MAX_SIZE, &buf, &len)) != 0)
		return rc;
	rc = dk_config_parse(buf, len, path, out);
	free(buf);
	return rc;
}

void
dk_config_free(struct dk_config *cfg)
{
	char **f[NSTRINGS];
	size_t i;

	if (cfg == NULL)
		return;
	strings(cfg, f);
	for (i = 0; i < NSTRINGS; i++)
		free(*f[i]);
	for (i = 0; i < cfg->ndomains; i++)
		free(cfg->domains[i].name);
	free(cfg->domains);
	free(cfg->byname);
	for (i = 0; i < cfg->nnameservers; i++)
		free(cfg->nameservers[i]);
	free(cfg->nameservers);
	free(cfg->ns);
	for (i = 0; i < cfg->nzone_ns; i++)
		free(cfg->zone_ns[i]);
	free(cfg->zone_ns);
	free(cfg->secondaries);
	free(cfg->primary);
	free(cfg->tsig_key_file);
	free(cfg->file);
	free(cfg);
}

const struct dk_domain_conf *
dk_config_domain(const struct dk_config *cfg, const char *name)
{
	size_t lo = 0, hi, mid;
	int r;

	if (cfg == NULL || cfg->byname == NULL)
		return NULL;
	/*
	 * Stored names are lower case, so strcasecmp() orders the query
	 * the way strcmp() sorted them.
	 */
	hi = cfg->ndomains;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = strcasecmp(name, cfg->byname[mid]->name)) == 0)
			return cfg->byname[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
