/*
 * Checks of single values of dkimrot.yaml.  Several of them end up in RPM
 * specs, %post scriptlets and zone files (docs/design.md §7): what passes here
 * can carry no RPM macro ('%'), no second line, and (for directories) no shell
 * or path trickery.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/config_value.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/yaml.h"

bool
dk_config_check_dir(const char *s)
{
	const char *p;
	size_t len;

	len = strlen(s);
	if (len < 2 || len > DK_CONFIG_PATH_MAX || s[0] != '/' ||
	    s[len - 1] == '/')
		return false;
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '.' ||
		    *p == '_' || *p == '+' || *p == '-')
			continue;
		return false;
	}
	if (strstr(s, "..") != NULL || strstr(s, "//") != NULL ||
	    strstr(s, "/./") != NULL)
		return false;
	/* "/x/." */
	return !(len >= 2 && s[len - 1] == '.' && s[len - 2] == '/');
}

/*
 * A package owns its directories: rpm sets their mode and owner on every
 * install and removes them when the package goes.  key_dir, table_dir
 * and zone_dir set to /etc, /var/named or /etc/opendkim would re-mode
 * the daemon's own directory (or the system's), and erasing the package
 * would try to take it away.  They must be dedicated subdirectories.
 */
static const char *const system_dirs[] = {
	/* FHS 3.0 and its common companions */
	"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32",
	"/lib64", "/libx32", "/media", "/mnt", "/opt", "/proc", "/root",
	"/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin",
	"/usr/include", "/usr/lib", "/usr/lib64", "/usr/libexec",
	"/usr/local", "/usr/local/etc", "/usr/sbin", "/usr/share", "/var",
	"/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log",
	"/var/mail", "/var/opt", "/var/run", "/var/spool", "/var/tmp",
	"/var/www",
	/* system configuration that other packages own */
	"/etc/cron.d", "/etc/default", "/etc/pki", "/etc/pki/tls",
	"/etc/ssl", "/etc/ssl/private", "/etc/sysconfig", "/etc/systemd",
	/* name servers: BIND, NSD, Knot, PowerDNS, Unbound */
	"/etc/bind", "/etc/named", "/var/cache/bind", "/var/lib/bind",
	"/var/named", "/var/named/data", "/var/named/dynamic",
	"/var/named/slaves", "/etc/nsd", "/var/lib/nsd", "/etc/knot",
	"/var/lib/knot", "/etc/powerdns", "/var/lib/powerdns",
	"/etc/unbound",
	/* DKIM signers and mail servers */
	"/etc/dkimkeys", "/etc/opendkim", "/etc/opendkim/keys",
	"/var/lib/opendkim", "/run/opendkim", "/etc/rspamd",
	"/etc/rspamd/local.d", "/etc/rspamd/override.d", "/var/lib/rspamd",
	"/etc/exim", "/etc/exim4", "/etc/postfix", "/var/spool/postfix",
	"/etc/mail", "/etc/dovecot",
};

bool
dk_config_system_dir(const char *s)
{
	char norm[DK_CONFIG_PATH_MAX + 2];
	const char *p, *e;
	size_t n = 0, i, len;

	if (strlen(s) > DK_CONFIG_PATH_MAX)
		return false;
	/* Lexically: "//" and "." dropped, ".." takes one back. */
	for (p = s; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		for (e = p; *e != '\0' && *e != '/'; e++)
			;
		len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.'))
			continue;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && norm[--n] != '/')
				;
			continue;
		}
		norm[n++] = '/';
		memcpy(norm + n, p, len);
		n += len;
	}
	if (n == 0)
		norm[n++] = '/';
	norm[n] = '\0';
	for (i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
		if (strcmp(norm, system_dirs[i]) == 0)
			return true;
	return false;
}

bool
dk_config_check_user(const char *s)
{
	const char *p;

	if (!((*s >= 'a' && *s <= 'z') || *s == '_') || strlen(s) > 32)
		return false;
	for (p = s + 1; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			return false;
	return true;
}

bool
dk_config_check_text(const char *s)
{
	const unsigned char *p;

	if (strlen(s) > DK_CONFIG_STRING_MAX)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '%')
			return false;
	return true;
}

bool
dk_config_check_output(const char *s)
{
	const unsigned char *p;

	if (*s == '\0' || strlen(s) > DK_CONFIG_PATH_MAX)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* USER@ of an authority or scp-like URL holds no ':' (a password). */
static bool
no_password(const char *auth, size_t len)
{
	const char *at = memchr(auth, '@', len);

	return at == NULL || memchr(auth, ':', (size_t)(at - auth)) == NULL;
}

bool
dk_config_check_remote(const char *s)
{
	static const char *const schemes[] = {
		"ssh://", "git://", "https://", "file://"
	};
	const unsigned char *p;
	const char *rest, *colon, *slash;
	size_t i;

	if (*s == '\0' || strlen(s) > DK_CONFIG_STRING_MAX)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	if (s[0] == '/')
		return true;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strncmp(s, schemes[i], strlen(schemes[i])) != 0)
			continue;
		rest = s + strlen(schemes[i]);
		slash = strchr(rest, '/');
		if (slash == NULL || slash[1] == '\0')
			return false;
		return no_password(rest, (size_t)(slash - rest));
	}
	/* scp-like [USER@]HOST:PATH, as git and libgit2 read it. */
	if (strstr(s, "://") != NULL)
		return false;
	slash = strchr(s, '/');
	rest = strchr(s, '@');
	if (rest != NULL && (slash == NULL || rest < slash)) {
		if (!no_password(s, (size_t)(rest - s) + 1))
			return false;
		rest++;
	} else
		rest = s;
	colon = strchr(rest, ':');
	return colon != NULL && colon != rest && colon[1] != '\0' &&
	    (slash == NULL || colon < slash);
}

bool
dk_config_check_branch(const char *s)
{
	size_t len = strlen(s);
	const char *p;

	if (len == 0 || len > 200 || s[0] == '-' || s[0] == '/' ||
	    s[0] == '.' || s[len - 1] == '/' || s[len - 1] == '.' ||
	    strstr(s, "..") != NULL || strstr(s, "//") != NULL ||
	    strstr(s, "/.") != NULL ||
	    (len >= 5 && strcmp(s + len - 5, ".lock") == 0))
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '.' ||
		    *p == '_' || *p == '-'))
			return false;
	return true;
}

/* 1..65535, decimal digits only, no leading zero. */
static bool
port(const char *s, unsigned short *out)
{
	unsigned long v = 0;
	const char *p;

	if (*s < '1' || *s > '9' || strlen(s) > 5)
		return false;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return false;
	*out = (unsigned short)v;
	return true;
}

static bool
address(int family, const char *s, size_t len, struct dk_nameserver *ns)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char tmp[DK_ADDR_MAX];

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(family, tmp, bin) != 1 ||
	    inet_ntop(family, bin, ns->addr, sizeof(ns->addr)) == NULL)
		return false;
	ns->family = family;
	return true;
}

bool
dk_config_check_nameserver(const char *s, struct dk_nameserver *ns)
{
	const char *colon, *end;

	memset(ns, 0, sizeof(*ns));
	ns->port = 53;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL ||
		    !address(AF_INET6, s + 1, (size_t)(end - s - 1), ns))
			return false;
		if (end[1] == '\0')
			return true;
		return end[1] == ':' && port(end + 2, &ns->port);
	}
	if ((colon = strchr(s, ':')) == NULL)
		return address(AF_INET, s, strlen(s), ns);
	if (strchr(colon + 1, ':') == NULL)
		return address(AF_INET, s, (size_t)(colon - s), ns) &&
		    port(colon + 1, &ns->port);
	/* Two colons or more: a bare IPv6 address, port 53. */
	return address(AF_INET6, s, strlen(s), ns);
}

/* Printable, not a control character; UTF-8 is fine in a name. */
static bool
clean(const char *s, size_t len, bool spaces)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '<' || p[i] == '>')
			return false;
		if (!spaces && p[i] == ' ')
			return false;
	}
	return true;
}

int
dk_config_split_author(const char *s, char **name, char **email)
{
	const char *lt, *gt;
	size_t nlen, elen;

	*name = *email = NULL;
	if (strlen(s) > DK_CONFIG_STRING_MAX ||
	    (lt = strchr(s, '<')) == NULL || (gt = strchr(lt, '>')) == NULL ||
	    gt[1] != '\0')
		return DK_EUSAGE;
	for (nlen = (size_t)(lt - s); nlen > 0 && s[nlen - 1] == ' '; nlen--)
		;
	elen = (size_t)(gt - lt - 1);
	if (nlen == 0 || s[0] == ' ' || elen == 0 || !clean(s, nlen, true) ||
	    !clean(lt + 1, elen, false))
		return DK_EUSAGE;
	if ((*name = strndup(s, nlen)) == NULL ||
	    (*email = strndup(lt + 1, elen)) == NULL) {
		free(*name);
		*name = NULL;
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

void
dk_config_duration_text(long long secs, char *buf, size_t size)
{
	static const struct { long long n; char u; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	size_t i;
	int n;

	/* Days rather than weeks: "30d" reads better than "4w2d". */
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (secs > 0 && secs % units[i].n == 0)
			break;
	n = snprintf(buf, size, "%lld%c", secs / units[i].n, units[i].u);
	if ((n < 0 || (size_t)n >= size) && size > 0)
		buf[0] = '\0';
}

/*
 * Node readers: each checks one node of the tree and, when it is wrong,
 * sets "FILE:LINE:COL: what was wrong, what was expected" and returns
 * DK_EUSAGE.
 */
int
dk_cfg_fail(const struct dk_cfgctx *c, const struct dk_ynode *n,
    const char *fmt, ...)
{
	char msg[1024];
	unsigned char *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Values are quoted as written: keep the terminal's controls out. */
	for (p = (unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	dk_error_set("%s:%d:%d: %s", c->file, n->line, n->col, msg);
	return DK_EUSAGE;
}

const char *
dk_cfg_shown(const char *s, char buf[DK_CFG_SHOWN + 4])
{
	size_t n;

	if ((n = strlen(s)) <= DK_CFG_SHOWN)
		return s;
	/* Cut between UTF-8 characters, not inside one. */
	for (n = DK_CFG_SHOWN; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80;
	    n--)
		;
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

int
dk_cfg_oom(void)
{
	dk_error_set("out of memory");
	return -1;
}

int
dk_cfg_wrong_type(const struct dk_cfgctx *c, const char *key,
    const struct dk_ynode *n, const char *want)
{
	return dk_cfg_fail(c, n, "%s: expected %s, found %s", key, want,
	    dk_yaml_is_null(n) ? "no value" : dk_yaml_type_name(n));
}

int
dk_cfg_unknown(const struct dk_cfgctx *c, const struct dk_ynode *k,
    const char *where, const char *expected)
{
	char v[DK_CFG_SHOWN + 4];

	return dk_cfg_fail(c, k, "unknown key '%s' %s (expected one of: %s)",
	    dk_cfg_shown(k->scalar, v), where, expected);
}

int
dk_cfg_scalar(const struct dk_cfgctx *c, const char *key,
    const struct dk_ynode *n, const char *want)
{
	if (n->type != DK_Y_SCALAR || dk_yaml_is_null(n))
		return dk_cfg_wrong_type(c, key, n, want);
	return 0;
}

int
dk_cfg_bad_value(const struct dk_cfgctx *c, const char *key,
    const struct dk_ynode *n, const char *want)
{
	char v[DK_CFG_SHOWN + 4];

	return dk_cfg_fail(c, n, "%s must be %s, not %s'%s'", key, want,
	    n->plain ? "" : "the quoted string ", dk_cfg_shown(n->scalar, v));
}

int
dk_cfg_integer(const struct dk_cfgctx *c, const char *key,
    const struct dk_ynode *n, long long min, long long max, long long *out)
{
	char want[80];
	long long v = 0;
	const char *p;

	snprintf(want, sizeof(want), "an integer from %lld to %lld", min,
	    max);
	if (dk_cfg_scalar(c, key, n, want) != 0)
		return DK_EUSAGE;
	/* YAML 1.1 reads "0755" as octal: a leading zero is refused. */
	p = n->scalar;
	if (!n->plain || (p[0] == '0' && p[1] != '\0'))
		return dk_cfg_bad_value(c, key, n, want);
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > max)
			return dk_cfg_bad_value(c, key, n, want);
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return dk_cfg_bad_value(c, key, n, want);
	*out = v;
	return 0;
}

int
dk_cfg_boolean(const struct dk_cfgctx *c, const char *key,
    const struct dk_ynode *n, bool *out)
{
	/* Not YAML 1.1's yes/no/on/off: one spelling, no surprises. */
	if (dk_cfg_scalar(c, key, n, "true or false") != 0)
		return DK_EUSAGE;
	if (n->plain && strcmp(n->scalar, "true") == 0)
		*out = true;
	else if (n->plain && strcmp(n->scalar, "false") == 0)
		*out = false;
	else
		return dk_cfg_bad_value(c, key, n, "true or false");
	return 0;
}

int
dk_cfg_duration(const struct dk_cfgctx *c, const char *key,
    const struct dk_ynode *n, bool positive, long long *out)
{
	static const char want[] = "a duration such as 30d or 1d12h "
	    "(units s, m, h, d, w)";
	char v[DK_CFG_SHOWN + 4];
	long long d;

	if (dk_cfg_scalar(c, key, n, want) != 0)
		return DK_EUSAGE;
	if (dk_duration_parse(n->scalar, &d) != 0)
		return dk_cfg_bad_value(c, key, n, want);
	if (positive && d == 0)
		return dk_cfg_fail(c, n, "%s must be longer than 0s, not '%s'",
		    key, dk_cfg_shown(n->scalar, v));
	*out = d;
	return 0;
}

int
dk_cfg_set_string(char **field, const char *value)
{
	char *s;

	if ((s = strdup(value)) == NULL)
		return dk_cfg_oom();
	free(*field);
	*field = s;
	return 0;
}
