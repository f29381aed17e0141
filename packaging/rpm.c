/*
 * librpm, librpmbuild and librpmsign, in process.  The only module that
 * includes <rpm/...>; packaging/spec.c renders the spec text built here.
 *
 * A build runs in a private _topdir (mkdtemp, 0700): the spec is written
 * to SPECS/, the payload to BUILDROOT/ by us, and librpmbuild only
 * packages (no %prep/%build/%install script exists, so none runs).  Every
 * macro that could make the bytes depend on the host or the clock is
 * pinned, and rpm's configuration is read afresh for each call and freed
 * after it, so one build never sees another's macros.
 */
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpm/rpmbuild.h>
#include <rpm/rpmcrypto.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmsign.h>
#include <rpm/rpmts.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gpg.h"
#include "common/log.h"
#include "common/secret.h"
#include "packaging/magic.h"
#include "packaging/rpm.h"
#include "packaging/rpm_int.h"

#define RPM_MAX_SIZE	(1024u * 1024 * 1024)	/* a package we copy */
#define SHM_DIR		"/dev/shm"

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
	if (e->sde_set) {
		if (e->old_sde != NULL)
			setenv("SOURCE_DATE_EPOCH", e->old_sde, 1);
		else
			unsetenv("SOURCE_DATE_EPOCH");
	}
	free(e->old_sde);
	if (e->magic_set) {
		if (e->old_magic != NULL)
			setenv("MAGIC", e->old_magic, 1);
		else
			unsetenv("MAGIC");
	}
	free(e->old_magic);
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

static int
set_sde(struct rpmenv *e, time_t t)
{
	const char *old = getenv("SOURCE_DATE_EPOCH");
	char v[32];
	int n;

	n = snprintf(v, sizeof(v), "%lld", (long long)t);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -1;
	if (old != NULL && (e->old_sde = strdup(old)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	e->sde_set = 1;
	if (setenv("SOURCE_DATE_EPOCH", v, 1) == -1) {
		dk_error_set_errno(errno, "cannot set SOURCE_DATE_EPOCH");
		return -1;
	}
	return 0;
}

/* $MAGIC for the build: see packaging/magic.h.  Best effort. */
static void
set_magic(struct rpmenv *e, const char *top)
{
	const char *old = getenv("MAGIC");
	char path[PATH_MAX];

	if (dk_magic_none(top, path, sizeof(path)) != 0) {
		dk_log_debug("%s; rpm classifies with the system's magic",
		    dk_error_last());
		return;
	}
	if (old != NULL && (e->old_magic = strdup(old)) == NULL)
		return;
	if (setenv("MAGIC", path, 1) == 0)
		e->magic_set = 1;
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
 * The build macros.  Paths under top come from mkdtemp and hold no '%'.
 * Values override ~/.rpmmacros and /etc/rpm (a higher level).
 */
static int
build_macros(const char *top, const char *root, int compress)
{
	/*
	 * One thread each: deterministic.  gzip reads everywhere; level 6,
	 * zlib's default, not rpm's 9: on key material 9 saves 0.1% of the
	 * payload at twice the CPU (gzip was 14% of a 100,000-domain
	 * build).  xz 2 was Fedora's before zstd; zstd 9, because
	 * level 19 cost 13 s of CPU for 10,000 domains' packages
	 * (tests/bench) and saved 1% of their size: the payload is mostly
	 * random key material, and the header (the file list) is most of
	 * the package anyway.
	 */
	static const char *const payload[] = {
		[DK_COMPRESS_GZIP] = "w6.gzdio",
		[DK_COMPRESS_XZ] = "w2.xzdio",
		[DK_COMPRESS_ZSTD] = "w9.zstdio",
	};
	static const char *const fixed[][2] = {
		/* One file per package straight in _rpmdir. */
		{ "_build_name_fmt",
		    "%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" },
		{ "_build_id_links", "none" },
		{ "__os_install_post", "%{nil}" },
		{ "debug_package", "%{nil}" },
		{ "_enable_debug_packages", "0" },
		/* No check-files or rpmlint script after the build. */
		{ "__check_files", "%{nil}" },
		{ "_build_pkgcheck", "%{nil}" },
		{ "_build_pkgcheck_set", "%{nil}" },
		/* Else a shell is run to count CPUs. */
		{ "_smp_build_ncpus", "1" },
		{ "_smp_build_nthreads", "1" },
		/* Reproducible: host and times from us only. */
		{ "_buildhost", "dkimrot" },
		{ "use_source_date_epoch_as_buildtime", "1" },
		{ "clamp_mtime_to_source_date_epoch", "1" },
		{ "source_date_epoch_from_changelog", "0" },
		{ "_changelog_trimage", "0" },
		{ "_changelog_trimtime", "0" },
	};
	/*
	 * _fileattrsdir: one attribute that matches nothing.  The system's
	 * attributes only feed dependency generators (AutoReqProv is off),
	 * yet rpm matched each against every file: a fifth of a
	 * 10,000-domain build.
	 */
	static const char *const dirs[][2] = {
		{ "_topdir", "" }, { "_builddir", "/BUILD" },
		{ "_rpmdir", "/RPMS" }, { "_srcrpmdir", "/SRPMS" },
		{ "_sourcedir", "/SOURCES" }, { "_specdir", "/SPECS" },
		{ "_tmppath", "/tmp" }, { "_buildrootdir", "/BUILDROOT" },
		{ "_fileattrsdir", "/fileattrs" },
	};
	char path[PATH_MAX];
	size_t i;
	int n;

	if (compress < 0 || (size_t)compress >= sizeof(payload) /
	    sizeof(payload[0])) {
		dk_error_set("unknown payload compression %d", compress);
		return DK_EUSAGE;
	}
	if (rpm_define("_binary_payload", payload[compress]) == -1)
		return -1;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (rpm_define(fixed[i][0], fixed[i][1]) == -1)
			return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		n = snprintf(path, sizeof(path), "%s%s", top, dirs[i][1]);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    rpm_define(dirs[i][0], path) == -1)
			return -1;
	}
	return rpm_define("buildroot", root);
}

static time_t stamp;	/* for settime(), guarded by rpm_mutex */

static int
settime(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = stamp;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == -1) {
		dk_error_set_errno(errno, "cannot set time of '%s'", path);
		return -1;
	}
	return 0;
}

/*
 * A payload file: exclusive, 0600, and not fsynced, so that key material
 * in a short-lived build root need never reach a disk (see rpm.h).
 */
static int
write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		dk_error_set_errno(errno, "cannot create '%s'", path);
		return -1;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			close(fd);
			dk_error_set_errno(saved, "cannot write '%s'", path);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) == -1) {
		dk_error_set_errno(errno, "cannot write '%s'", path);
		return -1;
	}
	return 0;
}

/*
 * The payload, written by us: modes 0600/0700 on disk (only we read it;
 * the package's modes come from %attr), times pinned to pkg->time.
 */
static int
populate(const char *root, const struct dk_rpm_pkg *pkg)
{
	const struct dk_rpm_file *f;
	char path[PATH_MAX], last[PATH_MAX] = "", *slash;
	size_t i;
	int n, rc;

	if (mkdir(root, 0700) == -1) {
		dk_error_set_errno(errno, "cannot create '%s'", root);
		return -1;
	}
	for (i = 0; i < pkg->nfiles; i++) {
		f = &pkg->files[i];
		n = snprintf(path, sizeof(path), "%s%s", root, f->path);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			dk_error_set("path too long: '%s'", f->path);
			return -1;
		}
		if (f->flags & DK_RPM_DIR) {
			if (dk_dir_make(path, 0700) == -1)
				return -1;
			continue;
		}
		/* Files come by directory: make each one once, not per file. */
		slash = strrchr(path, '/');
		*slash = '\0';
		rc = strcmp(path, last) == 0 ? 0 : dk_dir_make(path, 0700);
		if (rc == 0)
			memcpy(last, path, (size_t)(slash - path) + 1);
		*slash = '/';
		if (rc == -1)
			return -1;
		if (write_file(path, f->data, f->len) == -1)
			return -1;
	}
	stamp = pkg->time;
	return nftw(root, settime, 16, FTW_PHYS) == 0 ? 0 : -1;
}

/*
 * Where the build goes: $TMPDIR when set (absolute), else /dev/shm when
 * it is a tmpfs with room for twice what the build writes, else /tmp.
 * In memory, the keys of the build root never reach a disk, and the
 * thousands of files of a large site cost no disk blocks to write and
 * then free (measured on a VM: removing a 20,000-file build root from
 * ext4 took 35 s).
 */
static const char *
tmp_base(const struct dk_rpm_pkg *pkg)
{
	const char *tmp = getenv("TMPDIR");
	unsigned long long need = 16ULL << 20;
	struct statfs fs;
	size_t i;

	if (tmp != NULL)
		return tmp[0] == '/' && strchr(tmp, '%') == NULL ? tmp :
		    "/tmp";
	/* Each file in whole pages, and again in the package. */
	for (i = 0; i < pkg->nfiles; i++)
		need += ((pkg->files[i].len + 4095) & ~4095ULL) +
		    pkg->files[i].len + 512;
	if (statfs(SHM_DIR, &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
	    access(SHM_DIR, W_OK | X_OK) == 0 &&
	    (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_bsize >=
	    2 * need && (fs.f_files == 0 || fs.f_ffree >= 2 * pkg->nfiles))
		return SHM_DIR;
	return "/tmp";
}

/* mkdtemp under tmp_base(), with the rpm tree in it. */
static int
make_top(char *top, size_t size, const struct dk_rpm_pkg *pkg)
{
	static const char *const sub[] = { "BUILD", "BUILDROOT", "RPMS",
	    "SPECS", "tmp", "fileattrs" };
	const char *tmp = tmp_base(pkg);
	char path[PATH_MAX];
	size_t i;

	/* A killed build's tree holds private keys: gone with the next. */
	dk_tmp_sweep(tmp, "dkimrot-rpm");
	if (dk_tmp_make(top, size, tmp, "dkimrot-rpm") != 0)
		return -1;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (dk_path_join(path, sizeof(path), top, sub[i]) == -1)
			return -1;
		if (mkdir(path, 0700) == -1) {
			dk_error_set_errno(errno, "cannot create '%s'", path);
			return -1;
		}
	}
	/* An attribute without rules (see build_macros). */
	if (dk_path_join(path, sizeof(path), top, "fileattrs/none.attr") == -1)
		return -1;
	return dk_file_create_nosync(path, "", 0, 0600);
}

/* librpmbuild: parse the spec and package the build root. */
static int
run_build(const char *specpath, const char *root)
{
	struct rpmBuildArguments_s ba;
	rpmSpec spec = NULL;
	rpmts ts = NULL;
	int rc = -1;

	if ((spec = rpmSpecParse(specpath, RPMSPEC_NONE, root)) == NULL) {
		dk_error_set("cannot parse spec: %s",
		    rpm_err[0] ? rpm_err : "unknown error");
		goto done;
	}
	if ((ts = rpmtsCreate()) == NULL) {
		dk_error_set("cannot create rpm transaction");
		goto done;
	}
	memset(&ba, 0, sizeof(ba));
	/*
	 * INSTALL with no %install section runs nothing, but without it
	 * rpm marks the package rpmlib(ShortCircuited), uninstallable.
	 */
	ba.buildAmount = RPMBUILD_INSTALL | RPMBUILD_PACKAGEBINARY;
	ba.rootdir = "/";
	if (rpmSpecBuild(ts, spec, &ba) != 0) {
		dk_error_set("cannot build package: %s",
		    rpm_err[0] ? rpm_err : "unknown error");
		goto done;
	}
	rc = 0;
done:
	rpmtsFree(ts);
	rpmSpecFree(spec);
	return rc;
}

/* The built package, copied into outdir atomically with its mode. */
static int
publish(const char *top, const char *file, const char *outdir, mode_t mode,
    char **out)
{
	char src[PATH_MAX], dst[PATH_MAX];
	char *data = NULL;
	size_t len = 0;
	int n, rc = -1;

	n = snprintf(src, sizeof(src), "%s/RPMS/%s", top, file);
	if (n < 0 || (size_t)n >= sizeof(src) ||
	    dk_path_join(dst, sizeof(dst), outdir, file) == -1)
		goto done;
	if (dk_file_read(src, RPM_MAX_SIZE, &data, &len) != 0 ||
	    dk_file_replace(dst, data, len, mode ? mode : 0644) != 0)
		goto done;
	if (out != NULL && (*out = strdup(dst)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	rc = 0;
done:
	/* A private package's payload is key material. */
	if (data != NULL)
		dk_secret_wipe(data, len);
	free(data);
	return rc;
}

int
dk_rpm_build(const char *tmpl, const struct dk_rpm_pkg *pkg,
    const char *outdir, char **out)
{
	struct rpmenv env;
	char top[PATH_MAX] = "", specpath[PATH_MAX], root[PATH_MAX];
	char file[PATH_MAX];
	char *spec = NULL;
	int n, rc = -1, locked = 0;

	if (out != NULL)
		*out = NULL;
	if ((rc = dk_rpm_spec_render(tmpl, pkg, &spec)) != 0)
		return rc;
	rc = -1;
	n = snprintf(file, sizeof(file), "%s-%s-%s.noarch.rpm", pkg->name,
	    pkg->version, pkg->release ? pkg->release : "1");
	if (n < 0 || (size_t)n >= sizeof(file)) {
		dk_error_set("package name too long");
		goto done;
	}
	pthread_mutex_lock(&rpm_mutex);
	locked = 1;
	if (rpm_env_begin(&env) == -1 || make_top(top, sizeof(top), pkg) == -1)
		goto done;
	n = snprintf(specpath, sizeof(specpath), "%s/SPECS/%s.spec", top,
	    pkg->name);
	if (n < 0 || (size_t)n >= sizeof(specpath) ||
	    dk_path_join(root, sizeof(root), top, "BUILDROOT/root") == -1)
		goto done;
	if (dk_file_create(specpath, spec, strlen(spec), 0600) != 0 ||
	    populate(root, pkg) == -1 ||
	    build_macros(top, root, pkg->compress) != 0 ||
	    (set_magic(&env, top), 0) ||
	    set_sde(&env, pkg->time) == -1 || run_build(specpath, root) == -1)
		goto done;
	if (publish(top, file, outdir, pkg->rpm_mode, out) == -1)
		goto done;
	dk_log_debug("built '%s/%s'", outdir, file);
	rc = 0;
done:
	if (top[0] != '\0')
		dk_dir_remove(top);
	if (locked) {
		rpm_env_end(&env);
		pthread_mutex_unlock(&rpm_mutex);
	}
	free(spec);
	return rc;
}
