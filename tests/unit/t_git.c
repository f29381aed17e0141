/*
 * Unit tests of rotator/git*.c against real repositories in /tmp, with
 * every result checked through the git command line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "rotator/git.h"

#define NOW	1795353300	/* 2026-11-22T13:15:00Z */

static char base[64];	/* this test's temporary directory */
static char repo[128];	/* base/repo: the key repository */

/* Runs a shell command; its stdout goes to *out (if given). */
static int
run(char **out, const char *fmt, ...)
{
	char cmd[2048], buf[4096];
	size_t len = 0, n;
	char *data = NULL;
	va_list ap;
	FILE *p;
	int st, w;

	va_start(ap, fmt);
	w = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(w > 0 && (size_t)w < sizeof(cmd));
	assert_non_null(p = popen(cmd, "r"));
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		assert_non_null(data = realloc(data, len + n + 1));
		memcpy(data + len, buf, n);
		len += n;
	}
	st = pclose(p);
	if (out != NULL) {
		if (data == NULL)
			assert_non_null(data = calloc(1, 1));
		data[len] = '\0';
		*out = data;
	} else
		free(data);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Asserts that a command's stdout is exactly want. */
static void
expect(const char *want, const char *cmd)
{
	char *out;

	assert_int_equal(run(&out, "%s", cmd), 0);
	assert_string_equal(out, want);
	free(out);
}

/* git -C REPO ARGS, output compared. */
static void
git_expect(const char *want, const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "git -C '%s' %s", repo, args);
	expect(want, cmd);
}

/* The content of a file in the work tree, compared. */
static void
cat_expect(const char *want, const char *rel)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cat '%s/%s'", repo, rel);
	expect(want, cmd);
}

static void
git_ok(const char *args)
{
	assert_int_equal(run(NULL, "git -C '%s' %s >/dev/null 2>&1", repo,
	    args), 0);
}

static void
put(const char *rel, const char *content)
{
	char path[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "%s/%s", repo, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(dk_dir_make(path, 0755), 0);
	*slash = '/';
	assert_int_equal(dk_file_replace(path, content, strlen(content),
	    0644), 0);
}

static int
commit(struct dk_git *g, const char *const *paths, size_t n,
    char id[DK_GIT_ID_LEN])
{
	return dk_git_commit(g, paths, n, "dkimrot", "dkimrot@localhost",
	    NOW, "rotate", id);
}

static void
fsck(void)
{
	assert_int_equal(run(NULL, "git -C '%s' fsck --strict --no-progress "
	    ">/dev/null 2>&1", repo), 0);
}

/* A repository with the given files committed. */
static struct dk_git *
fixture(const char *const *files, size_t n)
{
	struct dk_git *g;
	char id[DK_GIT_ID_LEN];
	size_t i;

	assert_int_equal(dk_git_init(&g, repo), 0);
	for (i = 0; i < n; i++)
		put(files[i], files[i]);
	assert_int_equal(commit(g, files, n, id), 0);
	return g;
}

static int
setup(void **state)
{
	strcpy(base, "/tmp/dk_t_git.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(repo, sizeof(repo), "%s/repo", base);
	return 0;
}

static int
teardown(void **state)
{
	return run(NULL, "rm -rf '%s'", base);
}

static void
test_git__init_first_commit(void **state)
{
	static const char *paths[] = { "dkimrot.yaml",
	    "keys/example.com/keys.yaml" };
	char id[DK_GIT_ID_LEN], head[DK_GIT_ID_LEN], want[512], sub[256];
	char *out, real[PATH_MAX];
	struct dk_git *g, *g2;
	bool unborn;
	time_t t;

	assert_int_equal(dk_git_init(&g, repo), 0);
	assert_non_null(realpath(repo, real));
	assert_string_equal(dk_git_workdir(g), real);
	git_expect("refs/heads/main\n", "symbolic-ref HEAD");
	assert_int_equal(dk_git_head(g, head, &unborn), 0);
	assert_true(unborn);
	assert_string_equal(head, "");
	assert_int_equal(dk_git_head(g, head, NULL), DK_ENOTFOUND);
	assert_int_equal(dk_git_last_commit_time(g, &t), DK_ENOTFOUND);
	assert_int_equal(dk_git_check_state(g), 0);
	/* Nothing listed on an unborn branch: no empty root commit. */
	assert_int_equal(commit(g, paths, 0, id), DK_GIT_UNCHANGED);
	assert_string_equal(id, "");

	put("dkimrot.yaml", "domains: []\n");
	put("keys/example.com/keys.yaml", "keys: []\n");
	assert_int_equal(commit(g, paths, 2, id), 0);
	assert_int_equal(strlen(id), 40);
	snprintf(want, sizeof(want), "%s rotate\n", id);
	git_expect(want, "log --format='%H %s'");
	git_expect("dkimrot.yaml\nkeys/example.com/keys.yaml\n",
	    "ls-tree -r --name-only HEAD");
	git_expect("", "status --porcelain");
	assert_int_equal(dk_git_head(g, head, &unborn), 0);
	assert_false(unborn);
	assert_string_equal(head, id);
	assert_int_equal(dk_git_last_commit_time(g, &t), 0);
	assert_int_equal((long long)t, NOW);
	fsck();

	assert_int_equal(dk_git_init(&g2, repo), DK_EEXISTS);
	assert_null(g2);
	assert_int_equal(dk_git_open(&g2, repo), 0);
	assert_string_equal(dk_git_workdir(g2), real);
	assert_int_equal(dk_git_head(g2, head, NULL), 0);
	assert_string_equal(head, id);
	dk_git_free(g2);
	dk_git_free(g);

	/* Only the top of the work tree is the key repository. */
	snprintf(sub, sizeof(sub), "%s/keys", repo);
	assert_int_equal(dk_git_open(&g, sub), DK_ENOTFOUND);
	snprintf(want, sizeof(want), "'%s' is not a git repository (run "
	    "'dkimrot init')", sub);
	assert_string_equal(dk_error_last(), want);
	snprintf(sub, sizeof(sub), "%s/.git", repo);
	assert_int_equal(dk_git_open(&g, sub), -1);
	assert_null(g);
	assert_int_equal(dk_git_open(&g, base), DK_ENOTFOUND);
	assert_int_equal(run(&out, "git init -q --bare '%s/bare'", base), 0);
	free(out);
	snprintf(sub, sizeof(sub), "%s/bare", base);
	assert_int_equal(dk_git_open(&g, sub), -1);
	assert_non_null(strstr(dk_error_last(), "bare"));
	dk_git_free(NULL);
}

static void
test_git__only_listed_paths(void **state)
{
	static const char *files[] = { "a", "b", "c" };
	static const char *ours[] = { "a", "keys/x.com/new.txt" };
	char id[DK_GIT_ID_LEN], want[128];
	struct dk_git *g;

	g = fixture(files, 3);
	put("b", "b staged\n");
	git_ok("add b");
	put("b", "b staged, then changed again\n");
	put("c", "c unstaged\n");
	put("d", "untracked\n");
	/* What the user staged of a listed path gives way to ours. */
	put("a", "a staged by the user\n");
	git_ok("add a");
	put("a", "a ours\n");
	put("keys/x.com/new.txt", "new\n");
	assert_int_equal(commit(g, ours, 2, id), 0);
	snprintf(want, sizeof(want), "%s\n", id);
	git_expect(want, "rev-parse HEAD");
	git_expect("M\ta\nA\tkeys/x.com/new.txt\n",
	    "show --name-status --format= HEAD");
	git_expect("MM b\n M c\n?? d\n", "status --porcelain");
	git_expect("b staged\n", "show :b");
	git_expect("a ours\n", "show HEAD:a");
	git_expect("b", "show HEAD:b");
	git_expect("2\n", "rev-list --count HEAD");
	fsck();
	dk_git_free(g);
}

/*
 * A commit of more files than one batch of the read-back and of the pack
 * (4,096), with contents twice, a file larger than the small deflate
 * window and an executable: git reads the pack and its index.
 */
static void
test_git__pack(void **state)
{
	enum { N = 5000 };
	char **paths, id[DK_GIT_ID_LEN], buf[64], *big, *out, *ids;
	struct dk_git *g;
	size_t i, bigsz = 200000;

	assert_int_equal(dk_git_init(&g, repo), 0);
	assert_non_null(paths = calloc(N + 1, sizeof(*paths)));
	for (i = 0; i < N; i++) {
		assert_int_not_equal(asprintf(&paths[i], "keys/d%zu.example/"
		    "keys.yaml", i), -1);
		snprintf(buf, sizeof(buf), "file %zu\n", i % 3000);
		put(paths[i], buf);
	}
	assert_non_null(big = malloc(bigsz + 1));
	for (i = 0; i < bigsz; i++)
		big[i] = (char)('!' + (i * 7919 + i / 13) % 90);
	big[bigsz] = '\0';
	paths[N] = strdup("big");
	put("big", big);
	assert_int_equal(run(NULL, "chmod 755 '%s/big'", repo), 0);
	assert_int_equal(commit(g, (const char *const *)paths, N + 1, id), 0);
	assert_int_equal(run(&out, "cd '%s' && for i in .git/objects/pack/"
	    "*.idx; do git verify-pack \"$i\" || exit 1; done && git "
	    "count-objects -v | grep -E '^(count|in-pack):'", repo), 0);
	/*
	 * 3,000 blobs and the big one, 3,000 domain trees (two domains of
	 * one content have one tree), keys/ and the top; the commit is a
	 * loose object.
	 */
	assert_string_equal(out, "count: 1\nin-pack: 6003\n");
	free(out);
	/*
	 * The pack in the order a reader of the tree wants: the blobs by
	 * path, the trees below before those above, the top last.
	 */
	assert_int_equal(run(&out, "cd '%s' && git verify-pack -v .git/"
	    "objects/pack/*.idx | awk '$2 == \"blob\" || $2 == \"tree\" "
	    "{ print $1 }' | sed -n '1p;2p;6002p;6003p' | tr '\\n' ' '",
	    repo), 0);
	assert_int_equal(run(&ids, "cd '%s' && git rev-parse HEAD:big "
	    "HEAD:keys/d0.example/keys.yaml HEAD:keys 'HEAD^{tree}' | "
	    "tr '\\n' ' '", repo), 0);
	assert_string_equal(out, ids);
	free(out);
	free(ids);
	fsck();
	assert_int_equal(run(&out, "git -C '%s' show HEAD:big", repo), 0);
	assert_string_equal(out, big);
	free(out);
	git_expect("100755\n", "ls-tree --format='%(objectmode)' HEAD big");
	git_expect("file 1999\n", "show HEAD:keys/d1999.example/keys.yaml");
	git_expect("", "status --porcelain");
	for (i = 0; i <= N; i++)
		free(paths[i]);
	free(paths);
	free(big);
	dk_git_free(g);
}

static void
test_git__delete_and_replace(void **state)
{
	static const char *files[] = { "a", "dir/x", "dir/y", "k" };
	static const char *gone[] = { "a", "dir" };
	static const char *df[] = { "k", "k/x" };
	static const char *never[] = { "never/was" };
	char id[DK_GIT_ID_LEN];
	struct dk_git *g;

	g = fixture(files, 4);
	assert_int_equal(run(NULL, "rm -r '%s/a' '%s/dir'", repo, repo), 0);
	assert_int_equal(commit(g, gone, 2, id), 0);
	git_expect("D\ta\nD\tdir/x\nD\tdir/y\n",
	    "show --name-status --format= HEAD");
	git_expect("", "status --porcelain");
	/* A file replaced by a directory of the same name. */
	assert_int_equal(run(NULL, "rm '%s/k'", repo), 0);
	put("k/x", "x\n");
	assert_int_equal(commit(g, df, 2, id), 0);
	git_expect("k/x\n", "ls-tree -r --name-only HEAD");
	git_expect("", "status --porcelain");
	/* And back: the directory replaced by a file. */
	assert_int_equal(run(NULL, "rm -r '%s/k'", repo), 0);
	put("k", "k again\n");
	assert_int_equal(commit(g, df, 2, id), 0);
	git_expect("k\n", "ls-tree -r --name-only HEAD");
	git_expect("k again\n", "show HEAD:k");
	git_expect("", "status --porcelain");
	assert_int_equal(commit(g, never, 1, id), DK_GIT_UNCHANGED);
	fsck();
	dk_git_free(g);
}

static void
test_git__nothing_to_commit(void **state)
{
	static const char *files[] = { "a", "b" };
	char id[DK_GIT_ID_LEN], head[DK_GIT_ID_LEN];
	struct dk_git *g;

	g = fixture(files, 2);
	assert_int_equal(dk_git_head(g, head, NULL), 0);
	/* b changed but is not listed: nothing to commit for us. */
	put("b", "changed\n");
	assert_int_equal(commit(g, files, 1, id), DK_GIT_UNCHANGED);
	assert_string_equal(id, head);
	assert_non_null(strstr(dk_error_last(), "nothing to commit"));
	git_expect("1\n", "rev-list --count HEAD");
	git_expect(" M b\n", "status --porcelain");
	dk_git_free(g);
}

static void
test_git__author_and_message(void **state)
{
	static const char *paths[] = { "f" };
	char id[DK_GIT_ID_LEN], *out;
	struct dk_git *g;

	assert_int_equal(dk_git_init(&g, repo), 0);
	put("f", "x\n");
	assert_int_equal(dk_git_commit(g, paths, 1, "Jöns Röt", "jr@ex.org",
	    NOW, "rotate: example.com  \n\n\n\nnew key\n\n", id), 0);
	git_expect("Jöns Röt\njr@ex.org\n1795353300\nJöns Röt\njr@ex.org\n"
	    "1795353300\n+0000\n",
	    "log -1 --format='%an%n%ae%n%at%n%cn%n%ce%n%ct%n%ad' "
	    "--date=format:%z");
	assert_int_equal(run(&out, "git -C '%s' cat-file commit HEAD", repo),
	    0);
	assert_non_null(strstr(out, "\n\nrotate: example.com\n\nnew key\n"));
	assert_int_equal(strcmp(out + strlen(out) - 9, "\nnew key\n"), 0);
	free(out);
	/* White space cleaned up exactly as git stripspace does. */
	put("f", "z\n");
	put("m", "\n \n\t one\t \r\n  two\n\n \n\t\n\vthree \f\n\n");
	assert_int_equal(dk_git_commit(g, paths, 1, "a", "c", NOW,
	    "\n \n\t one\t \r\n  two\n\n \n\t\n\vthree \f", id), 0);
	assert_int_equal(run(&out, "cd '%s' && git stripspace <m >m.want && "
	    "git cat-file commit HEAD | sed '1,/^$/d' >m.got && "
	    "cmp m.want m.got && echo same", repo), 0);
	assert_string_equal(out, "same\n");
	free(out);
	put("f", "y\n");
	assert_int_equal(dk_git_commit(g, paths, 1, "a <b>", "c", NOW, "m",
	    id), -1);
	assert_int_equal(dk_git_commit(g, paths, 1, "a", "c", NOW, " \n\n",
	    id), -1);
	git_expect("2\n", "rev-list --count HEAD");
	dk_git_free(g);
}

static void
test_git__bad_paths(void **state)
{
	static const char *bad[] = { "", "/etc/passwd", "../x", "a/../b",
	    "./a", "a//b", "a/", ".git/config", "x/.GIT/y", "dir", "link" };
	static const char *files[] = { "a" };
	char id[DK_GIT_ID_LEN];
	struct dk_git *g;
	size_t i;

	g = fixture(files, 1);
	put("dir/f", "f\n");
	assert_int_equal(run(NULL, "ln -s a '%s/link'", repo), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(commit(g, &bad[i], 1, id), -1);
	git_expect("1\n", "rev-list --count HEAD");
	dk_git_free(g);
}

static void
test_git__first_parent(void **state)
{
	static const char *files[] = { "a" };
	char id[DK_GIT_ID_LEN], prev[DK_GIT_ID_LEN], side[DK_GIT_ID_LEN];
	struct dk_git *g;
	size_t n;
	char *out;

	g = fixture(files, 1);
	put("a", "2\n");
	assert_int_equal(commit(g, files, 1, id), 0);
	git_ok("checkout -q -b side");
	git_ok("commit -q --allow-empty -m side1");
	git_ok("commit -q --allow-empty -m side2");
	git_ok("checkout -q main");
	put("a", "3\n");
	assert_int_equal(commit(g, files, 1, id), 0);
	git_ok("merge -q --no-ff -m merge side");
	assert_int_equal(dk_git_resolve(g, "HEAD", id), 0);
	assert_int_equal(dk_git_count_first_parent(g, id, NULL, 0, &n), 0);
	assert_int_equal(n, 4);
	git_expect("4\n", "rev-list --first-parent --count HEAD");
	git_expect("6\n", "rev-list --count HEAD");
	/* A commit on top of the merge keeps counting. */
	put("a", "4\n");
	assert_int_equal(dk_git_resolve(g, "HEAD", prev), 0);
	assert_int_equal(commit(g, files, 1, id), 0);
	assert_int_equal(dk_git_count_first_parent(g, id, NULL, 0, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(run(&out, "git -C '%s' rev-parse HEAD^1", repo), 0);
	assert_int_equal(strncmp(out, prev, 40), 0);
	free(out);
	/*
	 * A known count stops the walk where it meets its commit (taken
	 * as given: 100 makes 101); one off the chain, or not an id, is
	 * walked past.
	 */
	assert_int_equal(dk_git_count_first_parent(g, id, prev, 4, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(dk_git_count_first_parent(g, id, prev, 100, &n), 0);
	assert_int_equal(n, 101);
	assert_int_equal(dk_git_count_first_parent(g, id, id, 5, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(dk_git_resolve(g, "side", side), 0);
	assert_int_equal(dk_git_count_first_parent(g, id, side, 100, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(dk_git_count_first_parent(g, id, "HEAD", 100, &n),
	    0);
	assert_int_equal(n, 5);
	assert_int_equal(dk_git_resolve(g, "side", id), 0);
	assert_int_equal(dk_git_count_first_parent(g, id, NULL, 0, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(dk_git_count_first_parent(g, "HEAD", NULL, 0, &n), -1);
	fsck();
	dk_git_free(g);
}

struct listing {
	char	text[256];
};

static int
collect(const char *name, bool is_dir, void *arg)
{
	struct listing *l = arg;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%s%s ", name,
	    is_dir ? "/" : "");
	return 0;
}

static int
stop_early(const char *name, bool is_dir, void *arg)
{
	++*(int *)arg;
	return 7;
}

static void
test_git__read_commits(void **state)
{
	static const char *v1[] = { "f", "d/x", "d/y" };
	static const char *v2[] = { "f", "d/y", "d/z" };
	char old[DK_GIT_ID_LEN], cur[DK_GIT_ID_LEN], cmd[256], *data;
	char *out;
	struct listing l;
	struct dk_git *g;
	size_t len;
	int calls = 0;

	g = fixture(v1, 3);
	put("f", "v2\n");
	assert_int_equal(run(NULL, "rm '%s/d/y'", repo), 0);
	put("d/z", "z\n");
	assert_int_equal(run(NULL, "printf 'a\\000b' > '%s/d/z'", repo), 0);
	assert_int_equal(commit(g, v2, 3, cur), 0);
	put("f", "v3, not committed\n");

	assert_int_equal(dk_git_resolve(g, "HEAD~1", old), 0);
	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD~1", repo);
	assert_int_equal(run(&out, "%s", cmd), 0);
	assert_int_equal(strncmp(out, old, 40), 0);
	free(out);
	assert_int_equal(dk_git_read_file(g, old, "f", &data, &len), 0);
	assert_string_equal(data, "f");
	assert_int_equal(len, 1);
	free(data);
	assert_int_equal(dk_git_read_file(g, cur, "f", &data, NULL), 0);
	assert_string_equal(data, "v2\n");
	free(data);
	assert_int_equal(dk_git_read_file(g, cur, "d/z", &data, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "a\0b", 4);
	free(data);
	assert_int_equal(dk_git_read_file(g, cur, "d/y", &data, &len),
	    DK_ENOTFOUND);
	assert_null(data);
	assert_int_equal(dk_git_read_file(g, cur, "d", &data, &len), -1);
	assert_int_equal(dk_git_read_file(g, "HEAD", "f", &data, &len), -1);
	assert_int_equal(dk_git_read_file(g,
	    "0123456789012345678901234567890123456789", "f", &data, &len),
	    DK_ENOTFOUND);

	memset(&l, 0, sizeof(l));
	assert_int_equal(dk_git_list_dir(g, old, "d", collect, &l), 0);
	assert_string_equal(l.text, "x y ");
	memset(&l, 0, sizeof(l));
	assert_int_equal(dk_git_list_dir(g, cur, "d", collect, &l), 0);
	assert_string_equal(l.text, "x z ");
	memset(&l, 0, sizeof(l));
	assert_int_equal(dk_git_list_dir(g, cur, "", collect, &l), 0);
	assert_string_equal(l.text, "d/ f ");
	assert_int_equal(dk_git_list_dir(g, cur, "", stop_early, &calls), 7);
	assert_int_equal(calls, 1);
	assert_int_equal(dk_git_list_dir(g, cur, "nope", collect, &l),
	    DK_ENOTFOUND);
	assert_int_equal(dk_git_list_dir(g, cur, "f", collect, &l), -1);

	assert_int_equal(dk_git_resolve(g, "nosuchbranch", old),
	    DK_ENOTFOUND);
	assert_int_equal(dk_git_resolve(g, "HEAD~5", old), DK_ENOTFOUND);
	assert_int_equal(dk_git_resolve(g, "main", old), 0);
	assert_string_equal(old, cur);
	dk_git_free(g);
}

static void
test_git__refuse_detached(void **state)
{
	static const char *files[] = { "a" };
	char id[DK_GIT_ID_LEN], head[DK_GIT_ID_LEN];
	struct dk_git *g;

	g = fixture(files, 1);
	assert_int_equal(dk_git_head(g, head, NULL), 0);
	git_ok("checkout -q --detach");
	assert_int_equal(dk_git_check_state(g), -1);
	assert_non_null(strstr(dk_error_last(), "HEAD is detached"));
	put("a", "changed\n");
	assert_int_equal(commit(g, files, 1, id), -1);
	git_expect("1\n", "rev-list --count HEAD");
	git_ok("checkout -q main");
	assert_int_equal(dk_git_check_state(g), 0);
	assert_int_equal(commit(g, files, 1, id), 0);
	dk_git_free(g);
}

static void
test_git__refuse_merge(void **state)
{
	static const char *files[] = { "a" };
	char id[DK_GIT_ID_LEN];
	struct dk_git *g;

	g = fixture(files, 1);
	git_ok("checkout -q -b side");
	put("b", "side\n");
	git_ok("add b");
	git_ok("commit -q -m side");
	git_ok("checkout -q main");
	git_ok("merge -q --no-commit --no-ff side");
	assert_int_equal(dk_git_check_state(g), -1);
	assert_non_null(strstr(dk_error_last(), "a merge is in progress"));
	put("a", "changed\n");
	assert_int_equal(commit(g, files, 1, id), -1);
	git_ok("merge --abort");
	assert_int_equal(dk_git_check_state(g), 0);
	fsck();
	dk_git_free(g);
}

static void
test_git__hooks(void **state)
{
	static const char *files[] = { "a" };
	char want[PATH_MAX + 16], real[PATH_MAX], hook[PATH_MAX];
	struct dk_git *g;
	struct stat st;
	int status;

	g = fixture(files, 1);
	assert_non_null(realpath(repo, real));
	assert_int_equal(dk_git_run_hook(g, "post-commit", &status),
	    DK_ENOTFOUND);
	assert_int_equal(dk_git_install_hook(g, "post-commit",
	    "#!/bin/sh\npwd > marker\nread x || echo eof >> marker\n"
	    "[ \"$(readlink /proc/$$/fd/1)\" = "
	    "\"$(readlink /proc/$$/fd/2)\" ] && echo 1to2 >> marker\n"), 0);
	snprintf(hook, sizeof(hook), "%s/.git/hooks/post-commit", repo);
	assert_int_equal(stat(hook, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(dk_git_run_hook(g, "post-commit", &status), 0);
	assert_int_equal(status, 0);
	snprintf(want, sizeof(want), "%s\neof\n1to2\n", real);
	cat_expect(want, "marker");

	/* Exit status and no "#!" line (runs under sh, as in git). */
	assert_int_equal(dk_git_install_hook(g, "post-commit", "exit 3\n"),
	    0);
	assert_int_equal(dk_git_run_hook(g, "post-commit", &status), 0);
	assert_int_equal(status, 3);
	assert_non_null(strstr(dk_error_last(), "status 3"));

	/* Not executable: ignored, as git does. */
	assert_int_equal(dk_git_install_hook(g, "post-commit",
	    "#!/bin/sh\ntouch ran\n"), 0);
	assert_int_equal(chmod(hook, 0644), 0);
	assert_int_equal(dk_git_run_hook(g, "post-commit", &status),
	    DK_ENOTFOUND);
	snprintf(want, sizeof(want), "%s/ran", repo);
	assert_int_equal(access(want, F_OK), -1);

	assert_int_equal(dk_git_run_hook(g, "../post-commit", &status), -1);
	assert_int_equal(dk_git_install_hook(g, "a/b", "x"), -1);

	/* core.hooksPath wins, relative to the work tree. */
	git_ok("config core.hooksPath myhooks");
	put("myhooks/post-commit", "#!/bin/sh\necho custom > marker2\n");
	assert_int_equal(run(NULL, "chmod 755 '%s/myhooks/post-commit'",
	    repo), 0);
	assert_int_equal(dk_git_run_hook(g, "post-commit", &status), 0);
	assert_int_equal(status, 0);
	cat_expect("custom\n", "marker2");
	assert_int_equal(dk_git_install_hook(g, "post-commit", "x"), -1);
	assert_non_null(strstr(dk_error_last(), "core.hooksPath"));
	/* ... unless it names .git/hooks itself. */
	git_ok("config core.hooksPath .git/hooks");
	assert_int_equal(dk_git_install_hook(g, "post-commit",
	    "#!/bin/sh\nexit 0\n"), 0);
	assert_int_equal(dk_git_run_hook(g, "post-commit", &status), 0);
	assert_int_equal(status, 0);
	dk_git_free(g);
}

static void
test_git__index_locked(void **state)
{
	static const char *files[] = { "a", "b" };
	char id[DK_GIT_ID_LEN], lock[PATH_MAX];
	struct dk_git *g;

	g = fixture(files, 2);
	snprintf(lock, sizeof(lock), "%s/.git/index.lock", repo);
	assert_int_equal(dk_file_create(lock, "", 0, 0644), 0);
	put("a", "changed\n");
	/* The commit stands even though the index could not follow. */
	assert_int_equal(commit(g, files, 2, id), 0);
	git_expect("2\n", "rev-list --count HEAD");
	assert_int_equal(unlink(lock), 0);
	git_expect("MM a\n", "status --porcelain");
	git_ok("reset -q -- a");
	git_expect("", "status --porcelain");
	fsck();
	dk_git_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_git__init_first_commit),
		T(test_git__only_listed_paths),
		T(test_git__delete_and_replace),
		T(test_git__nothing_to_commit),
		T(test_git__author_and_message),
		T(test_git__pack),
		T(test_git__bad_paths),
		T(test_git__first_parent),
		T(test_git__read_commits),
		T(test_git__refuse_detached),
		T(test_git__refuse_merge),
		T(test_git__hooks),
		T(test_git__index_locked),
#undef T
	};

	/* The user's configuration must not change what git does here. */
	setenv("HOME", "/nonexistent/dk_t_git", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "t", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@localhost", 1);
	setenv("GIT_COMMITTER_NAME", "t", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@localhost", 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	unsetenv("GIT_INDEX_FILE");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
