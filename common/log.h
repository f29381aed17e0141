/*
 * Diagnostics on stderr as "dkimrot: message".  stdout is for results only.
 */
#ifndef DK_LOG_H
#define DK_LOG_H

enum dk_loglevel {
	DK_LOG_QUIET = 0,	/* -q: errors only */
	DK_LOG_NORMAL = 1,	/* warnings and notices */
	DK_LOG_VERBOSE = 2	/* -v: debug too */
};

void	dk_log_set_level(enum dk_loglevel);
int	dk_log_level(void);
/* "dkimrot: message" — a failure; always shown. */
void	dk_log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* "dkimrot: warning: message" */
void	dk_log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* "dkimrot: message" unless -q */
void	dk_log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* "dkimrot: message" with -v only */
void	dk_log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
