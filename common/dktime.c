#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dktime.h"
#include "common/error.h"

static time_t fixed_now = (time_t)-1;

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm()). */
static long long
days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse: the date of a day since 1970-01-01, 0 <= z. */
static void
civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* n as w digits at p (n < 10^w). */
static char *
put_digits(char *p, int n, int w)
{
	int i;

	for (i = w - 1; i >= 0; i--, n /= 10)
		p[i] = (char)('0' + n % 10);
	return p + w;
}

/*
 * t's date and time as YYYY MM DD HH MM SS with sep[0..5) after each
 * but the last ('\0': none) at buf, NUL-terminated.  Written by hand:
 * gmtime_r and strftime take a lock and the time zone each call, and a
 * keys.yaml holds six times per key (rotator/store_yaml.c writes every
 * one it reads back).  0 when t is outside 1970..9999.
 */
static int
put_time(time_t t, char *buf, const char sep[5])
{
	long long days, secs;
	int y, m, d, i, v[6];
	char *p = buf;

	if (t < 0 || (long long)t > 253402300799LL)
		return 0;
	days = (long long)t / 86400;
	secs = (long long)t % 86400;
	civil_from_days(days, &y, &m, &d);
	v[0] = y;
	v[1] = m;
	v[2] = d;
	v[3] = (int)(secs / 3600);
	v[4] = (int)(secs / 60 % 60);
	v[5] = (int)(secs % 60);
	p = put_digits(p, v[0], 4);
	for (i = 1; i < 6; i++) {
		if (sep[i - 1] != '\0')
			*p++ = sep[i - 1];
		p = put_digits(p, v[i], 2);
	}
	*p = '\0';
	return 1;
}

static int
bad_time(const char *s)
{
	dk_error_set("invalid time '%s': expected RFC 3339 "
	    "(2026-11-22T13:15:00Z) or @EPOCH", s);
	return DK_EUSAGE;
}

int
dk_time_parse(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, oh, om, sign;
	long long v;
	const char *p;
	char *end;

	if (s[0] == '@') {
		if (!isdigit((unsigned char)s[1]) && s[1] != '-')
			return bad_time(s);
		v = strtoll(s + 1, &end, 10);
		if (*end != '\0' || v < 0 || v > 253402300799LL)
			return bad_time(s);
		*out = (time_t)v;
		return 0;
	}
	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return bad_time(s);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 ||
	    mi > 59 || sec > 60)
		return bad_time(s);
	if (sec == 60)
		sec = 59;	/* a leap second is not worth a key's life */
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return bad_time(s);
		while (isdigit((unsigned char)*p))
			p++;
	}
	oh = om = 0;
	sign = 1;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    !digits(p + 1, 2, &oh) && p[3] == ':' && !digits(p + 4, 2, &om) &&
	    oh <= 23 && om <= 59)
		sign = *p == '-' ? -1 : 1;
	else
		return bad_time(s);
	v = days_from_civil(y, mo, d) * 86400LL + h * 3600 + mi * 60 + sec;
	v -= sign * (oh * 3600LL + om * 60LL);
	if (v < 0)
		return bad_time(s);
	*out = (time_t)v;
	return 0;
}

void
dk_time_format(time_t t, char buf[DK_TIME_LEN])
{
	struct tm tm;

	if (put_time(t, buf, "--T::")) {
		buf[DK_TIME_LEN - 2] = 'Z';
		buf[DK_TIME_LEN - 1] = '\0';
		return;
	}
	gmtime_r(&t, &tm);
	if (strftime(buf, DK_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, DK_TIME_LEN, "9999-12-31T23:59:59Z");
}

void
dk_time_selector(time_t t, char buf[DK_SELECTOR_TIME_LEN])
{
	struct tm tm;

	if (put_time(t, buf, "\0\0\0\0\0"))
		return;
	gmtime_r(&t, &tm);
	if (strftime(buf, DK_SELECTOR_TIME_LEN, "%Y%m%d%H%M%S", &tm) == 0)
		snprintf(buf, DK_SELECTOR_TIME_LEN, "99991231235959");
}

int
dk_duration_parse(const char *s, long long *out)
{
	long long total = 0, n, unit;
	const char *p = s;

	if (*p == '\0')
		goto bad;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			goto bad;
		n = 0;
		while (isdigit((unsigned char)*p)) {
			if (n > (LLONG_MAX - 9) / 10)
				goto bad;
			n = n * 10 + (*p++ - '0');
		}
		switch (*p++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: goto bad;
		}
		/* Nothing sensible lasts more than a century. */
		if (n > 100LL * 366 * 86400 / unit)
			goto bad;
		total += n * unit;
		if (total > 100LL * 366 * 86400)
			goto bad;
	}
	*out = total;
	return 0;
bad:
	dk_error_set("invalid duration '%s': expected a number and a unit "
	    "(s m h d w), e.g. 30d or 1d12h", s);
	return DK_EUSAGE;
}

void
dk_duration_format(long long secs, char *buf, size_t size)
{
	static const struct { long long n; char u; } units[] = {
		{ 7 * 86400, 'w' }, { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' },
		{ 1, 's' }
	};
	size_t i, len = 0;
	int n;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (secs <= 0) {
		snprintf(buf, size, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		/* Weeks only when they say it exactly: 14d reads as 2w. */
		if (secs < units[i].n)
			continue;
		n = snprintf(buf + len, size - len, "%lld%c",
		    secs / units[i].n, units[i].u);
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
		secs %= units[i].n;
	}
}

void
dk_clock_set(time_t t)
{
	fixed_now = t;
}

time_t
dk_clock_now(void)
{
	if (fixed_now != (time_t)-1)
		return fixed_now;
	return time(NULL);
}

long long
dk_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
