/*
 * The last-error buffer.  A failing function writes one message here and
 * returns -1 (or an expected code below); the caller at the top prints it.
 */
#ifndef DK_ERROR_H
#define DK_ERROR_H

/* Expected failures callers branch on.  Everything else is -1. */
#define DK_ENOTFOUND	(-2)
#define DK_EEXISTS	(-3)
#define DK_ELOCKED	(-4)
#define DK_EUSAGE	(-5)	/* bad input or configuration: exit 2 */
#define DK_ETEMP	(-6)	/* try again later (DNS not answering): exit 75 */
#define DK_EMISMATCH	(-7)	/* a record does not match a key */
#define DK_ERACE	(-8)	/* another host pushed first: plan again */

/* Process exit codes (docs/design.md §6).  Commands return these. */
enum dk_exit {
	DK_EXIT_OK = 0,
	DK_EXIT_FAIL = 1,
	DK_EXIT_USAGE = 2,
	DK_EXIT_TEMP = 75,
	/*
	 * Never a process's exit status: a changing command's "plan
	 * again" (DK_ERACE) to rotator/remote.h's dk_remote_retry(), which
	 * runs it again or gives up with DK_EXIT_TEMP.
	 */
	DK_EXIT_AGAIN = 76
};

void		 dk_error_set(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
/* Appends ": strerror(errnum)". */
void		 dk_error_set_errno(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Puts "context: " in front of the current message. */
void		 dk_error_prefix(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
const char	*dk_error_last(void);
void		 dk_error_clear(void);

/* Maps a function's return code to the exit code a command returns. */
int		 dk_error_exit(int);

#endif
