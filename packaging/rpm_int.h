/*
 * What packaging/rpm.c (builds) and packaging/rpm_sign.c (reading and
 * signing) share: librpm keeps its macro context, log and rpmrc tables
 * in process globals, so every use holds rpm_mutex and sets them up and
 * tears them down around itself.  Private to those two files.
 */
#ifndef DK_RPM_INT_H
#define DK_RPM_INT_H

#include <pthread.h>

#include <rpm/rpmlog.h>

#define RPM_ERR_LEN	512

extern pthread_mutex_t	rpm_mutex;
/* rpm's last error, for our message (guarded by rpm_mutex). */
extern char		rpm_err[RPM_ERR_LEN];

/* State rpm keeps between our calls: set up and torn down around each. */
struct rpmenv {
	rpmlogCallback	 oldcb;
	rpmlogCallbackData olddata;
	int		 oldmask;
	int		 configured;
	char		*old_sde;	/* SOURCE_DATE_EPOCH before us */
	int		 sde_set;
	char		*old_magic;	/* MAGIC before us */
	int		 magic_set;
};

/* Reads rpm's configuration afresh, our log callback in place. */
int	rpm_env_begin(struct rpmenv *e);
/* Puts back what rpm_env_begin() and the macros changed. */
void	rpm_env_end(struct rpmenv *e);
/* One macro at command-line level (over ~/.rpmmacros and /etc/rpm). */
int	rpm_define(const char *name, const char *value);

#endif
