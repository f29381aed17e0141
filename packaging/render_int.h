/*
 * Internal to packaging/render*.c: the tables being written and the
 * helpers that add files to a render (packaging/render.h).
 * render_signers.c adds the rspamd and Exim files (docs/design.md §12).
 */
#ifndef DK_RENDER_INT_H
#define DK_RENDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/config.h"
#include "packaging/render.h"
#include "rotator/keys.h"
#include "rotator/records.h"

/*
 * KeyTable and SigningTable: the single-table form, RSA keys only, for
 * one OpenDKIM as released (one SignatureAlgorithm, rsa-sha256 by
 * default: an Ed25519 key there would make every message of its domain
 * tempfail).  kt[]/st[]: one pair per algorithm, for the instance of
 * that algorithm (packaging/signer.h).
 */
#define DESC_DOMAINS	20	/* domains named in %description */

struct tables {
	struct dk_buf	keytable;
	struct dk_buf	signingtable;
	struct dk_buf	kt[DK_ALG_COUNT];
	struct dk_buf	st[DK_ALG_COUNT];
	/* subdomains: the *@*.DOMAIN lines, after every exact one */
	struct dk_buf	sub;
	struct dk_buf	subst[DK_ALG_COUNT];
	/* rspamd and Exim (packaging/signer.h) */
	struct dk_buf	rs_conf, rs_sel, rs_path, ex_sel, ex_keys;
	struct dk_buf	domains;	/* for %description */
};

/* A file of buf (kept by r; wiped when freed if it is a key). */
int	dk_render_add_data(struct dk_render *r, int private, const char *path,
	    char *buf, size_t len, mode_t mode, const char *owner,
	    const char *group, unsigned flags);
int	dk_render_add_dir(struct dk_render *r, int private, const char *path,
	    mode_t mode, const char *owner, const char *group);
/* TABLE_DIR/name from b (emptied) */
/* Begun before the domains are rendered, finished after (render_tables.c). */
int	dk_render_tables_begin(struct dk_render *r, struct tables *t);
int	dk_render_tables_end(struct dk_render *r, struct tables *t);
int	dk_render_table(struct dk_render *r, const char *name,
	    struct dk_buf *b, unsigned flags);
/* TABLE_DIR/name, or an absolute name, from s (taken; NULL: fails) */
int	dk_render_text(struct dk_render *r, const char *name, char *s,
	    unsigned flags);

/*
 * What render.c's render_domain() needs of a domain, read and derived
 * ahead on every core: each record is computed from its private key
 * (for Ed25519 a scalar multiplication), which on one core was most of
 * rendering 10,000 domains.  Rendering itself stays in order, on one
 * thread.
 */
struct keyrec {
	char		*value;		/* the record, NULL for no record */
	char		*pem;		/* a published key's PEM, unless
					   deferred (render.h) */
	size_t		 pemlen;
	/* A published key's, "" for others; the record cache's key too */
	char		 kid[DK_GIT_ID_LEN];	/* blob id of the PEM */
	enum dk_alg	 alg;
	char		*pub;		/* p= value */
	bool		 derived;	/* not found in the cache */
};

struct prepared {
	const struct dk_domain_conf *dc;
	struct dk_domain_keys	*dk;	/* NULL: no keys yet */
	struct keyrec		*rec;	/* one per dk->keys[] */
	int			 rc;
	char			*err;	/* the message when rc != 0 */
};

/*
 * Domains prepared at once, then rendered and let go: at 100,000
 * domains all of them at once held 300 MB of keys, records and parsed
 * keys.yaml (heaptrack), a chunk holds a few MB and keeps both cores
 * busy all the same.
 */
#define DK_PREP_CHUNK	4096

/*
 * p[0..n) prepared on every core (render_prep.c): p[i].dc set.  A
 * published key's record comes from the cache seen when its PEM is
 * there, else from the key (and then keyrec.derived).
 */
void	dk_render_prepare(struct dk_render *r, struct dk_git *g,
	    const struct dk_records *seen, struct prepared *p, size_t n);
/* What dk_render_prepare() made for p[0..n), freed; p itself stays. */
void	dk_render_prepared_clear(struct prepared *p, size_t n);


/*
 * A key file of the private package (0600 owner:group), from buf (kept
 * by r) or, with buf NULL, deferred (render.h): source names it either
 * way, the git blob id of the key, DK_RENDER_SEED before it for rspamd's
 * form of an Ed25519 key.
 */
#define DK_RENDER_SEED	"rspamd-seed:"
int	dk_render_add_key(struct dk_render *r, const char *path, char *buf,
	    size_t len, const char *source, const char *owner,
	    const char *group);
/* rspamd's form of the Ed25519 key pem, in a new buffer (*out, *len). */
int	dk_render_seed_copy(const char *pem, size_t pemlen, const char *path,
	    char **out, size_t *len);

/* render_signers.c; pem NULL: deferred, kid names the key */
int	dk_render_signer_keys(struct dk_render *r, const char *domain,
	    const struct dk_keyinfo *k, const char *pem, size_t pemlen,
	    const char *kid);
int	dk_render_signer_dirs(struct dk_render *r, const char *domain);
int	dk_render_signer_maps(struct dk_render *r,
	    const struct dk_domain_conf *dc, const struct dk_domain_keys *dk,
	    struct tables *t);
int	dk_render_signer_files(struct dk_render *r, struct tables *t);
int	dk_render_add_sub(struct dk_render *r, const char *sub, char **unused);

#endif
