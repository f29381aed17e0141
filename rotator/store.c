/*
 * The key repository's files (docs/design.md §3): keys/DOMAIN/{SEL.private,
 * SEL.txt,keys.yaml}.  keys.yaml is the truth; files it does not need
 * are debris, files it needs but are missing stop the domain.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strlist.h"
#include "common/tree.h"
#include "rotator/store.h"
#include "rotator/store_int.h"

#define MODE_DIR	0700
#define MODE_PRIVATE	0600

/* A name becomes a path: it must be a valid, lower-case domain. */
static int
check_domain(const char *domain)
{
	const char *s;

	if (dk_name_domain_check(domain) != 0)
		return DK_EUSAGE;
	for (s = domain; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z') {
			dk_error_set("invalid domain '%s': not lower case",
			    domain);
			return DK_EUSAGE;
		}
	}
	return 0;
}

int
dk_store_rel_path(char *buf, size_t size, const char *domain,
    const char *name)
{
	int n;

	if (name == NULL)
		n = snprintf(buf, size, "%s/%s", DK_STORE_KEYS_DIR, domain);
	else
		n = snprintf(buf, size, "%s/%s/%s", DK_STORE_KEYS_DIR, domain,
		    name);
	if (n < 0 || (size_t)n >= size) {
		dk_error_set("path too long: '%s/%s/%s'", DK_STORE_KEYS_DIR,
		    domain, name != NULL ? name : "");
		return -1;
	}
	return 0;
}

static int
full_path(char *buf, size_t size, const char *repo, const char *rel)
{
	return dk_path_join(buf, size, repo != NULL ? repo : "", rel);
}

/* The path of keys/DOMAIN/NAME (name NULL: keys/DOMAIN) under repo. */
static int
repo_path(char *buf, size_t size, const char *repo, const char *domain,
    const char *name)
{
	char rel[PATH_MAX];

	if (dk_store_rel_path(rel, sizeof(rel), domain, name) != 0)
		return -1;
	return full_path(buf, size, repo, rel);
}

int
dk_store_domain_path(const char *repo, const char *domain, char *buf,
    size_t size)
{
	return repo_path(buf, size, repo, domain, NULL);
}

int
dk_store_key_path(const char *repo, const char *domain, const char *sel,
    const char *ext, char *buf, size_t size)
{
	char name[DK_SELECTOR_MAX + 32];
	int n;

	n = snprintf(name, sizeof(name), "%s.%s", sel, ext);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		dk_error_set("path too long: '%s.%s'", sel, ext);
		return -1;
	}
	return repo_path(buf, size, repo, domain, name);
}

int
dk_store_yaml_path(const char *repo, const char *domain, char *buf,
    size_t size)
{
	return repo_path(buf, size, repo, domain, DK_STORE_YAML);
}

int
dk_store_retired_path(const char *repo, const char *domain, char *buf,
    size_t size)
{
	return repo_path(buf, size, repo, domain, DK_STORE_RETIRED);
}

/* Which files a key in state s has in the tree. */
static unsigned
needs(enum dk_state s)
{
	if (dk_state_published(s))
		return DK_STORE_PRIVATE | DK_STORE_TXT;
	if (s == DK_STATE_REVOKED)
		return DK_STORE_TXT;
	return 0;
}

static int
check_file(const char *repo, const char *domain, const struct dk_keyinfo *k,
    const char *ext)
{
	char name[DK_SELECTOR_MAX + 16], rel[PATH_MAX];
	struct stat st;
	int rc;

	/* Cannot truncate: selector[] holds at most DK_SELECTOR_MAX. */
	snprintf(name, sizeof(name), "%s.%s", k->selector, ext);
	if (dk_store_rel_path(rel, sizeof(rel), domain, name) != 0)
		return -1;
	/* A link, FIFO, device or hard link is refused (common/tree.h). */
	if ((rc = dk_tree_stat(repo, rel, &st)) == DK_ENOTFOUND) {
		dk_error_set("key file '%s' is missing; keys.yaml names it "
		    "(state %s)", rel, dk_state_name(k->state));
		return -1;
	}
	if (rc != 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		dk_error_set("key file '%s' is not a regular file; keys.yaml "
		    "names it (state %s)", rel, dk_state_name(k->state));
		return -1;
	}
	return 0;
}

/*
 * docs/design.md §3: a keys.yaml entry whose files are missing stops the
 * domain.
 */
static int
check_files(const char *repo, const struct dk_domain_keys *dk)
{
	const struct dk_keyinfo *k;
	size_t i;

	for (i = 0; i < dk->n; i++) {
		k = &dk->keys[i];
		if ((needs(k->state) & DK_STORE_PRIVATE) &&
		    check_file(repo, dk->domain, k, "private") != 0)
			return -1;
		if ((needs(k->state) & DK_STORE_TXT) &&
		    check_file(repo, dk->domain, k, "txt") != 0)
			return -1;
	}
	return 0;
}

int
dk_store_load_file(const char *repo, const char *domain, const char *name,
    int (*check)(const char *, const struct dk_domain_keys *),
    struct dk_domain_keys **out)
{
	char rel[PATH_MAX], *buf = NULL;
	struct dk_domain_keys *dk = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = check_domain(domain)) != 0)
		return rc;
	if (dk_store_rel_path(rel, sizeof(rel), domain, name) != 0)
		return -1;
	rc = dk_tree_read(repo, rel, DK_FILE_MAX, &buf, &len);
	if (rc == DK_ENOTFOUND)
		return dk_domain_keys_new(domain, out);
	if (rc != 0)
		return rc;
	rc = dk_store_parse(buf, len, rel, domain, &dk);
	free(buf);
	if (rc != 0)
		return rc;
	dk->exists = true;
	if ((rc = check(repo, dk)) != 0) {
		dk_domain_keys_free(dk);
		return rc;
	}
	*out = dk;
	return 0;
}

int
dk_store_load(const char *repo, const char *domain,
    struct dk_domain_keys **out)
{
	return dk_store_load_file(repo, domain, DK_STORE_YAML, check_files,
	    out);
}

/*
 * chmod only when needed: an unchanged directory keeps its ctime.  By
 * descriptor: a chmod by name would follow keys -> /etc.
 */
static int
fd_mode(int fd, const char *rel, mode_t mode)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		dk_error_set_errno(errno, "cannot check '%s'", rel);
		return -1;
	}
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) == -1) {
		dk_error_set_errno(errno, "cannot set the mode of '%s'", rel);
		return -1;
	}
	return 0;
}

/* Directory rel made (mk) or opened, then given MODE_DIR. */
static int
dir_mode(const char *repo, const char *rel, bool mk, bool missing_ok)
{
	int fd, rc;

	rc = dk_tree_dir(repo, rel, mk ? MODE_DIR : 0, &fd);
	if (rc == DK_ENOTFOUND && missing_ok)
		return 0;
	if (rc != 0)
		return -1;
	rc = fd_mode(fd, rel, MODE_DIR);
	close(fd);
	return rc;
}

int
dk_store_mkdir(const char *repo, const char *domain)
{
	char dir[PATH_MAX];
	int rc;

	if ((rc = check_domain(domain)) != 0)
		return rc;
	if (dk_store_rel_path(dir, sizeof(dir), domain, NULL) != 0)
		return -1;
	if (dir_mode(repo, DK_STORE_KEYS_DIR, true, false) != 0 ||
	    dir_mode(repo, dir, true, false) != 0)
		return -1;
	return 0;
}

/* keys.yaml of dk formatted into b, its directory made, its rel path. */
static int
prepare(const char *repo, const struct dk_domain_keys *dk, struct dk_buf *b,
    char *path, size_t size)
{
	int rc;

	if ((rc = dk_store_format(dk, b)) != 0)
		return rc;
	if (dk_store_mkdir(repo, dk->domain) != 0 ||
	    dk_store_rel_path(path, size, dk->domain, DK_STORE_YAML) != 0)
		return -1;
	return 0;
}

int
dk_store_save(const char *repo, const struct dk_domain_keys *dk)
{
	struct dk_buf b = { 0 };
	char path[PATH_MAX];
	int rc;

	if ((rc = prepare(repo, dk, &b, path, sizeof(path))) == 0 &&
	    dk_tree_replace(repo, path, b.data, b.len,
	    DK_STORE_MODE_PUBLIC) != 0)
		rc = -1;
	dk_buf_dispose(&b);
	return rc;
}

int
dk_store_stage(const char *repo, const struct dk_domain_keys *dk, char *tmp,
    size_t size)
{
	struct dk_buf b = { 0 };
	char path[PATH_MAX];
	int rc;

	if ((rc = prepare(repo, dk, &b, path, sizeof(path))) == 0 &&
	    dk_tree_stage(repo, path, b.data, b.len, DK_STORE_MODE_PUBLIC, tmp,
	    size) != 0)
		rc = -1;
	dk_buf_dispose(&b);
	return rc;
}

int
dk_store_remove_key_files(const char *repo, const char *domain,
    const char *sel, unsigned which)
{
	static const struct { unsigned bit; const char *ext; } files[] = {
		{ DK_STORE_PRIVATE, "private" }, { DK_STORE_TXT, "txt" } };
	char rel[PATH_MAX];
	size_t i;
	int rc;

	if ((rc = check_domain(domain)) != 0 ||
	    (rc = dk_name_selector_check(sel)) != 0)
		return rc;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!(which & files[i].bit))
			continue;
		if (dk_store_key_path(NULL, domain, sel, files[i].ext, rel,
		    sizeof(rel)) != 0 || dk_tree_remove(repo, rel) != 0)
			return -1;
	}
	return 0;
}

/* 1: a directory, 0: not, -1: one the tree must not hold (refused). */
static int
is_dir(DIR *d, const struct dirent *de)
{
	char rel[PATH_MAX];
	struct stat st;

	if (de->d_type == DT_DIR)
		return 1;
	if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (S_ISDIR(st.st_mode))
		return 1;
	if (!S_ISREG(st.st_mode) && snprintf(rel, sizeof(rel), "%s/%s",
	    DK_STORE_KEYS_DIR, de->d_name) < (int)sizeof(rel))
		return dk_tree_check(rel, &st);
	return 0;
}

int
dk_store_domains(const char *repo, struct dk_strlist *out)
{
	struct dk_strlist list = { 0 };
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd, dir, rc = -1;

	if (full_path(path, sizeof(path), repo, DK_STORE_KEYS_DIR) != 0)
		return -1;
	if ((rc = dk_tree_dir(repo, DK_STORE_KEYS_DIR, 0, &fd)) != 0)
		return rc == DK_ENOTFOUND ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		dk_error_set_errno(errno, "cannot read directory '%s'", path);
		close(fd);
		return -1;
	}
	rc = -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((dir = is_dir(d, de)) == -1)
			goto done;
		if (dir == 0 || check_domain(de->d_name) != 0) {
			dk_error_set("unexpected entry '%s/%s': %s holds only "
			    "directories named by lower-case domains",
			    DK_STORE_KEYS_DIR, de->d_name, DK_STORE_KEYS_DIR);
			rc = DK_EUSAGE;
			goto done;
		}
		if (dk_strlist_add(&list, de->d_name) != 0)
			goto done;
	}
	if (errno != 0) {
		dk_error_set_errno(errno, "cannot read directory '%s'", path);
		goto done;
	}
	/* Sorted; readdir names each entry once. */
	dk_strlist_uniq(&list);
	*out = list;
	list = (struct dk_strlist){ 0 };
	rc = 0;
done:
	dk_strlist_dispose(&list);
	closedir(d);
	return rc;
}

/* A file keys.yaml says must be there, with its mode. */
struct keep {
	char	name[DK_SELECTOR_MAX + 16];
	mode_t	mode;
};

static int
by_keep(const void *a, const void *b)
{
	return strcmp(((const struct keep *)a)->name,
	    ((const struct keep *)b)->name);
}

static struct keep *
keep_list(const struct dk_domain_keys *dk, size_t *nout)
{
	struct keep *keep;
	size_t i, n = 0;
	unsigned f;

	/* No snprintf below can truncate: selector[] is DK_SELECTOR_MAX. */
	if ((keep = calloc(2 * dk->n + 2, sizeof(*keep))) == NULL) {
		dk_error_set("out of memory");
		return NULL;
	}
	snprintf(keep[n].name, sizeof(keep[n].name), "%s", DK_STORE_YAML);
	keep[n++].mode = DK_STORE_MODE_PUBLIC;
	snprintf(keep[n].name, sizeof(keep[n].name), "%s", DK_STORE_RETIRED);
	keep[n++].mode = DK_STORE_MODE_PUBLIC;
	for (i = 0; i < dk->n; i++) {
		f = needs(dk->keys[i].state);
		if (f & DK_STORE_PRIVATE) {
			snprintf(keep[n].name, sizeof(keep[n].name),
			    "%s.private", dk->keys[i].selector);
			keep[n++].mode = MODE_PRIVATE;
		}
		if (f & DK_STORE_TXT) {
			snprintf(keep[n].name, sizeof(keep[n].name), "%s.txt",
			    dk->keys[i].selector);
			keep[n++].mode = DK_STORE_MODE_PUBLIC;
		}
	}
	qsort(keep, n, sizeof(*keep), by_keep);
	*nout = n;
	return keep;
}

static const struct keep *
kept(const struct keep *keep, size_t n, const char *name)
{
	struct keep probe;

	if (strlen(name) >= sizeof(probe.name))
		return NULL;
	memcpy(probe.name, name, strlen(name) + 1);
	return bsearch(&probe, keep, n, sizeof(*keep), by_keep);
}

/*
 * Looks at everything first and changes nothing if something is wrong;
 * then sets modes and removes debris.
 */
static int
scan(DIR *d, const char *domain, const struct keep *keep, size_t nkeep,
    struct dk_strlist *chmods, struct dk_strlist *gone)
{
	char rel[PATH_MAX];
	const struct keep *k;
	struct dirent *de;
	struct stat st;

	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			dk_error_set_errno(errno, "cannot check '%s/%s/%s'",
			    DK_STORE_KEYS_DIR, domain, de->d_name);
			return -1;
		}
		/*
		 * Debris too: whatever was linked in is refused, before
		 * anything here is changed.
		 */
		if (dk_store_rel_path(rel, sizeof(rel), domain,
		    de->d_name) != 0 || dk_tree_check(rel, &st) != 0)
			return -1;
		if ((k = kept(keep, nkeep, de->d_name)) != NULL) {
			if (!S_ISREG(st.st_mode)) {
				dk_error_set("'%s/%s/%s' is not a regular file",
				    DK_STORE_KEYS_DIR, domain, de->d_name);
				return -1;
			}
			if ((st.st_mode & 07777) != k->mode &&
			    dk_strlist_add(chmods, de->d_name) != 0)
				return -1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			dk_error_set("unexpected directory '%s/%s/%s'",
			    DK_STORE_KEYS_DIR, domain, de->d_name);
			return -1;
		}
		if (dk_strlist_add(gone, de->d_name) != 0)
			return -1;
	}
	if (errno != 0) {
		dk_error_set_errno(errno, "cannot read directory '%s/%s'",
		    DK_STORE_KEYS_DIR, domain);
		return -1;
	}
	return 0;
}

static int
fix(DIR *d, const char *domain, const struct keep *keep, size_t nkeep,
    const struct dk_strlist *chmods, const struct dk_strlist *gone,
    struct dk_strlist *removed)
{
	char rel[PATH_MAX];
	size_t i;

	for (i = 0; i < chmods->n; i++) {
		if (dk_store_rel_path(rel, sizeof(rel), domain,
		    chmods->v[i]) != 0 ||
		    dk_tree_chmod(dirfd(d), chmods->v[i], rel, kept(keep,
		    nkeep, chmods->v[i])->mode) != 0)
			return -1;
	}
	for (i = 0; i < gone->n; i++) {
		if (dk_store_rel_path(rel, sizeof(rel), domain,
		    gone->v[i]) != 0)
			return -1;
		if (unlinkat(dirfd(d), gone->v[i], 0) == -1) {
			dk_error_set_errno(errno, "cannot remove '%s'", rel);
			return -1;
		}
		if (dk_strlist_add(removed, rel) != 0)
			return -1;
	}
	return 0;
}

int
dk_store_repair(const char *repo, const struct dk_domain_keys *dk,
    struct dk_strlist *removed)
{
	struct dk_strlist chmods = { 0 }, gone = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];
	struct keep *keep = NULL;
	size_t nkeep = 0;
	DIR *d = NULL;
	int fd, rc;

	if ((rc = check_domain(dk->domain)) != 0)
		return rc;
	if (dk_store_rel_path(dir, sizeof(dir), dk->domain, NULL) != 0 ||
	    full_path(path, sizeof(path), repo, dir) != 0)
		return -1;
	if ((rc = dk_tree_dir(repo, dir, 0, &fd)) != 0)
		return rc == DK_ENOTFOUND ? dir_mode(repo, DK_STORE_KEYS_DIR,
		    false, true) : -1;
	rc = -1;
	if ((d = fdopendir(fd)) == NULL) {
		dk_error_set_errno(errno, "cannot read directory '%s'", path);
		close(fd);
		return -1;
	}
	if ((keep = keep_list(dk, &nkeep)) == NULL ||
	    scan(d, dk->domain, keep, nkeep, &chmods, &gone) != 0)
		goto done;
	if (dir_mode(repo, DK_STORE_KEYS_DIR, false, false) != 0 ||
	    fd_mode(dirfd(d), dir, MODE_DIR) != 0 ||
	    fix(d, dk->domain, keep, nkeep, &chmods, &gone, removed) != 0)
		goto done;
	/*
	 * Removals are not synced here (a rotation of thousands of domains
	 * would pay a fsync each): one lost in a crash is debris again,
	 * which the next repair removes again.  The commit that records
	 * them syncs the filesystem (rotator/git_commit.c).
	 */
	rc = 0;
done:
	dk_strlist_uniq(removed);
	dk_strlist_dispose(&chmods);
	dk_strlist_dispose(&gone);
	free(keep);
	closedir(d);
	return rc;
}
