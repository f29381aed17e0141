/*
 * Time: RFC 3339 UTC timestamps, @epoch, durations, selectors, and the
 * process clock (which --now / DKIMROT_NOW override).
 */
#ifndef DK_DKTIME_H
#define DK_DKTIME_H

#include <stddef.h>
#include <time.h>

/* "2026-11-22T13:15:00Z" plus NUL. */
#define DK_TIME_LEN	21
/* "20261122131500" plus NUL. */
#define DK_SELECTOR_TIME_LEN	15

/*
 * RFC 3339 ("2026-11-22T13:15:00Z", also with "+hh:mm" offsets and
 * fractional seconds, which are dropped) or "@EPOCH".  DK_EUSAGE if
 * malformed.
 */
int	dk_time_parse(const char *, time_t *);
/* RFC 3339 UTC with "Z". */
void	dk_time_format(time_t, char [DK_TIME_LEN]);
/* YYYYMMDDHHMMSS in UTC. */
void	dk_time_selector(time_t, char [DK_SELECTOR_TIME_LEN]);
/*
 * Durations: a sequence of NUMBER UNIT with units s m h d w ("30d",
 * "1d12h").  A bare number is refused: the unit is never guessed.
 */
int	dk_duration_parse(const char *, long long *);
/* The shortest exact form: 2592000 -> "30d", 5400 -> "1h30m". */
void	dk_duration_format(long long, char *, size_t);

/* The clock: set once by the CLI from --now / DKIMROT_NOW, else real. */
void	dk_clock_set(time_t);
time_t	dk_clock_now(void);
/*
 * Milliseconds on the monotonic clock, for timeouts: unrelated to the
 * wall clock and never set by --now.
 */
long long	dk_clock_ms(void);

#endif
