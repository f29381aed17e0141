/*
 * The rspamd and Exim parts of a render (packaging.signers,
 * docs/design.md §12): each signer's own copy of every published key and
 * the lookups that name them (packaging/signer.c writes the text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"
#include "keygen/key.h"
#include "packaging/render.h"
#include "packaging/render_int.h"
#include "packaging/rpm.h"
#include "packaging/signer.h"
#include "rotator/keys.h"

/* rspamd's form of an Ed25519 key (keygen/raw.c), in a new buffer. */
int
dk_render_seed_copy(const char *pem, size_t pemlen, const char *path, char **out,
    size_t *len)
{
	struct dk_key *key = NULL;
	struct dk_buf b = { 0 };
	int rc;

	if ((rc = dk_key_load_pem(&key, pem, pemlen, path)) == 0)
		rc = dk_key_ed25519_seed_b64(key, &b);
	dk_key_free(key);
	if (rc != 0) {
		dk_buf_wipe(&b);
		return -1;
	}
	*len = b.len;
	*out = dk_buf_detach(&b);
	return 0;
}

/*
 * The copies of a published key for rspamd and Exim, each 0600 and owned
 * by its signer's user: one file cannot be 0600 for three users, and
 * group-readable keys would let every member of a shared group read
 * them.  TABLE_DIR/SIGNER/keys/DOMAIN/SEL.private.
 */
int
dk_render_signer_keys(struct dk_render *r, const char *domain,
    const struct dk_keyinfo *k, const char *pem, size_t pemlen,
    const char *kid)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	char path[2048], source[sizeof(DK_RENDER_SEED) + DK_GIT_ID_LEN];
	char *copy = NULL;
	size_t len = 0;
	bool seed;
	int s, n;

	for (s = DK_SIGNER_RSPAMD; s <= DK_SIGNER_EXIM; s++) {
		if (!(pc->signers & DK_SIGNER_BIT(s)))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s/keys/%s/%s.private",
		    pc->table_dir, dk_signer_name((enum dk_signer)s), domain,
		    k->selector);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			dk_error_set("path too long: '%s/%s'", pc->table_dir,
			    domain);
			return -1;
		}
		seed = s == DK_SIGNER_RSPAMD && k->alg == DK_ALG_ED25519;
		snprintf(source, sizeof(source), "%s%s",
		    seed ? DK_RENDER_SEED : "", kid);
		if (pem == NULL)
			copy = NULL;	/* deferred */
		else if (seed) {
			if (dk_render_seed_copy(pem, pemlen, path, &copy,
			    &len) != 0)
				return -1;
		} else if ((copy = malloc(pemlen)) == NULL) {
			dk_error_set("out of memory");
			return -1;
		} else {
			memcpy(copy, pem, pemlen);
			len = pemlen;
		}
		if (dk_render_add_key(r, path, copy, len, source,
		    s == DK_SIGNER_RSPAMD ? pc->rspamd_user : pc->exim_user,
		    s == DK_SIGNER_RSPAMD ? pc->rspamd_group : pc->exim_group)
		    != 0)
			return -1;
	}
	return 0;
}

/* The domain's directories of the rspamd and Exim key copies. */
int
dk_render_signer_dirs(struct dk_render *r, const char *domain)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	char path[2048];
	int s, n;

	for (s = DK_SIGNER_RSPAMD; s <= DK_SIGNER_EXIM; s++) {
		if (!(pc->signers & DK_SIGNER_BIT(s)))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s/keys%s%s",
		    pc->table_dir, dk_signer_name((enum dk_signer)s),
		    domain != NULL ? "/" : "", domain != NULL ? domain : "");
		if (n < 0 || (size_t)n >= sizeof(path)) {
			dk_error_set("path too long: '%s'", pc->table_dir);
			return -1;
		}
		if (s == DK_SIGNER_RSPAMD)
			n = dk_render_add_dir(r, 1, path, 0700, pc->rspamd_user,
			    pc->rspamd_group);
		else
			n = dk_render_add_dir(r, 1, path, 0700, pc->exim_user,
			    pc->exim_group);
		if (n != 0)
			return -1;
	}
	return 0;
}

/*
 * The domain's lines in the rspamd and Exim files: its active keys,
 * RSA first (the order of the OpenDKIM instances).
 */
int
dk_render_signer_maps(struct dk_render *r, const struct dk_domain_conf *dc,
    const struct dk_domain_keys *dk, struct tables *t)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	const struct dk_keyinfo *act[DK_ALG_COUNT] = { NULL };
	const char *sel[DK_ALG_COUNT];
	size_t i, n = 0;

	for (i = 0; i < dk->n; i++)
		if (dk->keys[i].state == DK_STATE_ACTIVE)
			act[dk->keys[i].alg] = &dk->keys[i];
	for (i = 0; i < DK_ALG_COUNT; i++)
		if (act[i] != NULL)
			sel[n++] = act[i]->selector;
	if (n == 0)
		return 0;
	if ((pc->signers & DK_SIGNER_BIT(DK_SIGNER_RSPAMD)) &&
	    dk_signer_rspamd_domain(pc, dc->name, sel, n, &t->rs_conf,
	    &t->rs_sel, &t->rs_path) != 0)
		return -1;
	if ((pc->signers & DK_SIGNER_BIT(DK_SIGNER_EXIM)) &&
	    dk_signer_exim_domain(pc, dc->name, sel, n, &t->ex_sel,
	    &t->ex_keys) != 0)
		return -1;
	return 0;
}

/* TABLE_DIR + sub, a directory of ours (0755 root) */
int
dk_render_add_sub(struct dk_render *r, const char *sub, char **unused)
{
	char path[2048];
	int n;

	(void)unused;
	n = snprintf(path, sizeof(path), "%s%s", r->cfg->packaging.table_dir,
	    sub);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		dk_error_set("path too long: '%s%s'",
		    r->cfg->packaging.table_dir, sub);
		return -1;
	}
	return dk_render_add_dir(r, 1, path, 0755, NULL, NULL);
}

/* The rspamd and Exim files, after every domain's lines. */
int
dk_render_signer_files(struct dk_render *r, struct tables *t)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	char *s;

	if (pc->signers & DK_SIGNER_BIT(DK_SIGNER_RSPAMD)) {
		if (dk_signer_rspamd_conf(pc, r->commit, &t->rs_conf,
		    &s) != 0 || dk_render_text(r, "rspamd/dkim_signing.conf", s,
		    DK_RPM_CONFIG) != 0)
			return -1;
		if (dk_render_table(r, "rspamd/selectors.map", &t->rs_sel,
		    DK_RPM_CONFIG) != 0 ||
		    dk_render_table(r, "rspamd/paths.map", &t->rs_path,
		    DK_RPM_CONFIG) != 0)
			return -1;
	}
	if (pc->signers & DK_SIGNER_BIT(DK_SIGNER_EXIM)) {
		if (dk_render_table(r, "exim/selectors", &t->ex_sel,
		    DK_RPM_CONFIG) != 0 ||
		    dk_render_table(r, "exim/paths", &t->ex_keys,
		    DK_RPM_CONFIG) != 0 ||
		    dk_signer_exim_conf(pc, r->commit, &s) != 0 ||
		    dk_render_text(r, "exim/dkim.conf", s, DK_RPM_CONFIG) != 0)
			return -1;
	}
	return 0;
}

