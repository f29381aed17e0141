/*
 * gpg, the program (fork+execve, explicit argv): which gpg, which key
 * names are safe to hand it, a repository's own GnuPG home and key, the
 * detached signature of repomd.xml and the export of a public key.
 * Every run is unattended: --batch, no tty, never a passphrase prompt.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gpg.h"

/*
 * A key name goes into rpm's %__gpg_sign_cmd through the _gpg_name
 * macro: no '%' (a macro), no quotes or '\' (the command line), no
 * control characters, no leading '-' (a gpg option).
 */
int
dk_gpg_key_check(const char *key)
{
	const unsigned char *p;

	if (key == NULL || *key == '\0' || *key == '-' || strlen(key) > 256)
		goto bad;
	for (p = (const unsigned char *)key; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("%\"'\\`$", *p))
			goto bad;
	return 0;
bad:
	dk_error_set("invalid signing key '%s': a GPG key id, fingerprint or "
	    "user id without quotes, '%%', '\\', '`', '$' or a leading '-' "
	    "is required", key ? key : "");
	return DK_EUSAGE;
}

/*
 * rpm's own %__gpg may name a program that is not there (Debian:
 * /usr/bin/gpg2): dk_rpm_sign() uses this one.
 */
int
dk_gpg_find(char *buf, size_t size)
{
	const char *path = getenv("PATH"), *p, *end;
	int n;

	if (path == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		n = snprintf(buf, size, "%.*s/gpg", (int)(end - p), p);
		if (buf[0] == '/' && n > 0 && (size_t)n < size &&
		    strchr(buf, '%') == NULL && access(buf, X_OK) == 0)
			return 0;
		if (*end == '\0')
			break;
	}
	dk_error_set("no gpg program in PATH");
	return -1;
}

/*
 * An argv for gpg: the program, --homedir when home is set (else gpg
 * takes $GNUPGHOME or ~/.gnupg), and the options every run has.
 */
struct args {
	char	 gpg[PATH_MAX];
	char	*v[32];
	int	 n;
};

static void
add(struct args *a, const char *s)
{
	if (a->n < (int)(sizeof(a->v) / sizeof(a->v[0])) - 1)
		a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static int
start(struct args *a, const char *home)
{
	a->n = 0;
	if (dk_gpg_find(a->gpg, sizeof(a->gpg)) == -1)
		return -1;
	add(a, a->gpg);
	if (home != NULL) {
		add(a, "--homedir");
		add(a, home);
	}
	add(a, "--batch");
	add(a, "--no-tty");
	return 0;
}

/*
 * Runs argv with stdout into *out; stderr into *out as well when merge
 * (for the reason of a failure), else to /dev/null.
 */
static int
capture(char *const argv[], int merge, struct dk_buf *out, int *status)
{
	char chunk[4096];
	ssize_t n;
	pid_t pid;
	int fds[2], null, rc = -1;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		dk_error_set_errno(errno, "cannot run '%s'", argv[0]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		dk_error_set_errno(errno, "cannot run '%s'", argv[0]);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		null = open("/dev/null", O_RDWR);
		if (null == -1 || dup2(null, 0) == -1 ||
		    dup2(fds[1], 1) == -1 || dup2(merge ? fds[1] : null, 2) ==
		    -1)
			_exit(127);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		n = read(fds[0], chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dk_buf_append(out, chunk, (size_t)n) == -1)
			goto done;
	}
	rc = 0;
done:
	close(fds[0]);
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	return rc;
}

/* The next line of b from *pos, NUL-terminated in place; NULL at the end. */
static char *
next_line(struct dk_buf *b, size_t *pos)
{
	char *line, *nl;

	if (b->data == NULL || *pos >= b->len)
		return NULL;
	line = b->data + *pos;
	if ((nl = memchr(line, '\n', b->len - *pos)) == NULL) {
		*pos = b->len;
		/* dk_buf keeps a NUL after len. */
		return line;
	}
	*nl = '\0';
	*pos = (size_t)(nl - b->data) + 1;
	return line;
}

/* The reason gpg gave: its last "gpg: " line in a merged capture. */
static void
fail(const char *what, const char *subject, int status, struct dk_buf *b)
{
	char *line, *last = NULL;
	size_t pos = 0;

	while ((line = next_line(b, &pos)) != NULL)
		if (strncmp(line, "gpg: ", 5) == 0)
			last = line + 5;
	if (last != NULL)
		dk_error_set("cannot %s '%s': gpg: %s", what, subject, last);
	else
		dk_error_set("cannot %s '%s': gpg failed (%s %d)", what,
		    subject, WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
}

static int
succeeded(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * gpg itself warns ("unsafe permissions on homedir") when a home is
 * not the user's own or group or others have any access to it; a key
 * repository's signing key is worth more than a warning in a log.
 */
int
dk_gpg_home_check(const char *home)
{
	struct stat st;

	if (lstat(home, &st) == -1) {
		dk_error_set_errno(errno, "cannot use gnupg home '%s'", home);
		return DK_EUSAGE;
	}
	if (!S_ISDIR(st.st_mode)) {
		dk_error_set("cannot use gnupg home '%s': not a directory",
		    home);
		return DK_EUSAGE;
	}
	if (st.st_uid != geteuid()) {
		dk_error_set("unsafe gnupg home '%s': owned by uid %u, not by "
		    "uid %u who runs dkimrot", home, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		return DK_EUSAGE;
	}
	if ((st.st_mode & 077) != 0) {
		dk_error_set("unsafe gnupg home '%s': mode %04o lets group or "
		    "others in; run 'chmod 700' on it", home,
		    (unsigned)(st.st_mode & 07777));
		return DK_EUSAGE;
	}
	return 0;
}

/* Field want (0-based) of a --with-colons line into buf; "" if none. */
static void
field(const char *line, int want, char *buf, size_t size)
{
	const char *end;
	int i;

	buf[0] = '\0';
	for (i = 0; i < want; i++) {
		if ((line = strchr(line, ':')) == NULL)
			return;
		line++;
	}
	end = strchr(line, ':');
	if (end == NULL)
		end = line + strlen(line);
	if ((size_t)(end - line) >= size)
		return;
	memcpy(buf, line, (size_t)(end - line));
	buf[end - line] = '\0';
}

/* A sec or ssb line: its key id when it can sign now. */
static void
signing_key(struct dk_gpg_signer *s, const char *line)
{
	char v[8], id[32], created[24], caps[32];
	long long t;
	char *end;

	field(line, 1, v, sizeof(v));
	field(line, 4, id, sizeof(id));
	field(line, 5, created, sizeof(created));
	field(line, 11, caps, sizeof(caps));
	/* expired, revoked, disabled, invalid, not valid */
	if (v[0] != '\0' && strchr("erdin", v[0]) != NULL)
		return;
	if (strchr(caps, 's') == NULL || strlen(id) != DK_GPG_KEYID_LEN ||
	    s->nids == DK_GPG_MAXIDS)
		return;
	t = strtoll(created, &end, 10);
	if (*created == '\0' || *end != '\0' || t < 0)
		return;
	memcpy(s->ids[s->nids++], id, DK_GPG_KEYID_LEN + 1);
	if (t > s->created)
		s->created = t;
}

int
dk_gpg_signer_open(struct dk_gpg_signer *s, const char *key,
    const char *home)
{
	struct dk_buf out = { 0 };
	struct args a;
	size_t pos = 0;
	char *line;
	int rc, status = 0, blocks = 0;

	memset(s, 0, sizeof(*s));
	if ((rc = dk_gpg_key_check(key)) != 0)
		return rc;
	if (home != NULL && (rc = dk_gpg_home_check(home)) != 0)
		return rc;
	if (start(&a, home) == -1)
		return -1;
	rc = -1;
	add(&a, "--with-colons");
	add(&a, "--fixed-list-mode");
	add(&a, "--list-secret-keys");
	add(&a, "--");
	add(&a, key);
	if (capture(a.v, 0, &out, &status) == -1)
		goto done;
	if (!succeeded(status)) {
		dk_error_set("cannot sign with key '%s': gpg has no secret key "
		    "of that name in '%s'", key, home != NULL ? home :
		    "$GNUPGHOME or ~/.gnupg");
		rc = DK_EUSAGE;
		goto done;
	}
	/* gpg -u KEY signs with the first key KEY names: that one only. */
	while ((line = next_line(&out, &pos)) != NULL) {
		if (strncmp(line, "sec:", 4) == 0 && ++blocks > 1)
			break;
		if (strncmp(line, "sec:", 4) == 0 ||
		    strncmp(line, "ssb:", 4) == 0)
			signing_key(s, line);
	}
	if (s->nids == 0) {
		dk_error_set("cannot sign with key '%s': it has no valid "
		    "signing key (expired or revoked)", key);
		rc = DK_EUSAGE;
		goto done;
	}
	if ((s->key = strdup(key)) == NULL ||
	    (home != NULL && (s->home = strdup(home)) == NULL)) {
		dk_error_set("out of memory");
		goto done;
	}
	rc = 0;
done:
	if (rc != 0)
		dk_gpg_signer_dispose(s);
	dk_buf_dispose(&out);
	return rc;
}

void
dk_gpg_signer_dispose(struct dk_gpg_signer *s)
{
	if (s == NULL)
		return;
	free(s->key);
	free(s->home);
	memset(s, 0, sizeof(*s));
}

bool
dk_gpg_signer_has(const struct dk_gpg_signer *s, const char *keyid)
{
	size_t i;

	for (i = 0; i < s->nids; i++)
		if (strcasecmp(s->ids[i], keyid) == 0)
			return true;
	return false;
}

int
dk_gpg_generate(const char *home, const char *uid, char *out, size_t size)
{
	static const char created[] = "[GNUPG:] KEY_CREATED ";
	struct dk_buf b = { 0 };
	struct args a;
	size_t pos = 0;
	char *line, *fpr;
	int rc, status = 0;

	if ((rc = dk_gpg_key_check(uid)) != 0)
		return rc;
	if (mkdir(home, 0700) == -1 || chmod(home, 0700) == -1) {
		dk_error_set_errno(errno, "cannot create gnupg home '%s'",
		    home);
		return -1;
	}
	if (start(&a, home) == -1)
		return -1;
	rc = -1;
	/*
	 * RSA, because rpm 4.11 (EL7) verifies RSA and DSA signatures
	 * only; 3072 bits, GnuPG's default and 128-bit strength.  No
	 * passphrase: package runs from the hook and cron, unattended;
	 * the key is as safe as the repository, whose DKIM keys it
	 * vouches for.
	 */
	add(&a, "--pinentry-mode");
	add(&a, "loopback");
	add(&a, "--passphrase");
	add(&a, "");
	add(&a, "--status-fd");
	add(&a, "1");
	add(&a, "--quick-gen-key");
	add(&a, uid);
	add(&a, "rsa3072");
	add(&a, "sign");
	add(&a, "never");
	if (capture(a.v, 1, &b, &status) == -1)
		goto done;
	if (!succeeded(status)) {
		fail("create a signing key in", home, status, &b);
		goto done;
	}
	while ((line = next_line(&b, &pos)) != NULL) {
		if (strncmp(line, created, strlen(created)) != 0)
			continue;
		/* "P FPR" (a primary key) or "B FPR" (and a subkey) */
		if ((fpr = strchr(line + strlen(created), ' ')) == NULL)
			continue;
		fpr++;
		if (strlen(fpr) != DK_GPG_FPR_LEN || strlen(fpr) >= size)
			continue;
		memcpy(out, fpr, strlen(fpr) + 1);
		rc = 0;
		goto done;
	}
	dk_error_set("cannot create a signing key in '%s': gpg named no "
	    "new key", home);
done:
	dk_buf_dispose(&b);
	return rc;
}

/* file signed by s into out, how "--detach-sign" or "--clearsign". */
static int
sign_file(const struct dk_gpg_signer *s, const char *file, const char *asc,
    const char *how)
{
	struct dk_buf b = { 0 };
	struct args a;
	int rc = -1, status = 0;

	if (start(&a, s->home) == -1)
		return -1;
	/* SHA-256: what EL7's yum and every dnf verify. */
	add(&a, "--yes");
	add(&a, "--armor");
	add(&a, "--digest-algo");
	add(&a, "SHA256");
	add(&a, "--local-user");
	add(&a, s->key);
	add(&a, "--output");
	add(&a, asc);
	add(&a, how);
	add(&a, "--");
	add(&a, file);
	if (capture(a.v, 1, &b, &status) == -1)
		goto done;
	if (!succeeded(status)) {
		fail("sign", file, status, &b);
		goto done;
	}
	rc = 0;
done:
	dk_buf_dispose(&b);
	return rc;
}

int
dk_gpg_sign_detached(const struct dk_gpg_signer *s, const char *file,
    const char *asc)
{
	return sign_file(s, file, asc, "--detach-sign");
}

int
dk_gpg_sign_clear(const struct dk_gpg_signer *s, const char *file,
    const char *out)
{
	return sign_file(s, file, out, "--clearsign");
}

int
dk_gpg_export(const char *key, const char *home, const char *path)
{
	static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	struct dk_buf out = { 0 };
	struct args a;
	int rc, status = 0;

	if ((rc = dk_gpg_key_check(key)) != 0)
		return rc;
	if (start(&a, home) == -1)
		return -1;
	rc = -1;
	add(&a, "--armor");
	/* The public key and its self-signatures, nothing else. */
	add(&a, "--export-options");
	add(&a, "export-minimal");
	add(&a, "--export");
	add(&a, "--");
	add(&a, key);
	if (capture(a.v, 0, &out, &status) == -1)
		goto done;
	if (!succeeded(status)) {
		dk_error_set("cannot export key '%s': gpg failed (%s %d)", key,
		    WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		goto done;
	}
	if (out.len == 0 || strncmp(out.data, begin, strlen(begin)) != 0) {
		dk_error_set("cannot export key '%s': gpg has no such key",
		    key);
		rc = DK_ENOTFOUND;
		goto done;
	}
	if (dk_file_replace(path, out.data, out.len, 0644) != 0)
		goto done;
	rc = 0;
done:
	dk_buf_dispose(&out);
	return rc;
}
