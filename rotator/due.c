/*
 * The due index (rotator/due.h).  The file, text, one record a line:
 *
 *   dkimrot-due 1
 *   head COMMIT-ID
 *   config BLOB-ID          of the dkimrot.yaml bytes
 *   program BLOB-ID         of /proc/self/exe
 *   made EPOCH
 *   keys STAMP              of keys/: INODE:MTIME-SEC:MTIME-NSEC
 *   c EPOCH STAMP NAME      a configured domain, when it is due, and
 *                           the stamp of keys/NAME
 *   l EPOCH STAMP NAME      a leaving domain dkimrot.yaml no longer lists
 *   u 0 STAMP NAME          keys/NAME, neither configured nor leaving
 *   end COUNT               the number of c, l and u lines
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/grow.h"
#include "common/log.h"
#include "common/name.h"
#include "common/tree.h"
#include "rotator/due.h"
#include "rotator/git.h"
#include "rotator/keyrepo.h"
#include "rotator/policy.h"
#include "rotator/store.h"

#define DUE_FILE	".git/dkimrot-due"
#define DUE_MAGIC	"dkimrot-due 1"
/* 100,000 domains take some 4 MB. */
#define DUE_MAX		(256u * 1024 * 1024)
#define PROGRAM_MAX	(512u * 1024 * 1024)

static const char kinds[] = "clu";

/* The blob id of this program, computed once. */
static const char *
program_id(void)
{
	static char id[DK_GIT_ID_LEN];
	char *buf = NULL;
	size_t len;

	if (id[0] != '\0')
		return id;
	if (dk_file_read("/proc/self/exe", PROGRAM_MAX, &buf, &len) != 0 ||
	    dk_git_hash(buf, len, id) != 0)
		id[0] = '\0';
	free(buf);
	return id[0] != '\0' ? id : NULL;
}

static int
due_path(const struct dk_keyrepo *r, char *buf, size_t size)
{
	return dk_path_join(buf, size, r->path, DUE_FILE);
}

int
dk_due_add(struct dk_due *d, const char *name, long long due,
    enum dk_due_kind kind)
{
	if (dk_grow(&d->v, &d->cap, d->n, sizeof(*d->v), 64) != 0)
		return -1;
	if ((d->v[d->n].name = strdup(name)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	d->v[d->n].due = due;
	d->v[d->n].kind = kind;
	memset(&d->v[d->n].stamp, 0, sizeof(d->v[d->n].stamp));
	d->n++;
	return 0;
}

void
dk_due_dispose(struct dk_due *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	if (d->keys_open)
		close(d->keys_fd);
	memset(d, 0, sizeof(*d));
}

static void
stamp_of(const struct stat *st, struct dk_due_stamp *out)
{
	out->ino = (unsigned long long)st->st_ino;
	out->sec = (long long)st->st_mtim.tv_sec;
	out->nsec = st->st_mtim.tv_nsec;
}

static bool
stamp_same(const struct dk_due_stamp *a, const struct dk_due_stamp *b)
{
	return a->ino == b->ino && a->sec == b->sec && a->nsec == b->nsec;
}

/* "INO:SEC:NSEC" at s into out; the character after it, or NULL. */
static const char *
stamp_parse(const char *s, struct dk_due_stamp *out)
{
	char *e;

	errno = 0;
	out->ino = strtoull(s, &e, 10);
	if (*e != ':')
		return NULL;
	out->sec = strtoll(e + 1, &e, 10);
	if (*e != ':')
		return NULL;
	out->nsec = strtol(e + 1, &e, 10);
	return errno == 0 ? e : NULL;
}

/* The stamp of keys/name (name "" for keys/ itself); zero if none. */
static void
stamp_dir(int keys_fd, const char *name, struct dk_due_stamp *out)
{
	struct stat st;

	memset(out, 0, sizeof(*out));
	if ((name[0] == '\0' ? fstat(keys_fd, &st) :
	    fstatat(keys_fd, name, &st, AT_SYMLINK_NOFOLLOW)) == 0 &&
	    S_ISDIR(st.st_mode))
		stamp_of(&st, out);
}

bool
dk_due_unchanged(const struct dk_due *d, const struct dk_due_entry *e)
{
	struct dk_due_stamp now;

	if (!d->keys_open)
		return false;
	stamp_dir(d->keys_fd, e->name, &now);
	return now.ino != 0 && stamp_same(&now, &e->stamp);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct dk_due_entry *)a)->name,
	    ((const struct dk_due_entry *)b)->name);
}

const struct dk_due_entry *
dk_due_find(const struct dk_due *d, const char *name)
{
	const struct dk_due_entry key = { .name = (char *)name };

	if (d->n == 0)
		return NULL;
	return bsearch(&key, d->v, d->n, sizeof(*d->v), by_name);
}

/* The next line of *p (NUL-terminated in place), or NULL at the end. */
static char *
next_line(char **p)
{
	char *s = *p, *nl;

	if (*s == '\0')
		return NULL;
	if ((nl = strchr(s, '\n')) == NULL)
		return NULL;	/* no last newline: cut short */
	*nl = '\0';
	*p = nl + 1;
	return s;
}

/* "WORD VALUE": VALUE when the line is that, else NULL. */
static const char *
field(const char *line, const char *word)
{
	size_t n = strlen(word);

	if (line == NULL || strncmp(line, word, n) != 0 || line[n] != ' ')
		return NULL;
	return line + n + 1;
}

/* One "K EPOCH STAMP NAME" line into d; 1 when it is the "end" line. */
static int
entry(struct dk_due *d, const char *line, size_t *count)
{
	struct dk_due_stamp st;
	const char *k, *end, *name;
	char *rest;
	long long due;
	unsigned long long n;

	if ((end = field(line, "end")) != NULL) {
		n = strtoull(end, &rest, 10);
		return *rest == '\0' && n == *count ? 1 : -1;
	}
	if (line[0] == '\0' || (k = strchr(kinds, line[0])) == NULL ||
	    line[1] != ' ')
		return -1;
	errno = 0;
	due = strtoll(line + 2, &rest, 10);
	if (errno != 0 || due < 0 || *rest != ' ' ||
	    (name = stamp_parse(rest + 1, &st)) == NULL || *name != ' ' ||
	    dk_name_domain_check(name + 1) != 0)
		return -1;
	if (dk_due_add(d, name + 1, due, (enum dk_due_kind)(k - kinds)) != 0)
		return -2;
	d->v[d->n - 1].stamp = st;
	(*count)++;
	return 0;
}

/* Why the index in buf does not hold for r at now, or NULL. */
static const char *
stale(const struct dk_keyrepo *r, time_t now, char **p, struct dk_due *d)
{
	const char *v, *line, *prog = program_id();
	struct dk_due_stamp keys;
	long long made;

	if ((line = next_line(p)) == NULL || strcmp(line, DUE_MAGIC) != 0)
		return "not a due index";
	if ((v = field(next_line(p), "head")) == NULL ||
	    strcmp(v, r->head) != 0)
		return "made for another commit";
	if ((v = field(next_line(p), "config")) == NULL ||
	    strcmp(v, r->cfg_id) != 0)
		return "made for another dkimrot.yaml";
	if ((v = field(next_line(p), "program")) == NULL || prog == NULL ||
	    strcmp(v, prog) != 0)
		return "made by another dkimrot";
	if ((v = field(next_line(p), "made")) == NULL ||
	    (made = strtoll(v, NULL, 10)) <= 0)
		return "cut short";
	if (made > (long long)now)
		return "made after now (the clock went back)";
	if ((v = field(next_line(p), "keys")) == NULL ||
	    (v = stamp_parse(v, &d->keys)) == NULL || *v != '\0')
		return "cut short";
	if (dk_tree_dir(r->path, DK_STORE_KEYS_DIR, 0, &d->keys_fd) != 0) {
		dk_error_clear();
		return "keys/ cannot be opened";
	}
	d->keys_open = true;
	stamp_dir(d->keys_fd, "", &keys);
	if (!stamp_same(&keys, &d->keys))
		return "keys/ changed since (a directory made or removed)";
	return NULL;
}

int
dk_due_load(const struct dk_keyrepo *r, time_t now, struct dk_due *out)
{
	char path[PATH_MAX], *buf = NULL, *p, *line;
	const char *why;
	size_t count = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (r->head_unborn || due_path(r, path, sizeof(path)) != 0)
		return DK_ENOTFOUND;
	if ((rc = dk_file_read(path, DUE_MAX, &buf, NULL)) != 0) {
		if (rc != DK_ENOTFOUND)
			dk_log_debug("the due index is not used: %s",
			    dk_error_last());
		dk_error_clear();
		return DK_ENOTFOUND;
	}
	p = buf;
	if ((why = stale(r, now, &p, out)) == NULL) {
		why = "cut short";
		while ((line = next_line(&p)) != NULL &&
		    (rc = entry(out, line, &count)) == 0)
			;
		if (line != NULL && rc == 1 && *p == '\0')
			why = NULL;
		else if (line != NULL && rc == -2) {
			free(buf);
			dk_due_dispose(out);
			return -1;
		}
	}
	free(buf);
	if (why != NULL) {
		dk_log_debug("the due index is not used: %s", why);
		dk_due_dispose(out);
		return DK_ENOTFOUND;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), by_name);
	return 0;
}

void
dk_due_save(const struct dk_keyrepo *r, const struct dk_due *d, time_t now)
{
	char path[PATH_MAX];
	const char *prog = program_id();
	struct dk_due_stamp st;
	struct dk_buf b = { 0 };
	size_t i;
	int rc, fd = -1;

	if (r->head_unborn || prog == NULL ||
	    due_path(r, path, sizeof(path)) != 0 ||
	    dk_tree_dir(r->path, DK_STORE_KEYS_DIR, 0, &fd) != 0) {
		dk_error_clear();
		dk_due_drop(r);
		return;
	}
	stamp_dir(fd, "", &st);
	rc = dk_buf_printf(&b, "%s\nhead %s\nconfig %s\nprogram %s\nmade "
	    "%lld\nkeys %llu:%lld:%ld\n", DUE_MAGIC, r->head, r->cfg_id, prog,
	    (long long)now, st.ino, st.sec, st.nsec);
	for (i = 0; rc == 0 && i < d->n; i++) {
		stamp_dir(fd, d->v[i].name, &st);
		rc = dk_buf_printf(&b, "%c %lld %llu:%lld:%ld %s\n",
		    kinds[d->v[i].kind], d->v[i].due, st.ino, st.sec, st.nsec,
		    d->v[i].name);
	}
	close(fd);
	if (rc == 0)
		rc = dk_buf_printf(&b, "end %zu\n", d->n);
	if (rc != 0 || dk_file_replace(path, b.data, b.len, 0600) != 0) {
		dk_log_debug("no due index: %s", dk_error_last());
		dk_due_drop(r);
	}
	dk_buf_dispose(&b);
}

void
dk_due_drop(const struct dk_keyrepo *r)
{
	char path[PATH_MAX];

	if (due_path(r, path, sizeof(path)) == 0 && unlink(path) == -1 &&
	    errno != ENOENT)
		dk_log_warn("cannot remove '%s': %s", path, strerror(errno));
}

long long
dk_due_of_plan(const struct dk_plan *plan, time_t now)
{
	long long due = (long long)now + DK_DUE_AHEAD;
	size_t i;

	for (i = 0; i < plan->n; i++) {
		if (plan->actions[i].type != DK_ACT_WAIT)
			return now;	/* a change, or a question to DNS */
		if (plan->actions[i].at > 0 && plan->actions[i].at < due)
			due = plan->actions[i].at;
	}
	return due;
}
