/*
 * Unit tests: .deb packages built with libarchive (packaging/deb.c) and
 * the apt index (packaging/apt.c): determinism, the control file, the
 * checks shared with the RPM build, pruning and foreign files, and the
 * digest Release carries.  tests/e2e/apt.sh installs them with the real
 * apt-get and dpkg.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "packaging/apt.h"
#include "packaging/deb.h"
#include "packaging/rpm.h"

#define COMMIT	"0123456789abcdef0123456789abcdef01234567"
#define OTHER	"fedcba9876543210fedcba9876543210fedcba98"
#define T0	1795353300	/* 2026-11-22T13:15:00Z */

static char base[PATH_MAX];

static const struct dk_rpm_file files[] = {
	{ "/etc/dkim-keys", NULL, 0, 0755, NULL, NULL, DK_RPM_DIR, NULL },
	{ "/etc/dkim-keys/keys", NULL, 0, 0700, "opendkim", "opendkim",
	    DK_RPM_DIR, NULL },
	{ "/etc/dkim-keys/keys/example.com/1.private", "not a key\n", 10,
	    0600, "opendkim", "opendkim", 0, NULL },
	{ "/etc/dkim-keys/KeyTable", "kt\n", 3, 0644, NULL, NULL,
	    DK_RPM_CONFIG, NULL },
};

static void
pkg_init(struct dk_rpm_pkg *p, const char *version, const char *vcs)
{
	memset(p, 0, sizeof(*p));
	p->name = "dkim-keys-private";
	p->version = version;
	p->vcs = vcs;
	p->time = T0;
	p->post = "echo it's reloaded";
	p->description = "Domains (1): example.com";
	p->rpm_mode = 0640;
	p->files = files;
	p->nfiles = sizeof(files) / sizeof(files[0]);
}

static char *
join(char *buf, const char *a, const char *b)
{
	assert_int_equal(dk_path_join(buf, PATH_MAX, a, b), 0);
	return buf;
}

static char *
slurp(const char *path, size_t *len)
{
	char *data = NULL;

	assert_int_equal(dk_file_read(path, 1u << 30, &data, len), 0);
	return data;
}

static void
test_deb__deterministic(void **state)
{
	struct dk_rpm_pkg p;
	char a[PATH_MAX], b[PATH_MAX], *pa, *pb, *x, *y, *ctl;
	struct stat st;
	size_t la, lb;

	pkg_init(&p, "7", COMMIT);
	join(a, base, "a");
	join(b, base, "b");
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_int_equal(dk_deb_build(&p, "keys", a, &pa), 0);
	sleep(1);	/* a clock that leaked in would show */
	assert_int_equal(dk_deb_build(&p, "keys", b, &pb), 0);
	x = slurp(pa, &la);
	y = slurp(pb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(x, y, la);
	assert_int_equal(stat(pa, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_non_null(strstr(pa, "/dkim-keys-private_7_all.deb"));
	assert_int_equal(dk_deb_control(pa, &ctl), 0);
	assert_non_null(strstr(ctl, "Package: dkim-keys-private\n"
	    "Version: 7\nArchitecture: all\n"));
	assert_non_null(strstr(ctl, "\n" DK_DEB_COMMIT_FIELD ": " COMMIT
	    "\n"));
	assert_non_null(strstr(ctl, "\nDescription: keys\n Domains (1): "
	    "example.com\n .\n"));
	free(ctl);
	free(x);
	free(y);
	free(pa);
	free(pb);
}

static void
test_deb__reject(void **state)
{
	struct dk_rpm_pkg p;
	char dir[PATH_MAX], path[PATH_MAX];

	join(dir, base, "r");
	assert_int_equal(mkdir(dir, 0700), 0);
	pkg_init(&p, "7", COMMIT);
	p.name = "a b";
	assert_int_equal(dk_deb_build(&p, "keys", dir, NULL), DK_EUSAGE);
	pkg_init(&p, "7/../../x", COMMIT);
	assert_int_equal(dk_deb_build(&p, "keys", dir, NULL), DK_EUSAGE);
	pkg_init(&p, "7", COMMIT);
	p.post = "a\nb";
	assert_int_equal(dk_deb_build(&p, "keys", dir, NULL), DK_EUSAGE);
	pkg_init(&p, "7", COMMIT);
	assert_int_equal(dk_deb_build(&p, "two\nlines", dir, NULL),
	    DK_EUSAGE);
	assert_int_not_equal(access(join(path, dir,
	    "dkim-keys-private_7_all.deb"), F_OK), 0);
	/* Not a .deb: no control. */
	join(path, dir, "x.deb");
	assert_int_equal(dk_file_create(path, "!<arch>\n", 8, 0600), 0);
	assert_int_equal(dk_deb_control(path, (char **)state), -1);
}

/* What dk_apt_update() asked and told: the build ledger's part. */
struct asked {
	char	sha3[72];	/* the SHA-256 given for version 3 */
	int	pruned;
};

/* Version 9 is another repository's build: not in the ledger. */
static int
accept(const char *file, const char *sha256, void *arg)
{
	struct asked *a = arg;

	if (strcmp(file, "dkim-keys-private_3_all.deb") == 0)
		snprintf(a->sha3, sizeof(a->sha3), "%s", sha256);
	return strcmp(file, "dkim-keys-private_9_all.deb") != 0;
}

static void
pruned(const char *file, void *arg)
{
	struct asked *a = arg;

	assert_string_equal(file, "dkim-keys-private_1_all.deb");
	a->pruned++;
}

static void
test_deb__apt_index(void **state)
{
	struct dk_rpm_pkg p;
	struct dk_apt_opts o;
	struct asked a;
	char dir[PATH_MAX], path[PATH_MAX], hex[72], want[256];
	char *pk, *rel, *deb;
	size_t lp, lr, ld;
	const char *v[] = { "1", "2", "3" };
	size_t i;

	join(dir, base, "apt");
	assert_int_equal(mkdir(dir, 0700), 0);
	for (i = 0; i < 3; i++) {
		pkg_init(&p, v[i], COMMIT);
		assert_int_equal(dk_deb_build(&p, "keys", dir, NULL), 0);
	}
	/* Another repository's build: neither indexed nor removed. */
	pkg_init(&p, "9", OTHER);
	assert_int_equal(dk_deb_build(&p, "keys", dir, NULL), 0);
	memset(&o, 0, sizeof(o));
	o.name = "dkim-keys-private";
	o.keep_builds = 2;
	memset(&a, 0, sizeof(a));
	o.accept = accept;
	o.pruned = pruned;
	o.arg = &a;
	o.mode = 0640;
	o.time = T0;
	assert_int_equal(dk_apt_update(dir, &o), 0);
	assert_int_equal(a.pruned, 1);
	/* accept() judged the very bytes Packages names. */
	deb = slurp(join(path, dir, "dkim-keys-private_3_all.deb"), &ld);
	assert_int_equal(dk_rpm_sha256(deb, ld, hex, sizeof(hex)), 0);
	assert_string_equal(a.sha3, hex);
	snprintf(want, sizeof(want), "\nSHA256: %s\n", hex);
	free(deb);
	assert_int_not_equal(access(join(path, dir,
	    "dkim-keys-private_1_all.deb"), F_OK), 0);
	assert_int_equal(access(join(path, dir,
	    "dkim-keys-private_2_all.deb"), F_OK), 0);
	assert_int_equal(access(join(path, dir,
	    "dkim-keys-private_9_all.deb"), F_OK), 0);
	pk = slurp(join(path, dir, "Packages"), &lp);
	assert_null(strstr(pk, "Version: 1\n"));
	assert_null(strstr(pk, "Version: 9\n"));
	assert_non_null(strstr(pk, "Version: 2\n"));
	assert_non_null(strstr(pk, "\nFilename: ./dkim-keys-private_3_all.deb"
	    "\nSize: "));
	assert_true(strstr(pk, "Version: 2\n") < strstr(pk, "Version: 3\n"));
	assert_non_null(strstr(pk, want));
	rel = slurp(join(path, dir, "Release"), &lr);
	assert_int_equal(dk_rpm_sha256(pk, lp, hex, sizeof(hex)), 0);
	snprintf(want, sizeof(want), "Date: Sun, 22 Nov 2026 13:15:00 UTC\n"
	    "SHA256:\n %s %zu Packages\n", hex, lp);
	assert_non_null(strstr(rel, want));
	/* Unsigned: no InRelease (an old one would vouch for another). */
	assert_int_not_equal(access(join(path, dir, "InRelease"), F_OK), 0);
	free(pk);
	free(rel);
}

static void
test_deb__sha256(void **state)
{
	char hex[72];

	/* FIPS 180-2, appendix B.1 */
	assert_int_equal(dk_rpm_sha256("abc", 3, hex, sizeof(hex)), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(dk_rpm_sha256("abc", 3, hex, 64), -1);
}

static int
rmentry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static int
setup(void **state)
{
	strcpy(base, "/tmp/t_deb.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	dk_log_set_level(DK_LOG_QUIET);
	return 0;
}

static int
teardown(void **state)
{
	nftw(base, rmentry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deb__deterministic),
		cmocka_unit_test(test_deb__reject),
		cmocka_unit_test(test_deb__apt_index),
		cmocka_unit_test(test_deb__sha256),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
