/*
 * librpm, librpmbuild and librpmsign, in process.  The only module that
 * includes <rpm/...>, with rpm_write.c (the package file) and
 * rpm_sign.c; packaging/spec.c renders the spec text parsed here.
 *
 * A build renders the spec without its %files (the files are given, not
 * found), has librpmbuild parse it into the package's header, and gives
 * that header to rpm_write().  Every macro the parse reads that could
 * make the header depend on the host or the clock is pinned, and rpm's
 * configuration is read afresh for each call and freed after it, so one
 * build never sees another's macros.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpm/rpmbuild.h>
#include <rpm/rpmspec.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gpg.h"
#include "common/log.h"
#include "common/secret.h"
#include "packaging/rpm.h"
#include "packaging/rpm_int.h"

/* librpm's macro context, log and rpmrc tables are process globals. */
pthread_mutex_t rpm_mutex = PTHREAD_MUTEX_INITIALIZER;
/* rpm's last error, for our message (guarded by rpm_mutex). */
char rpm_err[RPM_ERR_LEN];

/* rpm's messages go to our debug log, one line at a time. */
static int
logcb(rpmlogRec rec, rpmlogCallbackData data)
{
	const char *msg = rpmlogRecMessage(rec), *nl;
	rpmlogLvl pri = rpmlogRecPriority(rec);
	size_t n;

	if (msg == NULL)
		return 0;
	while (*msg != '\0') {
		nl = strchr(msg, '\n');
		n = nl != NULL ? (size_t)(nl - msg) : strlen(msg);
		if (n > 0) {
			dk_log_debug("rpm: %.*s", (int)n, msg);
			if (pri <= RPMLOG_ERR && n < RPM_ERR_LEN) {
				memcpy(rpm_err, msg, n);
				rpm_err[n] = '\0';
			}
		}
		msg += n + (nl != NULL);
	}
	return 0;	/* not RPMLOG_DEFAULT: rpm prints nothing itself */
}


int
rpm_env_begin(struct rpmenv *e)
{
	memset(e, 0, sizeof(*e));
	rpm_err[0] = '\0';
	e->oldcb = rpmlogSetCallback(logcb, NULL);
	e->oldmask = rpmlogSetMask(RPMLOG_UPTO(dk_log_level() >=
	    DK_LOG_VERBOSE ? RPMLOG_DEBUG : RPMLOG_NOTICE));
	/* Whatever an earlier user (createrepo_c) left, start clean. */
	rpmFreeMacros(NULL);
	rpmFreeRpmrc();
	if (rpmReadConfigFiles(NULL, NULL) != 0) {
		dk_error_set("cannot read rpm configuration: %s",
		    rpm_err[0] ? rpm_err : "unknown error");
		return -1;
	}
	e->configured = 1;
	return 0;
}

void
rpm_env_end(struct rpmenv *e)
{
	if (e->configured) {
		rpmFreeMacros(NULL);
		rpmFreeRpmrc();
	}
	rpmlogClose();
	rpmlogSetMask(e->oldmask);
	rpmlogSetCallback(e->oldcb, e->olddata);
}

static struct rpmenv enter_env;	/* dk_rpm_enter(), under rpm_mutex */

int
dk_rpm_enter(void)
{
	pthread_mutex_lock(&rpm_mutex);
	if (rpm_env_begin(&enter_env) == -1) {
		rpm_env_end(&enter_env);
		pthread_mutex_unlock(&rpm_mutex);
		return -1;
	}
	return 0;
}

void
dk_rpm_leave(void)
{
	rpm_env_end(&enter_env);
	pthread_mutex_unlock(&rpm_mutex);
}

int
rpm_define(const char *name, const char *value)
{
	if (rpmPushMacro(NULL, name, NULL, value, RMIL_CMDLINE) != 0) {
		dk_error_set("cannot define rpm macro '%s'", name);
		return -1;
	}
	return 0;
}

/*
 * The macros the spec's parse reads: nothing that could make the header
 * depend on the host or the clock.  They override ~/.rpmmacros and
 * /etc/rpm (a higher level).
 */
static int
parse_macros(void)
{
	static const char *const fixed[][2] = {
		{ "_buildhost", "dkimrot" },
		{ "source_date_epoch_from_changelog", "0" },
		{ "_changelog_trimage", "0" },
		{ "_changelog_trimtime", "0" },
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (rpm_define(fixed[i][0], fixed[i][1]) == -1)
			return -1;
	return 0;
}

/* $TMPDIR when set (absolute), else /tmp. */
static const char *
tmp_base(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp != NULL && tmp[0] == '/' ? tmp : "/tmp";
}

/*
 * The header librpmbuild parses from the spec text, as rpmbuild starts
 * each package's: a copy the caller frees.  The spec holds no key
 * material; it passes through a private directory, removed after.
 */
static Header
spec_header(const char *text, const char *name)
{
	char top[PATH_MAX], path[PATH_MAX];
	rpmSpec spec = NULL;
	rpmSpecPkgIter it = NULL;
	rpmSpecPkg pkg;
	Header h = NULL;

	/*
	 * A killed build's tree: gone.  Earlier dkimrot wrote the whole
	 * build root, keys and all, there or in /dev/shm.
	 */
	dk_tmp_sweep(tmp_base(), "dkimrot-rpm");
	if (strcmp(tmp_base(), "/dev/shm") != 0)
		dk_tmp_sweep("/dev/shm", "dkimrot-rpm");
	if (dk_tmp_make(top, sizeof(top), tmp_base(), "dkimrot-rpm") != 0)
		return NULL;
	if (snprintf(path, sizeof(path), "%s/%s.spec", top, name) >=
	    (int)sizeof(path))
		dk_error_set("path too long");
	else if (dk_file_create_nosync(path, text, strlen(text), 0600) != 0)
		;
	else if ((spec = rpmSpecParse(path, RPMSPEC_NONE, NULL)) == NULL)
		dk_error_set("cannot parse spec: %s",
		    rpm_err[0] ? rpm_err : "unknown error");
	else if ((it = rpmSpecPkgIterInit(spec)) == NULL ||
	    (pkg = rpmSpecPkgIterNext(it)) == NULL ||
	    (h = headerCopy(rpmSpecPkgHeader(pkg))) == NULL)
		dk_error_set("spec describes no package");
	rpmSpecPkgIterFree(it);
	rpmSpecFree(spec);
	dk_dir_remove(top);
	return h;
}

int
dk_rpm_build(const char *tmpl, const struct dk_rpm_pkg *pkg,
    const char *outdir, char **out)
{
	struct dk_rpm_pkg bare = *pkg;
	struct rpmenv env;
	char file[PATH_MAX], dst[PATH_MAX];
	char *spec = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	Header h = NULL;
	int n, rc = -1, locked = 0;

	if (out != NULL)
		*out = NULL;
	/* The files are the header's and the payload's, not the spec's. */
	bare.files = NULL;
	bare.nfiles = 0;
	if ((rc = dk_rpm_spec_render(tmpl, &bare, &spec)) != 0)
		return rc;
	rc = -1;
	n = snprintf(file, sizeof(file), "%s-%s-%s.noarch.rpm", pkg->name,
	    pkg->version, pkg->release ? pkg->release : "1");
	if (n < 0 || (size_t)n >= sizeof(file) ||
	    dk_path_join(dst, sizeof(dst), outdir, file) == -1) {
		dk_error_set("package name too long");
		goto done;
	}
	pthread_mutex_lock(&rpm_mutex);
	locked = 1;
	if (rpm_env_begin(&env) == -1 || parse_macros() == -1 ||
	    (h = spec_header(spec, pkg->name)) == NULL)
		goto done;
	if ((rc = rpm_write(h, pkg, &data, &len)) != 0)
		goto done;
	rc = -1;
	if (dk_file_replace(dst, data, len, pkg->rpm_mode ? pkg->rpm_mode :
	    0644) != 0)
		goto done;
	if (out != NULL && (*out = strdup(dst)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	dk_log_debug("built '%s'", dst);
	rc = 0;
done:
	/* A private package's payload is key material. */
	dk_secret_free(data, len);
	headerFree(h);
	if (locked) {
		rpm_env_end(&env);
		pthread_mutex_unlock(&rpm_mutex);
	}
	free(spec);
	return rc;
}
