/*
 * The tables of the private package (docs/design.md §7, §12): the
 * KeyTable and SigningTable pairs and the files of the signers, begun
 * before the domains are rendered and finished after, and the
 * %description that names the domains.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/name.h"
#include "common/pool.h"
#include "common/secret.h"
#include "common/strlist.h"
#include "keygen/key.h"
#include "packaging/render.h"
#include "packaging/render_int.h"
#include "packaging/signer.h"

int
dk_render_table(struct dk_render *r, const char *name, struct dk_buf *b,
    unsigned flags)
{
	char path[2048];
	size_t len = b->len;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s",
	    r->cfg->packaging.table_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		dk_error_set("path too long: '%s/%s'",
		    r->cfg->packaging.table_dir, name);
		return -1;
	}
	return dk_render_add_data(r, 1, path, dk_buf_detach(b), len, 0644,
	    NULL, NULL, flags);
}

/* A file of text made by a signer.c function (NULL: out of memory). */
int
dk_render_text(struct dk_render *r, const char *name, char *s, unsigned flags)
{
	struct dk_buf b = { s, 0, 0 };

	if (s == NULL)
		return -1;
	b.len = strlen(s);
	b.cap = b.len + 1;
	if (name[0] == '/')
		return dk_render_add_data(r, 1, name, dk_buf_detach(&b),
		    b.len, 0644, NULL, NULL, flags);
	return dk_render_table(r, name, &b, flags);
}

int
dk_render_tables_begin(struct dk_render *r, struct tables *t)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;

	char name[64], *s = NULL;
	const char *a;
	int i;

	if (dk_buf_printf(&t->keytable, "# OpenDKIM KeyTable from commit %s "
	    "(dkimrot): do not edit.\n", r->commit) != 0 ||
	    dk_buf_printf(&t->signingtable, "# OpenDKIM SigningTable "
	    "(refile:) from commit %s (dkimrot): do not edit.\n",
	    r->commit) != 0)
		return -1;
	for (i = 0; i < DK_ALG_COUNT; i++) {
		a = dk_alg_name((enum dk_alg)i);
		if (dk_buf_printf(&t->kt[i], "# OpenDKIM KeyTable of "
		    "opendkim@%s from commit %s (dkimrot): do not edit.\n", a,
		    r->commit) != 0 ||
		    dk_buf_printf(&t->st[i], "# OpenDKIM SigningTable "
		    "(refile:) of opendkim@%s from commit %s (dkimrot): do not "
		    "edit.\n", a, r->commit) != 0)
			return -1;
	}
	/* Directories first, owned by the packages. */
	if (dk_render_add_dir(r, 1, pc->table_dir, 0755, NULL, NULL) != 0 ||
	    ((pc->signers & DK_SIGNER_BIT(DK_SIGNER_OPENDKIM)) &&
	    dk_render_add_dir(r, 1, pc->key_dir, 0700, pc->key_owner,
	    pc->key_group) != 0) ||
	    dk_render_add_dir(r, 0, pc->zone_dir, 0755, NULL, NULL) != 0)
		return -1;
	for (i = DK_SIGNER_RSPAMD; i <= DK_SIGNER_EXIM; i++) {
		snprintf(name, sizeof(name), "/%s",
		    dk_signer_name((enum dk_signer)i));
		if ((pc->signers & DK_SIGNER_BIT(i)) &&
		    dk_render_add_sub(r, name, &s) != 0)
			return -1;
	}
	if (dk_render_signer_dirs(r, NULL) != 0)
		return -1;
	return 0;
}

int
dk_render_tables_end(struct dk_render *r, struct tables *t)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	struct dk_buf desc = { 0 };
	char name[64], *s;
	int i, rc;

	if (dk_render_signer_files(r, t) != 0)
		return -1;
	if (!(pc->signers & DK_SIGNER_BIT(DK_SIGNER_OPENDKIM)))
		goto desc;
	if (dk_buf_append(&t->signingtable, t->sub.data, t->sub.len) != 0)
		return -1;
	for (i = 0; i < DK_ALG_COUNT; i++)
		if (dk_buf_append(&t->st[i], t->subst[i].data,
		    t->subst[i].len) != 0)
			return -1;
	if (dk_render_table(r, "KeyTable", &t->keytable, DK_RPM_CONFIG) != 0 ||
	    dk_render_table(r, "SigningTable", &t->signingtable,
	    DK_RPM_CONFIG) != 0)
		return -1;
	for (i = 0; i < DK_ALG_COUNT; i++) {
		snprintf(name, sizeof(name), "KeyTable.%s",
		    dk_alg_name((enum dk_alg)i));
		if (dk_render_table(r, name, &t->kt[i], DK_RPM_CONFIG) != 0)
			return -1;
		snprintf(name, sizeof(name), "SigningTable.%s",
		    dk_alg_name((enum dk_alg)i));
		if (dk_render_table(r, name, &t->st[i], DK_RPM_CONFIG) != 0)
			return -1;
	}
	/* The admin sets InternalHosts there: kept on upgrade. */
	for (i = 0; i < DK_ALG_COUNT; i++) {
		snprintf(name, sizeof(name), "opendkim-%s.conf",
		    dk_alg_name((enum dk_alg)i));
		if (dk_signer_opendkim_conf(pc, (enum dk_alg)i, &s) != 0 ||
		    dk_render_text(r, name, s, DK_RPM_CONFIG |
		    DK_RPM_NOREPLACE) != 0)
			return -1;
	}
	if (dk_signer_postfix_milters(&s) != 0 ||
	    dk_render_text(r, "postfix-milters.cf", s, DK_RPM_CONFIG) != 0 ||
	    dk_signer_opendkim_unit(pc, &s) != 0 ||
	    dk_render_text(r, DK_SIGNER_UNIT, s, 0) != 0)
		return -1;
desc:
	rc = dk_buf_printf(&desc, "Domains (%zu):%s%s", r->ndomains,
	    t->domains.len ? t->domains.data : " none",
	    r->ndomains > DESC_DOMAINS ? " ..." : "");
	if (rc == 0)
		r->description = dk_buf_detach(&desc);
	dk_buf_dispose(&desc);
	return r->description != NULL ? 0 : -1;
}
