/*
 * Unit tests: the one-rule magic database for librpmbuild's file
 * classification (packaging/magic.h).  With it, libmagic must say of
 * every kind of file dkimrot packages what the system's database says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <magic.h>

#include "common/file.h"
#include "packaging/magic.h"

/* What dkimrot packages: a PKCS#8 key, a zone fragment, a table. */
static const struct { const char *name, *text; } files[] = {
	{ "k.private", "-----BEGIN PRIVATE KEY-----\n"
	    "MC4CAQAwBQYDK2VwBCIEIHrc0Jx2bNfOgJ6ea1u1M2pBLTc1AnL9dVJsHvC0Ke2q\n"
	    "-----END PRIVATE KEY-----\n" },
	{ "d.zone", "; DKIM keys of example.com\n"
	    "20261122131500._domainkey.example.com.\t3600\tIN\tTXT\t"
	    "( \"v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\" )\n" },
	{ "KeyTable", "# OpenDKIM KeyTable\n20261122131500._domainkey."
	    "example.com example.com:20261122131500:/etc/dkim-keys/keys/"
	    "example.com/20261122131500.private\n" },
};

static const char *
classify(magic_t ms, const char *path, char *buf, size_t size)
{
	const char *t = magic_file(ms, path);

	assert_non_null(t);
	snprintf(buf, size, "%s", t);
	return buf;
}

static void
test_magic__same_as_system(void **state)
{
	char dir[] = "/tmp/dk_t_magic.XXXXXX", db[PATH_MAX], path[PATH_MAX];
	char a[256], b[256];
	magic_t mine, sys;
	size_t i;
	int flags = MAGIC_CHECK | MAGIC_COMPRESS | MAGIC_NO_CHECK_TOKENS;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(dk_magic_none(dir, db, sizeof(db)), 0);
	assert_int_equal(access(db, R_OK), 0);
	assert_non_null(mine = magic_open(flags));
	assert_non_null(sys = magic_open(flags));
	assert_int_equal(magic_load(mine, db), 0);
	assert_int_equal(magic_load(sys, NULL), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		assert_int_equal(dk_file_create(path, files[i].text,
		    strlen(files[i].text), 0600), 0);
		assert_string_equal(classify(mine, path, a, sizeof(a)),
		    classify(sys, path, b, sizeof(b)));
		assert_string_equal(a, "ASCII text");
		unlink(path);
	}
	magic_close(mine);
	magic_close(sys);
	unlink(db);
	snprintf(path, sizeof(path), "%s/none", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_magic__no_directory(void **state)
{
	char db[PATH_MAX];

	assert_int_equal(dk_magic_none("/nonexistent/dk_t_magic", db,
	    sizeof(db)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magic__same_as_system),
		cmocka_unit_test(test_magic__no_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
