/*
 * Credentials and host checks for the transports of git_remote.c
 * (docs/design.md §14): ssh with the key file and known_hosts of the
 * configuration, https with a credential file, never a prompt.
 *
 * ssh: the host key must be in git.known_hosts (OpenSSH's format, plain
 * or hashed names, read by libssh2, whose session libgit2 uses anyway);
 * there is no "accept on first use": a run under cron that trusts a new
 * key would push private keys to whoever answers.  https: the system's
 * CA store, as libgit2 checks it.  Credentials are read when the server
 * asks, wiped after use, and never quoted in a message.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/secret.h"
#include "rotator/git_int.h"

#define CRED_MAX	4096

/* ssh://[USER@]HOST:PORT/...: the port, else 22. */
static int
url_port(const char *url)
{
	const char *p, *slash, *colon;

	if (strncmp(url, "ssh://", 6) != 0)
		return 22;
	p = url + 6;
	if ((slash = strchr(p, '/')) == NULL)
		return 22;
	if ((colon = memchr(p, ':', (size_t)(slash - p))) == NULL)
		return 22;
	return atoi(colon + 1) > 0 ? atoi(colon + 1) : 22;
}

/*
 * A secret file as OpenSSH wants its key: a regular file of ours that
 * group and others cannot open.
 */
static int
secret_file(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) == -1) {
		snprintf(err, errlen, "cannot use %s '%s': %s", what, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    (st.st_uid != getuid() && st.st_uid != 0)) {
		snprintf(err, errlen, "%s '%s' must be a regular file of this "
		    "user closed to group and others (chmod 600 '%s')", what,
		    path, path);
		return -1;
	}
	return 0;
}

/* USER:PASSWORD on the first line of the file; *buf wiped by the caller. */
static int
userpass(git_credential **out, struct dk_git_cred *c, const char *user)
{
	char *buf = NULL, *colon, *nl;
	size_t len;
	int rc = -1;

	if (secret_file("git.credentials", c->rm->credentials, c->err,
	    sizeof(c->err)) != 0)
		return -1;
	if (dk_file_read(c->rm->credentials, CRED_MAX, &buf, &len) != 0) {
		snprintf(c->err, sizeof(c->err), "%s", dk_error_last());
		return -1;
	}
	if ((nl = memchr(buf, '\n', len)) != NULL)
		*nl = '\0';
	if ((colon = strchr(buf, ':')) == NULL || colon == buf ||
	    colon[1] == '\0') {
		snprintf(c->err, sizeof(c->err), "git.credentials '%s' must "
		    "hold USER:PASSWORD on its first line",
		    c->rm->credentials);
		goto done;
	}
	*colon = '\0';
	if (user != NULL && *user != '\0' && strcmp(user, buf) != 0) {
		snprintf(c->err, sizeof(c->err), "the remote URL names user "
		    "'%s', git.credentials another", user);
		goto done;
	}
	if (git_credential_userpass_plaintext_new(out, buf, colon + 1) < 0) {
		snprintf(c->err, sizeof(c->err), "cannot use git.credentials");
		goto done;
	}
	rc = 0;
done:
	dk_secret_free(buf, len);
	return rc;
}

static int
credentials(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *payload)
{
	struct dk_git_cred *c = payload;

	(void)url;
	/* Once each: a refused key is not offered again and again. */
	if (c->tries++ > 0) {
		snprintf(c->err, sizeof(c->err), "the remote refused the "
		    "configured credentials");
		return GIT_EUSER;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && c->rm->ssh_key[0] != '\0') {
		if (secret_file("git.ssh_key", c->rm->ssh_key, c->err,
		    sizeof(c->err)) != 0)
			return GIT_EUSER;
		if (git_credential_ssh_key_new(out, user != NULL ? user :
		    "git", NULL, c->rm->ssh_key, NULL) < 0) {
			snprintf(c->err, sizeof(c->err), "cannot use "
			    "git.ssh_key '%s'", c->rm->ssh_key);
			return GIT_EUSER;
		}
		return 0;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
	    c->rm->credentials[0] != '\0')
		return userpass(out, c, user) == 0 ? 0 : GIT_EUSER;
	snprintf(c->err, sizeof(c->err), "the remote asks for credentials "
	    "and none are configured (git.ssh_key, git.credentials)");
	return GIT_EUSER;
}

static int
known_host(struct dk_git_cred *c, const git_cert_hostkey *hk,
    const char *host)
{
	LIBSSH2_SESSION *s = NULL;
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	struct libssh2_knownhost *entry;
	int port = url_port(c->rm->url), rc = -1, m;

	if (c->rm->known_hosts[0] == '\0') {
		snprintf(c->err, sizeof(c->err), "git.known_hosts is not set: "
		    "the host key of '%s' cannot be checked", host);
		return -1;
	}
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		snprintf(c->err, sizeof(c->err), "no host key from '%s'",
		    host);
		return -1;
	}
	if ((s = libssh2_session_init()) == NULL ||
	    (kh = libssh2_knownhost_init(s)) == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		goto done;
	}
	if (libssh2_knownhost_readfile(kh, c->rm->known_hosts,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		snprintf(c->err, sizeof(c->err), "cannot read git.known_hosts "
		    "'%s'", c->rm->known_hosts);
		goto done;
	}
	m = libssh2_knownhost_checkp(kh, host, port, hk->hostkey,
	    hk->hostkey_len, LIBSSH2_KNOWNHOST_TYPE_PLAIN |
	    LIBSSH2_KNOWNHOST_KEYENC_RAW, &entry);
	if (m == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		rc = 0;
	else if (m == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		snprintf(c->err, sizeof(c->err), "the host key of '%s' port "
		    "%d does not match git.known_hosts '%s': refused", host,
		    port, c->rm->known_hosts);
	else
		snprintf(c->err, sizeof(c->err), "'%s' port %d is not in "
		    "git.known_hosts '%s' (ssh-keyscan -p %d %s >>%s, after "
		    "checking the key)", host, port, c->rm->known_hosts, port,
		    host, c->rm->known_hosts);
done:
	libssh2_knownhost_free(kh);
	if (s != NULL)
		libssh2_session_free(s);
	return rc;
}

static int
certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	struct dk_git_cred *c = payload;

	(void)valid;
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		return known_host(c, (const git_cert_hostkey *)cert,
		    host) == 0 ? 0 : GIT_EUSER;
	/* https: libgit2's own check against the system's CAs. */
	return GIT_PASSTHROUGH;
}

void
dk_git_callbacks(git_remote_callbacks *cb, struct dk_git_cred *c)
{
	cb->credentials = credentials;
	cb->certificate_check = certificate;
	cb->payload = c;
}
