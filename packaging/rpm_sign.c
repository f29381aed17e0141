/*
 * librpm's reading and signing of packages built by packaging/rpm.c: a
 * package's VCS tag and signer, librpmsign's header signatures with the
 * repository's key (common/gpg.h), and librpm's SHA-256.  Under the
 * same lock and environment as the builds (packaging/rpm_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpm/rpmcrypto.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmsign.h>
#include <rpm/rpmts.h>

#include "common/error.h"
#include "common/gpg.h"
#include "common/log.h"
#include "packaging/rpm.h"
#include "packaging/rpm_int.h"

/*
 * librpmsign prints "FILE:" on stdout, which is for our results only;
 * the caller holds rpm_mutex and dkimrot prints nothing meanwhile.
 */
static int
quiet_stdout(int *saved)
{
	int null;

	fflush(stdout);
	if ((*saved = dup(STDOUT_FILENO)) == -1 ||
	    (null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		dk_error_set_errno(errno, "cannot redirect standard output");
		if (*saved != -1)
			close(*saved);
		return -1;
	}
	dup2(null, STDOUT_FILENO);
	close(null);
	return 0;
}

static void
restore_stdout(int saved)
{
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

/*
 * gpg's complaints (and its note on the faked time below) would land
 * on our stderr: they go to a temporary file, and the last line of a
 * failed run into the message.
 */
static int
hold_stderr(int *saved, FILE **f)
{
	fflush(stderr);
	if ((*f = tmpfile()) == NULL || (*saved = dup(STDERR_FILENO)) == -1) {
		dk_error_set_errno(errno, "cannot redirect standard error");
		if (*f != NULL)
			fclose(*f);
		*f = NULL;
		return -1;
	}
	dup2(fileno(*f), STDERR_FILENO);
	return 0;
}

static void
release_stderr(int saved, FILE *f, char *last, size_t size)
{
	char line[512];
	size_t n;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	last[0] = '\0';
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		if (n > 0 && strstr(line, "faked system time") == NULL &&
		    n < size)
			memcpy(last, line, n + 1);
	}
	fclose(f);
}

/*
 * The header of the package at path, into *h (the caller frees it), in
 * dk_rpm_enter().  Only the header is wanted: signatures are checked by
 * rpm -K and the clients, not here.
 */
static int
read_header(const char *path, Header *h)
{
	rpmts ts = NULL;
	FD_t fd;
	rpmRC r;
	int rc = -1;

	*h = NULL;
	fd = Fopen(path, "r.ufdio");
	if (fd == NULL || Ferror(fd)) {
		dk_error_set("cannot read package '%s': %s", path,
		    fd != NULL ? Fstrerror(fd) : "cannot open");
		goto done;
	}
	if ((ts = rpmtsCreate()) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	rpmtsSetVSFlags(ts, RPMVSF_MASK_NOSIGNATURES);
	r = rpmReadPackageFile(ts, fd, path, h);
	if (r != RPMRC_OK && r != RPMRC_NOTTRUSTED && r != RPMRC_NOKEY) {
		dk_error_set("cannot read package '%s'", path);
		goto done;
	}
	rc = 0;
done:
	rpmtsFree(ts);
	if (fd != NULL)
		Fclose(fd);
	return rc;
}

/*
 * Who signed the header of path (the long key id in hex, "" when
 * unsigned) and when it was built.  Only librpm's own header-only
 * signatures count: RSA (and EdDSA) and DSA.
 */
static int
signature(const char *path, char *keyid, size_t size, long long *built)
{
	static const rpmTagVal tags[] = { RPMTAG_RSAHEADER,
	    RPMTAG_DSAHEADER };
	const uint8_t *id;
	pgpDigParams dig = NULL;
	struct rpmtd_s td;
	Header h = NULL;
	size_t i;
	int rc = -1;

	keyid[0] = '\0';
	if (dk_rpm_enter() != 0)
		return -1;
	if (read_header(path, &h) != 0)
		goto done;
	*built = (long long)headerGetNumber(h, RPMTAG_BUILDTIME);
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]) && !keyid[0]; i++) {
		if (!headerGet(h, tags[i], &td, HEADERGET_MINMEM))
			continue;
		if (pgpPrtParams(td.data, td.count, PGPTAG_SIGNATURE,
		    &dig) == 0 && (id = pgpDigParamsSignID(dig)) != NULL &&
		    size > 16)
			snprintf(keyid, size, "%02X%02X%02X%02X%02X%02X%02X"
			    "%02X", id[0], id[1], id[2], id[3], id[4], id[5],
			    id[6], id[7]);
		dig = pgpDigParamsFree(dig);
		rpmtdFreeData(&td);
	}
	rc = 0;
done:
	headerFree(h);
	dk_rpm_leave();
	return rc;
}

int
dk_rpm_sign(const char *path, const struct dk_gpg_signer *s, int *changed)
{
	struct rpmSignArgs args;
	struct rpmenv env;
	char gpg[PATH_MAX], extra[96], keyid[32], why[512], *name = NULL;
	long long built, when;
	int rc = -1, saved, held, signrc;
	FILE *err;

	if (changed != NULL)
		*changed = 0;
	if (s->home != NULL && strchr(s->home, '%') != NULL) {
		dk_error_set("cannot sign with gnupg home '%s': it holds '%%'",
		    s->home);
		return DK_EUSAGE;
	}
	if (signature(path, keyid, sizeof(keyid), &built) == -1)
		return -1;
	if (keyid[0] != '\0' && dk_gpg_signer_has(s, keyid))
		return 0;
	if (dk_gpg_find(gpg, sizeof(gpg)) == -1)
		return -1;
	/*
	 * The signature's creation time is hashed with the header: made
	 * at the build time (the commit's), or the key's birth if later,
	 * the same package signed by the same key is the same bytes
	 * (RSA PKCS#1 v1.5 is deterministic), whenever it is signed.
	 */
	when = built > s->created ? built : s->created;
	snprintf(extra, sizeof(extra), "--batch --no-tty "
	    "--faked-system-time %lld!", when);
	if ((name = strdup(s->key)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	pthread_mutex_lock(&rpm_mutex);
	if (rpm_env_begin(&env) == -1 || rpm_define("__gpg", gpg) == -1 ||
	    rpm_define("_gpg_sign_cmd_extra_args", extra) == -1 ||
	    /* EL7's rpm 4.11 and every later one verify SHA-256. */
	    rpm_define("_gpg_digest_algo", "sha256") == -1 ||
	    (s->home != NULL && rpm_define("_gpg_path", s->home) == -1))
		goto done;
	memset(&args, 0, sizeof(args));
	args.keyid = name;
	if (quiet_stdout(&saved) == -1)
		goto done;
	if (hold_stderr(&held, &err) == -1) {
		restore_stdout(saved);
		goto done;
	}
	signrc = rpmPkgSign(path, &args);
	release_stderr(held, err, why, sizeof(why));
	restore_stdout(saved);
	if (signrc != 0) {
		dk_error_set("cannot sign '%s' with key '%s': %s", path, s->key,
		    why[0] ? why : rpm_err[0] ? rpm_err : "unknown error");
		goto done;
	}
	if (changed != NULL)
		*changed = 1;
	dk_log_debug("signed '%s' with key '%s'", path, s->key);
	rc = 0;
done:
	rpm_env_end(&env);
	pthread_mutex_unlock(&rpm_mutex);
	free(name);
	return rc;
}

int
dk_rpm_query_vcs(const char *path, char *out, size_t size)
{
	const char *vcs;
	Header h = NULL;
	int rc = -1;

	out[0] = '\0';
	if (dk_rpm_enter() != 0)
		return -1;
	if (read_header(path, &h) != 0)
		goto done;
	vcs = headerGetString(h, RPMTAG_VCS);
	if (vcs == NULL || strlen(vcs) >= size) {
		dk_error_set("package '%s' has no usable VCS tag", path);
		goto done;
	}
	memcpy(out, vcs, strlen(vcs) + 1);
	rc = 0;
done:
	headerFree(h);
	dk_rpm_leave();
	return rc;
}

int
rpm_sha256(const void *data, size_t len, char *hex)
{
	DIGEST_CTX ctx;
	void *out = NULL;
	size_t n = 0;
	int rc = -1;

	if ((ctx = rpmDigestInit(PGPHASHALGO_SHA256, RPMDIGEST_NONE)) !=
	    NULL && rpmDigestUpdate(ctx, data, len) == 0 &&
	    rpmDigestFinal(ctx, &out, &n, 1) == 0 && out != NULL && n == 65) {
		memcpy(hex, out, 65);
		rc = 0;
	} else
		dk_error_set("cannot compute a SHA-256");
	free(out);
	return rc;
}

int
dk_rpm_sha256(const void *data, size_t len, char *hex, size_t size)
{
	int rc;

	if (size < 65) {
		dk_error_set("no room for a SHA-256");
		return -1;
	}
	if (dk_rpm_enter() != 0)
		return -1;
	rc = rpm_sha256(data, len, hex);
	dk_rpm_leave();
	return rc;
}
