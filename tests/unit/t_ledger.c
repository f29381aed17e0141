/*
 * Unit tests: the build ledger (packaging/ledger.h): its text read
 * strictly, written back the same, saved 0600 in the vault, and a file
 * checked against it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "packaging/ledger.h"
#include "packaging/repo.h"
#include "rotator/output.h"

#define C1	"0123456789abcdef0123456789abcdef01234567"
#define C2	"fedcba9876543210fedcba9876543210fedcba98"
/* SHA-256 of "" and of "hello" */
#define S1	"e3b0c44298fc1c149afbf4c8996fb924" \
		"27ae41e4649b934ca495991b7852b855"
#define S2	"2cf24dba5fb0a30e26e83b2ac5b9e29e" \
		"1b161e5c1fa7425e73043362938b9824"

#define GOOD \
	"dkimrot-builds 1\n" \
	"private /srv/rpms/private dkim-keys-private-3-1.noarch.rpm " \
	"dkim-keys-private 3 " C1 " " S1 "\n" \
	"public /srv/my%20rpms/public dkim-keys-public-12-1.noarch.rpm " \
	"dkim-keys-public 12 " C2 " " S2 "\n" \
	"private-deb /srv/rpms/private/apt dkim-keys-private_3_all.deb " \
	"dkim-keys-private 3 " C1 " " S2 "\n" \
	"public-deb /srv/rpms/public/apt dkim-keys-public_12_all.deb " \
	"dkim-keys-public 12 " C2 " " S1 "\n" \
	"private /srv/rpms/private dkim-keys-private-part-07-2-1.noarch.rpm " \
	"dkim-keys-private-part-07 2 " C2 " " S2 "\n"

static char base[PATH_MAX];

static int
setup(void **state)
{
	char tmpl[] = "/tmp/t_ledger.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(base, sizeof(base), "%s", tmpl);
	return 0;
}

static int
teardown(void **state)
{
	dk_dir_remove(base);
	return 0;
}

static void
test_ledger__parse(void **state)
{
	struct dk_ledger l;
	const struct dk_build *b;
	char *text;
	size_t len;

	memset(&l, 0, sizeof(l));
	assert_int_equal(dk_ledger_parse(&l, GOOD, strlen(GOOD), "L"), 0);
	assert_int_equal(l.n, 5);
	/* A part of dkim-keys-private (packaging/parts.h): kind private. */
	assert_non_null(b = dk_ledger_find(&l, "/srv/rpms/private",
	    "dkim-keys-private-part-07-2-1.noarch.rpm"));
	assert_string_equal(b->name, "dkim-keys-private-part-07");
	assert_ptr_equal(b->name, dk_pkg_part_name(7));
	assert_int_equal(b->format, DK_BUILD_RPM);
	assert_int_equal(b->version, 2);
	assert_non_null(b = dk_ledger_find(&l, "/srv/rpms/private",
	    "dkim-keys-private-3-1.noarch.rpm"));
	assert_string_equal(b->name, DK_PKG_PRIVATE);
	assert_int_equal(b->format, DK_BUILD_RPM);
	assert_int_equal(b->version, 3);
	assert_string_equal(b->commit, C1);
	assert_string_equal(b->sha256, S1);
	/* %20 is a space of the directory. */
	assert_non_null(b = dk_ledger_find(&l, "/srv/my rpms/public",
	    "dkim-keys-public-12-1.noarch.rpm"));
	assert_int_equal(b->version, 12);
	assert_null(dk_ledger_find(&l, "/srv/rpms/public",
	    "dkim-keys-public-12-1.noarch.rpm"));
	/* The .deb lines: their own kind, file and directory. */
	assert_non_null(b = dk_ledger_find(&l, "/srv/rpms/private/apt",
	    "dkim-keys-private_3_all.deb"));
	assert_string_equal(b->name, DK_PKG_PRIVATE);
	assert_int_equal(b->format, DK_BUILD_DEB);
	assert_int_equal(b->version, 3);
	assert_string_equal(b->sha256, S2);
	assert_non_null(b = dk_ledger_find(&l, "/srv/rpms/public/apt",
	    "dkim-keys-public_12_all.deb"));
	assert_string_equal(b->name, DK_PKG_PUBLIC);
	assert_int_equal(b->format, DK_BUILD_DEB);
	/* Written back, it is the same text. */
	assert_int_equal(dk_ledger_format(&l, &text, &len), 0);
	assert_int_equal(len, strlen(GOOD));
	assert_string_equal(text, GOOD);
	free(text);
	dk_ledger_dispose(&l);
	/* Only the header: an empty ledger. */
	assert_int_equal(dk_ledger_parse(&l, "dkimrot-builds 1\n", 17, "L"),
	    0);
	assert_int_equal(l.n, 0);
	dk_ledger_dispose(&l);
}

static void
test_ledger__parse_damaged(void **state)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "", "L:1': the last line does not end in a newline" },
		{ "dkimrot-builds 2\n", "L:1': not a dkimrot build ledger "
		    "(no 'dkimrot-builds 1' line)" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 "\n",
		    "L:2': fewer than 7 fields" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 " x\n",
		    "L:2': more than 7 fields" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 "  " S1 "\n",
		    "L:2': more than 7 fields" },
		{ "dkimrot-builds 1\nsecret /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the kind is not 'private', 'public', 'private-deb' "
		    "or 'public-deb'" },
		{ "dkimrot-builds 1\nprivate-deb /a dkim-keys-private-3-1."
		    "noarch.rpm dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the file is not NAME_VERSION_all.deb" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private_3_all.deb "
		    "dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the file is not NAME-VERSION-1.noarch.rpm" },
		{ "dkimrot-builds 1\npublic-deb /a dkim-keys-public_4_all.deb "
		    "dkim-keys-public 3 " C1 " " S1 "\n",
		    "L:2': the file is not NAME_VERSION_all.deb" },
		{ "dkimrot-builds 1\npublic-deb /a dkim-keys-private_3_all.deb "
		    "dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the name does not match the kind" },
		{ "dkimrot-builds 1\npublic /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the name does not match the kind" },
		/* Parts are RPMs of the private repository, 00 to 63. */
		{ "dkimrot-builds 1\npublic /a dkim-keys-private-part-01-3-1."
		    "noarch.rpm dkim-keys-private-part-01 3 " C1 " " S1 "\n",
		    "L:2': the name does not match the kind" },
		{ "dkimrot-builds 1\nprivate-deb /a dkim-keys-private-part-01_"
		    "3_all.deb dkim-keys-private-part-01 3 " C1 " " S1 "\n",
		    "L:2': the name does not match the kind" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-part-64-3-1."
		    "noarch.rpm dkim-keys-private-part-64 3 " C1 " " S1 "\n",
		    "L:2': the name does not match the kind" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-part-1-3-1."
		    "noarch.rpm dkim-keys-private-part-1 3 " C1 " " S1 "\n",
		    "L:2': the name does not match the kind" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 03 " C1 " " S1 "\n",
		    "L:2': the version is not a decimal number" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-4-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the file is not NAME-VERSION-1.noarch.rpm" },
		{ "dkimrot-builds 1\nprivate a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the directory is not an absolute path" },
		{ "dkimrot-builds 1\nprivate /a%2 dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 "\n",
		    "L:2': the directory is not an absolute path" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 0123456789ABCDEF0123456789abcdef"
		    "01234567 " S1 "\n",
		    "L:2': the commit is not 40 lower-case hex digits" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 "0\n",
		    "L:2': the SHA-256 is not 64 lower-case hex digits" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1 "\n"
		    "private /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C2 " " S2 "\n",
		    "L:3': a second line for this file" },
		{ "dkimrot-builds 1\n\n", "L:2': fewer than 7 fields" },
		{ "dkimrot-builds 1\nprivate /a dkim-keys-private-3-1.noarch"
		    ".rpm dkim-keys-private 3 " C1 " " S1,
		    "L:2': the last line does not end in a newline" },
	};
	struct dk_ledger l;
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&l, 0, sizeof(l));
		assert_int_equal(dk_ledger_parse(&l, bad[i].text,
		    strlen(bad[i].text), "L"), -1);
		snprintf(want, sizeof(want), "invalid build ledger '%s",
		    bad[i].msg);
		assert_string_equal(dk_error_last(), want);
		assert_int_equal(l.n, 0);
	}
	/* A NUL byte: its line is named. */
	assert_int_equal(dk_ledger_parse(&l, "dkimrot-builds 1\nx\0y\n", 21,
	    "L"), -1);
	assert_string_equal(dk_error_last(),
	    "invalid build ledger 'L:2': a NUL byte");
}

static void
test_ledger__set_remove(void **state)
{
	struct dk_ledger l;
	const struct dk_build *b;

	memset(&l, 0, sizeof(l));
	assert_int_equal(dk_ledger_set(&l, "/d", DK_PKG_PUBLIC, 5, C1, S1), 0);
	assert_int_equal(dk_ledger_set(&l, "/d", DK_PKG_PRIVATE, 5, C1, S1),
	    0);
	/* The same file again: its line is replaced, not doubled. */
	assert_int_equal(dk_ledger_set(&l, "/d", DK_PKG_PUBLIC, 5, C2, S2), 0);
	assert_int_equal(l.n, 2);
	assert_non_null(b = dk_ledger_find(&l, "/d",
	    "dkim-keys-public-5-1.noarch.rpm"));
	assert_string_equal(b->commit, C2);
	assert_string_equal(b->sha256, S2);
	assert_int_equal(dk_ledger_set(&l, "d", DK_PKG_PUBLIC, 5, C1, S1),
	    DK_EUSAGE);
	assert_int_equal(dk_ledger_set(&l, "/d", "other", 5, C1, S1),
	    DK_EUSAGE);
	assert_int_equal(dk_ledger_set(&l, "/d", DK_PKG_PUBLIC, 5, "abc", S1),
	    DK_EUSAGE);
	assert_int_equal(dk_ledger_set(&l, "/d", DK_PKG_PUBLIC, 0, C1, S1),
	    DK_EUSAGE);
	assert_int_equal(dk_ledger_remove(&l, "/d",
	    "dkim-keys-public-5-1.noarch.rpm"), 1);
	assert_int_equal(dk_ledger_remove(&l, "/d",
	    "dkim-keys-public-5-1.noarch.rpm"), 0);
	assert_int_equal(l.n, 1);
	assert_non_null(dk_ledger_find(&l, "/d",
	    "dkim-keys-private-5-1.noarch.rpm"));
	/* A .deb of the same version is a line of its own. */
	assert_int_equal(dk_ledger_set_deb(&l, "/d", DK_PKG_PRIVATE, 5, C1,
	    S1), 0);
	assert_int_equal(l.n, 2);
	assert_non_null(b = dk_ledger_find(&l, "/d",
	    "dkim-keys-private_5_all.deb"));
	assert_int_equal(b->format, DK_BUILD_DEB);
	assert_int_equal(dk_ledger_set_deb(&l, "/d", DK_PKG_PRIVATE, 0, C1,
	    S1), DK_EUSAGE);
	assert_int_equal(dk_ledger_remove(&l, "/d",
	    "dkim-keys-private_5_all.deb"), 1);
	dk_ledger_dispose(&l);
	dk_ledger_dispose(NULL);
}

static void
test_ledger__save_load(void **state)
{
	char git[PATH_MAX], path[PATH_MAX], dir[PATH_MAX];
	char want[PATH_MAX + 64];
	struct dk_ledger l, m;
	struct stat st;
	char *text;
	size_t len;

	memset(&l, 0, sizeof(l));
	assert_int_equal(dk_path_join(git, sizeof(git), base, ".git"), 0);
	assert_int_equal(dk_dir_make(git, 0700), 0);
	assert_int_equal(dk_ledger_load(&m, base), DK_ENOTFOUND);
	assert_true(snprintf(dir, sizeof(dir), "%s/odd dir%%\t", base) <
	    (int)sizeof(dir));
	assert_int_equal(dk_ledger_set(&l, dir, DK_PKG_PRIVATE, 9, C1, S1), 0);
	assert_int_equal(dk_ledger_save(&l, base), 0);
	assert_int_equal(dk_path_join(path, sizeof(path), base,
	    DK_LEDGER_FILE), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dk_file_read(path, DK_FILE_MAX, &text, &len), 0);
	assert_non_null(strstr(text, "/odd%20dir%25%09 "));
	free(text);
	assert_int_equal(dk_ledger_load(&m, base), 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.b[0].dir, dir);
	dk_ledger_dispose(&m);
	/* A damaged one names the file and the line. */
	assert_int_equal(dk_file_replace(path, "dkimrot-builds 1\nx\n", 19,
	    0600), 0);
	assert_int_equal(dk_ledger_load(&m, base), -1);
	assert_true(snprintf(want, sizeof(want), "invalid build ledger "
	    "'%s:2': fewer than 7 fields", path) < (int)sizeof(want));
	assert_string_equal(dk_error_last(), want);
	dk_ledger_dispose(&l);
}

static void
test_ledger__verify(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], link[PATH_MAX], sum[65];
	const char *why;
	struct dk_ledger l;
	char *buf;
	size_t len;

	memset(&l, 0, sizeof(l));
	assert_int_equal(dk_path_join(dir, sizeof(dir), base, "repo"), 0);
	assert_int_equal(dk_dir_make(dir, 0755), 0);
	assert_int_equal(dk_path_join(path, sizeof(path), dir,
	    "dkim-keys-public-2-1.noarch.rpm"), 0);
	assert_int_equal(dk_file_create(path, "hello", 5, 0644), 0);
	assert_int_equal(dk_repo_sha256("hello", 5, sum), 0);
	assert_string_equal(sum, S2);
	assert_int_equal(dk_ledger_verify(dk_ledger_find(&l, dir,
	    "dkim-keys-public-2-1.noarch.rpm"), dir, &why, NULL, NULL),
	    DK_BUILD_UNKNOWN);
	assert_non_null(strstr(why, "not in the build ledger"));
	assert_int_equal(dk_ledger_set(&l, dir, DK_PKG_PUBLIC, 2, C1, sum), 0);
	assert_int_equal(dk_ledger_verify(dk_ledger_find(&l, dir,
	    "dkim-keys-public-2-1.noarch.rpm"), dir, &why, &buf, &len),
	    DK_BUILD_OURS);
	assert_null(why);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	free(buf);
	/* Other bytes under the same name. */
	assert_int_equal(dk_file_replace(path, "hellO", 5, 0644), 0);
	assert_int_equal(dk_ledger_verify(dk_ledger_find(&l, dir,
	    "dkim-keys-public-2-1.noarch.rpm"), dir, &why, NULL, NULL),
	    DK_BUILD_CHANGED);
	assert_non_null(strstr(why, "changed since dkimrot built it"));
	/* A link to our bytes is not our file. */
	assert_int_equal(dk_file_replace(path, "hello", 5, 0644), 0);
	assert_int_equal(dk_ledger_set(&l, dir, DK_PKG_PUBLIC, 3, C1, sum), 0);
	assert_int_equal(dk_path_join(link, sizeof(link), dir,
	    "dkim-keys-public-3-1.noarch.rpm"), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(dk_ledger_verify(dk_ledger_find(&l, dir,
	    "dkim-keys-public-3-1.noarch.rpm"), dir, &why, NULL, NULL), -1);
	/* Gone. */
	assert_int_equal(unlink(path), 0);
	assert_true(dk_ledger_verify(dk_ledger_find(&l, dir,
	    "dkim-keys-public-2-1.noarch.rpm"), dir, &why, NULL, NULL) < 0);
	dk_ledger_dispose(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger__parse),
		cmocka_unit_test(test_ledger__parse_damaged),
		cmocka_unit_test(test_ledger__set_remove),
		cmocka_unit_test(test_ledger__save_load),
		cmocka_unit_test(test_ledger__verify),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
