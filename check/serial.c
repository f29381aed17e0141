/*
 * check's serials (docs/design.md §13).  With dns.publish zones every
 * package carries the zone _domainkey.DOMAIN with its version as SOA
 * serial, so a server whose serial is lower has not got the newest
 * records: the primary has not installed the package yet, or a
 * secondary has stopped transferring.  With rfc2136 the primary raises
 * the serial of the zone that holds _domainkey.DOMAIN (the domain's own,
 * or a delegated one) with every update, and a secondary behind it has
 * not transferred the last ones.
 *
 * The serial compared with is the highest of the newest package's
 * version (zones, when this repository built one) and of every serial
 * served, in RFC 1982 arithmetic: a stale record of the newest package
 * cannot make a server that is ahead look behind, and without a package
 * (a fresh clone on a monitoring host) the servers are still compared
 * with each other.  Behind by up to dns.max_serial_lag: WARNING (a
 * package on its way to the primary, a transfer under way); further:
 * CRITICAL.  A server that does not answer, or does not serve the zone
 * with authority, is CRITICAL.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/serial.h"
#include "common/dktime.h"
#include "common/error.h"

/* RFC 1982 3.2: s1 > s2. */
static bool
after(uint32_t s1, uint32_t s2)
{
	return s1 != s2 && (uint32_t)(s1 - s2) < 0x80000000u;
}

void
dk_serial_run(struct dk_serial *s)
{
	struct dk_check_result *r = s->out;
	char name[DK_DOMAIN_MAX + 16];
	long long start;

	snprintf(name, sizeof(name), "_domainkey.%s", r->domain);
	if (atomic_load(s->silent)) {
		s->rc = DK_ETEMP;
		dk_check_verdict(r, DK_CHECK_CRITICAL, "did not answer in %d "
		    "ms", s->timeout_ms);
		return;
	}
	start = dk_clock_ms();
	s->rc = dk_dns_soa(s->server->text, name, s->timeout_ms, &s->soa);
	if (s->rc == DK_ETEMP && dk_clock_ms() - start >= s->timeout_ms) {
		atomic_store(s->silent, 1);
		dk_check_verdict(r, DK_CHECK_CRITICAL, "did not answer in %d "
		    "ms", s->timeout_ms);
	} else if (s->rc != 0)
		/* REFUSED, SERVFAIL, a referral: the lookup's own words */
		dk_check_verdict(r, DK_CHECK_CRITICAL, "%s", dk_error_last());
}

/*
 * The zone the servers must serve: _domainkey.DOMAIN with zones; with
 * rfc2136 the one the primary answers with (the zone its updates go
 * to), NULL when it did not answer (each server's own is taken).
 */
static const char *
zone_wanted(const struct dk_serial *v, size_t n,
    const struct dk_serial_ref *ref, char *buf, size_t len)
{
	if (ref->mode == DK_PUBLISH_ZONES) {
		snprintf(buf, len, "_domainkey.%s", v[0].out->domain);
		return buf;
	}
	if (ref->primary < 0 || (size_t)ref->primary >= n ||
	    v[ref->primary].rc != 0 || !v[ref->primary].soa.authoritative)
		return NULL;
	return v[ref->primary].soa.zone;
}

/* Does v serve zone with authority?  If not, say what it serves. */
static bool
serves(struct dk_serial *v, const char *zone)
{
	struct dk_check_result *r = v->out;

	if (v->rc != 0)
		return false;	/* dk_serial_run() said why */
	if (!v->soa.authoritative) {
		dk_check_verdict(r, DK_CHECK_CRITICAL, "does not serve zone "
		    "'%s': its SOA of '%s' comes without authority (AA)",
		    zone != NULL ? zone : v->soa.zone, v->soa.zone);
		return false;
	}
	if (zone != NULL && strcasecmp(v->soa.zone, zone) != 0) {
		dk_check_verdict(r, DK_CHECK_CRITICAL, "does not serve zone "
		    "'%s': '_domainkey.%s' is in its zone '%s' (serial %lu)",
		    zone, r->domain, v->soa.zone,
		    (unsigned long)v->soa.serial);
		return false;
	}
	return true;
}

/* Where the highest serial comes from, for the messages. */
static const char *
source(const struct dk_serial *v, size_t n, const struct dk_serial_ref *ref,
    uint32_t top)
{
	const struct dk_serial *p;

	if (ref->newest != 0 && top == (uint32_t)ref->newest)
		return "the newest package's";
	p = ref->primary >= 0 && (size_t)ref->primary < n ?
	    &v[ref->primary] : NULL;
	if (p != NULL && p->out->serial >= 0 && p->soa.serial == top)
		return "the primary's";
	return "the highest served";
}

long long
dk_serial_judge(struct dk_serial *v, size_t n,
    const struct dk_serial_ref *ref)
{
	struct dk_check_result *r;
	const char *zone, *of;
	char zbuf[DK_DOMAIN_MAX + 16];
	uint32_t top = (uint32_t)(ref->newest & 0xffffffffu), lag;
	bool any = ref->newest != 0;
	long long worst = -1;
	size_t i;

	zone = zone_wanted(v, n, ref, zbuf, sizeof(zbuf));
	for (i = 0; i < n; i++) {
		v[i].out->serial = -1;
		if (!serves(&v[i], zone))
			continue;
		v[i].out->serial = v[i].soa.serial;
		if (!any || after(v[i].soa.serial, top))
			top = v[i].soa.serial;
		any = true;
	}
	of = source(v, n, ref, top);
	for (i = 0; i < n; i++) {
		r = v[i].out;
		if (r->serial < 0)
			continue;
		lag = top - v[i].soa.serial;
		if ((long long)lag > worst)
			worst = lag;
		if (lag == 0)
			dk_check_verdict(r, DK_CHECK_OK, "zone '%s' at serial "
			    "%lu, %s", v[i].soa.zone,
			    (unsigned long)v[i].soa.serial, of);
		else if (lag <= (uint32_t)ref->max_lag)
			dk_check_verdict(r, DK_CHECK_WARNING, "zone '%s' at "
			    "serial %lu, %lu behind %lu, %s; critical when "
			    "more than %d behind", v[i].soa.zone,
			    (unsigned long)v[i].soa.serial, (unsigned long)lag,
			    (unsigned long)top, of, ref->max_lag);
		else
			dk_check_verdict(r, DK_CHECK_CRITICAL, "zone '%s' at "
			    "serial %lu, %lu behind %lu, %s; more than "
			    "dns.max_serial_lag %d", v[i].soa.zone,
			    (unsigned long)v[i].soa.serial, (unsigned long)lag,
			    (unsigned long)top, of, ref->max_lag);
	}
	return worst;
}
