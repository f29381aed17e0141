/*
 * Unit tests: the key store (docs/design.md §3).  Every test works in its own
 * directory under /tmp with dummy key files (never real keys: the store
 * does not read them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/dktime.h"
#include "common/error.h"
#include "common/strlist.h"
#include "common/file.h"
#include "common/tree.h"
#include "rotator/store.h"
#include "rotator/store_yaml.h"

#define T0	1795353300	/* 2026-11-22T13:15:00Z */
#define DAY	86400

static const char golden[] =
    "# keys.yaml: written by dkimrot; the lifecycle of every key of this "
    "domain.\n"
    "# Times are RFC 3339 UTC; null: not (yet) happened.  Edit with care: "
    "this\n"
    "# file is the source of truth for the key files next to it.\n"
    "domain: example.com\n"
    "keys:\n"
    "  - selector: \"20261122131500\"\n"
    "    algorithm: rsa\n"
    "    bits: 2048\n"
    "    state: active\n"
    "    created: 2026-11-22T13:15:00Z\n"
    "    published: 2026-11-22T13:15:00Z\n"
    "    active_from: 2026-11-23T13:15:00Z\n"
    "    active_until: null\n"
    "    retired: null\n"
    "    revoked: null\n";

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static char *
tmp_repo(void)
{
	char *dir = strdup("/tmp/dk_t_store.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
put(const char *repo, const char *rel, const char *text, mode_t mode)
{
	char path[512];

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	unlink(path);
	assert_int_equal(dk_file_create(path, text, strlen(text), mode), 0);
}

static bool
exists(const char *repo, const char *rel)
{
	char path[512];
	struct stat st;

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	return lstat(path, &st) == 0;
}

static mode_t
mode_of(const char *repo, const char *rel)
{
	char path[512];
	struct stat st;

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
add(struct dk_domain_keys *dk, const char *sel, enum dk_alg alg,
    enum dk_state st, time_t cr, time_t af, time_t au, time_t ret,
    time_t rev)
{
	struct dk_keyinfo k;

	memset(&k, 0, sizeof(k));
	snprintf(k.selector, sizeof(k.selector), "%s", sel);
	k.alg = alg;
	k.bits = alg == DK_ALG_RSA ? 2048 : 256;
	k.state = st;
	k.created = cr;
	k.published = cr;
	k.active_from = af;
	k.active_until = au;
	k.retired = ret;
	k.revoked = rev;
	assert_int_equal(dk_domain_keys_add(dk, &k), 0);
}

/* One key of each state, both algorithms, in creation order. */
static struct dk_domain_keys *
sample(void)
{
	struct dk_domain_keys *dk;

	assert_int_equal(dk_domain_keys_new("example.com", &dk), 0);
	add(dk, "20260901000000r", DK_ALG_RSA, DK_STATE_RETIRED, T0 - 90 * DAY,
	    T0 - 89 * DAY, T0 - 60 * DAY, T0 - 50 * DAY, 0);
	add(dk, "20260915000000e", DK_ALG_ED25519, DK_STATE_REVOKED,
	    T0 - 80 * DAY, T0 - 79 * DAY, T0 - 2 * DAY, 0, T0 - 2 * DAY);
	add(dk, "20261001000000r", DK_ALG_RSA, DK_STATE_RETIRING,
	    T0 - 60 * DAY, T0 - 59 * DAY, T0 - 30 * DAY, 0, 0);
	add(dk, "20261020000000e", DK_ALG_ED25519, DK_STATE_ACTIVE,
	    T0 - 33 * DAY, T0 - 32 * DAY, 0, 0, 0);
	add(dk, "20261031000000r", DK_ALG_RSA, DK_STATE_ACTIVE, T0 - 30 * DAY,
	    T0 - 29 * DAY, 0, 0, 0);
	add(dk, "20261122131500r", DK_ALG_RSA, DK_STATE_PENDING, T0, 0, 0, 0,
	    0);
	return dk;
}

/* The files keys need: .private and .txt if published, .txt if revoked. */
static void
put_key_files(const char *repo, const struct dk_domain_keys *dk)
{
	char rel[512];
	size_t i;

	for (i = 0; i < dk->n; i++) {
		if (dk_state_published(dk->keys[i].state)) {
			snprintf(rel, sizeof(rel), "keys/%s/%s.private",
			    dk->domain, dk->keys[i].selector);
			put(repo, rel, "dummy, not a key\n", 0600);
		}
		if (dk_state_published(dk->keys[i].state) ||
		    dk->keys[i].state == DK_STATE_REVOKED) {
			snprintf(rel, sizeof(rel), "keys/%s/%s.txt",
			    dk->domain, dk->keys[i].selector);
			put(repo, rel, "dummy record\n", 0644);
		}
	}
}

static void
assert_same_keys(const struct dk_domain_keys *a,
    const struct dk_domain_keys *b)
{
	const struct dk_keyinfo *x, *y;
	size_t i;

	assert_string_equal(a->domain, b->domain);
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		x = &a->keys[i];
		y = &b->keys[i];
		assert_string_equal(x->selector, y->selector);
		assert_int_equal(x->alg, y->alg);
		assert_int_equal(x->bits, y->bits);
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->created, y->created);
		assert_int_equal(x->published, y->published);
		assert_int_equal(x->active_from, y->active_from);
		assert_int_equal(x->active_until, y->active_until);
		assert_int_equal(x->retired, y->retired);
		assert_int_equal(x->revoked, y->revoked);
	}
}

static char *
read_yaml(const char *repo, size_t *len)
{
	char path[512], *data;

	assert_int_equal(dk_store_yaml_path(repo, "example.com", path,
	    sizeof(path)), 0);
	assert_int_equal(dk_file_read(path, DK_FILE_MAX, &data, len), 0);
	return data;
}

static void
test_store__golden(void **state)
{
	struct dk_domain_keys *dk, *back;
	struct dk_buf b = { 0 };

	assert_int_equal(dk_domain_keys_new("example.com", &dk), 0);
	add(dk, "20261122131500", DK_ALG_RSA, DK_STATE_ACTIVE, T0, T0 + DAY,
	    0, 0, 0);
	assert_int_equal(dk_store_format(dk, &b), 0);
	assert_string_equal(b.data, golden);
	assert_int_equal(dk_store_parse(b.data, b.len,
	    "keys/example.com/keys.yaml", "example.com", &back), 0);
	assert_same_keys(back, dk);
	dk_domain_keys_free(back);
	dk_buf_dispose(&b);

	/* No keys yet. */
	dk->n = 0;
	assert_int_equal(dk_store_format(dk, &b), 0);
	assert_non_null(strstr(b.data, "\ndomain: example.com\nkeys: []\n"));
	assert_int_equal(dk_store_parse(b.data, b.len, "k.yaml", NULL, &back),
	    0);
	assert_int_equal(back->n, 0);
	assert_string_equal(back->domain, "example.com");
	dk_domain_keys_free(back);
	dk_buf_dispose(&b);
	dk_domain_keys_free(dk);
}

/* The fast path and the YAML tree read the same; edited files still load. */
static void
test_store__fast_path(void **state)
{
	static const char edited[] =
	    "domain: example.com   # edited by hand\n"
	    "keys:\n"
	    "- {selector: '20261122131500', algorithm: rsa, bits: 2048,\n"
	    "   state: active, created: 2026-11-22T14:15:00+01:00,\n"
	    "   published: 2026-11-22T13:15:00.5Z,\n"
	    "   active_from: 2026-11-23T13:15:00Z}\n";
	struct dk_domain_keys *dk, *fast, *slow;
	struct dk_buf b = { 0 };

	dk = sample();
	assert_int_equal(dk_store_format(dk, &b), 0);
	assert_int_equal(dk_store_parse(b.data, b.len, "k", "example.com",
	    &fast), 0);
	assert_int_equal(dk_store_parse_yaml(b.data, b.len, "k", "example.com",
	    &slow), 0);
	assert_same_keys(fast, dk);
	assert_same_keys(slow, dk);
	dk_domain_keys_free(fast);
	dk_domain_keys_free(slow);

	assert_int_equal(dk_store_parse(edited, strlen(edited), "k",
	    "example.com", &fast), 0);
	assert_int_equal(fast->n, 1);
	assert_int_equal(fast->keys[0].created, T0);
	assert_int_equal(fast->keys[0].published, T0);
	assert_int_equal(fast->keys[0].active_from, T0 + DAY);
	b.len = 0;
	assert_int_equal(dk_store_format(fast, &b), 0);
	assert_string_equal(b.data, golden);
	dk_domain_keys_free(fast);

	/* Written as format writes it, but two active keys: refused. */
	dk->keys[5].state = DK_STATE_ACTIVE;
	dk->keys[5].active_from = T0;
	b.len = 0;
	assert_int_equal(dk_store_format(dk, &b), 0);
	assert_int_equal(dk_store_parse(b.data, b.len, "k", "example.com",
	    &fast), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "k:56:5: key "
	    "'20261122131500r': a second active rsa key (the first is "
	    "'20261031000000r', line 46)"));
	/* And another domain's file. */
	dk->keys[5].state = DK_STATE_PENDING;
	b.len = 0;
	assert_int_equal(dk_store_format(dk, &b), 0);
	assert_int_equal(dk_store_parse(b.data, b.len, "k", "example.org",
	    &fast), DK_EUSAGE);
	dk_buf_dispose(&b);
	dk_domain_keys_free(dk);
}

/*
 * Rule 8 of policy.h: a leaving domain's keys.yaml says since when, one
 * line after the domain; both parsers read it, a bad time is refused.
 */
static void
test_store__leaving(void **state)
{
	static const char bad[] =
	    "domain: example.com\nleaving: soon\nkeys: []\n";
	struct dk_domain_keys *dk, *fast, *slow;
	struct dk_buf b = { 0 };

	dk = sample();
	dk->leaving = T0 + 5 * DAY;
	assert_int_equal(dk_store_format(dk, &b), 0);
	assert_non_null(strstr(b.data, "\ndomain: example.com\n"
	    "leaving: 2026-11-27T13:15:00Z\nkeys:\n"));
	assert_int_equal(dk_store_parse(b.data, b.len, "k", "example.com",
	    &fast), 0);
	assert_int_equal(dk_store_parse_yaml(b.data, b.len, "k", "example.com",
	    &slow), 0);
	assert_int_equal(fast->leaving, T0 + 5 * DAY);
	assert_int_equal(slow->leaving, T0 + 5 * DAY);
	assert_same_keys(fast, dk);
	dk_domain_keys_free(fast);
	dk_domain_keys_free(slow);
	/* Not leaving: no line at all, the bytes of before. */
	dk->leaving = 0;
	b.len = 0;
	assert_int_equal(dk_store_format(dk, &b), 0);
	assert_null(strstr(b.data, "leaving"));
	assert_int_equal(dk_store_parse(bad, strlen(bad), "k", "example.com",
	    &fast), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "k:2:10: leaving: invalid "
	    "time 'soon'"));
	dk_buf_dispose(&b);
	dk_domain_keys_free(dk);
}

static void
test_store__round_trip(void **state)
{
	struct dk_domain_keys *dk, *back, *shuffled;
	struct dk_keyinfo tmp;
	char *repo = tmp_repo(), *first, *second;
	size_t len1, len2;

	dk = sample();
	assert_int_equal(dk_store_save(repo, dk), 0);
	put_key_files(repo, dk);
	assert_int_equal(dk_store_load(repo, "example.com", &back), 0);
	assert_true(back->exists);
	assert_same_keys(back, dk);
	first = read_yaml(repo, &len1);
	assert_int_equal(dk_store_save(repo, back), 0);
	second = read_yaml(repo, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(first, second, len1);
	free(second);

	/* Same keys in another order: the same bytes. */
	assert_int_equal(dk_domain_keys_dup(dk, &shuffled), 0);
	tmp = shuffled->keys[0];
	shuffled->keys[0] = shuffled->keys[5];
	shuffled->keys[5] = tmp;
	tmp = shuffled->keys[1];
	shuffled->keys[1] = shuffled->keys[3];
	shuffled->keys[3] = tmp;
	assert_int_equal(dk_store_save(repo, shuffled), 0);
	second = read_yaml(repo, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(first, second, len1);
	assert_int_equal(mode_of(repo, "keys"), 0700);
	assert_int_equal(mode_of(repo, "keys/example.com"), 0700);
	assert_int_equal(mode_of(repo, "keys/example.com/keys.yaml"), 0644);

	free(first);
	free(second);
	dk_domain_keys_free(shuffled);
	dk_domain_keys_free(back);
	dk_domain_keys_free(dk);
	rm_tree(repo);
	free(repo);
}

/* A key retired 30 days before the latest event moves to retired.yaml. */
static void
test_store__retired(void **state)
{
	struct dk_domain_keys *dk, *old, *bad;
	struct dk_buf b = { 0 };
	char *repo = tmp_repo(), tmp[512];
	const char *rel = "keys/example.com/retired.yaml";

	dk = sample();
	assert_int_equal(dk_store_save(repo, dk), 0);
	put_key_files(repo, dk);
	/* Retired at T0 - 50 days, the latest event T0: it moves, alone. */
	assert_int_equal(dk_store_stage_retired(repo, dk, false, tmp,
	    sizeof(tmp)), 0);
	assert_true(tmp[0] != '\0');
	assert_int_equal(dk->n, 5);
	assert_null(dk_domain_keys_find(dk, "20260901000000r"));
	assert_int_equal(dk_tree_publish(repo, tmp, rel), 0);
	assert_int_equal(mode_of(repo, rel), 0644);
	assert_int_equal(dk_store_load_retired(repo, "example.com", &old), 0);
	assert_true(old->exists);
	assert_int_equal(old->n, 1);
	assert_string_equal(old->keys[0].selector, "20260901000000r");
	assert_int_equal(old->keys[0].retired, T0 - 50 * DAY);
	dk_domain_keys_free(old);

	/* Nothing left to move: nothing staged, dk as it was. */
	assert_int_equal(dk_store_stage_retired(repo, dk, false, tmp,
	    sizeof(tmp)), 0);
	assert_string_equal(tmp, "");
	assert_int_equal(dk->n, 5);

	/* An archived selector again, as after a clock gone back. */
	add(dk, "20260901000000r", DK_ALG_RSA, DK_STATE_PENDING, T0, 0, 0, 0,
	    0);
	assert_int_equal(dk_store_stage_retired(repo, dk, false, tmp,
	    sizeof(tmp)), 0);
	assert_int_equal(dk_store_stage_retired(repo, dk, true, tmp,
	    sizeof(tmp)), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "selector '20260901000000r' "
	    "of example.com is taken"));
	assert_int_equal(dk->n, 6);

	/* Only retired keys are written to or read from retired.yaml. */
	assert_int_equal(dk_store_format_retired(dk, &b), DK_EUSAGE);
	assert_int_equal(dk_store_format(dk, &b), 0);
	put(repo, rel, b.data, 0644);
	bad = (void *)1;
	assert_int_equal(dk_store_load_retired(repo, "example.com", &bad),
	    DK_EUSAGE);
	assert_null(bad);

	dk_buf_dispose(&b);
	dk_domain_keys_free(dk);
	rm_tree(repo);
	free(repo);
}

static void
test_store__no_keys_yet(void **state)
{
	struct dk_domain_keys *dk;
	struct dk_strlist list = { 0 };
	char *repo = tmp_repo();

	assert_int_equal(dk_store_load(repo, "example.com", &dk), 0);
	assert_false(dk->exists);
	assert_int_equal(dk->n, 0);
	assert_string_equal(dk->domain, "example.com");
	/* Nothing to repair in a domain without a directory. */
	assert_int_equal(dk_store_repair(repo, dk, &list), 0);
	assert_int_equal(list.n, 0);
	dk_domain_keys_free(dk);
	assert_int_equal(dk_store_load(repo, "../etc", &dk), DK_EUSAGE);
	assert_int_equal(dk_store_load(repo, "Example.com", &dk), DK_EUSAGE);
	rm_tree(repo);
	free(repo);
}

static bool
in_list(char **list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void
test_store__repair_orphans(void **state)
{
	static const char *debris[] = {
		/* never named */
		"keys/example.com/20261122131500.private",
		"keys/example.com/20261122131500.txt",
		"keys/example.com/keys.yaml.tmp.Ab12Cd",	/* temp file */
		"keys/example.com/20260901000000r.private",	/* retired */
		"keys/example.com/20260901000000r.txt",
		"keys/example.com/20260915000000e.private",	/* revoked */
		"keys/example.com/notes",
	};
	static const char *keep[] = {
		"keys/example.com/keys.yaml",
		"keys/example.com/20260915000000e.txt",
		"keys/example.com/20261001000000r.private",
		"keys/example.com/20261001000000r.txt",
		"keys/example.com/20261122131500r.private",
		"keys/example.com/20261122131500r.txt",
	};
	struct dk_domain_keys *dk, *loaded;
	struct dk_strlist list = { 0 };
	char *repo = tmp_repo(), path[512];
	size_t i;

	dk = sample();
	assert_int_equal(dk_store_save(repo, dk), 0);
	put_key_files(repo, dk);
	for (i = 0; i < sizeof(debris) / sizeof(debris[0]); i++)
		put(repo, debris[i], "debris\n", 0600);
	/*
	 * A symlink, even as debris, is refused, not removed: whoever put
	 * it there is told (common/file.h); nothing is changed.
	 */
	snprintf(path, sizeof(path), "%s/keys/example.com/link.txt", repo);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(dk_store_load(repo, "example.com", &loaded), 0);
	assert_int_equal(dk_store_repair(repo, loaded, &list), -1);
	assert_string_equal(dk_error_last(), "refusing "
	    "'keys/example.com/link.txt': a symbolic link (the key "
	    "repository holds only directories and regular files)");
	assert_int_equal(list.n, 0);
	dk_strlist_dispose(&list);
	for (i = 0; i < sizeof(debris) / sizeof(debris[0]); i++)
		assert_true(exists(repo, debris[i]));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(dk_store_repair(repo, loaded, &list), 0);
	assert_int_equal(list.n, sizeof(debris) / sizeof(debris[0]));
	for (i = 0; i + 1 < list.n; i++)
		assert_true(strcmp(list.v[i], list.v[i + 1]) < 0);
	for (i = 0; i < sizeof(debris) / sizeof(debris[0]); i++) {
		assert_false(exists(repo, debris[i]));
		assert_true(in_list(list.v, list.n, debris[i]));
	}
	assert_false(exists(repo, "keys/example.com/link.txt"));
	assert_true(exists("/", "etc/passwd"));
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		assert_true(exists(repo, keep[i]));
	dk_strlist_dispose(&list);

	/* Nothing left to do the second time. */
	assert_int_equal(dk_store_repair(repo, loaded, &list), 0);
	assert_int_equal(list.n, 0);
	assert_null(list.v);

	/* A directory there is an error, and nothing is removed. */
	put(repo, "keys/example.com/stray.private", "debris\n", 0600);
	snprintf(path, sizeof(path), "%s/keys/example.com/sub", repo);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(dk_store_repair(repo, loaded, &list), -1);
	assert_string_equal(dk_error_last(),
	    "unexpected directory 'keys/example.com/sub'");
	assert_int_equal(list.n, 0);
	assert_true(exists(repo, "keys/example.com/stray.private"));
	dk_strlist_dispose(&list);
	dk_domain_keys_free(loaded);
	dk_domain_keys_free(dk);
	rm_tree(repo);
	free(repo);
}

/* Name, size and mtime of every entry of a directory, to see "untouched". */
static void
snapshot(const char *dir, struct dk_buf *b)
{
	static const char *names[] = { "keys.yaml", "20261001000000r.private",
	    "20261001000000r.txt", "20261020000000e.private",
	    "20261020000000e.txt", "20261031000000r.private",
	    "20261031000000r.txt", "20261122131500r.private",
	    "20261122131500r.txt", "20260915000000e.txt",
	    "20260915000000e.private", "orphan.private" };
	char path[512];
	struct stat st;
	size_t i;

	b->len = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (lstat(path, &st) == -1)
			assert_int_equal(dk_buf_printf(b, "%s -\n", names[i]),
			    0);
		else
			assert_int_equal(dk_buf_printf(b, "%s %lld %lld.%09ld "
			    "%o\n", names[i], (long long)st.st_size,
			    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			    (unsigned)st.st_mode), 0);
	}
}

static void
test_store__missing_file(void **state)
{
	static const struct {
		const char	*rel;
		const char	*err;
	} cases[] = {
		{ "keys/example.com/20261031000000r.private", "key file "
		  "'keys/example.com/20261031000000r.private' is missing; "
		  "keys.yaml names it (state active)" },
		{ "keys/example.com/20261122131500r.txt", "key file "
		  "'keys/example.com/20261122131500r.txt' is missing; "
		  "keys.yaml names it (state pending)" },
		{ "keys/example.com/20260915000000e.txt", "key file "
		  "'keys/example.com/20260915000000e.txt' is missing; "
		  "keys.yaml names it (state revoked)" },
	};
	struct dk_buf before = { 0 }, after = { 0 };
	struct dk_domain_keys *dk, *loaded;
	char *repo = tmp_repo(), dir[512], path[512];
	size_t i;

	dk = sample();
	assert_int_equal(dk_store_save(repo, dk), 0);
	snprintf(dir, sizeof(dir), "%s/keys/example.com", repo);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_key_files(repo, dk);
		put(repo, "keys/example.com/orphan.private", "debris\n", 0600);
		put(repo, "keys/example.com/20260915000000e.private", "x\n",
		    0644);
		snprintf(path, sizeof(path), "%s/%s", repo, cases[i].rel);
		assert_int_equal(unlink(path), 0);
		snapshot(dir, &before);
		loaded = (void *)1;
		assert_int_equal(dk_store_load(repo, "example.com", &loaded),
		    -1);
		assert_null(loaded);
		assert_string_equal(dk_error_last(), cases[i].err);
		snapshot(dir, &after);
		assert_string_equal(before.data, after.data);
	}
	/* Not a regular file where a key file should be. */
	put_key_files(repo, dk);
	snprintf(path, sizeof(path), "%s/keys/example.com/"
	    "20261031000000r.private", repo);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/dev/null", path), 0);
	assert_int_equal(dk_store_load(repo, "example.com", &loaded), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/example.com/"
	    "20261031000000r.private': a symbolic link (the key repository "
	    "holds only directories and regular files)");
	dk_buf_dispose(&before);
	dk_buf_dispose(&after);
	dk_domain_keys_free(dk);
	rm_tree(repo);
	free(repo);
}

static const char head[] = "domain: example.com\nkeys:\n";
#define KEY(sel, alg, bits, st, extra) \
	"  - selector: \"" sel "\"\n    algorithm: " alg "\n    bits: " bits \
	"\n    state: " st "\n    created: 2026-11-22T13:15:00Z\n" \
	"    published: 2026-11-22T13:15:00Z\n" extra
#define ACTIVE	"    active_from: 2026-11-23T13:15:00Z\n"

static const struct {
	const char	*body;	/* after head, unless it starts '!' */
	const char	*err;
} malformed[] = {
	{ "!", "keys/example.com/keys.yaml:1:1: empty document" },
	{ KEY("a", "rsa", "2048", "active", "    active_from: \"2026-11"),
	  "keys/example.com/keys.yaml:9:26: found unexpected end of "
	  "stream" },
	{ KEY("a", "rsa", "[2048]", "pending", ""),
	  "keys/example.com/keys.yaml:5:11: bits must be a scalar, not "
	  "a sequence" },
	{ KEY("a", "rsa", "2048", "pending", "    revoked: yesterday\n"),
	  "keys/example.com/keys.yaml:9:14: revoked: invalid time "
	  "'yesterday'" },
	{ KEY("a", "rsa", "2048", "pending", "    retired: '@1795353300'\n"),
	  "keys/example.com/keys.yaml:9:14: retired: invalid time" },
	{ KEY("a", "rsa", "2048", "signing", ""),
	  "keys/example.com/keys.yaml:6:12: unknown state 'signing'" },
	{ KEY("a", "rsa", "2048", "pending", "")
	  KEY("b", "rsa", "2048", "pending", "")
	  KEY("a", "ed25519", "256", "pending", ""),
	  "keys/example.com/keys.yaml:15:5: duplicate selector 'a' "
	  "(first at line 3)" },
	{ KEY("a", "rsa", "2048", "active", ACTIVE)
	  KEY("e", "ed25519", "256", "active", ACTIVE)
	  KEY("b", "rsa", "2048", "active", ACTIVE),
	  "keys/example.com/keys.yaml:17:5: key 'b': a second active "
	  "rsa key (the first is 'a', line 3)" },
	{ KEY("a", "rsa", "2048", "active", ""),
	  "keys/example.com/keys.yaml:3:5: key 'a': state active needs "
	  "a time in 'active_from'" },
	{ KEY("a", "rsa", "2048", "pending", "    colour: red\n"),
	  "keys/example.com/keys.yaml:9:5: unknown field 'colour'" },
	{ KEY("A", "rsa", "2048", "pending", ""),
	  "keys/example.com/keys.yaml:3:15: selector 'A' must be lower "
	  "case" },
	{ KEY("../x", "rsa", "2048", "pending", ""),
	  "keys/example.com/keys.yaml:3:15: invalid selector '../x'" },
	{ KEY("a", "dsa", "2048", "pending", ""),
	  "keys/example.com/keys.yaml:4:16: unknown algorithm 'dsa'" },
	{ KEY("a", "rsa", "512", "pending", ""),
	  "keys/example.com/keys.yaml:5:11: bits: an RSA key has 1024 "
	  "to 4096 bits, not 512" },
	{ KEY("a", "ed25519", "2048", "pending", ""),
	  "keys/example.com/keys.yaml:5:11: bits: an Ed25519 key has "
	  "256 bits, not 2048" },
	{ "  - selector: \"a\"\n", "keys/example.com/keys.yaml:3:5: a key "
	  "needs 'algorithm'" },
	{ "  - just a string\n", "keys/example.com/keys.yaml:3:5: a key "
	  "must be a mapping, not a scalar" },
	{ "!domain: example.org\nkeys: []\n", "keys/example.com/keys."
	  "yaml:1:9: domain 'example.org' does not match its directory "
	  "'example.com'" },
	{ "!domain: example.com\n", "keys/example.com/keys.yaml:1:1: "
	  "missing 'keys'" },
	{ "!domain: example.com\nkeys: {}\nextra: 1\n",
	  "keys/example.com/keys.yaml:3:1: unknown field 'extra'" },
	{ "!domain: example.com\nkeys: {}\n", "keys/example.com/keys."
	  "yaml:2:7: keys must be a sequence, not a mapping" },
	{ "!- a\n", "keys/example.com/keys.yaml:1:1: expected a mapping" },
};

static void
test_store__malformed(void **state)
{
	struct dk_domain_keys *dk;
	struct dk_buf b = { 0 };
	char *repo = tmp_repo();
	size_t i;

	assert_int_equal(dk_store_mkdir(repo, "example.com"), 0);
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		b.len = 0;
		if (malformed[i].body[0] == '!')
			assert_int_equal(dk_buf_puts(&b, malformed[i].body + 1),
			    0);
		else
			assert_int_equal(dk_buf_printf(&b, "%s%s", head,
			    malformed[i].body), 0);
		put(repo, "keys/example.com/keys.yaml", b.data, 0644);
		dk = (void *)1;
		assert_int_equal(dk_store_load(repo, "example.com", &dk),
		    DK_EUSAGE);
		assert_null(dk);
		if (strncmp(dk_error_last(), malformed[i].err,
		    strlen(malformed[i].err)) != 0)
			fail_msg("case %zu: '%s', want '%s'", i,
			    dk_error_last(), malformed[i].err);
	}
	dk_buf_dispose(&b);
	rm_tree(repo);
	free(repo);
}

static void
test_store__modes(void **state)
{
	struct dk_domain_keys *dk;
	struct dk_strlist list = { 0 };
	char *repo = tmp_repo(), path[512];

	dk = sample();
	assert_int_equal(dk_store_save(repo, dk), 0);
	put_key_files(repo, dk);
	/* As a git checkout leaves them. */
	snprintf(path, sizeof(path), "%s/keys", repo);
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/keys/example.com", repo);
	assert_int_equal(chmod(path, 0775), 0);
	snprintf(path, sizeof(path), "%s/keys/example.com/keys.yaml", repo);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/keys/example.com/20261031000000r."
	    "private", repo);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/keys/example.com/20261031000000r.txt",
	    repo);
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(dk_store_repair(repo, dk, &list), 0);
	assert_int_equal(list.n, 0);
	assert_int_equal(mode_of(repo, "keys"), 0700);
	assert_int_equal(mode_of(repo, "keys/example.com"), 0700);
	assert_int_equal(mode_of(repo, "keys/example.com/keys.yaml"), 0644);
	assert_int_equal(mode_of(repo,
	    "keys/example.com/20261031000000r.private"), 0600);
	assert_int_equal(mode_of(repo,
	    "keys/example.com/20261031000000r.txt"), 0644);
	assert_int_equal(mode_of(repo,
	    "keys/example.com/20261122131500r.private"), 0600);
	dk_domain_keys_free(dk);
	rm_tree(repo);
	free(repo);
}

static void
test_store__domains_and_paths(void **state)
{
	struct dk_strlist list = { 0 };
	char *repo = tmp_repo(), path[512], buf[16];

	assert_int_equal(dk_store_domains(repo, &list), 0);
	assert_int_equal(list.n, 0);
	assert_int_equal(dk_store_mkdir(repo, "example.org"), 0);
	assert_int_equal(dk_store_mkdir(repo, "a.example.com"), 0);
	assert_int_equal(dk_store_mkdir(repo, "example.com"), 0);
	assert_int_equal(dk_store_domains(repo, &list), 0);
	assert_int_equal(list.n, 3);
	assert_string_equal(list.v[0], "a.example.com");
	assert_string_equal(list.v[1], "example.com");
	assert_string_equal(list.v[2], "example.org");
	dk_strlist_dispose(&list);
	put(repo, "keys/README", "x\n", 0644);
	assert_int_equal(dk_store_domains(repo, &list), DK_EUSAGE);
	assert_non_null(strstr(dk_error_last(), "'keys/README'"));
	snprintf(path, sizeof(path), "%s/keys/README", repo);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keys/Upper.com", repo);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(dk_store_domains(repo, &list), DK_EUSAGE);
	rmdir(path);
	assert_int_equal(dk_store_mkdir(repo, "bad..com"), DK_EUSAGE);

	assert_int_equal(dk_store_key_path("/r", "example.com", "s1",
	    "private", path, sizeof(path)), 0);
	assert_string_equal(path, "/r/keys/example.com/s1.private");
	assert_int_equal(dk_store_key_path(NULL, "example.com", "s1", "txt",
	    path, sizeof(path)), 0);
	assert_string_equal(path, "keys/example.com/s1.txt");
	assert_int_equal(dk_store_yaml_path("r/", "example.com", path,
	    sizeof(path)), 0);
	assert_string_equal(path, "r/keys/example.com/keys.yaml");
	assert_int_equal(dk_store_domain_path("r", "example.com", path,
	    sizeof(path)), 0);
	assert_string_equal(path, "r/keys/example.com");
	assert_int_equal(dk_store_key_path("/r", "example.com", "s1", "txt",
	    buf, sizeof(buf)), -1);

	put(repo, "keys/example.com/s1.private", "dummy\n", 0600);
	put(repo, "keys/example.com/s1.txt", "dummy\n", 0644);
	assert_int_equal(dk_store_remove_key_files(repo, "example.com", "s1",
	    DK_STORE_PRIVATE), 0);
	assert_false(exists(repo, "keys/example.com/s1.private"));
	assert_true(exists(repo, "keys/example.com/s1.txt"));
	assert_int_equal(dk_store_remove_key_files(repo, "example.com", "s1",
	    DK_STORE_PRIVATE | DK_STORE_TXT), 0);
	assert_false(exists(repo, "keys/example.com/s1.txt"));
	assert_int_equal(dk_store_remove_key_files(repo, "example.com",
	    "../../x", DK_STORE_TXT), DK_EUSAGE);
	rm_tree(repo);
	free(repo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store__golden),
		cmocka_unit_test(test_store__fast_path),
		cmocka_unit_test(test_store__leaving),
		cmocka_unit_test(test_store__round_trip),
		cmocka_unit_test(test_store__retired),
		cmocka_unit_test(test_store__no_keys_yet),
		cmocka_unit_test(test_store__repair_orphans),
		cmocka_unit_test(test_store__missing_file),
		cmocka_unit_test(test_store__malformed),
		cmocka_unit_test(test_store__modes),
		cmocka_unit_test(test_store__domains_and_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
