/*
 * Unit tests of rotator/rotate.h, without a server: a run taken step by
 * step over two domains of a key repository in /tmp (the commit holds
 * both domains' lines), a dry run that changes nothing, a domain asked
 * for that is not configured, a one-domain dk_rotate_apply() that fails
 * and leaves its reason as the last error, and the run's status from its
 * domains' outcomes (a table).
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

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strlist.h"
#include "keygen/batch.h"
#include "keygen/key.h"
#include "rotator/git.h"
#include "rotator/keyrepo.h"
#include "rotator/policy.h"
#include "rotator/rotate.h"
#include "rotator/store.h"
#include "tests/lib/run.h"
#include "tests/lib/tmpdir.h"

#define T0	1795353300	/* 2026-11-22T13:15:00Z */

static const char yaml[] =
    "defaults:\n"
    "  algorithms: [ed25519]\n"
    "domains:\n"
    "  - name: a.example\n"
    "  - name: b.example\n";

static char tmpdir[] = "/tmp/dk_t_rotate.XXXXXX";
static char repo[PATH_MAX];

/* stdout of git -C repo ARGS... */
static void
git(char *out, size_t size, const char *a1, const char *a2,
    const char *a3)
{
	char *argv[] = { "git", "-C", repo, (char *)a1, (char *)a2,
	    (char *)a3, NULL };

	assert_int_equal(t_run(argv, out, size), 0);
}

static bool
exists(const char *rel)
{
	char path[PATH_MAX];

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	return access(path, F_OK) == 0;
}

/* A repository whose HEAD holds dkimrot.yaml alone: no domain has keys. */
static void
make_repo(void)
{
	static const char *files[] = { "dkimrot.yaml" };
	char *rm[] = { "rm", "-rf", repo, NULL };
	char path[PATH_MAX], head[DK_GIT_ID_LEN];
	struct dk_git *g;

	assert_int_equal(t_run(rm, NULL, 0), 0);
	assert_int_equal(dk_git_init(&g, repo), 0);
	assert_int_equal(dk_path_join(path, sizeof(path), repo,
	    "dkimrot.yaml"), 0);
	assert_int_equal(dk_file_replace(path, yaml, strlen(yaml), 0644), 0);
	assert_int_equal(dk_git_commit(g, files, 1, "t", "t@localhost",
	    T0 - 86400, "start", head), 0);
	dk_git_free(g);
}

/* "DOMAIN: +SEL pending (ed25519 256)", SEL a selector of NOW. */
static void
check_first_key(const char *line, const char *domain)
{
	char want[64];

	snprintf(want, sizeof(want), "%s: +", domain);
	assert_true(strncmp(line, want, strlen(want)) == 0);
	assert_non_null(strstr(line, " pending (ed25519 256)"));
}

static void
test_rotate__run_in_steps(void **state)
{
	struct dk_strlist only = { 0 };
	struct dk_rotate_opts o = { .only = &only };
	struct dk_rotate run;
	char out[1024], want[1024], rel[PATH_MAX];
	size_t i;

	make_repo();
	assert_int_equal(dk_rotate_open(&run, repo, &o, T0), 0);
	assert_int_equal(run.n, 2);
	dk_rotate_plan(&run, T0);
	assert_int_equal(dk_rotate_generate(&run), 0);
	assert_int_equal(run.nreq, 2);
	assert_int_equal(dk_rotate_describe_jobs(&run), 0);
	check_first_key(run.jobs[0].line.data, "a.example");
	check_first_key(run.jobs[1].line.data, "b.example");
	assert_int_equal(dk_rotate_write(&run), 0);
	for (i = 0; i < run.n; i++) {
		assert_int_equal(run.jobs[i].rc, 0);
		assert_int_equal(dk_store_key_path(NULL,
		    run.jobs[i].dc->name, run.jobs[i].plan.actions[0].selector,
		    "private", rel, sizeof(rel)), 0);
		assert_true(exists(rel));
	}
	assert_int_equal(dk_rotate_commit(&run, T0), 0);
	assert_int_equal(dk_rotate_status(&run), 0);
	snprintf(want, sizeof(want), "dkimrot rotate at "
	    "2026-11-22T13:15:00Z\n\n%s\n%s", run.jobs[0].line.data,
	    run.jobs[1].line.data);
	git(out, sizeof(out), "log", "-1", "--format=%B");
	assert_string_equal(out, want);
	git(out, sizeof(out), "status", "--porcelain", NULL);
	assert_string_equal(out, "");
	assert_false(exists(".git/dkimrot.dirty"));
	dk_rotate_dispose(&run);
}

static void
test_rotate__dry_run_changes_nothing(void **state)
{
	struct dk_strlist only = { 0 };
	struct dk_rotate_opts o = { .dry_run = true, .only = &only };
	struct dk_rotate run;
	char before[64], after[64];

	make_repo();
	git(before, sizeof(before), "rev-parse", "HEAD", NULL);
	assert_int_equal(dk_rotate_open(&run, repo, &o, T0), 0);
	dk_rotate_plan(&run, T0);
	assert_int_equal(dk_rotate_describe_jobs(&run), 0);
	check_first_key(run.jobs[0].line.data, "a.example");
	assert_int_equal(dk_rotate_commit(&run, T0), 0);
	assert_int_equal(dk_rotate_status(&run), 0);
	dk_rotate_dispose(&run);
	git(after, sizeof(after), "rev-parse", "HEAD", NULL);
	assert_string_equal(before, after);
	assert_false(exists("keys"));
	assert_false(exists(".git/dkimrot.dirty"));
}

static void
test_rotate__unconfigured_domain(void **state)
{
	struct dk_strlist only = { 0 };
	struct dk_rotate_opts o = { .only = &only };
	struct dk_rotate run;

	make_repo();
	assert_int_equal(dk_strlist_add(&only, "a.example"), 0);
	assert_int_equal(dk_strlist_add(&only, "c.example"), 0);
	assert_int_equal(dk_rotate_open(&run, repo, &o, T0), DK_EUSAGE);
	assert_string_equal(dk_error_last(),
	    "domain 'c.example' is not in dkimrot.yaml");
	dk_rotate_dispose(&run);
	dk_strlist_dispose(&only);
}

/*
 * keys/b.example planted as a link: the one-domain write fails at its
 * first step, says why as the last error, and names no path to commit.
 */
static void
test_rotate__apply_fails_with_its_reason(void **state)
{
	struct dk_strlist paths = { 0 };
	struct dk_domain_keys *dk = NULL;
	struct dk_plan plan = { 0 };
	struct dk_keyreq req = { .alg = DK_ALG_ED25519 };
	struct dk_keyrepo r;
	char path[PATH_MAX];

	make_repo();
	assert_int_equal(dk_keyrepo_open(&r, repo, DK_KEYREPO_LOCK |
	    DK_KEYREPO_CONFIG, 0), 0);
	assert_int_equal(dk_keyrepo_load_domain(&r, "b.example", &dk,
	    &paths), 0);
	assert_int_equal(dk_policy_plan(dk, &dk_config_domain(r.cfg,
	    "b.example")->policy, false, T0, false, &plan), 0);
	assert_int_equal(plan.actions[0].type, DK_ACT_GENERATE);
	assert_int_equal(dk_key_generate(&req.key, DK_ALG_ED25519, 256), 0);
	assert_int_equal(dk_path_join(path, sizeof(path), repo, "keys"), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(dk_path_join(path, sizeof(path), repo,
	    "keys/b.example"), 0);
	assert_int_equal(symlink(tmpdir, path), 0);
	assert_int_equal(dk_rotate_apply(&r, dk, &dk_config_domain(r.cfg,
	    "b.example")->policy, &plan, &req, &paths), -1);
	assert_string_equal(dk_error_last(), "refusing 'keys/b.example': "
	    "a symbolic link (the key repository holds only directories "
	    "and regular files)");
	assert_int_equal(paths.n, 0);
	assert_true(r.partial);
	dk_key_free(req.key);
	dk_plan_dispose(&plan);
	dk_domain_keys_free(dk);
	dk_strlist_dispose(&paths);
	dk_keyrepo_dispose(&r);
	assert_int_equal(unlink(path), 0);
}

/* The run's status: the worst of its domains, temporary below failed. */
static void
test_rotate__status(void **state)
{
	static const struct {
		int	rc[3];
		size_t	n;
		int	want;
	} rows[] = {
		{ .rc = { 0 }, .n = 0, .want = 0 },
		{ .rc = { 0, 0 }, .n = 2, .want = 0 },
		{ .rc = { 0, DK_ETEMP }, .n = 2, .want = DK_ETEMP },
		{ .rc = { DK_ELOCKED, 0 }, .n = 2, .want = DK_ETEMP },
		{ .rc = { DK_ETEMP, -1, 0 }, .n = 3, .want = -1 },
		{ .rc = { DK_EUSAGE, DK_ETEMP }, .n = 2, .want = -1 },
	};
	struct dk_rotate_job jobs[3];
	struct dk_rotate run;
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&run, 0, sizeof(run));
		memset(jobs, 0, sizeof(jobs));
		for (k = 0; k < rows[i].n; k++)
			jobs[k].rc = rows[i].rc[k];
		run.jobs = jobs;
		run.n = rows[i].n;
		assert_int_equal(dk_rotate_status(&run), rows[i].want);
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
		cmocka_unit_test(test_rotate__run_in_steps),
		cmocka_unit_test(test_rotate__dry_run_changes_nothing),
		cmocka_unit_test(test_rotate__unconfigured_domain),
		cmocka_unit_test(test_rotate__apply_fails_with_its_reason),
		cmocka_unit_test(test_rotate__status),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
