/*
 * Spec text from a template: every value validated and escaped so that
 * nothing in it can expand an RPM macro, run a command at build time or
 * start a new spec section.  Pure string work, no librpm; rpm.c builds
 * what this renders.
 *
 * What rpm 4.18 does with a spec line, and why the rules below hold:
 *  - every line is macro-expanded before it is parsed: '%' must be "%%";
 *  - after expansion a line starting with "%word" may start a section
 *    ("%%files" in a description becomes "%files"): no line we emit
 *    from a value may start with '%';
 *  - while reading, "%{", "%(" and "%[" without their closing bracket
 *    join the next lines, and '\' hides the character after it from that
 *    count ("\%%{" counts as "%{"): values carry no '\', except in %post
 *    where it is written so that a quote always follows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/error.h"
#include "packaging/rpm.h"
#include "packaging/spec_int.h"

#ifndef DKIMROT_VERSION
#define DKIMROT_VERSION "unknown"
#endif

#define DEFAULT_PACKAGER	"dkimrot <dkimrot@localhost>"
#define NAME_MAX_LEN		64
#define TOKEN_MAX_LEN		128
#define USER_MAX_LEN		32

static int
isalnum_ascii(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* [A-Za-z0-9] plus the characters in extra; max bytes. */
static int
check_token(const char *what, const char *s, const char *extra, size_t max)
{
	const char *p;

	if (s == NULL || *s == '\0') {
		dk_error_set("invalid package %s: empty", what);
		return DK_EUSAGE;
	}
	if (strlen(s) > max) {
		dk_error_set("invalid package %s: longer than %zu bytes",
		    what, max);
		return DK_EUSAGE;
	}
	for (p = s; *p != '\0'; p++) {
		if (isalnum_ascii((unsigned char)*p) ||
		    strchr(extra, *p) != NULL)
			continue;
		dk_error_set("invalid package %s '%s': only letters, digits "
		    "and '%s' are allowed", what, s, extra);
		return DK_EUSAGE;
	}
	return 0;
}

/*
 * One line of free text (a tag value, a description line): no control
 * characters, no '\'; '%' doubled.  UTF-8 passes (rpm checks it).
 */
static int
put_text(struct dk_buf *b, const char *what, const char *s, size_t n)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\') {
			dk_error_set("invalid package %s: %s not allowed", what,
			    c == '\n' ? "line break" : c == '\\' ?
			    "backslash" : "control character");
			return DK_EUSAGE;
		}
		if (dk_buf_append(b, c == '%' ? "%%" : (const char *)&s[i],
		    c == '%' ? 2 : 1) == -1)
			return -1;
	}
	return 0;
}

static int
put_description(struct dk_buf *b, const char *s)
{
	const char *nl, *p;
	size_t n;
	int rc;

	while (s != NULL && *s != '\0') {
		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		for (p = s; p < s + n && (*p == ' ' || *p == '\t'); p++)
			;
		if (p < s + n && *p == '%') {
			dk_error_set("invalid package description: a line "
			    "starts with '%%'");
			return DK_EUSAGE;
		}
		/* Tabs are fine in a description: indentation. */
		for (p = s; p < s + n; p++) {
			if (*p == '\t') {
				if (dk_buf_puts(b, "\t") == -1)
					return -1;
			} else if ((rc = put_text(b, "description", p,
			    1)) != 0)
				return rc;
		}
		if (dk_buf_puts(b, "\n") == -1)
			return -1;
		s = nl != NULL ? nl + 1 : s + n;
	}
	return 0;
}

/*
 * The configured command, run as one unit by a shell whatever it
 * contains (';', '&&', exit), inside single quotes; a failure warns.
 */
static int
put_command(struct dk_buf *b, const char *indent, const char *name,
    const char *cmd)
{
	const unsigned char *p;

	if (dk_buf_printf(b, "%s/bin/sh -c '", indent) == -1)
		return -1;
	for (p = (const unsigned char *)cmd; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f) {
			dk_error_set("invalid reload command '%s': only "
			    "printable ASCII on one line is allowed", cmd);
			return DK_EUSAGE;
		}
		switch (*p) {
		case '\'':
			if (dk_buf_puts(b, "'\\''") == -1)
				return -1;
			break;
		case '\\':
			/* Closing and reopening the quote puts a quote
			   after every '\' (see the top of this file). */
			if (dk_buf_puts(b, "\\''") == -1)
				return -1;
			break;
		case '%':
			if (dk_buf_puts(b, "%%") == -1)
				return -1;
			break;
		default:
			if (dk_buf_append(b, p, 1) == -1)
				return -1;
		}
	}
	if (dk_buf_printf(b, "' ||\n%s    echo \"%s: reload command failed "
	    "(exit status $?); run it by hand\" >&2\n", indent, name) == -1)
		return -1;
	return 0;
}

/*
 * %post: the command after every install and upgrade; the script exits
 * 0, so a failing reload never fails the install.
 */
static int
put_post(struct dk_buf *b, const char *name, const char *cmd)
{
	int rc;

	if (cmd == NULL || *cmd == '\0')
		return 0;
	if (dk_buf_puts(b, "%post\n") == -1)
		return -1;
	if ((rc = put_command(b, "", name, cmd)) != 0)
		return rc;
	return dk_buf_puts(b, "exit 0\n");
}

/*
 * %postun: the same command once the package is erased, so that the
 * daemon lets go of keys (or records) that are gone.  Not on upgrade
 * ($1 is then 1 or more): the new version's %post reloads already.  A
 * failing reload never fails the erase.
 */
static int
put_postun(struct dk_buf *b, const char *name, const char *cmd)
{
	int rc;

	if (cmd == NULL || *cmd == '\0')
		return 0;
	if (dk_buf_puts(b, "%postun\nif [ \"$1\" -eq 0 ]; then\n") == -1)
		return -1;
	if ((rc = put_command(b, "\t", name, cmd)) != 0)
		return rc;
	return dk_buf_puts(b, "fi\nexit 0\n");
}

/*
 * %pre: the keys' owner and group, made when missing.  Released
 * OpenDKIM reads its keys as its own user; rpm would install the files
 * of a user it does not know as root's ("user opendkim does not exist -
 * using root"), which the signer cannot read.  EL7 to EL9 know no
 * user() dependency (rpm 4.19 and sysusers bring it), and the signer's
 * own package may come in the same transaction or never (rspamd, Exim
 * run as their own users), so the scriptlet makes a system user as the
 * signers' packages do, and fails the install when it cannot.  getent
 * where there is one (NSS: users from LDAP count), else /etc/passwd.
 */
static int
put_pre(struct dk_buf *b, const char *name, const char *user,
    const char *group)
{
	int rc;

	if (user == NULL || group == NULL)
		return 0;
	if ((rc = dk_spec_check_user("owner", user)) != 0 ||
	    (rc = dk_spec_check_user("group", group)) != 0)
		return rc;
	return dk_buf_printf(b, "%%pre\n"
	    "dk_has() {\n"
	    "\tif command -v getent >/dev/null 2>&1; then\n"
	    "\t\tgetent \"$1\" \"$2\" >/dev/null\n"
	    "\t\treturn\n"
	    "\tfi\n"
	    "\t[ -r \"/etc/$1\" ] || return 1\n"
	    "\twhile IFS=: read -r dk_n dk_rest; do\n"
	    "\t\t[ \"$dk_n\" = \"$2\" ] && return 0\n"
	    "\tdone <\"/etc/$1\"\n"
	    "\treturn 1\n"
	    "}\n"
	    "dk_has group '%s' || groupadd -r '%s' 2>/dev/null || {\n"
	    "\techo \"%s: no group '%s' (packaging.key_group) and groupadd "
	    "failed\" >&2\n"
	    "\texit 1\n"
	    "}\n"
	    "dk_has passwd '%s' || useradd -r -g '%s' -d / -s /sbin/nologin "
	    "-c 'DKIM signer' '%s' 2>/dev/null || {\n"
	    "\techo \"%s: no user '%s' (packaging.key_owner) and useradd "
	    "failed\" >&2\n"
	    "\texit 1\n"
	    "}\n"
	    "exit 0\n", group, group, name, group, user, group, user, name,
	    user) == -1 ? -1 : 0;
}

int
dk_spec_check_user(const char *what, const char *s)
{
	if (s == NULL)
		return 0;
	if (check_token(what, s, "._-", USER_MAX_LEN) != 0 || s[0] == '-' ||
	    s[0] == '.') {
		dk_error_set("invalid file %s '%s': a user or group name is "
		    "required", what, s);
		return DK_EUSAGE;
	}
	return 0;
}

/* A %changelog date, "Sun Nov 22 2026", in UTC whatever the locale. */
static int
put_date(struct dk_buf *b, time_t t)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (t < 0 || gmtime_r(&t, &tm) == NULL) {
		dk_error_set("invalid package time %lld", (long long)t);
		return DK_EUSAGE;
	}
	return dk_buf_printf(b, "%s %s %02d %04d", days[tm.tm_wday],
	    months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
}

enum slot { S_NAME, S_VERSION, S_RELEASE, S_VCS, S_PACKAGER, S_DATE,
	S_DKVERSION, S_DESCRIPTION, S_URL, S_PRE, S_POST, S_POSTUN, S_REQUIRES,
	S_FILES, S_COUNT };

static const char *const slotnames[S_COUNT] = { "NAME", "VERSION",
	"RELEASE", "VCS", "PACKAGER", "DATE", "DKIMROT_VERSION",
	"DESCRIPTION", "URL", "PRE", "POST", "POSTUN", "REQUIRES", "FILES" };

/* One dependency line, its name and version validated. */
static int
put_dep(struct dk_buf *b, const char *tag, const struct dk_rpm_dep *d,
    const char *op, const char *release)
{
	int rc;

	if ((rc = check_token("name", d->name, "._+-", NAME_MAX_LEN)) != 0 ||
	    (rc = check_token("version", d->version, "._+~^",
	    TOKEN_MAX_LEN)) != 0)
		return rc;
	return dk_buf_printf(b, "%s:\t%s %s %s%s\n", tag, d->name, op,
	    d->version, release) == -1 ? -1 : 0;
}

/* The Requires: and Obsoletes: lines of @REQUIRES@. */
static int
put_requires(struct dk_buf *b, const struct dk_rpm_pkg *pkg)
{
	size_t i;
	int rc;

	for (i = 0; i < pkg->nrequires; i++)
		if ((rc = put_dep(b, "Requires", &pkg->requires[i], "=",
		    "-1")) != 0)
			return rc;
	for (i = 0; i < pkg->nobsoletes; i++)
		if ((rc = put_dep(b, "Obsoletes", &pkg->obsoletes[i], "<",
		    "")) != 0)
			return rc;
	return 0;
}

static int
fill_slots(struct dk_buf *v, const struct dk_rpm_pkg *pkg)
{
	const char *rel = pkg->release ? pkg->release : "1";
	const char *pk = pkg->packager ? pkg->packager : DEFAULT_PACKAGER;
	int rc;

	if ((rc = check_token("name", pkg->name, "._+-", NAME_MAX_LEN)) ||
	    (rc = check_token("version", pkg->version, "._+~^",
	    TOKEN_MAX_LEN)) ||
	    (rc = check_token("release", rel, "._+~^", TOKEN_MAX_LEN)) ||
	    (rc = check_token("vcs", pkg->vcs, "._:/#+-", TOKEN_MAX_LEN)))
		return rc;
	if (!isalnum_ascii((unsigned char)pkg->name[0])) {
		dk_error_set("invalid package name '%s': must start with a "
		    "letter or digit", pkg->name);
		return DK_EUSAGE;
	}
	if (dk_buf_puts(&v[S_NAME], pkg->name) == -1 ||
	    dk_buf_puts(&v[S_VERSION], pkg->version) == -1 ||
	    dk_buf_puts(&v[S_RELEASE], rel) == -1 ||
	    dk_buf_puts(&v[S_VCS], pkg->vcs) == -1 ||
	    dk_buf_puts(&v[S_DKVERSION], DKIMROT_VERSION) == -1)
		return -1;
	if ((rc = put_text(&v[S_PACKAGER], "packager", pk, strlen(pk))) ||
	    (rc = put_date(&v[S_DATE], pkg->time)) ||
	    (rc = put_description(&v[S_DESCRIPTION], pkg->description)) ||
	    (rc = put_pre(&v[S_PRE], pkg->name, pkg->pre_user,
	    pkg->pre_group)) ||
	    (rc = put_post(&v[S_POST], pkg->name, pkg->post)) ||
	    (rc = put_postun(&v[S_POSTUN], pkg->name, pkg->post)) ||
	    (rc = put_requires(&v[S_REQUIRES], pkg)) ||
	    (rc = dk_spec_put_files(&v[S_FILES], pkg)))
		return rc;
	if (pkg->url != NULL && *pkg->url != '\0') {
		if (strchr(pkg->url, ' ') != NULL) {
			dk_error_set("invalid package url '%s': spaces not "
			    "allowed", pkg->url);
			return DK_EUSAGE;
		}
		if (dk_buf_puts(&v[S_URL], "URL:\t\t") == -1 ||
		    (rc = put_text(&v[S_URL], "url", pkg->url,
		    strlen(pkg->url))) != 0)
			return rc;
	}
	return 0;
}

/* The length of "WORD" when p is "@WORD@" with WORD in [A-Z_]+, else 0. */
static size_t
placeholder(const char *p)
{
	size_t n;

	for (n = 1; (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_'; n++)
		;
	return n > 1 && p[n] == '@' ? n - 1 : 0;
}

/* Values are inserted once, never scanned again for placeholders. */
static int
substitute(struct dk_buf *out, const char *tmpl, struct dk_buf *v)
{
	const char *p;
	size_t n, s;

	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '@' || (n = placeholder(p)) == 0) {
			if (dk_buf_append(out, p, 1) == -1)
				return -1;
			continue;
		}
		for (s = 0; s < S_COUNT; s++)
			if (strlen(slotnames[s]) == n &&
			    memcmp(slotnames[s], p + 1, n) == 0)
				break;
		if (s == S_COUNT) {
			dk_error_set("unknown placeholder '@%.*s@' in spec "
			    "template", (int)n, p + 1);
			return DK_EUSAGE;
		}
		if (v[s].len > 0 &&
		    dk_buf_append(out, v[s].data, v[s].len) == -1)
			return -1;
		p += n + 1;
	}
	return 0;
}

int
dk_rpm_spec_render(const char *tmpl, const struct dk_rpm_pkg *pkg,
    char **out)
{
	struct dk_buf v[S_COUNT], text = { 0 };
	size_t i;
	int rc = -1;

	*out = NULL;
	memset(v, 0, sizeof(v));
	if ((rc = fill_slots(v, pkg)) != 0 ||
	    (rc = substitute(&text, tmpl, v)) != 0)
		goto done;
	if ((*out = dk_buf_detach(&text)) == NULL) {
		dk_error_set("out of memory");
		rc = -1;
		goto done;
	}
	rc = 0;
done:
	for (i = 0; i < S_COUNT; i++)
		dk_buf_dispose(&v[i]);
	dk_buf_dispose(&text);
	return rc;
}
