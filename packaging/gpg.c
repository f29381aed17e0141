/*
 * gpg, the program (fork+execve, explicit argv): which gpg, which key
 * names are safe to hand it, and the export of a public key.
 */
#include <sys/wait.h>

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
#include "packaging/gpg.h"

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

/* Runs argv with stdout into *out; stderr to /dev/null. */
static int
capture(char *const argv[], struct dk_buf *out, int *status)
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
		    dup2(fds[1], 1) == -1 || dup2(null, 2) == -1)
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

int
dk_gpg_export(const char *key, const char *path)
{
	static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	char gpg[PATH_MAX], *argv[] = { gpg, "--batch", "--armor", "--export",
	    "--", NULL, NULL };
	struct dk_buf out = { 0 };
	int rc, status = 0;

	if ((rc = dk_gpg_key_check(key)) != 0)
		return rc;
	if (dk_gpg_find(gpg, sizeof(gpg)) == -1)
		return -1;
	rc = -1;
	argv[5] = (char *)key;
	if (capture(argv, &out, &status) == -1)
		goto done;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
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
