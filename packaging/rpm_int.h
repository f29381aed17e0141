/*
 * What packaging/rpm.c (builds), rpm_write.c (the package file) and
 * rpm_sign.c (reading and signing) share: librpm keeps its macro
 * context, log and rpmrc tables in process globals, so every use holds
 * rpm_mutex and sets them up and tears them down around itself.
 * Private to those three files.
 */
#ifndef DK_RPM_INT_H
#define DK_RPM_INT_H

#include <pthread.h>
#include <stddef.h>

#include <rpm/header.h>
#include <rpm/rpmlog.h>

#define RPM_ERR_LEN	512
#define RPM_MAX_SIZE	(1024u * 1024 * 1024)	/* a package in memory */

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

#endif
