/*
 * The OpenDKIM instance files of the private package: see
 * packaging/signer.h and docs/design.md §12.  Pure text; the values in
 * them (directories, user and group) were validated by common/config.c
 * and can hold no newline.
 */
#include <stdio.h>

#include "common/buf.h"
#include "common/error.h"
#include "packaging/signer.h"

unsigned short
dk_signer_port(enum dk_alg alg)
{
	return alg == DK_ALG_ED25519 ? DK_SIGNER_PORT_ED25519 :
	    DK_SIGNER_PORT_RSA;
}

static int
done(struct dk_buf *b, int rc, char **out)
{
	if (rc != 0) {
		dk_buf_dispose(b);
		dk_error_set("out of memory");
		return -1;
	}
	*out = dk_buf_detach(b);
	return 0;
}

int
dk_signer_opendkim_conf(const struct dk_packaging_conf *pc,
    enum dk_alg alg, char **out)
{
	struct dk_buf b = { 0 };
	const char *a = dk_alg_name(alg);
	int rc;

	*out = NULL;
	rc = dk_buf_printf(&b,
	    "# OpenDKIM instance opendkim@%s (dkim-keys-private, dkimrot):\n"
	    "# signs with the %s keys only.  Released OpenDKIM signs every\n"
	    "# key of its KeyTable with its one SignatureAlgorithm, so each\n"
	    "# algorithm has an instance of its own:\n"
	    "#   systemctl enable --now opendkim@rsa opendkim@ed25519\n"
	    "# and Postfix passes mail through both (postfix-milters.cf).\n"
	    "# An edited copy is kept on upgrade: set InternalHosts to\n"
	    "# every network whose mail this host signs.\n"
	    "Mode\t\t\ts\n"
	    "SignatureAlgorithm\t%s\n"
	    "KeyTable\t\t%s/KeyTable.%s\n"
	    "SigningTable\t\trefile:%s/SigningTable.%s\n"
	    "Socket\t\t\tinet:%u@127.0.0.1\n"
	    "UserID\t\t\t%s:%s\n"
	    "InternalHosts\t\t127.0.0.1,::1\n"
	    "Canonicalization\trelaxed/simple\n"
	    "OversignHeaders\t\tFrom\n"
	    "Syslog\t\t\tyes\n"
	    "SyslogSuccess\t\tyes\n",
	    a, alg == DK_ALG_ED25519 ? "Ed25519" : "RSA",
	    alg == DK_ALG_ED25519 ? "ed25519-sha256" : "rsa-sha256",
	    pc->table_dir, a, pc->table_dir, a, dk_signer_port(alg),
	    pc->key_owner, pc->key_group);
	return done(&b, rc, out);
}

int
dk_signer_opendkim_unit(const struct dk_packaging_conf *pc, char **out)
{
	struct dk_buf b = { 0 };
	int rc;

	*out = NULL;
	/*
	 * Type=forking with a PID file, like Debian's and Fedora's
	 * opendkim.service; SIGUSR1 makes OpenDKIM reread its
	 * configuration and tables, which is what a new package needs.
	 */
	rc = dk_buf_printf(&b,
	    "# OpenDKIM, one instance per DKIM algorithm (dkim-keys-private,\n"
	    "# dkimrot): opendkim@rsa, opendkim@ed25519.\n"
	    "[Unit]\n"
	    "Description=OpenDKIM signing with the %%i keys of "
	    "dkim-keys-private\n"
	    "Documentation=man:opendkim(8) man:opendkim.conf(5)\n"
	    "After=network-online.target nss-lookup.target\n"
	    "Wants=network-online.target\n"
	    "\n"
	    "[Service]\n"
	    "Type=forking\n"
	    "RuntimeDirectory=opendkim-%%i\n"
	    "PIDFile=/run/opendkim-%%i/opendkim.pid\n"
	    "ExecStart=/usr/sbin/opendkim -x %s/opendkim-%%i.conf "
	    "-P /run/opendkim-%%i/opendkim.pid\n"
	    "ExecReload=/bin/kill -USR1 $MAINPID\n"
	    "Restart=on-failure\n"
	    "\n"
	    "[Install]\n"
	    "WantedBy=multi-user.target\n", pc->table_dir);
	return done(&b, rc, out);
}

int
dk_signer_postfix_milters(char **out)
{
	struct dk_buf b = { 0 };
	int rc;

	*out = NULL;
	/*
	 * tempfail, not accept: mail of a domain with a DMARC policy that
	 * leaves unsigned because a signer is down is rejected far away;
	 * deferred here, it goes out signed once the signer is back.
	 */
	rc = dk_buf_printf(&b,
	    "# Postfix main.cf lines for the OpenDKIM instances of\n"
	    "# dkim-keys-private (dkimrot): append them to main.cf, then\n"
	    "# postfix reload.\n"
	    "smtpd_milters = inet:127.0.0.1:%u, inet:127.0.0.1:%u\n"
	    "non_smtpd_milters = $smtpd_milters\n"
	    "milter_default_action = tempfail\n",
	    DK_SIGNER_PORT_RSA, DK_SIGNER_PORT_ED25519);
	return done(&b, rc, out);
}

/*
 * rspamd 3.x, module dkim_signing: a domain section with one selector
 * per active key (dual signing), and the selector and path maps with
 * the domain's first key (RSA when it has one) for a setup on maps.
 */
int
dk_signer_rspamd_domain(const struct dk_packaging_conf *pc,
    const char *domain, const char *const *sel, size_t n,
    struct dk_buf *conf, struct dk_buf *selmap, struct dk_buf *pathmap)
{
	size_t i;

	if (dk_buf_printf(conf, "  \"%s\" {\n    selectors [\n", domain) != 0)
		goto oom;
	for (i = 0; i < n; i++)
		if (dk_buf_printf(conf, "      { selector = \"%s\"; path = "
		    "\"%s/rspamd/keys/%s/%s.private\"; },\n", sel[i],
		    pc->table_dir, domain, sel[i]) != 0)
			goto oom;
	if (dk_buf_puts(conf, "    ];\n  }\n") != 0 ||
	    dk_buf_printf(selmap, "%s %s\n", domain, sel[0]) != 0 ||
	    dk_buf_printf(pathmap, "%s %s/rspamd/keys/%s/%s.private\n",
	    domain, pc->table_dir, domain, sel[0]) != 0)
		goto oom;
	return 0;
oom:
	dk_error_set("out of memory");
	return -1;
}

int
dk_signer_rspamd_conf(const struct dk_packaging_conf *pc,
    const char *commit, const struct dk_buf *domains, char **out)
{
	struct dk_buf b = { 0 };
	int rc;

	*out = NULL;
	rc = dk_buf_printf(&b,
	    "# rspamd 3.x dkim_signing of dkim-keys-private, from commit %s\n"
	    "# (dkimrot): do not edit.  Include it from\n"
	    "# /etc/rspamd/local.d/dkim_signing.conf:\n"
	    "#   .include \"%s/rspamd/dkim_signing.conf\"\n"
	    "# The domain sections sign with every active key (RSA and\n"
	    "# Ed25519 for a dual domain); selectors.map and paths.map hold\n"
	    "# one key per domain, for sites that use maps.\n"
	    "domain {\n%s}\n", commit, pc->table_dir,
	    domains->len ? domains->data : "");
	return done(&b, rc, out);
}

/*
 * Exim 4.9x: dkim_selector takes a list (one signature per selector),
 * dkim_private_key is expanded for each with $dkim_selector set.
 */
int
dk_signer_exim_domain(const struct dk_packaging_conf *pc,
    const char *domain, const char *const *sel, size_t n,
    struct dk_buf *selectors, struct dk_buf *keys)
{
	size_t i;

	/*
	 * Exim 4.94 and later refuse a file name made from message data
	 * ("tainted"): the key's path comes from this file, not from
	 * $dkim_domain.
	 */
	for (i = 0; i < n; i++)
		if (dk_buf_printf(keys, "%s@%s: %s/exim/keys/%s/%s.private\n",
		    sel[i], domain, pc->table_dir, domain, sel[i]) != 0)
			goto oom;
	if (dk_buf_printf(selectors, "%s:", domain) != 0)
		goto oom;
	for (i = 0; i < n; i++)
		if (dk_buf_printf(selectors, "%s %s", i ? " :" : "",
		    sel[i]) != 0)
			goto oom;
	if (dk_buf_puts(selectors, "\n") != 0)
		goto oom;
	return 0;
oom:
	dk_error_set("out of memory");
	return -1;
}

int
dk_signer_exim_conf(const struct dk_packaging_conf *pc, const char *commit,
    char **out)
{
	struct dk_buf b = { 0 };
	const char *t = pc->table_dir;
	int rc;

	*out = NULL;
	rc = dk_buf_printf(&b,
	    "# Exim 4.9x DKIM options of dkim-keys-private, from commit %s\n"
	    "# (dkimrot): do not edit.  In the remote_smtp transport:\n"
	    "#   .include %s/exim/dkim.conf\n"
	    "# The signing domain is the From: domain when exim/selectors\n"
	    "# lists it; every selector listed signs (a dual domain: both).\n"
	    "dkim_domain = ${lookup{${lc:${domain:$h_from:}}}lsearch"
	    "{%s/exim/selectors}{${lc:${domain:$h_from:}}}}\n"
	    "dkim_selector = ${lookup{$dkim_domain}lsearch"
	    "{%s/exim/selectors}}\n"
	    "dkim_private_key = ${lookup{$dkim_selector@$dkim_domain}lsearch"
	    "{%s/exim/paths}}\n"
	    "dkim_canon = relaxed\n", commit, t, t, t, t);
	return done(&b, rc, out);
}
