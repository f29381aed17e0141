/*
 * Unit tests of the write protocol of rotator/keyrepo.h (docs/design.md
 * §8), without a server: a key repository in /tmp, two domains planned
 * at NOW (one activates a key and retires another, one gets its first
 * key), and a run stopped after each of its steps as a crash would stop
 * it.  At every stop each keys.yaml names only files on disk; the next
 * locked open rolls keys/ back to HEAD exactly (git status clean, the
 * journal gone); then a whole run commits the planned state.
 */
#include <sys/stat.h>

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

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/secret.h"
#include "common/strlist.h"
#include "keygen/key.h"
#include "rotator/git.h"
#include "rotator/keyrepo.h"
#include "rotator/policy.h"
#include "rotator/store.h"
#include "tests/lib/run.h"
#include "tests/lib/tmpdir.h"

#define T0	1795353300	/* 2026-11-22T13:15:00Z */
#define DAY	86400
#define NDOM	2

static const char *domains[NDOM] = { "a.example", "b.example" };

static const char yaml[] =
    "defaults:\n"
    "  algorithms: [ed25519]\n"
    "domains:\n"
    "  - name: a.example\n"
    "  - name: b.example\n";

/* The steps of a run, in order (keyrepo.h, rotate.c). */
enum step {
	S_LOADED,	/* domains loaded and planned, nothing written */
	S_KEYS,		/* new key files written, plans applied in memory */
	S_STAGED,	/* every keys.yaml staged beside the old one */
	S_SYNCED,	/* one sync */
	S_PUBLISHED,	/* the staged keys.yaml renamed into place */
	S_SYNCED2,	/* one sync */
	S_TIDIED,	/* files the new keys.yaml no longer needs removed */
	S_COMMITTED	/* committed, journal dropped */
};

static const struct {
	enum step	 stop;
	const char	*name;
	bool		 journal;	/* .git/dkimrot.dirty at the stop */
	/* What is on disk at the stop, beside HEAD's files. */
	bool		 new_key;	/* b.example's first key */
	bool		 new_yaml;	/* both keys.yaml are the new ones */
	bool		 retired_gone;	/* a.example's r1 files removed */
} stops[] = {
	{ S_LOADED, "after planning", false, false, false, false },
	{ S_KEYS, "after the key files", true, true, false, false },
	{ S_STAGED, "after staging", true, true, false, false },
	{ S_SYNCED, "after the first sync", true, true, false, false },
	{ S_PUBLISHED, "after publishing", true, true, true, false },
	{ S_SYNCED2, "after the second sync", true, true, true, false },
	{ S_TIDIED, "after tidying", true, true, true, true },
	{ S_COMMITTED, "after the commit", false, true, true, true },
};

static char tmpdir[] = "/tmp/dk_t_keyrepo.XXXXXX";
static char repo[PATH_MAX];
static char head0[DK_GIT_ID_LEN];	/* the commit every case starts at */

static const char *
vector(const char *ext)
{
	static char path[PATH_MAX];
	const char *src = getenv("DKIMROT_SRC");

	snprintf(path, sizeof(path), "%s/tests/vectors/ed25519.%s",
	    src != NULL ? src : ".", ext);
	return path;
}

static void
put(const char *rel, const char *from, const void *data, size_t len,
    mode_t mode)
{
	char path[PATH_MAX], *buf = NULL;
	size_t n = len;

	if (from != NULL && dk_file_read(from, DK_FILE_MAX, &buf, &n) != 0)
		fail_msg("%s", dk_error_last());
	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	assert_int_equal(dk_file_replace(path, buf != NULL ? buf : data, n,
	    mode), 0);
	free(buf);
}

static void
key(struct dk_domain_keys *dk, const char *sel, enum dk_state st,
    time_t created, time_t active_from, time_t active_until)
{
	struct dk_keyinfo k;

	memset(&k, 0, sizeof(k));
	snprintf(k.selector, sizeof(k.selector), "%s", sel);
	k.alg = DK_ALG_ED25519;
	k.bits = 256;
	k.state = st;
	k.created = k.published = created;
	k.active_from = active_from;
	k.active_until = active_until;
	assert_int_equal(dk_domain_keys_add(dk, &k), 0);
}

/*
 * HEAD: a.example with r1 retiring long enough, a1 active and p1
 * pending past publish_lead (the plan: deactivate a1, activate p1,
 * retire r1); b.example configured without keys (the plan: its first
 * key).
 */
static void
make_repo(void)
{
	static const char *sels[] = { "r1", "a1", "p1" };
	static const char *files[] = { "dkimrot.yaml",
	    "keys/a.example/keys.yaml", "keys/a.example/r1.private",
	    "keys/a.example/r1.txt", "keys/a.example/a1.private",
	    "keys/a.example/a1.txt", "keys/a.example/p1.private",
	    "keys/a.example/p1.txt" };
	char *rm[] = { "rm", "-rf", repo, NULL };
	struct dk_domain_keys *dk;
	struct dk_buf y = { 0 };
	char rel[PATH_MAX];
	struct dk_git *g;
	size_t i;

	assert_int_equal(t_run(rm, NULL, 0), 0);
	assert_int_equal(dk_git_init(&g, repo), 0);
	put("dkimrot.yaml", NULL, yaml, strlen(yaml), 0644);
	assert_int_equal(dk_store_mkdir(repo, "a.example"), 0);
	assert_int_equal(dk_domain_keys_new("a.example", &dk), 0);
	key(dk, "r1", DK_STATE_RETIRING, T0 - 90 * DAY, T0 - 89 * DAY,
	    T0 - 40 * DAY);
	key(dk, "a1", DK_STATE_ACTIVE, T0 - 45 * DAY, T0 - 40 * DAY, 0);
	key(dk, "p1", DK_STATE_PENDING, T0 - 2 * DAY, 0, 0);
	assert_int_equal(dk_store_format(dk, &y), 0);
	put("keys/a.example/keys.yaml", NULL, y.data, y.len, 0644);
	for (i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "keys/a.example/%s.private",
		    sels[i]);
		put(rel, vector("private"), NULL, 0, 0600);
		snprintf(rel, sizeof(rel), "keys/a.example/%s.txt", sels[i]);
		put(rel, vector("txt"), NULL, 0, 0644);
	}
	assert_int_equal(dk_git_commit(g, files, sizeof(files) /
	    sizeof(files[0]), "t", "t@localhost", T0 - DAY, "start", head0),
	    0);
	dk_buf_dispose(&y);
	dk_domain_keys_free(dk);
	dk_git_free(g);
}

struct run {
	struct dk_keyrepo	 r;
	struct dk_strlist	 paths;
	struct dk_domain_keys	*dk[NDOM];
	struct dk_plan		 plan[NDOM];
	char			*tmp[NDOM];
	char			*rtmp[NDOM];	/* NULL: nothing retired moves */
};

/* Writes the new keys of d's plan, then applies the plan in memory. */
static void
write_keys(struct run *run, size_t d)
{
	const struct dk_policy *pol =
	    &dk_config_domain(run->r.cfg, domains[d])->policy;
	const struct dk_action *a;
	char kid[DK_GIT_ID_LEN], want[DK_GIT_ID_LEN], path[PATH_MAX], *pem;
	struct dk_key *k;
	size_t i, len;

	for (i = 0; i < run->plan[d].n; i++) {
		a = &run->plan[d].actions[i];
		if (a->type != DK_ACT_GENERATE)
			continue;
		assert_int_equal(dk_key_generate(&k, a->alg, a->bits), 0);
		assert_int_equal(dk_keyrepo_write_key(&run->r, domains[d],
		    a->selector, k, pol, &run->paths, kid), 0);
		dk_key_free(k);
		/* kid names the file as written (the record cache's key). */
		assert_int_equal(dk_store_key_path(repo, domains[d],
		    a->selector, "private", path, sizeof(path)), 0);
		assert_int_equal(dk_file_read(path, 1 << 16, &pem, &len), 0);
		assert_int_equal(dk_git_hash(pem, len, want), 0);
		assert_string_equal(kid, want);
		dk_secret_free(pem, len);
	}
	assert_int_equal(dk_plan_apply(run->dk[d], &run->plan[d]), 0);
}

/* One run, up to and including step stop. */
static void
run_until(struct run *run, enum step stop)
{
	bool committed;
	size_t d;

	memset(run, 0, sizeof(*run));
	assert_int_equal(dk_keyrepo_open(&run->r, repo, DK_KEYREPO_LOCK |
	    DK_KEYREPO_CONFIG, 0), 0);
	for (d = 0; d < NDOM; d++) {
		assert_int_equal(dk_keyrepo_load_domain(&run->r, domains[d],
		    &run->dk[d], &run->paths), 0);
		assert_int_equal(dk_policy_plan(run->dk[d],
		    &dk_config_domain(run->r.cfg, domains[d])->policy, false,
		    T0, false, &run->plan[d]), 0);
	}
	for (d = 0; d < NDOM && stop >= S_KEYS; d++)
		write_keys(run, d);
	for (d = 0; d < NDOM && stop >= S_STAGED; d++)
		assert_int_equal(dk_keyrepo_stage_domain(&run->r, run->dk[d],
		    false, &run->tmp[d], &run->rtmp[d]), 0);
	if (stop >= S_SYNCED)
		assert_int_equal(dk_keyrepo_sync(&run->r), 0);
	for (d = 0; d < NDOM && stop >= S_PUBLISHED; d++)
		assert_int_equal(dk_keyrepo_publish_domain(&run->r,
		    run->dk[d], run->tmp[d], run->rtmp[d], &run->paths), 0);
	if (stop >= S_SYNCED2)
		assert_int_equal(dk_keyrepo_sync(&run->r), 0);
	for (d = 0; d < NDOM && stop >= S_TIDIED; d++)
		assert_int_equal(dk_keyrepo_tidy_domain(&run->r, run->dk[d],
		    &run->paths), 0);
	if (stop >= S_COMMITTED) {
		assert_int_equal(dk_keyrepo_commit(&run->r, &run->paths,
		    "rotate", T0, &committed), 0);
		assert_true(committed);
	}
}

/* What a crash leaves: the process gone, its memory with it. */
static void
run_end(struct run *run)
{
	size_t d;

	for (d = 0; d < NDOM; d++) {
		free(run->tmp[d]);
		free(run->rtmp[d]);
		dk_plan_dispose(&run->plan[d]);
		dk_domain_keys_free(run->dk[d]);
	}
	dk_strlist_dispose(&run->paths);
	dk_keyrepo_dispose(&run->r);
}

static bool
exists(const char *rel)
{
	char path[PATH_MAX];

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	return access(path, F_OK) == 0;
}

/* stdout of git -C repo ARGS... (at most one line of interest). */
static void
git(char *out, size_t size, const char *a1, const char *a2,
    const char *a3)
{
	char *argv[] = { "git", "-C", repo, (char *)a1, (char *)a2,
	    (char *)a3, NULL };

	assert_int_equal(t_run(argv, out, size), 0);
}

/* Every keys.yaml on disk loads: it names only files that exist. */
static void
check_loadable(const char *name)
{
	struct dk_domain_keys *dk;
	size_t d;

	for (d = 0; d < NDOM; d++) {
		if (dk_store_load(repo, domains[d], &dk) != 0)
			fail_msg("%s: %s: %s", name, domains[d],
			    dk_error_last());
		dk_domain_keys_free(dk);
	}
}

/* b.example's first key, from its plan. */
static const char *
new_selector(const struct run *run)
{
	assert_true(run->plan[1].n > 0);
	assert_int_equal(run->plan[1].actions[0].type, DK_ACT_GENERATE);
	return run->plan[1].actions[0].selector;
}

/* HEAD holds what the plans said, nothing else. */
static void
check_committed(const char *sel)
{
	char *argv[] = { "git", "-C", repo, "ls-tree", "-r", "--name-only",
	    "HEAD", NULL };
	char out[4096], want[4096];
	struct dk_domain_keys *dk;

	assert_int_equal(t_run(argv, out, sizeof(out)), 0);
	/* r1 retired: its files left the tree, its entry stays. */
	snprintf(want, sizeof(want), "dkimrot.yaml\n"
	    "keys/a.example/a1.private\nkeys/a.example/a1.txt\n"
	    "keys/a.example/keys.yaml\n"
	    "keys/a.example/p1.private\nkeys/a.example/p1.txt\n"
	    "keys/b.example/%s.private\nkeys/b.example/%s.txt\n"
	    "keys/b.example/keys.yaml", sel, sel);
	assert_string_equal(out, want);
	assert_int_equal(dk_store_load(repo, "a.example", &dk), 0);
	assert_int_equal(dk_domain_keys_find(dk, "r1")->state,
	    DK_STATE_RETIRED);
	assert_int_equal(dk_domain_keys_find(dk, "a1")->state,
	    DK_STATE_RETIRING);
	assert_int_equal(dk_domain_keys_find(dk, "p1")->state,
	    DK_STATE_ACTIVE);
	dk_domain_keys_free(dk);
	assert_int_equal(dk_store_load(repo, "b.example", &dk), 0);
	assert_int_equal(dk->n, 1);
	assert_string_equal(dk->keys[0].selector, sel);
	assert_int_equal(dk->keys[0].state, DK_STATE_PENDING);
	dk_domain_keys_free(dk);
	assert_false(exists(".git/dkimrot.dirty"));
}

static void
test_keyrepo__crash_at_every_step(void **state)
{
	char out[4096], head[DK_GIT_ID_LEN], sel[64], rel[PATH_MAX];
	struct dk_domain_keys *dk;
	struct run run;
	size_t i;

	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		make_repo();
		run_until(&run, stops[i].stop);
		snprintf(sel, sizeof(sel), "%s", new_selector(&run));
		assert_int_equal(exists(".git/dkimrot.dirty"),
		    stops[i].journal);
		/* The keys.yaml on disk, old or new, and its files. */
		check_loadable(stops[i].name);
		snprintf(rel, sizeof(rel), "keys/b.example/%s.private", sel);
		assert_int_equal(exists(rel), stops[i].new_key);
		assert_int_equal(exists("keys/a.example/r1.private"),
		    !stops[i].retired_gone);
		assert_int_equal(dk_store_load(repo, "b.example", &dk), 0);
		assert_int_equal(dk->n, stops[i].new_yaml ? 1 : 0);
		dk_domain_keys_free(dk);
		run_end(&run);

		/* The next run: back to HEAD, exactly. */
		assert_int_equal(dk_keyrepo_open(&run.r, repo,
		    DK_KEYREPO_LOCK, 0), 0);
		memcpy(head, run.r.head, sizeof(head));
		dk_keyrepo_dispose(&run.r);
		assert_false(exists(".git/dkimrot.dirty"));
		git(out, sizeof(out), "status", "--porcelain",
		    "--untracked-files=all");
		if (out[0] != '\0')
			fail_msg("%s: not clean:\n%s", stops[i].name, out);
		assert_int_equal(strcmp(head, head0) != 0,
		    stops[i].stop == S_COMMITTED);
		check_loadable(stops[i].name);

		/* Then a whole run commits the plan (the same at NOW). */
		if (stops[i].stop != S_COMMITTED) {
			run_until(&run, S_COMMITTED);
			snprintf(sel, sizeof(sel), "%s", new_selector(&run));
			run_end(&run);
		}
		check_committed(sel);
	}
}

static int
setup(void **state)
{
	/* As dkimrot runs (dkimrot.c): the vault refuses a looser repository. */
	umask(077);
	return t_tmpdir_make(tmpdir, repo, sizeof(repo));
}

static int
teardown(void **state)
{
	return t_tmpdir_remove(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyrepo__crash_at_every_step),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
