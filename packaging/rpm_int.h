/*
 * What packaging/rpm.c (builds), rpm_write.c and rpm_payload.c (the
 * package file) and rpm_sign.c (reading and signing) share: librpm keeps its macro
 * context, log and rpmrc tables in process globals, so every use holds
 * rpm_mutex and sets them up and tears them down around itself.
 * Private to those files.
 */
#ifndef DK_RPM_INT_H
#define DK_RPM_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <rpm/header.h>
#include <rpm/rpmlog.h>

#define RPM_ERR_LEN	512
#define RPM_MAX_SIZE	(1024u * 1024 * 1024)	/* a package in memory */

struct dk_rpm_file;
struct dk_rpm_pkg;

extern pthread_mutex_t	rpm_mutex;
/* rpm's last error, for our message (guarded by rpm_mutex). */
extern char		rpm_err[RPM_ERR_LEN];

/* State rpm keeps between our calls: set up and torn down around each. */
struct rpmenv {
	rpmlogCallback	 oldcb;
	rpmlogCallbackData olddata;
	int		 oldmask;
	int		 configured;
};

/* Reads rpm's configuration afresh, our log callback in place. */
int	rpm_env_begin(struct rpmenv *e);
/* Puts back what rpm_env_begin() and the macros changed. */
void	rpm_env_end(struct rpmenv *e);
/* One macro at command-line level (over ~/.rpmmacros and /etc/rpm). */
int	rpm_define(const char *name, const char *value);
/*
 * packaging/rpm_write.c: the whole package file of pkg into *out (*len
 * bytes, key material for a private package: the caller wipes and
 * frees it), its header from spec (the header librpmbuild parsed from
 * the rendered spec, not changed).  DK_EUSAGE for an invalid file.
 */
int	rpm_write(Header spec, const struct dk_rpm_pkg *pkg,
	    unsigned char **out, size_t *len);
/*
 * packaging/rpm_payload.c: the cpio archive of v[0..n) (sorted as the
 * header lists them, file times t) compressed with rpmio mode ("w6.gzdio")
 * into *out (*len bytes; the caller wipes and frees it), the archive's
 * size and the SHA-256 of it uncompressed (65 bytes of hex) into alt.
 */
int	rpm_payload(const struct dk_rpm_file *const *v, size_t n, time_t t,
	    const char *mode, unsigned char **out, size_t *len,
	    uint64_t *size, char *alt);
/* The SHA-256 of data as 64 hex digits and a NUL into hex; under the lock. */
int	rpm_sha256(const void *data, size_t len, char *hex);

#endif
