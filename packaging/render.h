/*
 * One commit of the key repository rendered into the contents of the two
 * packages of docs/design.md §7, read through libgit2 only (never the work
 * tree):
 *
 *   dkim-keys-private  KEY_DIR/DOMAIN/SEL.private of every published key
 *                      (0600 key_owner:key_group), TABLE_DIR/KeyTable and
 *                      TABLE_DIR/SigningTable naming each domain's active
 *                      key(s), for OpenDKIM;
 *   dkim-keys-public   ZONE_DIR/DOMAIN.zone: every published key's TXT
 *                      record with an absolute owner name and the
 *                      domain's TTL, revoked keys with p= empty.
 *
 * The same commit always gives the same bytes.
 */
#ifndef DK_RENDER_H
#define DK_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/arena.h"
#include "packaging/rpm.h"
#include "rotator/git.h"

struct dk_config;

/* zones mode: a domain's records, waiting for the package's version. */
struct dk_render_zone {
	const char	*domain;	/* kept by the render */
	const char	*records;	/* kept by the render */
	unsigned	 ttl;
};

struct dk_render {
	char			 commit[DK_GIT_ID_LEN];
	size_t			 version;	/* first-parent commit count */
	time_t			 time;		/* commit time */
	struct dk_config	*cfg;		/* dkimrot.yaml of the commit */
	size_t			 ndomains;	/* domains with published keys */
	struct dk_rpm_file	*priv;
	size_t			 npriv;
	/*
	 * packaging.parts: privpart[i] is 1 + the part of priv[i]'s domain
	 * (packaging/parts.h), 0 for a file of dkim-keys-private itself.
	 */
	unsigned char		*privpart;
	unsigned		 curpart;	/* while a domain renders */
	struct dk_rpm_file	*pub;
	size_t			 npub;
	char			*description;	/* "Domains: ..." */
	struct dk_render_zone	*zones;		/* dns.publish zones only */
	size_t			 nzones;
	size_t			 capzones;
	/*
	 * What the files point into, by package (dk_render_release_public
	 * lets the public one go); secret is wiped (private keys).
	 */
	struct dk_arena		 pubtext;
	struct dk_arena		 privtext;
	struct dk_arena		 secret;
	size_t			 cappriv;
	size_t			 cappub;
	/*
	 * packaging.parts with RPMs only: the key files are deferred,
	 * described by their source (rpm.h) and read by dk_render_load()
	 * for the parts that build, so that a day's package reads the
	 * keys of the parts that changed only.
	 */
	bool			 defer;
};

/*
 * Renders commit id.  Domains configured there without keys yet are
 * skipped; a keys.yaml naming a key file the commit lacks is an error.
 */
int	dk_render_commit(struct dk_git *g, const char *id,
	    struct dk_render **out);
void	dk_render_free(struct dk_render *r);
/*
 * The contents of the deferred files of files[0..n) (copies of r's, e.g.
 * a part's), read from g by their source and kept by r, wiped when
 * freed; the others are left as they are.
 */
int	dk_render_load(struct dk_render *r, struct dk_git *g,
	    struct dk_rpm_file *files, size_t n);
/*
 * Lets go of the files, their contents and the zones, keeping the
 * commit, version, time and configuration: once the packages are
 * built, so that signing and indexing them (libcreaterepo_c reads the
 * whole file list back) do not hold both at once.
 */
void	dk_render_release(struct dk_render *r);
/*
 * The same for dkim-keys-public's files and zones only: the process
 * that builds dkim-keys-private while another builds the public one
 * (packaging/package_build.c) holds them no longer.
 */
void	dk_render_release_public(struct dk_render *r);
/*
 * dns.publish zones (packaging/render_zones.c): adds to the public
 * package one complete zone per domain, ZONE_DIR/_domainkey.DOMAIN.zone,
 * whose SOA serial is r->version, and the zone lists ZONE_DIR/named.conf,
 * nsd.conf and knot.conf.  Called once the version is final; nothing to
 * do in include mode.
 */
int	dk_render_zones(struct dk_render *r);
/* For render_zones.c: a public file whose contents buf r keeps. */
int	dk_render_add_public(struct dk_render *r, const char *path,
	    char *buf, size_t len);

#endif
