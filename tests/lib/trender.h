/*
 * Unit-test helper of the render tests (tests/unit/t_render.c,
 * t_render_spec.c): a small key repository made in /tmp from the fixed
 * keys of tests/vectors/, committed with rotator/git.h, and the files
 * of both packages that one commit renders.  Each test binary includes
 * it once; its setup and teardown make and remove the scratch
 * directory.
 */
#ifndef DK_TEST_TRENDER_H
#define DK_TEST_TRENDER_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "packaging/render.h"
#include "packaging/rpm.h"
#include "rotator/git.h"
#include "rotator/keys.h"
#include "rotator/store.h"
#include "tests/lib/run.h"
#include "tests/lib/tmpdir.h"

#define T0	1795353300	/* 2026-11-22T13:15:00Z */
#define DAY	86400
#define VSEL	"20261122131500"	/* the selector of the vectors */
#define VDOM	"example.com"		/* and their domain */

/* A key of a case: its vector (KEY.private, TXT.txt) and state. */
struct rkey {
	const char	*sel;
	const char	*key;		/* tests/vectors/KEY.private */
	const char	*txt;		/* tests/vectors/TXT.txt */
	enum dk_alg	 alg;
	int		 bits;
	enum dk_state	 state;
	bool		 nofile;	/* in keys.yaml, not in the commit */
};

struct rdom {
	const char	*name;
	struct rkey	 keys[5];
	bool		 leaving;	/* dkimrot remove (policy.h rule 8) */
};

struct rcase {
	const char	*name;
	const char	*yaml;		/* dkimrot.yaml */
	struct rdom	 doms[3];
	int		 rc;
	const char	*err;		/* rc != 0: part of the message */
	/*
	 * Every file of both packages, in order: "P" private or "p" public,
	 * the path, the mode, owner:group, " dir" or " config".
	 */
	const char	*files;
	/*
	 * The lines after the comment of KeyTable and SigningTable, which
	 * are also KeyTable.rsa's and SigningTable.rsa's; then those of
	 * KeyTable.ed25519 and SigningTable.ed25519 (NULL: none).
	 */
	const char	*keytable;
	const char	*signingtable;
	const char	*keytable_ed;
	const char	*signingtable_ed;
	/*
	 * Per zone fragment, "DOMAIN TTL SEL..." naming the keys it holds
	 * in order; "-" after a selector: revoked, p= empty.
	 */
	const char	*zones[3];
	const char	*description;
};

#define K(s, v, b, st)	{ s, v, v, DK_ALG_RSA, b, DK_STATE_##st, false }
#define E(s, st)	{ s, "ed25519", "ed25519", DK_ALG_ED25519, 256, \
			  DK_STATE_##st, false }

static const char yaml_one[] =
    "domains:\n"
    "  - name: example.com\n";

static const char yaml_dual[] =
    "domains:\n"
    "  - name: example.com\n"
    "    algorithms: [rsa, ed25519]\n";


static const char yaml_flags[] =
    "defaults:\n"
    "  ttl: 600\n"
    "domains:\n"
    "  - name: example.com\n"
    "    restrict: true\n"
    "    testmode: true\n"
    "  - name: nokeys.example\n"
    "packaging:\n"
    "  key_dir: /srv/keys\n"
    "  table_dir: /srv/tables\n"
    "  zone_dir: /srv/zones\n"
    "  key_owner: mail\n"
    "  key_group: mail\n";


static char tmpdir[] = "/tmp/dk_t_render.XXXXXX";
static char repo[PATH_MAX];

static const char *
vector(const char *name, const char *ext)
{
	static char path[PATH_MAX];
	const char *src = getenv("DKIMROT_SRC");
	int n;

	n = snprintf(path, sizeof(path), "%s/tests/vectors/%s.%s",
	    src != NULL ? src : ".", name, ext);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	return path;
}

static char *
slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;

	if (dk_file_read(path, DK_FILE_MAX, &buf, &n) != 0)
		fail_msg("%s", dk_error_last());
	if (len != NULL)
		*len = n;
	return buf;
}

static inline void
put(const char *rel, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX], *slash;

	assert_int_equal(dk_path_join(path, sizeof(path), repo, rel), 0);
	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(dk_dir_make(path, 0700), 0);
	*slash = '/';
	assert_int_equal(dk_file_replace(path, data, len, mode), 0);
}

static inline void
add_path(struct dk_buf *paths, const char *rel)
{
	assert_int_equal(dk_buf_printf(paths, "%s%c", rel, '\0'), 0);
}

/* keys/D/keys.yaml and the key files of d; their paths into paths. */
static inline void
put_domain(const struct rdom *d, struct dk_buf *paths)
{
	struct dk_domain_keys *dk;
	struct dk_keyinfo k;
	struct dk_buf y = { 0 };
	const struct rkey *rk;
	char rel[PATH_MAX], *pem;
	size_t i, len;

	assert_int_equal(dk_domain_keys_new(d->name, &dk), 0);
	if (d->leaving)
		dk->leaving = T0 - DAY;
	for (i = 0; i < 5 && d->keys[i].sel != NULL; i++) {
		rk = &d->keys[i];
		memset(&k, 0, sizeof(k));
		snprintf(k.selector, sizeof(k.selector), "%s", rk->sel);
		k.alg = rk->alg;
		k.bits = rk->bits;
		k.state = rk->state;
		k.created = k.published = T0 - (time_t)(50 - i) * DAY;
		if (rk->state != DK_STATE_PENDING)
			k.active_from = k.created + DAY;
		if (rk->state == DK_STATE_RETIRING ||
		    rk->state == DK_STATE_RETIRED ||
		    rk->state == DK_STATE_REVOKED)
			k.active_until = k.active_from + DAY;
		if (rk->state == DK_STATE_RETIRED)
			k.retired = k.active_until + 5 * DAY;
		if (rk->state == DK_STATE_REVOKED)
			k.revoked = k.active_until;
		assert_int_equal(dk_domain_keys_add(dk, &k), 0);
		if (!dk_state_published(rk->state) || rk->nofile)
			continue;
		assert_int_equal(dk_store_key_path(NULL, d->name, rk->sel,
		    "private", rel, sizeof(rel)), 0);
		pem = slurp(vector(rk->key, "private"), &len);
		put(rel, pem, len, 0600);
		free(pem);
		add_path(paths, rel);
	}
	assert_int_equal(dk_store_format(dk, &y), 0);
	assert_int_equal(dk_store_yaml_path(NULL, d->name, rel, sizeof(rel)),
	    0);
	put(rel, y.data, y.len, 0644);
	add_path(paths, rel);
	dk_buf_dispose(&y);
	dk_domain_keys_free(dk);
}

/* A fresh repository holding the case, committed; its id to id. */
static inline struct dk_git *
make_repo(const struct rcase *c, char id[DK_GIT_ID_LEN])
{
	char *rm[] = { "rm", "-rf", repo, NULL };
	struct dk_buf paths = { 0 };
	const char *v[32];
	struct dk_git *g;
	size_t i, n = 0;
	const char *p;

	assert_int_equal(t_run(rm, NULL, 0), 0);
	assert_int_equal(dk_git_init(&g, repo), 0);
	put("dkimrot.yaml", c->yaml, strlen(c->yaml), 0644);
	add_path(&paths, "dkimrot.yaml");
	for (i = 0; i < 3 && c->doms[i].name != NULL; i++)
		put_domain(&c->doms[i], &paths);
	for (p = paths.data; p < paths.data + paths.len; p += strlen(p) + 1) {
		assert_true(n < sizeof(v) / sizeof(v[0]));
		v[n++] = p;
	}
	assert_int_equal(dk_git_commit(g, v, n, "t", "t@localhost", T0,
	    c->name, id), 0);
	dk_buf_dispose(&paths);
	return g;
}

static inline const struct dk_rpm_file *
find(const struct dk_render *r, const char *suffix)
{
	size_t i, n = strlen(suffix), len;

	for (i = 0; i < r->npriv + r->npub; i++) {
		const struct dk_rpm_file *f = i < r->npriv ? &r->priv[i] :
		    &r->pub[i - r->npriv];

		len = strlen(f->path);
		if (len >= n && strcmp(f->path + len - n, suffix) == 0)
			return f;
	}
	fail_msg("no file ending in '%s'", suffix);
	return NULL;
}

static inline void
check_file(const struct dk_rpm_file *f, const char *want)
{
	assert_int_equal(f->len, strlen(want));
	if (memcmp(f->data, want, f->len) != 0)
		fail_msg("%s:\n%.*s\nwanted:\n%s", f->path, (int)f->len,
		    (const char *)f->data, want);
}

static inline int
setup(void **state)
{
	return t_tmpdir_make(tmpdir, repo, sizeof(repo));
}

static inline int
teardown(void **state)
{
	return t_tmpdir_remove(tmpdir);
}

#endif
