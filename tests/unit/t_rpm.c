/*
 * Unit tests: spec rendering and escaping, in-process RPM builds
 * (determinism, no build-time injection, cleanup) and repository pruning.
 * tests/e2e/rpm.sh checks the packages with rpm, rpmlint, gpg and dnf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gpg.h"
#include "common/log.h"
#include "packaging/ledger.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"
#include "packaging/sign.h"
#include "rotator/output.h"

#define COMMIT	"0123456789abcdef0123456789abcdef01234567"
#define T0	1795353300	/* 2026-11-22T13:15:00Z */

static char base[PATH_MAX];	/* per test run; TMPDIR is base/tmp */

/* buf = a/b, asserting that it fits. */
static char *
join(char *buf, const char *a, const char *b)
{
	assert_int_equal(dk_path_join(buf, PATH_MAX, a, b), 0);
	return buf;
}

static const struct dk_rpm_file pub_files[] = {
	{ "/var/named/dkim", NULL, 0, 0755, "root", "named", DK_RPM_DIR, NULL },
	{ "/var/named/dkim/example.com.zone", "x IN TXT \"v=DKIM1\"\n", 19,
	    0644, NULL, "named", DK_RPM_CONFIG, NULL },
};

static void
pub_pkg(struct dk_rpm_pkg *p)
{
	memset(p, 0, sizeof(*p));
	p->name = "dkim-keys-public";
	p->version = "7";
	p->vcs = COMMIT;
	p->time = T0;
	p->post = "rndc reload";
	p->files = pub_files;
	p->nfiles = 2;
}

static int
rmentry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static int
setup(void **state)
{
	char tmp[PATH_MAX];

	strcpy(base, "/tmp/t_rpm.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	/* dk_repo_update() reports pruned packages at info level. */
	dk_log_set_level(DK_LOG_QUIET);
	if (dk_path_join(tmp, sizeof(tmp), base, "tmp") == -1 ||
	    mkdir(tmp, 0700) == -1 || setenv("TMPDIR", tmp, 1) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	nftw(base, rmentry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Entries in TMPDIR: a build must leave none behind. */
static int
tmp_entries(void)
{
	char tmp[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	assert_non_null(d = opendir(join(tmp, base, "tmp")));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* An @UPPER@ word the renderer left in the text. */
static int
placeholder_left(const char *s)
{
	size_t i, n;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] != '@')
			continue;
		n = strspn(s + i + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
		if (n > 0 && s[i + n + 1] == '@')
			return 1;
	}
	return 0;
}

static char *
render(const char *tmpl, const struct dk_rpm_pkg *p)
{
	char *out = NULL;

	assert_int_equal(dk_rpm_spec_render(tmpl, p, &out), 0);
	return out;
}

static void
test_rpm__render(void **state)
{
	struct dk_rpm_pkg p;
	char *s;

	pub_pkg(&p);
	p.description = "Domains: example.com";
	s = render(dk_spec_dkim_keys_public, &p);
	assert_non_null(strstr(s, "\nName:\t\tdkim-keys-public\n"));
	assert_non_null(strstr(s, "\nVersion:\t7\n"));
	assert_non_null(strstr(s, "\nRelease:\t1\n"));
	assert_non_null(strstr(s, "\nVCS:\t\t" COMMIT "\n"));
	assert_non_null(strstr(s, "\nPackager:\tdkimrot <dkimrot@localhost>\n"));
	assert_non_null(strstr(s, "\nDomains: example.com\n"));
	/* One directory, all alike below: one line (spec_files.c). */
	assert_non_null(strstr(s, "\n%files\n"
	    "%defattr(0644,root,named,0755)\n%config /var/named/dkim\n"));
	assert_non_null(strstr(s, "\n%post\n/bin/sh -c 'rndc reload' ||\n"));
	assert_non_null(strstr(s, "\n* Sun Nov 22 2026 dkimrot "
	    "<dkimrot@localhost> - 7-1\n"));
	assert_null(strstr(s, "URL:"));
	assert_false(placeholder_left(s));
	free(s);

	/* No reload command: no %post at all (and no /bin/sh dependency). */
	p.post = "";
	p.url = "https://keys.example.com/";
	s = render(dk_spec_dkim_keys_private, &p);
	assert_null(strstr(s, "%post"));
	assert_non_null(strstr(s, "\nURL:\t\thttps://keys.example.com/\n"));
	free(s);
}

static void
test_rpm__escape(void **state)
{
	static const char tmpl[] = "Summary: x\n@PACKAGER@|@DESCRIPTION@|@POST@";
	struct dk_rpm_pkg p;
	char *s;

	pub_pkg(&p);
	p.packager = "Eve %(touch /tmp/x) %{lua: os.exit()} <e@x>";
	p.description = "100% %{name}\n\tindented %%\n\nlast";
	/* The configured command, exactly: quotes, $(), ;, macros, '\'. */
	p.post = "echo 'a b' \"$(id -u)\"; kill -HUP `cat /run/x.pid` "
	    "%{_bindir} %(id) \\%{x} it's\\";
	s = render(tmpl, &p);
	assert_string_equal(s, "Summary: x\n"
	    "Eve %%(touch /tmp/x) %%{lua: os.exit()} <e@x>|"
	    "100%% %%{name}\n\tindented %%%%\n\nlast\n|"
	    "%post\n/bin/sh -c 'echo '\\''a b'\\'' \"$(id -u)\"; kill -HUP "
	    "`cat /run/x.pid` %%{_bindir} %%(id) \\''%%{x} it'\\''s\\''' ||\n"
	    "    echo \"dkim-keys-public: reload command failed (exit status "
	    "$?); run it by hand\" >&2\nexit 0\n");
	free(s);
}

static void
test_rpm__reject(void **state)
{
	static const struct {
		const char	*field, *value, *msg;
	} bad[] = {
		{ "name", "-x", "must start" },
		{ "name", "a b", "invalid package name" },
		{ "name", "a%{x}", "invalid package name" },
		{ "version", "1-2", "invalid package version" },
		{ "version", "", "empty" },
		{ "release", "1\n", "invalid package release" },
		{ "vcs", "abc%(id)", "invalid package vcs" },
		{ "vcs", NULL, "empty" },
		{ "packager", "a\nRequires: evil", "line break" },
		{ "packager", "a \\%{x}", "backslash" },
		{ "description", "ok\n%files\n/etc/shadow", "starts with '%'" },
		{ "description", "ok\n  %%post", "starts with '%'" },
		{ "description", "bell\a", "control character" },
		{ "post", "reload\ntouch /x", "printable ASCII" },
		{ "post", "reload\r", "printable ASCII" },
		{ "url", "http://x/ y", "spaces" },
		{ "url", "http://x/\n", "line break" },
	};
	struct dk_rpm_pkg p;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pub_pkg(&p);
		if (strcmp(bad[i].field, "name") == 0)
			p.name = bad[i].value;
		else if (strcmp(bad[i].field, "version") == 0)
			p.version = bad[i].value;
		else if (strcmp(bad[i].field, "release") == 0)
			p.release = bad[i].value;
		else if (strcmp(bad[i].field, "vcs") == 0)
			p.vcs = bad[i].value;
		else if (strcmp(bad[i].field, "packager") == 0)
			p.packager = bad[i].value;
		else if (strcmp(bad[i].field, "description") == 0)
			p.description = bad[i].value;
		else if (strcmp(bad[i].field, "post") == 0)
			p.post = bad[i].value;
		else
			p.url = bad[i].value;
		s = (char *)"unset";
		assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_public,
		    &p, &s), DK_EUSAGE);
		assert_null(s);
		if (strstr(dk_error_last(), bad[i].msg) == NULL)
			fail_msg("%s '%s': %s", bad[i].field, bad[i].value,
			    dk_error_last());
	}
}

static void
test_rpm__reject_files(void **state)
{
	static const struct dk_rpm_file bad[] = {
		{ "etc/x", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/x/", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc//x", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/../x", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/./x", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/%(touch /tmp/M)", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/a b", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/a*", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/x\n%post", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/x", "", 0, 04755, NULL, NULL, 0, NULL },
		{ "/etc/x", "", 0, 0644, "root)", NULL, 0, NULL },
		{ "/etc/x", "", 0, 0644, NULL, "a,b", 0, NULL },
		{ "/etc/x", "", 0, 0644, "-x", NULL, 0, NULL },
		{ "/etc/x", "", 0, 0644, "%{u}", NULL, 0, NULL },
		{ "/etc/x", "", 0, 0644, NULL, NULL, 0x100, NULL },
	};
	static const struct dk_rpm_file unloaded = { "/etc/x", NULL, 0, 0600,
	    NULL, NULL, 0, "0123456789abcdef0123456789abcdef01234567" };
	struct dk_rpm_file twice[2] = {
		{ "/etc/x", "", 0, 0644, NULL, NULL, 0, NULL },
		{ "/etc/x", "", 0, 0600, NULL, NULL, 0, NULL },
	};
	struct dk_rpm_pkg p;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pub_pkg(&p);
		p.files = &bad[i];
		p.nfiles = 1;
		if (dk_rpm_spec_render(dk_spec_dkim_keys_public, &p, &s) !=
		    DK_EUSAGE)
			fail_msg("accepted file %zu '%s'", i, bad[i].path);
	}
	pub_pkg(&p);
	p.files = twice;
	p.nfiles = 2;
	assert_int_equal(dk_rpm_spec_render(dk_spec_dkim_keys_public, &p, &s),
	    DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "listed twice"));
	/* A deferred key never loaded (packaging/render.h): no package. */
	pub_pkg(&p);
	p.files = &unloaded;
	p.nfiles = 1;
	assert_int_not_equal(dk_rpm_spec_render(dk_spec_dkim_keys_public, &p,
	    &s), 0);
	assert_non_null(strstr(dk_error_last(), "not loaded"));
}

static void
test_rpm__placeholders(void **state)
{
	struct dk_rpm_pkg p;
	char *s;

	pub_pkg(&p);
	/* Values are not scanned again: a value "@FILES@" stays. */
	p.description = "@FILES@ mail t@example.test @ @@ @lower@";
	s = render("@DESCRIPTION@@NAME@", &p);
	assert_string_equal(s, "@FILES@ mail t@example.test @ @@ @lower@\n"
	    "dkim-keys-public");
	free(s);
	assert_int_equal(dk_rpm_spec_render("@NAME@ @NOPE@", &p, &s),
	    DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "'@NOPE@'"));
}

static char *
build(const struct dk_rpm_pkg *p, const char *sub)
{
	char dir[PATH_MAX], *out = NULL;

	assert_int_equal(dk_dir_make(join(dir, base, sub), 0755), 0);
	if (dk_rpm_build(dk_spec_dkim_keys_public, p, dir, &out) != 0)
		fail_msg("build: %s", dk_error_last());
	return out;
}

static void
test_rpm__build_deterministic(void **state)
{
	struct dk_rpm_pkg p;
	char *a, *b, *c, *da, *db, *dc;
	size_t la, lb, lc;
	struct stat st;

	pub_pkg(&p);
	a = build(&p, "d1");
	sleep(1);	/* the clock must not matter */
	b = build(&p, "d2");
	p.time = T0 + 86400;
	c = build(&p, "d3");
	assert_int_equal(dk_file_read(a, DK_FILE_MAX, &da, &la), 0);
	assert_int_equal(dk_file_read(b, DK_FILE_MAX, &db, &lb), 0);
	assert_int_equal(dk_file_read(c, DK_FILE_MAX, &dc, &lc), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	assert_true(la != lc || memcmp(da, dc, la) != 0);
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_non_null(strstr(a, "/d1/dkim-keys-public-7-1.noarch.rpm"));
	assert_int_equal(tmp_entries(), 0);
	free(a); free(b); free(c); free(da); free(db); free(dc);
}

static void
test_rpm__build_no_injection(void **state)
{
	char marker[PATH_MAX], text[PATH_MAX * 3], url[PATH_MAX * 2], *out;
	struct dk_rpm_pkg p;
	struct stat st;

	int n;

	join(marker, base, "MARKER");
	n = snprintf(text, sizeof(text), "notes: %%(touch %s) %%{lua: "
	    "io.open('%s', 'w')} %%{expand:%%%%(touch %s)}", marker, marker,
	    marker);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	n = snprintf(url, sizeof(url), "https://x/%%{lua:io.open('%s','w')}",
	    marker);
	assert_true(n > 0 && (size_t)n < sizeof(url));
	pub_pkg(&p);
	p.description = text;
	p.packager = text;
	p.url = url;
	p.post = text;
	p.rpm_mode = 0600;
	out = build(&p, "inj");
	assert_int_equal(stat(marker, &st), -1);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(out);

	/* The control: the same text in the (trusted) template does run. */
	n = snprintf(text, sizeof(text), "%%global x %%(touch %s)\n%s", marker,
	    dk_spec_dkim_keys_public);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	pub_pkg(&p);
	assert_int_equal(dk_rpm_build(text, &p, base, &out), 0);
	assert_int_equal(stat(marker, &st), 0);
	free(out);
}

static void
test_rpm__build_fails_clean(void **state)
{
	struct dk_rpm_pkg p;
	char dir[PATH_MAX], *out = (char *)"unset";

	assert_int_equal(dk_dir_make(join(dir, base, "fail"), 0755), 0);
	pub_pkg(&p);
	/* rpm refuses a spec without Summary; no file, no debris. */
	assert_int_equal(dk_rpm_build("Name: @NAME@\nVersion: @VERSION@\n"
	    "Release: 1\nLicense: x\n%description\nx\n%files\n@FILES@\n", &p,
	    dir, &out), -1);
	assert_null(out);
	assert_non_null(strstr(dk_error_last(), "Summary"));
	assert_int_equal(tmp_entries(), 0);
	/* Invalid input fails before anything is created. */
	p.version = "1%{x}";
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p, dir, NULL),
	    DK_EUSAGE);
	assert_int_equal(tmp_entries(), 0);
	/* An unwritable output directory. */
	pub_pkg(&p);
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p,
	    "/nonexistent/dir", NULL), -1);
	assert_non_null(strstr(dk_error_last(), "/nonexistent/dir"));
	assert_int_equal(tmp_entries(), 0);
}

static void
test_rpm__sign_key_check(void **state)
{
	static const char *bad[] = { "", "-x", "a\"b", "a'b", "a%{x}",
	    "a\\b", "a\nb", "a`id`", "a$(id)" };
	struct dk_gpg_signer s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dk_gpg_signer_open(&s, bad[i], NULL),
		    DK_EUSAGE);
		assert_int_equal(dk_gpg_export(bad[i], NULL, "/nonexistent"),
		    DK_EUSAGE);
	}
}

static int
exists(const char *dir, const char *file)
{
	char path[PATH_MAX];
	struct stat st;

	return stat(join(path, dir, file), &st) == 0;
}

static void
test_rpm__repo_keep(void **state)
{
	static const char *versions[] = { "8", "9", "10", "11" };
	char dir[PATH_MAX], md[PATH_MAX], *xml, *out;
	struct dk_rpm_pkg p;
	size_t i, len;

	assert_int_equal(dk_dir_make(join(dir, base, "repo"), 0755), 0);
	/* Empty: valid metadata all the same. */
	assert_int_equal(dk_repo_update(dir, 2, NULL), 0);
	assert_true(exists(dir, "repodata/repomd.xml"));
	for (i = 0; i < 4; i++) {
		pub_pkg(&p);
		p.version = versions[i];
		assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p,
		    dir, &out), 0);
		free(out);
	}
	p.name = "other";
	p.version = "1";
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p, dir, NULL),
	    0);
	assert_int_equal(dk_file_create(join(md, dir, DK_GPG_KEY_FILE), "k",
	    1, 0644), 0);
	assert_int_equal(dk_repo_update(dir, -1, NULL), DK_EUSAGE);
	assert_int_equal(dk_repo_update(dir, 2, NULL), 0);
	/* Numeric order: 10 and 11 are the newest, not 8 and 9. */
	assert_false(exists(dir, "dkim-keys-public-8-1.noarch.rpm"));
	assert_false(exists(dir, "dkim-keys-public-9-1.noarch.rpm"));
	assert_true(exists(dir, "dkim-keys-public-10-1.noarch.rpm"));
	assert_true(exists(dir, "dkim-keys-public-11-1.noarch.rpm"));
	assert_true(exists(dir, "other-1-1.noarch.rpm"));
	assert_true(exists(dir, "RPM-GPG-KEY-dkimrot"));
	assert_false(exists(dir, ".repodata.tmp"));
	join(md, dir, "repodata/repomd.xml");
	assert_int_equal(dk_file_read(md, DK_FILE_MAX, &xml, &len), 0);
	assert_non_null(strstr(xml, "<data type=\"primary\">"));
	assert_non_null(strstr(xml, "<data type=\"filelists\">"));
	assert_non_null(strstr(xml, "<data type=\"other\">"));
	assert_non_null(strstr(xml, "-primary.xml.gz\"/>"));
	free(xml);
	/* keep 0 keeps everything; a broken package fails, repodata stays. */
	assert_int_equal(dk_repo_update(dir, 0, NULL), 0);
	assert_true(exists(dir, "dkim-keys-public-10-1.noarch.rpm"));
	assert_int_equal(dk_file_create(join(md, dir, "broken-1-1.noarch.rpm"),
	    "not an rpm", 10, 0644), 0);
	assert_int_equal(dk_repo_update(dir, 1, NULL), -1);
	assert_non_null(strstr(dk_error_last(), "broken-1-1.noarch.rpm"));
	assert_true(exists(dir, "dkim-keys-public-10-1.noarch.rpm"));
	assert_true(exists(dir, "repodata/repomd.xml"));
	assert_false(exists(dir, ".repodata.tmp"));
}

/* dkim-keys-private VERSION requiring part-00 = P0 and part-01 = P1. */
static void
build_main(const char *dir, const char *version, const char *p0,
    const char *p1)
{
	struct dk_rpm_dep req[2] = {
		{ "dkim-keys-private-part-00", p0 },
		{ "dkim-keys-private-part-01", p1 },
	};
	struct dk_rpm_pkg p;

	pub_pkg(&p);
	p.name = DK_PKG_PRIVATE;
	p.version = version;
	p.requires = req;
	p.nrequires = p1 != NULL ? 2 : 1;
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_private, &p, dir,
	    NULL), 0);
}

static void
build_part(const char *dir, const char *name, const char *version)
{
	struct dk_rpm_pkg p;

	pub_pkg(&p);
	p.name = name;
	p.version = version;
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_private_part, &p, dir,
	    NULL), 0);
}

/*
 * The parts kept are the ones the kept builds of dkim-keys-private
 * require, at their exact versions: not the keep newest of each part.
 */
static void
test_rpm__repo_keep_parts(void **state)
{
	static const char *p00[] = { "1", "3", "5" }, *p01[] = { "1", "4" };
	static const struct { const char *nv; int kept; } after[] = {
		{ "3", 0 }, { "4", 0 }, { "5", 1 }, { "6", 1 },
		{ "part-00-1", 0 }, { "part-00-3", 0 }, { "part-00-5", 1 },
		{ "part-01-1", 0 }, { "part-01-4", 1 }, { "part-02-1", 0 },
	};
	char dir[PATH_MAX], only[PATH_MAX], file[128];
	size_t i;

	assert_int_equal(dk_dir_make(join(dir, base, "parts"), 0755), 0);
	for (i = 0; i < 3; i++)
		build_part(dir, "dkim-keys-private-part-00", p00[i]);
	for (i = 0; i < 2; i++)
		build_part(dir, "dkim-keys-private-part-01", p01[i]);
	/* Required by build 3 only: the parts became fewer. */
	build_part(dir, "dkim-keys-private-part-02", "1");
	build_main(dir, "3", "3", "1");
	build_main(dir, "4", "3", "4");
	build_main(dir, "5", "5", "4");
	build_main(dir, "6", "5", NULL);
	assert_int_equal(dk_repo_update(dir, 2, NULL), 0);
	/* 5 and 6 require part-00 5 and part-01 4, nothing else. */
	for (i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		snprintf(file, sizeof(file),
		    "dkim-keys-private-%s-1.noarch.rpm", after[i].nv);
		assert_int_equal(exists(dir, file), after[i].kept);
	}
	/* keep 0 still keeps everything. */
	build_part(dir, "dkim-keys-private-part-00", "1");
	assert_int_equal(dk_repo_update(dir, 0, NULL), 0);
	assert_true(exists(dir, "dkim-keys-private-part-00-1-1.noarch.rpm"));

	/* No dkim-keys-private to go by: each part keeps its keep newest. */
	assert_int_equal(dk_dir_make(join(only, base, "parts-only"), 0755), 0);
	for (i = 0; i < 3; i++)
		build_part(only, "dkim-keys-private-part-00", p00[i]);
	assert_int_equal(dk_repo_update(only, 2, NULL), 0);
	assert_false(exists(only, "dkim-keys-private-part-00-1-1.noarch.rpm"));
	assert_true(exists(only, "dkim-keys-private-part-00-3-1.noarch.rpm"));
	assert_true(exists(only, "dkim-keys-private-part-00-5-1.noarch.rpm"));
}

/* gpg's own rule for its home, and the path and fix in the message. */
static void
test_rpm__gpg_home_check(void **state)
{
	char home[PATH_MAX], file[PATH_MAX];

	join(home, base, "gnupg");
	assert_int_equal(dk_gpg_home_check(home), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "No such file or directory"));
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(dk_gpg_home_check(home), 0);
	assert_int_equal(chmod(home, 0750), 0);
	assert_int_equal(dk_gpg_home_check(home), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "mode 0750 lets group or "
	    "others in; run 'chmod 700' on it"));
	assert_int_equal(chmod(home, 0701), 0);
	assert_int_equal(dk_gpg_home_check(home), DK_EUSAGE);
	assert_int_equal(dk_file_create(join(file, base, "gnupg-file"), "x", 1,
	    0600), 0);
	assert_int_equal(dk_gpg_home_check(file), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "not a directory"));
}

static char *
slurp(const char *path, size_t *len)
{
	char *data;

	assert_int_equal(dk_file_read(path, DK_FILE_MAX, &data, len), 0);
	return data;
}

static int
same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	int same = la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

/*
 * Two keys made as init makes them; a package signed twice by one key
 * is the same bytes, a kept build follows a new key, and repomd.xml
 * gets its signature.
 */
static void
test_rpm__sign_resign(void **state)
{
	struct dk_gpg_signer a, b;
	struct dk_rpm_pkg p;
	char ha[PATH_MAX], hb[PATH_MAX], fpr[DK_GPG_FPR_LEN + 1];
	char dir[PATH_MAX], one[PATH_MAX], two[PATH_MAX], other[PATH_MAX];
	char asc[PATH_MAX], planted[PATH_MAX], vault[PATH_MAX];
	char stage[PATH_MAX], sum[65], *out, *text;
	struct dk_ledger l;
	size_t len;
	int changed;

	assert_int_equal(dk_gpg_generate(join(ha, base, "ga"),
	    "dkimrot a <a@example.test>", fpr, sizeof(fpr)), 0);
	assert_int_equal(strlen(fpr), DK_GPG_FPR_LEN);
	assert_int_equal(dk_gpg_generate(ha, "x <x@example.test>", fpr,
	    sizeof(fpr)), -1);	/* the home exists */
	assert_int_equal(dk_gpg_signer_open(&a, fpr, ha), 0);
	assert_int_equal(a.nids, 1);
	assert_true(dk_gpg_signer_has(&a, fpr + DK_GPG_FPR_LEN -
	    DK_GPG_KEYID_LEN));
	assert_false(dk_gpg_signer_has(&a, "0123456789ABCDEF"));
	assert_true(a.created > T0 - 86400);
	assert_int_equal(dk_gpg_generate(join(hb, base, "gb"),
	    "dkimrot b <b@example.test>", fpr, sizeof(fpr)), 0);
	assert_int_equal(dk_gpg_signer_open(&b, fpr, hb), 0);
	/* A's home does not hold B's key. */
	dk_gpg_signer_dispose(&a);
	assert_int_equal(dk_gpg_signer_open(&a, fpr, ha), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "gpg has no secret key"));
	assert_int_equal(dk_gpg_signer_open(&a, "dkimrot a <a@example.test>",
	    ha), 0);

	assert_int_equal(dk_dir_make(join(dir, base, "signed"), 0755), 0);
	pub_pkg(&p);
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p, dir,
	    &out), 0);
	assert_int_equal(snprintf(one, sizeof(one), "%s", out) <
	    (int)sizeof(one), 1);
	free(out);
	p.name = "other";
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p, dir,
	    &out), 0);
	assert_int_equal(snprintf(other, sizeof(other), "%s", out) <
	    (int)sizeof(other), 1);
	free(out);
	join(two, base, "copy.rpm");
	text = slurp(one, &len);
	assert_int_equal(dk_file_create(two, text, len, 0644), 0);
	free(text);

	assert_int_equal(dk_rpm_sign(one, &a, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(dk_rpm_sign(one, &a, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(dk_rpm_sign(two, &a, &changed), 0);
	assert_true(same_file(one, two));

	/*
	 * The key changed: the ledger's build is re-signed; "other" and a
	 * copy planted under a name of ours are not in the ledger, and
	 * are never signed.
	 */
	memset(&l, 0, sizeof(l));
	text = slurp(one, &len);
	assert_int_equal(dk_repo_sha256(text, len, sum), 0);
	assert_int_equal(dk_file_create(join(planted, dir,
	    "dkim-keys-public-8-1.noarch.rpm"), text, len, 0644), 0);
	free(text);
	assert_int_equal(dk_ledger_set(&l, dir, "dkim-keys-public", 7, COMMIT,
	    sum), 0);
	assert_int_equal(dk_dir_make(join(vault, base, ".git"), 0700), 0);
	assert_int_equal(dk_dir_make(join(stage, base, ".git/stage"), 0700),
	    0);
	text = slurp(other, &len);
	assert_int_equal(dk_sign_dir(dir, dir, &b, &l, base, stage, &changed),
	    0);
	assert_int_equal(changed, 1);
	assert_false(same_file(one, two));
	assert_true(same_file(planted, two));
	assert_int_equal(dk_rpm_sign(one, &b, &changed), 0);
	assert_int_equal(changed, 0);
	/* The ledger, in memory and saved, has the new bytes' checksum. */
	out = slurp(one, &len);
	assert_int_equal(dk_repo_sha256(out, len, sum), 0);
	free(out);
	assert_string_equal(l.b[0].sha256, sum);
	dk_ledger_dispose(&l);
	assert_int_equal(dk_ledger_load(&l, base), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.b[0].sha256, sum);
	assert_int_equal(dk_sign_dir(dir, dir, &b, &l, base, stage, &changed),
	    0);
	assert_int_equal(changed, 0);
	dk_ledger_dispose(&l);
	out = slurp(other, &len);
	assert_memory_equal(out, text, len);
	free(out);
	free(text);
	text = slurp(join(asc, dir, DK_GPG_KEY_FILE), &len);
	assert_non_null(strstr(text, "BEGIN PGP PUBLIC KEY BLOCK"));
	free(text);

	assert_int_equal(dk_repo_update(dir, 0, &b), 0);
	text = slurp(join(asc, dir, "repodata/repomd.xml.asc"), &len);
	assert_non_null(strstr(text, "-----BEGIN PGP SIGNATURE-----"));
	free(text);
	/* Unsigned again: no stale signature is left with new metadata. */
	assert_int_equal(dk_repo_update(dir, 0, NULL), 0);
	assert_false(exists(dir, "repodata/repomd.xml.asc"));
	dk_gpg_signer_dispose(&a);
	dk_gpg_signer_dispose(&b);
}

/* accept() of the filter test: only the file and bytes of arg. */
struct only {
	const char	*file;
	char		 sum[65];
	int		 calls;
	int		 pruned;
};

static int
only_build(const char *file, const char *sha256, void *arg)
{
	struct only *w = arg;

	w->calls++;
	return strcmp(file, w->file) == 0 && strcmp(sha256, w->sum) == 0;
}

static void
count_pruned(const char *file, void *arg)
{
	((struct only *)arg)->pruned++;
}

static void
test_rpm__repo_filter(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], cmd[2 * PATH_MAX], *xml, *gz;
	struct dk_repo_opts o;
	struct dk_rpm_pkg p;
	struct only w;
	struct stat st;
	size_t len;
	FILE *f;

	memset(&w, 0, sizeof(w));
	assert_int_equal(dk_dir_make(join(dir, base, "filtered"), 0750), 0);
	pub_pkg(&p);
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p, dir,
	    NULL), 0);
	/* A planted one: the right name, a commit that is not ours. */
	p.version = "99";
	p.vcs = "fedcba9876543210fedcba9876543210fedcba98";
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p, dir,
	    NULL), 0);
	/* Ours, but the wrong package for this repository. */
	pub_pkg(&p);
	p.name = "dkim-keys-private";
	assert_int_equal(dk_rpm_build(dk_spec_dkim_keys_public, &p, dir,
	    NULL), 0);
	assert_int_equal(dk_file_create(join(path, dir, "junk-1-1.noarch.rpm"),
	    "not an rpm", 10, 0644), 0);
	memset(&o, 0, sizeof(o));
	o.keep_builds = 1;
	o.mode = 0640;
	o.name = "dkim-keys-public";
	w.file = "dkim-keys-public-7-1.noarch.rpm";
	xml = slurp(join(path, dir, w.file), &len);
	assert_int_equal(dk_repo_sha256(xml, len, w.sum), 0);
	free(xml);
	o.accept = only_build;
	o.pruned = count_pruned;
	o.arg = &w;
	assert_int_equal(dk_repo_update_opts(dir, &o), 0);
	/*
	 * junk has no header to read, the private one is misplaced:
	 * accept() is asked about 7 and 99 only, and nothing is pruned.
	 */
	assert_int_equal(w.calls, 2);
	assert_int_equal(w.pruned, 0);
	/* Left out, not deleted, not pruned by keep_builds 1. */
	assert_true(exists(dir, "dkim-keys-public-99-1.noarch.rpm"));
	assert_true(exists(dir, "dkim-keys-public-7-1.noarch.rpm"));
	assert_true(exists(dir, "dkim-keys-private-7-1.noarch.rpm"));
	assert_true(exists(dir, "junk-1-1.noarch.rpm"));
	assert_int_equal(stat(join(path, dir, "repodata"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(stat(join(path, dir, "repodata/repomd.xml"), &st),
	    0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* The primary lists the one package of ours. */
	assert_int_equal(dk_file_read(join(path, dir, "repodata/repomd.xml"),
	    DK_FILE_MAX, &xml, &len), 0);
	assert_non_null(gz = strstr(xml, "repodata/"));
	*strchr(gz, '"') = '\0';
	snprintf(cmd, sizeof(cmd), "zcat '%s/%s'", dir, gz);
	free(xml);
	assert_non_null(f = popen(cmd, "r"));
	xml = calloc(1, 65536);
	assert_non_null(xml);
	len = fread(xml, 1, 65535, f);
	pclose(f);
	assert_non_null(strstr(xml, "packages=\"1\""));
	assert_non_null(strstr(xml, "<name>dkim-keys-public</name>"));
	assert_null(strstr(xml, "ver=\"99\""));
	assert_null(strstr(xml, "<name>dkim-keys-private</name>"));
	free(xml);
}

static void
test_rpm__output_dirs(void **state)
{
	struct dk_config c;
	struct dk_output o;

	dk_config_defaults(&c);
	assert_int_equal(dk_output_dirs("/k", NULL, &c, &o), 0);
	assert_string_equal(o.top, "/k/rpms");
	assert_string_equal(o.priv, "/k/rpms/private");
	assert_string_equal(o.pub, "/k/rpms/public");
	assert_string_equal(dk_output_pkg_dir(&o, DK_PKG_PRIVATE), o.priv);
	assert_string_equal(dk_output_pkg_dir(&o, DK_PKG_PUBLIC), o.pub);
	/* --output: below it whatever the configuration says. */
	c.packaging.private_output = "/srv/mail";
	assert_int_equal(dk_output_dirs("/k", "out", &c, &o), 0);
	assert_string_equal(o.priv, "out/private");
	assert_string_equal(o.pub, "out/public");
	assert_int_equal(dk_output_dirs("/k", NULL, &c, &o), 0);
	assert_string_equal(o.priv, "/srv/mail");
	assert_string_equal(o.pub, "/k/rpms/public");
	c.packaging.public_output = "/srv/mail/";
	assert_int_equal(dk_output_dirs("/k", NULL, &c, &o), DK_EUSAGE);
	c.packaging.public_output = "/srv/mail/dns";
	assert_int_equal(dk_output_dirs("/k", NULL, &c, &o), DK_EUSAGE);
	c.packaging.public_output = "/srv/mail-dns";
	assert_int_equal(dk_output_dirs("/k", NULL, &c, &o), 0);
	c.packaging.private_output = "rpms/public/x";
	c.packaging.public_output = "";
	assert_int_equal(dk_output_dirs("/k", NULL, &c, &o), DK_EUSAGE);

	assert_int_equal(dk_output_rpm_version("dkim-keys-public-12-1.noarch."
	    "rpm", DK_PKG_PUBLIC), 12);
	assert_int_equal(dk_output_rpm_version("dkim-keys-public-012-1.noarch."
	    "rpm", DK_PKG_PUBLIC), 0);
	assert_int_equal(dk_output_rpm_version("dkim-keys-public-12-2.noarch."
	    "rpm", DK_PKG_PUBLIC), 0);
	assert_int_equal(dk_output_rpm_version("dkim-keys-public-12-1.noarch."
	    "rpm", DK_PKG_PRIVATE), 0);
	assert_int_equal(dk_output_rpm_version("dkim-keys-public-x-1.noarch."
	    "rpm", DK_PKG_PUBLIC), 0);
	assert_int_equal(dk_output_rpm_version("dkim-keys-public-"
	    "99999999999999999999999-1.noarch.rpm", DK_PKG_PUBLIC), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpm__render),
		cmocka_unit_test(test_rpm__escape),
		cmocka_unit_test(test_rpm__reject),
		cmocka_unit_test(test_rpm__reject_files),
		cmocka_unit_test(test_rpm__placeholders),
		cmocka_unit_test(test_rpm__build_deterministic),
		cmocka_unit_test(test_rpm__build_no_injection),
		cmocka_unit_test(test_rpm__build_fails_clean),
		cmocka_unit_test(test_rpm__sign_key_check),
		cmocka_unit_test(test_rpm__repo_keep),
		cmocka_unit_test(test_rpm__repo_keep_parts),
		cmocka_unit_test(test_rpm__gpg_home_check),
		cmocka_unit_test(test_rpm__sign_resign),
		cmocka_unit_test(test_rpm__repo_filter),
		cmocka_unit_test(test_rpm__output_dirs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
