/*
 * Unit tests: time, durations, names, buffers, JSON strings, files, the
 * YAML tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/file.h"
#include "common/json.h"
#include "common/lock.h"
#include "common/name.h"
#include "common/tree.h"
#include "common/yaml.h"

static void
test_common__time_parse(void **state)
{
	static const struct { const char *in; long long want; } ok[] = {
		{ "2026-11-22T13:15:00Z", 1795353300 },
		{ "2026-11-22t13:15:00z", 1795353300 },
		{ "2026-11-22T14:15:00+01:00", 1795353300 },
		{ "2026-11-22T13:15:00.999Z", 1795353300 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2028-02-29T00:00:00Z", 1835395200 },
		{ "@1795353300", 1795353300 },
	};
	static const char *bad[] = {
		"", "2026-11-22", "2026-11-22T13:15:00", "2026-13-01T00:00:00Z",
		"2026-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "@", "@12x",
		"2026-11-22T13:15:00+1:00", "yesterday", "@-5",
	};
	time_t t;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(dk_time_parse(ok[i].in, &t), 0);
		assert_int_equal((long long)t, ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dk_time_parse(bad[i], &t), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "@-5"));
}

/* What gmtime and strftime make of t, or over, past the year 9999. */
static const char *
strftime_of(time_t t, const char *fmt, const char *over, char *buf,
    size_t size)
{
	struct tm tm;

	if (t > 253402300799)
		return over;
	assert_non_null(gmtime_r(&t, &tm));
	assert_int_not_equal(strftime(buf, size, fmt, &tm), 0);
	return buf;
}

static void
test_common__time_format(void **state)
{
	static const time_t edge[] = { 0, 59, 86399, 951782400, 951868799,
	    4107542400, 4107628800, 253402300799, 253402300800, -1 };
	char buf[DK_TIME_LEN], sel[DK_SELECTOR_TIME_LEN], want[32];
	time_t t;
	size_t i, nedge = sizeof(edge) / sizeof(edge[0]);

	dk_time_format(1795353300, buf);
	assert_string_equal(buf, "2026-11-22T13:15:00Z");
	dk_time_selector(1795353300, sel);
	assert_string_equal(sel, "20261122131500");
	/* Against gmtime and strftime: edges, leap days, then a sweep. */
	for (i = 0; i < nedge + 200000; i++) {
		t = i < nedge ? edge[i] :
		    (time_t)((i * 2654435761u) % 253402300800u);
		dk_time_format(t, buf);
		assert_string_equal(buf, strftime_of(t, "%Y-%m-%dT%H:%M:%SZ",
		    "9999-12-31T23:59:59Z", want, sizeof(want)));
		dk_time_selector(t, sel);
		assert_string_equal(sel, strftime_of(t, "%Y%m%d%H%M%S",
		    "99991231235959", want, sizeof(want)));
	}
}

static void
test_common__duration(void **state)
{
	static const struct { const char *in; long long want; } ok[] = {
		{ "30d", 30 * 86400 }, { "12h", 43200 }, { "1d12h", 129600 },
		{ "2w", 14 * 86400 }, { "90s", 90 }, { "5m", 300 }, { "0s", 0 },
	};
	static const char *bad[] = { "", "30", "d", "30x", "1.5d", "-1d",
	    "30d ", "99999999999999999999d", "40000d" };
	long long v;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(dk_duration_parse(ok[i].in, &v), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dk_duration_parse(bad[i], &v), DK_EUSAGE);
	dk_duration_format(30 * 86400, buf, sizeof(buf));
	assert_string_equal(buf, "4w2d");
	dk_duration_format(5400, buf, sizeof(buf));
	assert_string_equal(buf, "1h30m");
	dk_duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
}

static void
test_common__names(void **state)
{
	static const char *good[] = { "example.com", "a.b", "xn--bcher-kva.ch",
	    "mail-1.example.co.uk", "EXAMPLE.COM" };
	static const char *bad[] = { "exa mple.com", "-x.com", "x-.com",
	    "ex%ample.com", "com", "example..com", ".example.com",
	    "example.com.", "bücher.ch", "ex_ample.com", "" };
	char long254[300], label64[80], buf[64];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(dk_name_domain_check(good[i]), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dk_name_domain_check(bad[i]), DK_EUSAGE);
	/* 254 characters: 4 labels of 62 + ".com" overflow by one */
	memset(long254, 'a', 254);
	for (i = 63; i < 254; i += 64)
		long254[i] = '.';
	long254[254] = '\0';
	assert_int_equal(strlen(long254), 254);
	assert_int_equal(dk_name_domain_check(long254), DK_EUSAGE);
	long254[253] = '\0';
	assert_int_equal(dk_name_domain_check(long254), 0);
	memset(label64, 'a', 64);
	memcpy(label64 + 64, ".com", 5);
	assert_int_equal(dk_name_domain_check(label64), DK_EUSAGE);
	strcpy(buf, "Example.COM");
	assert_int_equal(dk_name_domain(buf), 0);
	assert_string_equal(buf, "example.com");
	assert_int_equal(dk_name_selector_check("20261122131500"), 0);
	assert_int_equal(dk_name_selector_check("20261122131500r"), 0);
	assert_int_equal(dk_name_selector_check("s1.sub"), 0);
	assert_int_equal(dk_name_selector_check("../x"), DK_EUSAGE);
	assert_int_equal(dk_name_selector_check("a/b"), DK_EUSAGE);
	assert_int_equal(dk_name_selector_check("%{x}"), DK_EUSAGE);
}

static void
test_common__buf(void **state)
{
	struct dk_buf b = { 0 };
	char *s;
	int i;

	for (i = 0; i < 1000; i++)
		assert_int_equal(dk_buf_printf(&b, "%d,", i), 0);
	assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
	assert_int_equal(b.len, strlen(b.data));
	s = dk_buf_detach(&b);
	assert_null(b.data);
	free(s);
	assert_int_equal(dk_buf_puts(&b, "secret"), 0);
	dk_buf_wipe(&b);
	assert_null(b.data);
	dk_buf_dispose(NULL);
}

/*
 * Copies across many blocks, large ones beside the block being filled,
 * adopted buffers small and large: every pointer keeps its bytes until
 * the arena goes (valgrind and ASan check the frees).
 */
static void
test_common__arena(void **state)
{
	enum { N = 20000 };
	struct dk_arena a = { .secret = false }, s = { .secret = true };
	char **p, want[64], *big, *buf, *got;
	size_t i, bigsz = 100000;

	assert_non_null(p = calloc(N, sizeof(*p)));
	assert_non_null(big = malloc(bigsz));
	memset(big, 'x', bigsz);
	for (i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "path number %zu", i);
		if (i % 5000 == 1)
			assert_non_null(got = dk_arena_copy(&a, big, bigsz));
		if (i % 3 == 0) {
			assert_non_null(p[i] = dk_arena_copy(&a, want,
			    strlen(want)));
			continue;
		}
		assert_non_null(buf = strdup(want));
		assert_non_null(p[i] = dk_arena_adopt(i % 2 ? &a : &s, buf,
		    strlen(buf)));
	}
	assert_string_equal(dk_arena_copy(&a, "", 0), "");
	assert_non_null(buf = malloc(bigsz));
	memset(buf, 'y', bigsz);
	assert_ptr_equal(dk_arena_adopt(&s, buf, bigsz), buf);
	assert_non_null(got = dk_arena_copy(&s, big, bigsz));
	assert_int_equal(memcmp(got, big, bigsz), 0);
	assert_int_equal(got[bigsz], '\0');
	for (i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "path number %zu", i);
		assert_string_equal(p[i], want);
	}
	dk_arena_dispose(&a);
	dk_arena_dispose(&s);
	dk_arena_dispose(&s);	/* empty: nothing to do */
	assert_null(a.head);
	assert_non_null(dk_arena_copy(&a, "again", 5));
	dk_arena_dispose(&a);
	free(big);
	free(p);
}

static void
test_common__json_quote(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(f = open_memstream(&out, &len));
	dk_json_quote(f, "a\"b\\c\n\x7f\xc3\xa9|");
	assert_int_equal(fclose(f), 0);
	assert_string_equal(out,
	    "\"a\\\"b\\\\c\\u000a\\u007f\\u00c3\\u00a9|\"");
	free(out);
}

static void
test_common__files(void **state)
{
	char dir[] = "/tmp/dk_t_common.XXXXXX", path[256], sub[256], *data;
	struct stat st;
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	assert_int_equal(dk_file_create(path, "abc", 3, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dk_file_create(path, "xyz", 3, 0600), DK_EEXISTS);
	assert_int_equal(dk_file_read(path, 100, &data, &len), 0);
	assert_string_equal(data, "abc");
	free(data);
	assert_int_equal(dk_file_read(path, 2, &data, &len), -1);
	assert_int_equal(dk_file_replace(path, "hello", 5, 0644), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(dk_file_read(path, 100, &data, &len), 0);
	assert_string_equal(data, "hello");
	free(data);
	unlink(path);
	assert_int_equal(dk_file_read(path, 100, &data, &len), DK_ENOTFOUND);
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(dk_dir_make(sub, 0700), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(dk_path_join(path, 8, "abcdef", "gh"), -1);
	assert_int_equal(dk_path_join(path, sizeof(path), "a/", "b"), 0);
	assert_string_equal(path, "a/b");
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	rmdir(sub);
	assert_int_equal(rmdir(dir), 0);
}

#define ONLY	" (the key repository holds only directories and regular files)"

/* out/o: "outside", mode 0640; its digest is its content and mode. */
static void
outside_same(const char *out)
{
	char path[PATH_MAX], *data;
	struct stat st;

	snprintf(path, sizeof(path), "%s/o", out);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(dk_file_read(path, 100, &data, NULL), 0);
	assert_string_equal(data, "outside\n");
	free(data);
}

/* dk_tree_*: below a root, by descriptor, no link followed. */
static void
test_common__tree(void **state)
{
	char root[] = "/tmp/dk_t_tree.XXXXXX", out[] = "/tmp/dk_t_out.XXXXXX";
	char p[PATH_MAX], q[PATH_MAX], tmp[PATH_MAX], msg[PATH_MAX + 64];
	struct stat st;
	size_t len;
	char *data;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_non_null(mkdtemp(out));
	snprintf(p, sizeof(p), "%s/o", out);
	assert_int_equal(dk_file_create(p, "outside\n", 8, 0640), 0);

	/* Made, written, read, replaced, staged, published, removed. */
	assert_int_equal(dk_tree_dir(root, "keys/d", 0700, &fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	assert_int_equal(dk_tree_create(root, "keys/d/f", "abc", 3, 0600,
	    true), 0);
	snprintf(p, sizeof(p), "%s/keys/d/f", root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dk_tree_create(root, "keys/d/f", "x", 1, 0600,
	    false), DK_EEXISTS);
	assert_int_equal(dk_tree_read(root, "keys/d/f", 100, &data, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(data, "abc");
	free(data);
	assert_int_equal(dk_tree_replace(root, "keys/d/f", "hello", 5, 0644),
	    0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(dk_tree_read(root, "keys/d/f", 100, &data, NULL), 0);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(dk_tree_stage(root, "keys/d/y", "v", 1, 0644, tmp,
	    sizeof(tmp)), 0);
	assert_int_equal(strncmp(tmp, "keys/d/y.tmp.", 13), 0);
	assert_int_equal(strlen(tmp), 19);
	assert_int_equal(dk_tree_publish(root, "keys/y.tmp.abcdef",
	    "keys/d/y"), -1);
	assert_int_equal(dk_tree_publish(root, tmp, "keys/d/y"), 0);
	assert_int_equal(dk_tree_read(root, "keys/d/y", 100, &data, NULL), 0);
	assert_string_equal(data, "v");
	free(data);
	snprintf(q, sizeof(q), "%s/%s", root, tmp);
	assert_int_equal(lstat(q, &st), -1);
	assert_int_equal(dk_tree_remove(root, "keys/d/y"), 0);
	assert_int_equal(dk_tree_remove(root, "keys/d/y"), 0);
	assert_int_equal(dk_tree_remove(root, "keys/none/y"), 0);
	assert_int_equal(dk_tree_read(root, "keys/d/y", 100, &data, NULL),
	    DK_ENOTFOUND);
	assert_int_equal(dk_tree_read(root, "keys/none/y", 100, &data, NULL),
	    DK_ENOTFOUND);
	assert_int_equal(dk_tree_read("/nonexistent.dk", "keys/d/f", 100,
	    &data, NULL), DK_ENOTFOUND);
	assert_int_equal(dk_tree_read(root, "keys/d/f", 4, &data, NULL), -1);
	assert_int_equal(dk_tree_read(root, "keys/../keys/d/f", 100, &data,
	    NULL), -1);
	assert_string_equal(dk_error_last(), "invalid path 'keys/..'");
	/* The root's own path may hold a link: the operator chose it. */
	snprintf(q, sizeof(q), "%s/root", out);
	assert_int_equal(symlink(root, q), 0);
	assert_int_equal(dk_tree_read(q, "keys/d/f", 100, &data, NULL), 0);
	free(data);
	assert_int_equal(unlink(q), 0);

	/* A directory below the root that is a link: nothing through it. */
	snprintf(p, sizeof(p), "%s/keys/e", root);
	assert_int_equal(symlink(out, p), 0);
	assert_int_equal(dk_tree_read(root, "keys/e/o", 100, &data, NULL), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/e': a symbolic "
	    "link" ONLY);
	assert_int_equal(dk_tree_create(root, "keys/e/new", "x", 1, 0600,
	    true), -1);
	assert_int_equal(dk_tree_replace(root, "keys/e/o", "x", 1, 0600), -1);
	assert_int_equal(dk_tree_stage(root, "keys/e/o", "x", 1, 0600, tmp,
	    sizeof(tmp)), -1);
	assert_int_equal(dk_tree_remove(root, "keys/e/o"), -1);
	assert_int_equal(dk_tree_stat(root, "keys/e/o", &st), -1);
	assert_int_equal(dk_tree_dir(root, "keys/e", 0700, &fd), -1);
	assert_int_equal(dk_tree_dir(root, "keys/e/sub", 0700, &fd), -1);
	snprintf(q, sizeof(q), "%s/new", out);
	assert_int_equal(lstat(q, &st), -1);
	snprintf(q, sizeof(q), "%s/sub", out);
	assert_int_equal(lstat(q, &st), -1);
	outside_same(out);
	assert_int_equal(unlink(p), 0);

	/* A file that is a link: neither read, written nor re-moded. */
	snprintf(p, sizeof(p), "%s/keys/d/l", root);
	snprintf(q, sizeof(q), "%s/o", out);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(dk_tree_read(root, "keys/d/l", 100, &data, NULL), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/d/l': a symbolic "
	    "link" ONLY);
	assert_int_equal(dk_tree_stat(root, "keys/d/l", &st), -1);
	assert_int_equal(dk_tree_create(root, "keys/d/l", "x", 1, 0600,
	    true), DK_EEXISTS);
	assert_int_equal(dk_tree_dir(root, "keys/d", 0, &fd), 0);
	assert_int_equal(dk_tree_chmod(fd, "l", "keys/d/l", 0600), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/d/l': a symbolic "
	    "link" ONLY);
	outside_same(out);
	assert_int_equal(unlink(p), 0);

	/* A hard link to a file outside: refused, its mode kept. */
	assert_int_equal(link(q, p), 0);
	assert_int_equal(dk_tree_read(root, "keys/d/l", 100, &data, NULL), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/d/l': a hard "
	    "link (its file has 2 names; a file of the key repository has "
	    "only one)");
	assert_int_equal(dk_tree_chmod(fd, "l", "keys/d/l", 0600), -1);
	outside_same(out);
	assert_int_equal(unlink(p), 0);

	/* A FIFO: refused at once, never waited on; dk_file_read too. */
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(dk_tree_read(root, "keys/d/l", 100, &data, NULL), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/d/l': a FIFO"
	    ONLY);
	assert_int_equal(dk_tree_chmod(fd, "l", "keys/d/l", 0600), -1);
	assert_int_equal(dk_file_read(p, 100, &data, NULL), -1);
	snprintf(msg, sizeof(msg), "cannot read '%s': not a regular file", p);
	assert_string_equal(dk_error_last(), msg);
	assert_int_equal(unlink(p), 0);

	/* A regular file's mode, set through its descriptor. */
	assert_int_equal(dk_tree_chmod(fd, "f", "keys/d/f", 0600), 0);
	snprintf(p, sizeof(p), "%s/keys/d/f", root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);

	/* The other kinds, by their stat. */
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_int_equal(dk_tree_check("keys/d/n", &st), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/d/n': a device"
	    ONLY);
	st.st_mode = S_IFSOCK | 0755;
	assert_int_equal(dk_tree_check("keys/d/s", &st), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/d/s': a socket"
	    ONLY);
	assert_int_equal(stat(root, &st), 0);
	assert_int_equal(dk_tree_check("keys", &st), 0);

	dk_dir_remove(root);
	dk_dir_remove(out);
}

/* dk_dir_make: like mkdir -p, whatever part of the path exists. */
static void
test_common__dir_make(void **state)
{
	char dir[] = "/tmp/dk_t_dir.XXXXXX", p[PATH_MAX];
	const char *made[] = { "a/b/c", "a/b/c", "a/b/d/", "a//e///f",
	    "g", "a/b" };
	/* Made bottom-up and gone again: nothing else was created. */
	const char *gone[] = { "a/b/c", "a/b/d", "a/e/f", "a/e", "a/b", "a",
	    "g" };
	struct stat st;
	size_t i;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, made[i]);
		assert_int_equal(dk_dir_make(p, 0700), 0);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	}
	snprintf(p, sizeof(p), "%s/file", dir);
	assert_true((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/file/x/y", dir);
	assert_int_equal(dk_dir_make(p, 0700), -1);
	snprintf(p, sizeof(p), "cannot create directory '%s/file/x/y': ", dir);
	assert_true(strncmp(dk_error_last(), p, strlen(p)) == 0);
	assert_int_equal(dk_dir_make("", 0700), -1);
	assert_string_equal(dk_error_last(), "invalid directory ''");
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, gone[i]);
		assert_int_equal(rmdir(p), 0);
	}
	snprintf(p, sizeof(p), "%s/file", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_common__dir_remove(void **state)
{
	char dir[] = "/tmp/dk_t_common.XXXXXX", out[] = "/tmp/dk_t_out.XXXXXX";
	char path[256];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(out));
	snprintf(path, sizeof(path), "%s/a/b", dir);
	assert_int_equal(dk_dir_make(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b/f", dir);
	assert_int_equal(dk_file_create(path, "x", 1, 0600), 0);
	/* A symlink is removed, never followed. */
	snprintf(path, sizeof(path), "%s/a/link", dir);
	assert_int_equal(symlink(out, path), 0);
	dk_dir_remove(dir);
	assert_int_equal(lstat(dir, &st), -1);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(rmdir(out), 0);
}

/* dk_tmp_sweep: only our trees whose process is gone. */
static void
test_common__tmp_sweep(void **state)
{
	char dir[] = "/tmp/dk_t_tmp.XXXXXX", p[PATH_MAX], mine[PATH_MAX];
	const char *kept[] = { "x.1.abcdef", "x.%ld.abcdefg", "y.%ld.abcdef",
	    "x.%ld" };
	struct stat st;
	pid_t dead;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(dk_tmp_make(mine, sizeof(mine), dir, "x"), 0);
	snprintf(p, sizeof(p), "%s/x.%ld.", dir, (long)getpid());
	assert_true(strncmp(mine, p, strlen(p)) == 0);
	assert_int_equal(strlen(mine), strlen(p) + 6);
	if ((dead = fork()) == 0)
		_exit(0);
	assert_true(dead > 0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	snprintf(p, sizeof(p), "%s/x.%ld.ghijkl/sub", dir, (long)dead);
	assert_int_equal(dk_dir_make(p, 0700), 0);
	/* pid 1 lives; the others are not names of ours. */
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(p, sizeof(p), "%s/", dir);
		snprintf(p + strlen(p), sizeof(p) - strlen(p), kept[i],
		    (long)dead);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	dk_tmp_sweep(dir, "x");
	snprintf(p, sizeof(p), "%s/x.%ld.ghijkl", dir, (long)dead);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(stat(mine, &st), 0);
	assert_int_equal(rmdir(mine), 0);
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(p, sizeof(p), "%s/", dir);
		snprintf(p + strlen(p), sizeof(p) - strlen(p), kept[i],
		    (long)dead);
		assert_int_equal(rmdir(p), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

static int
yparse(const char *s, struct dk_ynode **out)
{
	return dk_yaml_parse(s, strlen(s), "t.yaml", out);
}

static void
test_common__yaml(void **state)
{
	struct dk_ynode *root, *n;
	char *deep;
	int i;

	assert_int_equal(yparse("a: 1\nb: [x, 'y']\nc: ~\n", &root), 0);
	assert_int_equal(root->type, DK_Y_MAP);
	assert_int_equal(root->n, 3);
	n = dk_yaml_get(root, "b");
	assert_non_null(n);
	assert_int_equal(n->type, DK_Y_SEQ);
	assert_int_equal(n->line, 2);
	assert_int_equal(n->col, 4);
	assert_string_equal(n->items[1]->scalar, "y");
	assert_false(n->items[1]->plain);
	assert_true(dk_yaml_is_null(dk_yaml_get(root, "c")));
	assert_null(dk_yaml_get(root, "d"));
	dk_yaml_free(root);

	assert_int_equal(yparse("", &root), 0);
	assert_null(root);
	assert_int_equal(yparse("a: 1\na: 2\n", &root), DK_EUSAGE);
	assert_string_equal(dk_error_last(),
	    "t.yaml:2:1: duplicate key 'a' (first at line 1)");
	assert_int_equal(yparse("a: &x 1\nb: *x\n", &root), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "t.yaml:1:4: anchors"));
	assert_int_equal(yparse("a: [1, 2\n", &root), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "t.yaml:2:1:"));
	assert_int_equal(yparse("a: 1\n---\nb: 2\n", &root), DK_EUSAGE);
	assert_int_equal(yparse("a: !!str 1\n", &root), DK_EUSAGE);
	/* A bad byte is placed where it is, not at 1:1. */
	assert_int_equal(yparse("a: 1\nb: x\001y\n", &root), DK_EUSAGE);
	assert_string_equal(dk_error_last(),
	    "t.yaml:2:5: control characters are not allowed (byte 0x01)");
	assert_int_equal(yparse("a: 1\nbb: \xff\n", &root), DK_EUSAGE);
	assert_string_equal(dk_error_last(),
	    "t.yaml:2:5: invalid leading UTF-8 octet (byte 0xff)");

	deep = malloc(200);
	for (i = 0; i < 40; i++)
		deep[i] = '[';
	deep[40] = '\0';
	assert_int_equal(yparse(deep, &root), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "nested too deeply"));
	free(deep);
}

/* "[a,a,...,a]" of n items (the caller frees it). */
static char *
flat_seq(size_t n)
{
	char *s;
	size_t i;

	assert_non_null(s = malloc(2 * n + 2));
	s[0] = '[';
	for (i = 0; i < n; i++) {
		s[1 + 2 * i] = 'a';
		s[2 + 2 * i] = ',';
	}
	s[2 * n] = ']';
	s[2 * n + 1] = '\0';
	return s;
}

/*
 * A document of small nodes is refused at its budget, long before its
 * ~120 bytes a node add up; trees alive at once share one budget, which
 * their freeing gives back.
 */
static void
test_yaml__budget(void **state)
{
	struct dk_ynode *t[8], *root;
	size_t i, k, cost;
	char *s, want[128];

	/* An item costs about 120 bytes of tree. */
	assert_int_equal(dk_yaml_charged(), 0);
	s = flat_seq(DK_YAML_DOC_BUDGET / 100);
	assert_int_equal(yparse(s, &root), DK_EUSAGE);
	assert_null(root);
	snprintf(want, sizeof(want), ": document too big: its tree would "
	    "need more than %u bytes of memory", DK_YAML_DOC_BUDGET);
	assert_non_null(strstr(dk_error_last(), want));
	assert_true(strncmp(dk_error_last(), "t.yaml:1:", 9) == 0);
	assert_int_equal(dk_yaml_charged(), 0);
	free(s);

	/* Over half the document's budget each: the run holds k, not k+1. */
	s = flat_seq(DK_YAML_DOC_BUDGET / 160);
	assert_int_equal(yparse(s, &t[0]), 0);
	cost = t[0]->cost;
	assert_true(cost > DK_YAML_DOC_BUDGET / 2 &&
	    cost <= DK_YAML_DOC_BUDGET);
	assert_int_equal(dk_yaml_charged(), cost);
	k = DK_YAML_RUN_BUDGET / cost;
	assert_true(k >= 2 && k < 8);
	for (i = 1; i < k; i++)
		assert_int_equal(yparse(s, &t[i]), 0);
	assert_int_equal(dk_yaml_charged(), k * cost);
	assert_int_equal(yparse(s, &root), -1);
	assert_null(root);
	snprintf(want, sizeof(want), ": out of memory for YAML: the "
	    "documents read at once would need more than %u bytes",
	    DK_YAML_RUN_BUDGET);
	assert_non_null(strstr(dk_error_last(), want));
	assert_int_equal(dk_yaml_charged(), k * cost);
	dk_yaml_free(t[0]);
	assert_int_equal(yparse(s, &t[0]), 0);
	for (i = 0; i < k; i++)
		dk_yaml_free(t[i]);
	assert_int_equal(dk_yaml_charged(), 0);
	assert_int_equal(yparse("a: [1, 2]\n", &root), 0);
	assert_true(root->cost > 0 && dk_yaml_charged() == root->cost);
	dk_yaml_free(root);
	assert_int_equal(dk_yaml_charged(), 0);
	free(s);
}

/* dk_grow: room doubles from first, what was there stays. */
static void
test_common__grow(void **state)
{
	int *v = NULL;
	size_t cap = 0, n, huge;

	for (n = 0; n < 100; n++) {
		assert_int_equal(dk_grow(&v, &cap, n, sizeof(*v), 4), 0);
		assert_true(cap > n);
		v[n] = (int)n;
	}
	assert_int_equal(cap, 128);
	for (n = 0; n < 100; n++)
		assert_int_equal(v[n], (int)n);
	/* Room left: nothing moves. */
	assert_int_equal(dk_grow(&v, &cap, 50, sizeof(*v), 4), 0);
	assert_int_equal(cap, 128);
	/* Past what size_t can count: refused, the array as it was. */
	huge = (size_t)-1 / 2 + 1;
	assert_int_equal(dk_grow(&v, &huge, huge, sizeof(*v), 4), -1);
	assert_non_null(strstr(dk_error_last(), "out of memory"));
	assert_int_equal(v[99], 99);
	free(v);
}

static void
test_common__yaml_emit(void **state)
{
	static const char *words[] = { "example.com", "20261122131500",
	    "2026-11-22T13:15:00Z", "", "null", "yes", "a: b", "x\"y\\z",
	    "line\nbreak", "-lead", "#c", "p q" };
	struct dk_ynode *root;
	struct dk_buf b = { 0 };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		b.len = 0;
		assert_int_equal(dk_buf_puts(&b, "k: "), 0);
		assert_int_equal(dk_yaml_emit_scalar(&b, words[i]), 0);
		assert_int_equal(yparse(b.data, &root), 0);
		assert_string_equal(dk_yaml_get(root, "k")->scalar, words[i]);
		dk_yaml_free(root);
	}
	dk_buf_dispose(&b);
}

static void
test_common__lock(void **state)
{
	char dir[] = "/tmp/dk_t_lock.XXXXXX", git[300], path[320];
	struct dk_lock *a, *b;
	time_t t0;
	pid_t pid;
	int st;

	assert_non_null(mkdtemp(dir));
	snprintf(git, sizeof(git), "%s/.git", dir);
	assert_int_equal(mkdir(git, 0700), 0);
	assert_int_equal(dk_lock_acquire(dir, 0, &a), 0);
	/* flock is per open file: a second open in this process conflicts. */
	assert_int_equal(dk_lock_acquire(dir, 0, &b), DK_ELOCKED);
	assert_null(b);
	assert_non_null(strstr(dk_error_last(), "locked by another dkimrot"));
	t0 = time(NULL);
	assert_int_equal(dk_lock_acquire(dir, 1, &b), DK_ELOCKED);
	assert_true(time(NULL) - t0 >= 1);
	/* A child waits and gets it once the parent lets go. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dk_lock *c;

		/* Drop the inherited descriptor, as exec would (O_CLOEXEC). */
		dk_lock_release(a);
		_exit(dk_lock_acquire(dir, 5, &c) == 0 ? 0 : 1);
	}
	usleep(200 * 1000);
	dk_lock_release(a);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(dk_lock_acquire(dir, 0, &a), 0);
	dk_lock_release(a);
	dk_lock_release(NULL);
	snprintf(path, sizeof(path), "%s/dkimrot.lock", git);
	unlink(path);
	rmdir(git);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A run that starts while another has just got the lock, before it
 * wrote its pid over the last holder's, still names the right one (the
 * year simulation met pid 0, and its own pid from a wrapped pid space).
 */
static void
test_common__lock_holder_pid(void **state)
{
	char dir[] = "/tmp/dk_t_lock.XXXXXX", path[300], want[64], line[32];
	struct dk_lock *b;
	int fd, go[2], st, n;
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/.git", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.git/dkimrot.lock", dir);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/*
		 * Holds the lock while the file still names an earlier
		 * holder, as dk_lock_acquire does for a moment.
		 */
		fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd == -1 || flock(fd, LOCK_EX) == -1 ||
		    pwrite(fd, "1\n", 2, 0) != 2 || write(go[1], "x", 1) != 1)
			_exit(1);
		usleep(300 * 1000);
		n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
		_exit(pwrite(fd, line, (size_t)n, 0) == n ? 0 : 1);
	}
	close(go[1]);
	assert_int_equal(read(go[0], line, 1), 1);
	close(go[0]);
	assert_int_equal(dk_lock_acquire(dir, 0, &b), DK_ELOCKED);
	snprintf(want, sizeof(want), "(pid %ld)", (long)pid);
	assert_non_null(strstr(dk_error_last(), want));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.git", dir);
	rmdir(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common__time_parse),
		cmocka_unit_test(test_common__time_format),
		cmocka_unit_test(test_common__duration),
		cmocka_unit_test(test_common__names),
		cmocka_unit_test(test_common__buf),
		cmocka_unit_test(test_common__grow),
		cmocka_unit_test(test_common__arena),
		cmocka_unit_test(test_common__json_quote),
		cmocka_unit_test(test_common__files),
		cmocka_unit_test(test_common__tree),
		cmocka_unit_test(test_common__dir_make),
		cmocka_unit_test(test_common__dir_remove),
		cmocka_unit_test(test_common__tmp_sweep),
		cmocka_unit_test(test_common__yaml),
		cmocka_unit_test(test_common__yaml_emit),
		cmocka_unit_test(test_yaml__budget),
		cmocka_unit_test(test_common__lock),
		cmocka_unit_test(test_common__lock_holder_pid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
