/*
 * The signer files of the private package beside the keys and tables
 * (docs/design.md §12): what a mail server needs to run released
 * OpenDKIM (2.11.0~beta2) on the keys, one instance per algorithm.
 *
 * Released OpenDKIM has one global SignatureAlgorithm (rsa-sha256 by
 * default) and signs every KeyTable entry with it: an Ed25519 key in its
 * KeyTable makes every message of that domain tempfail ("EVP_PKEY_get1_RSA()
 * failed").  So each algorithm gets its own KeyTable.ALG/SigningTable.ALG
 * and its own OpenDKIM instance (opendkim@ALG.service), and Postfix
 * passes mail through both.
 */
#ifndef DK_SIGNER_H
#define DK_SIGNER_H

#include <stddef.h>

#include "common/buf.h"
#include "common/config.h"

/* The instances' milter ports on 127.0.0.1. */
#define DK_SIGNER_PORT_RSA	8891
#define DK_SIGNER_PORT_ED25519	8892

/* Where the template unit goes: systemd's unit directory on EL7-EL9. */
#define DK_SIGNER_UNIT	"/usr/lib/systemd/system/opendkim@.service"

unsigned short	dk_signer_port(enum dk_alg);
/* TABLE_DIR/opendkim-ALG.conf, the configuration of instance ALG. */
int	dk_signer_opendkim_conf(const struct dk_packaging_conf *pc,
	    enum dk_alg alg, char **out);
/* The template unit opendkim@.service, its instances named by alg. */
int	dk_signer_opendkim_unit(const struct dk_packaging_conf *pc,
	    char **out);
/* TABLE_DIR/postfix-milters.cf: the main.cf lines for both instances. */
int	dk_signer_postfix_milters(char **out);

/*
 * rspamd and Exim (packaging.signers): one domain's lines from its active
 * selectors (sel[0..n), RSA first), then the whole files.
 * TABLE_DIR/rspamd/dkim_signing.conf, selectors.map, paths.map;
 * TABLE_DIR/exim/selectors, paths (SEL@DOMAIN: path), dkim.conf; the keys under
 * TABLE_DIR/SIGNER/keys/DOMAIN/.
 */
int	dk_signer_rspamd_domain(const struct dk_packaging_conf *pc,
	    const char *domain, const char *const *sel, size_t n,
	    struct dk_buf *conf, struct dk_buf *selmap,
	    struct dk_buf *pathmap);
int	dk_signer_rspamd_conf(const struct dk_packaging_conf *pc,
	    const char *commit, const struct dk_buf *domains, char **out);
int	dk_signer_exim_domain(const struct dk_packaging_conf *pc,
	    const char *domain, const char *const *sel, size_t n,
	    struct dk_buf *selectors, struct dk_buf *keys);
int	dk_signer_exim_conf(const struct dk_packaging_conf *pc,
	    const char *commit, char **out);

#endif
