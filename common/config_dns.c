/*
 * The name server types of dns.server and the reload each needs in the
 * public package's %post (docs/design.md §13).  Each command was found by
 * running the real server (tests/e2e/dns_include.sh) and picks up every
 * change of a $INCLUDEd fragment, a downgrade included:
 *
 *   bind  named reloads a zone only when its file or one of its
 *         $INCLUDEs has an mtime newer than the last load, and rpm gives
 *         every file the build's time (the commit's), which can be older
 *         than the last load: after a downgrade, a build of an old
 *         commit, a restart of named.  "rndc reload ZONE" checks the
 *         same times.  So the fragments are touched first.
 *   nsd   nsd-control reload compares the mtime of the zone file only,
 *         never of its $INCLUDEs, with or without a zone name.  So every
 *         zone file that names zone_dir (the server's own list, through
 *         nsd-control zonestatus and nsd-checkconf) is touched first.
 *   knot  knotc reload re-reads the configuration, not zone files;
 *         knotc zone-reload re-reads every zone file whatever its time.
 *
 * zone_dir is validated ([A-Za-z0-9/._+-]), so it needs no quoting in a
 * shell command, and the commands hold no '%' (spec.c escapes it
 * anyway) and no backslash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/name.h"
#include "common/yaml.h"

static const char *const names[] = { "bind", "nsd", "knot" };

/* Debian's and upstream's path: nsd-control reads it by default too. */
#define NSD_CONF	"/etc/nsd/nsd.conf"

const char *
dk_server_type_name(enum dk_server_type s)
{
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] :
	    "?";
}

int
dk_server_type_parse(const char *s, enum dk_server_type *out)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum dk_server_type)i;
			return 0;
		}
	}
	return DK_EUSAGE;
}

/*
 * zones: the package also changes the server's zone list (the snippet
 * its configuration includes), so the configuration is read again
 * first; that adds and removes zones, then the changed zones reload.
 */
static int
zones_reload(struct dk_buf *b, enum dk_server_type s, const char *zone_dir)
{
	switch (s) {
	case DK_SERVER_BIND:
		return dk_buf_printf(b, "touch -c %s/*.zone && rndc reconfig "
		    "&& rndc reload", zone_dir);
	case DK_SERVER_NSD:
		return dk_buf_printf(b, "touch -c %s/*.zone && nsd-control "
		    "reconfig && nsd-control reload", zone_dir);
	case DK_SERVER_KNOT:
		return dk_buf_puts(b, "knotc reload && knotc zone-reload");
	}
	return -1;
}

static int
include_reload(struct dk_buf *b, enum dk_server_type s,
    const char *zone_dir)
{
	switch (s) {
	case DK_SERVER_BIND:
		return dk_buf_printf(b, "touch -c %s/*.zone && rndc reload",
		    zone_dir);
	case DK_SERVER_NSD:
		return dk_buf_printf(b, "c=" NSD_CONF "; "
		    "d=$(nsd-checkconf -o zonesdir $c); "
		    "for z in $(nsd-control zonestatus | "
		    "sed -n \"s/^zone:[[:space:]]*//p\"); do "
		    "f=$(nsd-checkconf -z \"$z\" -o zonefile $c); "
		    "case $f in /*) ;; *) f=$d/$f ;; esac; "
		    "grep -qsF %s/ \"$f\" && touch \"$f\"; done; "
		    "nsd-control reload", zone_dir);
	case DK_SERVER_KNOT:
		return dk_buf_puts(b, "knotc zone-reload");
	}
	return -1;
}

int
dk_config_dns_reload(enum dk_server_type s, enum dk_publish publish,
    const char *zone_dir, char **out)
{
	struct dk_buf b = { 0 };
	int rc;

	*out = NULL;
	if (publish == DK_PUBLISH_ZONES)
		rc = zones_reload(&b, s, zone_dir);
	else
		rc = include_reload(&b, s, zone_dir);
	if (rc != 0) {
		dk_buf_dispose(&b);
		dk_error_set("out of memory");
		return -1;
	}
	*out = dk_buf_detach(&b);
	return *out != NULL ? 0 : -1;
}

/*
 * RFC 1034 4.2.2: the parent zone holds the NS records of the cut.  A
 * day's TTL, as parents usually give delegations: they do not change
 * with the keys.
 */
int
dk_config_delegation(const struct dk_config *cfg, const char *const *domains,
    size_t n, FILE *f)
{
	size_t i, j;

	if (cfg->dns_publish != DK_PUBLISH_ZONES || n == 0)
		return 0;
	fputs("; dns.publish zones: in each domain's own zone, the "
	    "delegation of its DKIM names\n", f);
	for (i = 0; i < n; i++)
		for (j = 0; j < cfg->nzone_ns; j++)
			fprintf(f, "_domainkey.%s.\t%d\tIN\tNS\t%s.\n",
			    domains[i], DK_DELEGATION_TTL, cfg->zone_ns[j]);
	if (ferror(f)) {
		dk_error_set("cannot write the delegation records");
		return -1;
	}
	return 0;
}

/*
 * The dns: section of dkimrot.yaml: the name servers the DNS gate and
 * check ask, how the records are published, and where to.
 */
#define NAMESERVERS_MAX	64

/*
 * The checks every list of dns: makes first.  0 with the number of
 * items to parse in *n (0: none), or the error.
 */
static int
list(const struct dk_cfgctx *c, const char *key, const struct dk_ynode *seq,
    const char *example, const char *what, size_t *n)
{
	*n = 0;
	if (dk_yaml_is_null(seq))
		return 0;
	if (seq->type != DK_Y_SEQ)
		return dk_cfg_wrong_type(c, key, seq, example);
	if (seq->n > NAMESERVERS_MAX)
		return dk_cfg_fail(c, seq->items[NAMESERVERS_MAX],
		    "too many %s (expected at most %d)", what,
		    NAMESERVERS_MAX);
	*n = seq->n;
	return 0;
}

static int
parse_nameservers(const struct dk_cfgctx *c, const struct dk_ynode *seq)
{
	static const char want[] = "IPv4, IPv4:PORT, IPv6 or [IPv6]:PORT "
	    "with PORT from 1 to 65535";
	struct dk_config *cfg = c->cfg;
	const struct dk_ynode *it;
	char v[DK_CFG_SHOWN + 4];
	size_t i, j, n;
	int rc;

	if ((rc = list(c, "nameservers", seq, "a sequence of addresses such "
	    "as [\"192.0.2.53\", \"[2001:db8::53]:5353\"]", "name servers",
	    &n)) != 0 || n == 0)
		return rc;
	if ((cfg->nameservers = calloc(seq->n, sizeof(char *))) == NULL ||
	    (cfg->ns = calloc(seq->n, sizeof(*cfg->ns))) == NULL)
		return dk_cfg_oom();
	for (i = 0; i < seq->n; i++) {
		it = seq->items[i];
		if (dk_cfg_scalar(c, "nameservers", it, want) != 0)
			return DK_EUSAGE;
		if (!dk_config_check_nameserver(it->scalar, &cfg->ns[i]))
			return dk_cfg_fail(c, it, "invalid name server '%s' "
			    "(expected %s)", dk_cfg_shown(it->scalar, v), want);
		for (j = 0; j < i; j++)
			if (cfg->ns[j].port == cfg->ns[i].port &&
			    strcmp(cfg->ns[j].addr, cfg->ns[i].addr) == 0)
				return dk_cfg_fail(c, it, "duplicate name "
				    "server '%s' (first at line %d)",
				    it->scalar, seq->items[j]->line);
		if ((cfg->nameservers[i] = strdup(it->scalar)) == NULL)
			return dk_cfg_oom();
		cfg->nnameservers = i + 1;
	}
	return 0;
}

static int
parse_server(const struct dk_cfgctx *c, const struct dk_ynode *n)
{
	static const char want[] = "bind, nsd or knot";

	if (dk_cfg_scalar(c, "server", n, want) != 0)
		return DK_EUSAGE;
	if (dk_server_type_parse(n->scalar, &c->cfg->dns_server) != 0)
		return dk_cfg_bad_value(c, "server", n, want);
	return 0;
}

static int
parse_publish(const struct dk_cfgctx *c, const struct dk_ynode *n)
{
	static const char want[] = "include, zones or rfc2136";

	if (dk_cfg_scalar(c, "publish", n, want) != 0)
		return DK_EUSAGE;
	if (strcmp(n->scalar, "include") == 0)
		c->cfg->dns_publish = DK_PUBLISH_INCLUDE;
	else if (strcmp(n->scalar, "zones") == 0)
		c->cfg->dns_publish = DK_PUBLISH_ZONES;
	else if (strcmp(n->scalar, "rfc2136") == 0)
		c->cfg->dns_publish = DK_PUBLISH_RFC2136;
	else
		return dk_cfg_bad_value(c, "publish", n, want);
	return 0;
}

/* Host names, written as in a zone without the final dot. */
static int
parse_zone_ns(const struct dk_cfgctx *c, const struct dk_ynode *seq)
{
	static const char want[] = "a sequence of host names such as "
	    "[ns1.example.net, ns2.example.net]";
	struct dk_config *cfg = c->cfg;
	char v[DK_CFG_SHOWN + 4];
	size_t i, j, n;
	int rc;

	if ((rc = list(c, "zone_nameservers", seq, want, "name servers",
	    &n)) != 0 || n == 0)
		return rc;
	if ((cfg->zone_ns = calloc(seq->n, sizeof(char *))) == NULL)
		return dk_cfg_oom();
	for (i = 0; i < seq->n; i++) {
		if (dk_cfg_scalar(c, "zone_nameservers", seq->items[i],
		    want) != 0)
			return DK_EUSAGE;
		if (dk_name_domain_check(seq->items[i]->scalar) != 0)
			return dk_cfg_fail(c, seq->items[i], "invalid host "
			    "name '%s' in zone_nameservers (expected letters, "
			    "digits, '-' and '.', at least two labels)",
			    dk_cfg_shown(seq->items[i]->scalar, v));
		for (j = 0; j < i; j++)
			if (strcasecmp(cfg->zone_ns[j],
			    seq->items[i]->scalar) == 0)
				return dk_cfg_fail(c, seq->items[i],
				    "duplicate name server '%s' (first at "
				    "line %d)", seq->items[i]->scalar,
				    seq->items[j]->line);
		if ((cfg->zone_ns[i] = strdup(seq->items[i]->scalar)) == NULL)
			return dk_cfg_oom();
		cfg->nzone_ns = i + 1;
	}
	return 0;
}

static int
parse_secondaries(const struct dk_cfgctx *c, const struct dk_ynode *seq)
{
	static const char want[] = "IPv4, IPv4:PORT, IPv6 or [IPv6]:PORT "
	    "with PORT from 1 to 65535";
	struct dk_config *cfg = c->cfg;
	char v[DK_CFG_SHOWN + 4];
	size_t i, n;
	int rc;

	if ((rc = list(c, "secondaries", seq, "a sequence of addresses such "
	    "as [\"192.0.2.54\"]", "secondaries", &n)) != 0 || n == 0)
		return rc;
	if ((cfg->secondaries = calloc(seq->n,
	    sizeof(*cfg->secondaries))) == NULL)
		return dk_cfg_oom();
	for (i = 0; i < seq->n; i++) {
		if (dk_cfg_scalar(c, "secondaries", seq->items[i], want) != 0)
			return DK_EUSAGE;
		if (!dk_config_check_nameserver(seq->items[i]->scalar,
		    &cfg->secondaries[i]))
			return dk_cfg_fail(c, seq->items[i], "invalid "
			    "secondary '%s' (expected %s)",
			    dk_cfg_shown(seq->items[i]->scalar, v), want);
		cfg->nsecondaries = i + 1;
	}
	return 0;
}

static int
parse_primary(const struct dk_cfgctx *c, const struct dk_ynode *n)
{
	static const char want[] = "IPv4, IPv4:PORT, IPv6 or [IPv6]:PORT "
	    "with PORT from 1 to 65535";
	struct dk_nameserver ns;
	char v[DK_CFG_SHOWN + 4];

	if (dk_cfg_scalar(c, "primary", n, want) != 0)
		return DK_EUSAGE;
	if (!dk_config_check_nameserver(n->scalar, &ns))
		return dk_cfg_fail(c, n, "invalid primary '%s' (expected %s)",
		    dk_cfg_shown(n->scalar, v), want);
	return dk_cfg_set_string(&c->cfg->primary, n->scalar);
}

/*
 * The secret never enters dkimrot.yaml, which is committed and copied
 * to every clone: only the path of a file kept outside the repository.
 */
static int
parse_tsig_file(const struct dk_cfgctx *c, const struct dk_ynode *n)
{
	static const char want[] = "an absolute path of letters, digits and "
	    "/ . _ + - without '..', '//' or a final '/'";

	if (dk_cfg_scalar(c, "tsig_key_file", n, want) != 0)
		return DK_EUSAGE;
	if (!dk_config_check_dir(n->scalar))
		return dk_cfg_bad_value(c, "tsig_key_file", n, want);
	return dk_cfg_set_string(&c->cfg->tsig_key_file, n->scalar);
}

int
dk_cfg_dns(const struct dk_cfgctx *c, const struct dk_ynode *map)
{
	const struct dk_ynode *verify = NULL;
	const char *k;
	long long lag;
	size_t i;
	int rc;

	if (dk_yaml_is_null(map))
		return 0;
	if (map->type != DK_Y_MAP)
		return dk_cfg_wrong_type(c, "dns", map, "a mapping");
	for (i = 0; i < map->n; i++) {
		k = map->keys[i]->scalar;
		if (strcmp(k, "verify") == 0) {
			verify = map->items[i];
			rc = dk_cfg_boolean(c, k, verify, &c->cfg->dns_verify);
		} else if (strcmp(k, "nameservers") == 0)
			rc = parse_nameservers(c, map->items[i]);
		else if (strcmp(k, "server") == 0)
			rc = parse_server(c, map->items[i]);
		else if (strcmp(k, "publish") == 0)
			rc = parse_publish(c, map->items[i]);
		else if (strcmp(k, "zone_nameservers") == 0)
			rc = parse_zone_ns(c, map->items[i]);
		else if (strcmp(k, "secondaries") == 0)
			rc = parse_secondaries(c, map->items[i]);
		else if (strcmp(k, "primary") == 0)
			rc = parse_primary(c, map->items[i]);
		else if (strcmp(k, "tsig_key_file") == 0)
			rc = parse_tsig_file(c, map->items[i]);
		else if (strcmp(k, "max_serial_lag") == 0) {
			if ((rc = dk_cfg_integer(c, k, map->items[i], 0,
			    DK_SERIAL_LAG_MAX, &lag)) == 0)
				c->cfg->max_serial_lag = (int)lag;
		} else
			rc = dk_cfg_unknown(c, map->keys[i], "in dns",
			    "verify, nameservers, server, publish, "
			    "zone_nameservers, secondaries, primary, "
			    "tsig_key_file, max_serial_lag");
		if (rc != 0)
			return rc;
	}
	/* A zone without NS records is not a zone a parent can delegate. */
	if (c->cfg->dns_publish == DK_PUBLISH_ZONES &&
	    c->cfg->nzone_ns == 0)
		return dk_cfg_fail(c, map, "publish is zones but "
		    "zone_nameservers is empty (expected the host names of "
		    "the name servers of the _domainkey zones)");
	if (c->cfg->dns_publish == DK_PUBLISH_RFC2136 &&
	    (c->cfg->primary == NULL || c->cfg->tsig_key_file == NULL))
		return dk_cfg_fail(c, map, "publish is rfc2136 but primary or "
		    "tsig_key_file is missing (expected the primary's address "
		    "and the path of its TSIG key)");
	/* Verifying against no server at all would activate unchecked. */
	if (c->cfg->dns_verify && c->cfg->nnameservers == 0)
		return dk_cfg_fail(c, verify, "verify is true but nameservers "
		    "is empty (expected at least one name server to ask)");
	return 0;
}
