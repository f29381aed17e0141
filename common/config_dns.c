/*
 * The name server types of dns.server and the reload each needs in the
 * public package's %post (docs/design.md §13).  Each command was found by
 * running the real server (tests/e2e/dns_include.sh) and picks up every
 * change of a $INCLUDEd fragment, a downgrade included:
 *
 *   bind  named reloads a zone only when its file or one of its
 *         $INCLUDEs has an mtime newer than the last load, and rpm gives
 *         every file the build's time (the commit's), which can be older
 *         than the last load: after a downgrade, a build of an old
 *         commit, a restart of named.  "rndc reload ZONE" checks the
 *         same times.  So the fragments are touched first.
 *   nsd   nsd-control reload compares the mtime of the zone file only,
 *         never of its $INCLUDEs, with or without a zone name.  So every
 *         zone file that names zone_dir (the server's own list, through
 *         nsd-control zonestatus and nsd-checkconf) is touched first.
 *   knot  knotc reload re-reads the configuration, not zone files;
 *         knotc zone-reload re-reads every zone file whatever its time.
 *
 * zone_dir is validated ([A-Za-z0-9/._+-]), so it needs no quoting in a
 * shell command, and the commands hold no '%' (spec.c escapes it
 * anyway) and no backslash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"

static const char *const names[] = { "bind", "nsd", "knot" };

/* Debian's and upstream's path: nsd-control reads it by default too. */
#define NSD_CONF	"/etc/nsd/nsd.conf"

const char *
dk_server_type_name(enum dk_server_type s)
{
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] :
	    "?";
}

int
dk_server_type_parse(const char *s, enum dk_server_type *out)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum dk_server_type)i;
			return 0;
		}
	}
	return DK_EUSAGE;
}

/*
 * zones: the package also changes the server's zone list (the snippet
 * its configuration includes), so the configuration is read again
 * first; that adds and removes zones, then the changed zones reload.
 */
static int
zones_reload(struct dk_buf *b, enum dk_server_type s, const char *zone_dir)
{
	switch (s) {
	case DK_SERVER_BIND:
		return dk_buf_printf(b, "touch -c %s/*.zone && rndc reconfig "
		    "&& rndc reload", zone_dir);
	case DK_SERVER_NSD:
		return dk_buf_printf(b, "touch -c %s/*.zone && nsd-control "
		    "reconfig && nsd-control reload", zone_dir);
	case DK_SERVER_KNOT:
		return dk_buf_puts(b, "knotc reload && knotc zone-reload");
	}
	return -1;
}

static int
include_reload(struct dk_buf *b, enum dk_server_type s,
    const char *zone_dir)
{
	switch (s) {
	case DK_SERVER_BIND:
		return dk_buf_printf(b, "touch -c %s/*.zone && rndc reload",
		    zone_dir);
	case DK_SERVER_NSD:
		return dk_buf_printf(b, "c=" NSD_CONF "; "
		    "d=$(nsd-checkconf -o zonesdir $c); "
		    "for z in $(nsd-control zonestatus | "
		    "sed -n \"s/^zone:[[:space:]]*//p\"); do "
		    "f=$(nsd-checkconf -z \"$z\" -o zonefile $c); "
		    "case $f in /*) ;; *) f=$d/$f ;; esac; "
		    "grep -qsF %s/ \"$f\" && touch \"$f\"; done; "
		    "nsd-control reload", zone_dir);
	case DK_SERVER_KNOT:
		return dk_buf_puts(b, "knotc zone-reload");
	}
	return -1;
}

int
dk_config_dns_reload(enum dk_server_type s, enum dk_publish publish,
    const char *zone_dir, char **out)
{
	struct dk_buf b = { 0 };
	int rc;

	*out = NULL;
	if (publish == DK_PUBLISH_ZONES)
		rc = zones_reload(&b, s, zone_dir);
	else
		rc = include_reload(&b, s, zone_dir);
	if (rc != 0) {
		dk_buf_dispose(&b);
		dk_error_set("out of memory");
		return -1;
	}
	*out = dk_buf_detach(&b);
	return *out != NULL ? 0 : -1;
}
