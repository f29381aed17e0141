#include <limits.h>
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
#include "packaging/parts.h"
#include "packaging/render.h"
#include "packaging/render_int.h"
#include "packaging/signer.h"
#include "rotator/git.h"
#include "rotator/keys.h"
#include "rotator/records.h"
#include "rotator/store.h"


static struct dk_rpm_file *
add_file(struct dk_render *r, int private, const char *path, size_t plen)
{
	struct dk_rpm_file **v = private ? &r->priv : &r->pub, *p;
	size_t *n = private ? &r->npriv : &r->npub;
	size_t *cap = private ? &r->cappriv : &r->cappub, ncap;
	unsigned char *part;
	char *copy;

	if ((copy = dk_arena_copy(private ? &r->privtext : &r->pubtext, path,
	    plen)) == NULL)
		return NULL;
	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 64;
		if ((p = realloc(*v, ncap * sizeof(*p))) == NULL) {
			dk_error_set("out of memory");
			return NULL;
		}
		*v = p;
		if (private && (part = realloc(r->privpart, ncap)) == NULL) {
			dk_error_set("out of memory");
			return NULL;
		}
		if (private)
			r->privpart = part;
		*cap = ncap;
	}
	if (private)
		r->privpart[*n] = (unsigned char)r->curpart;
	p = &(*v)[(*n)++];
	memset(p, 0, sizeof(*p));
	p->path = copy;
	return p;
}

int
dk_render_add_dir(struct dk_render *r, int private, const char *path,
    mode_t mode, const char *owner, const char *group)
{
	struct dk_rpm_file *f;

	if ((f = add_file(r, private, path, strlen(path))) == NULL)
		return -1;
	f->flags = DK_RPM_DIR;
	f->mode = mode;
	f->owner = owner;
	f->group = group;
	return 0;
}

/* A file whose contents are buf (kept by r). */
int
dk_render_add_data(struct dk_render *r, int private, const char *path,
    char *buf, size_t len, mode_t mode, const char *owner, const char *group,
    unsigned flags)
{
	struct dk_rpm_file *f;

	if ((buf = dk_arena_adopt(!private ? &r->pubtext : (mode & 077) == 0 ?
	    &r->secret : &r->privtext, buf, len)) == NULL ||
	    (f = add_file(r, private, path, strlen(path))) == NULL)
		return -1;
	f->data = buf;
	f->len = len;
	f->mode = mode;
	f->owner = owner;
	f->group = group;
	f->flags = flags;
	return 0;
}

/*
 * A key file 0600 owner:group: its contents buf (kept by r) or, with buf
 * NULL, deferred: dk_render_load() reads them from source.
 */
int
dk_render_add_key(struct dk_render *r, const char *path, char *buf,
    size_t len, const char *source, const char *owner, const char *group)
{
	struct dk_rpm_file *f;
	char *src;

	if ((src = dk_arena_copy(&r->privtext, source, strlen(source))) ==
	    NULL) {
		dk_secret_free(buf, len);
		return -1;
	}
	if (buf != NULL) {
		if (dk_render_add_data(r, 1, path, buf, len, 0600, owner,
		    group, 0) != 0)
			return -1;
		f = &r->priv[r->npriv - 1];
	} else if ((f = add_file(r, 1, path, strlen(path))) != NULL) {
		f->mode = 0600;
		f->owner = owner;
		f->group = group;
	} else
		return -1;
	f->source = src;
	return 0;
}

int
dk_render_load(struct dk_render *r, struct dk_git *g,
    struct dk_rpm_file *files, size_t n)
{
	const char *id;
	char *pem, *buf;
	size_t i, len, pemlen;
	bool seed;

	for (i = 0; i < n; i++) {
		if (!dk_rpm_file_unloaded(&files[i]))
			continue;
		id = files[i].source;
		if ((seed = strncmp(id, DK_RENDER_SEED, strlen(DK_RENDER_SEED))
		    == 0))
			id += strlen(DK_RENDER_SEED);
		if (dk_git_read_blob(g, id, files[i].path, &pem, &pemlen) != 0)
			return -1;
		buf = pem;
		len = pemlen;
		if (seed) {
			if (dk_render_seed_copy(pem, pemlen, files[i].path, &buf,
			    &len) != 0)
				buf = NULL;
			dk_secret_free(pem, pemlen);
			if (buf == NULL)
				return -1;
		}
		if ((files[i].data = dk_arena_adopt(&r->secret, buf, len)) ==
		    NULL)
			return -1;
		files[i].len = len;
	}
	return 0;
}

/*
 * A key's KeyTable line and SigningTable line; with subdomains, a
 * pattern line for mail from any subdomain into sub, which goes after
 * every exact line: refile matches in file order, and a subdomain that
 * is a configured domain of its own must get its own key, not its
 * parent's.
 */
static int
table_line(struct dk_buf *kt, struct dk_buf *st, struct dk_buf *sub,
    const char *domain, const struct dk_keyinfo *k, const char *path,
    bool subdomains)
{
	if (dk_buf_printf(kt, "%s._domainkey.%s %s:%s:%s\n", k->selector,
	    domain, domain, k->selector, path) != 0 ||
	    dk_buf_printf(st, "*@%s %s._domainkey.%s\n", domain, k->selector,
	    domain) != 0)
		return -1;
	if (subdomains && dk_buf_printf(sub, "*@*.%s %s._domainkey.%s\n",
	    domain, k->selector, domain) != 0)
		return -1;
	return 0;
}

/* k's record in the zone and, when published, its key in the tables. */
static int
render_key(struct dk_render *r, const char *domain,
    const struct dk_keyinfo *k, struct keyrec *rec,
    const struct dk_domain_conf *dc, struct dk_buf *zone, struct tables *t)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	char owner[DK_SELECTOR_MAX + DK_DOMAIN_MAX + 16], path[2048] = "";
	char *value = rec->value, *rr = NULL, *pem = rec->pem;
	size_t pemlen = rec->pemlen;
	bool key = rec->kid[0] != '\0';	/* published: its files */
	int n, rc = -1;

	rec->value = rec->pem = NULL;	/* ours now */
	n = snprintf(owner, sizeof(owner), "%s._domainkey.%s.", k->selector,
	    domain);
	if (n < 0 || (size_t)n >= sizeof(owner)) {
		dk_error_set("name too long: '%s._domainkey.%s'", k->selector,
		    domain);
		goto done;
	}
	if (dk_record_zone(owner, dc->policy.ttl, value, k->selector, domain,
	    &rr) != 0 || dk_buf_puts(zone, rr) != 0)
		goto done;
	if (key && dk_render_signer_keys(r, domain, k, pem, pemlen,
	    rec->kid) != 0)
		goto done;
	if (key && (pc->signers & DK_SIGNER_BIT(DK_SIGNER_OPENDKIM))) {
		n = snprintf(path, sizeof(path), "%s/%s/%s.private",
		    pc->key_dir, domain, k->selector);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			dk_error_set("path too long: '%s/%s'", pc->key_dir,
			    domain);
			goto done;
		}
		rc = dk_render_add_key(r, path, pem, pemlen, rec->kid,
		    pc->key_owner, pc->key_group);
		pem = NULL;
		if (rc != 0)
			goto done;
		rc = -1;
	}
	/* OpenDKIM: KeyTable names the key, SigningTable picks it. */
	if (k->state == DK_STATE_ACTIVE &&
	    (table_line(&t->kt[k->alg], &t->st[k->alg], &t->subst[k->alg],
	    domain, k, path, dc->policy.subdomains) != 0 ||
	    (k->alg == DK_ALG_RSA && table_line(&t->keytable,
	    &t->signingtable, &t->sub, domain, k, path,
	    dc->policy.subdomains) != 0)))
		goto done;
	rc = 0;
done:
	dk_secret_free(pem, pemlen);
	free(value);
	free(rr);
	return rc;
}

/*
 * zones mode: the records wait for dk_render_zones(), which knows the
 * version the SOA serial is made of.
 */
static int
keep_zone(struct dk_render *r, const struct dk_domain_conf *dc,
    struct dk_buf *zone, struct tables *t)
{
	struct dk_render_zone *z;
	char *name, *text;
	size_t cap, len = zone->len;

	if ((name = dk_arena_copy(&r->pubtext, dc->name, strlen(dc->name))) ==
	    NULL)
		return -1;
	if ((text = dk_buf_detach(zone)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	if ((text = dk_arena_adopt(&r->pubtext, text, len)) == NULL)
		return -1;
	if (r->nzones == r->capzones) {
		cap = r->capzones ? r->capzones * 2 : 64;
		if ((z = realloc(r->zones, cap * sizeof(*z))) == NULL) {
			dk_error_set("out of memory");
			return -1;
		}
		r->zones = z;
		r->capzones = cap;
	}
	z = &r->zones[r->nzones++];
	z->domain = name;
	z->records = text;
	z->ttl = dc->policy.ttl;
	if (++r->ndomains <= DESC_DOMAINS &&
	    dk_buf_printf(&t->domains, " %s", dc->name) != 0)
		return -1;
	return 0;
}

int
dk_render_add_public(struct dk_render *r, const char *path, char *buf,
    size_t len)
{
	return dk_render_add_data(r, 0, path, buf, len, 0644, NULL, NULL,
	    DK_RPM_CONFIG);
}

static int
render_domain(struct dk_render *r, struct prepared *p, struct tables *t)
{
	const struct dk_packaging_conf *pc = &r->cfg->packaging;
	const struct dk_domain_conf *dc = p->dc;
	struct dk_domain_keys *dk = p->dk;
	struct dk_buf zone = { 0 };
	char path[2048];
	size_t i, len, nkeys = 0;
	int n, rc;

	if (p->rc != 0) {
		dk_error_set("%s", p->err != NULL ? p->err : "out of memory");
		return p->rc;
	}
	if (dk == NULL)
		return 0;	/* no keys yet */
	/* Its keys go into the part of its rotation slot. */
	if (pc->parts > 0)
		r->curpart = 1 + dk_parts_slot(&dc->policy, dk,
		    (unsigned)pc->parts);
	/* zones: render_zones.c writes the head of the zone. */
	rc = r->cfg->dns_publish == DK_PUBLISH_ZONES ? 0 :
	    dk_buf_printf(&zone, "; DKIM keys of %s, from commit %s of the "
	    "key repository.\n; Generated by dkimrot (package "
	    "dkim-keys-public): do not edit.\n; $INCLUDE it into the zone "
	    "of %s or a parent; owner names are absolute.\n", dc->name,
	    r->commit, dc->name);
	for (i = 0; i < dk->n && rc == 0; i++) {
		if (!dk_state_published(dk->keys[i].state))
			continue;
		/* The domain's key directory, owned like the keys. */
		n = snprintf(path, sizeof(path), "%s/%s", pc->key_dir,
		    dc->name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			dk_error_set("path too long: '%s/%s'", pc->key_dir,
			    dc->name);
			rc = -1;
		} else if (pc->signers & DK_SIGNER_BIT(DK_SIGNER_OPENDKIM))
			rc = dk_render_add_dir(r, 1, path, 0700, pc->key_owner,
			    pc->key_group);
		if (rc == 0)
			rc = dk_render_signer_dirs(r, dc->name);
		break;
	}
	for (i = 0; i < dk->n && rc == 0; i++) {
		if (!dk_state_published(dk->keys[i].state) &&
		    dk->keys[i].state != DK_STATE_REVOKED)
			continue;
		rc = render_key(r, dc->name, &dk->keys[i], &p->rec[i], dc,
		    &zone, t);
		nkeys++;
	}
	if (rc != 0 || nkeys == 0)
		goto done;
	if ((rc = dk_render_signer_maps(r, dc, dk, t)) != 0)
		goto done;
	if (r->cfg->dns_publish == DK_PUBLISH_ZONES) {
		rc = keep_zone(r, dc, &zone, t);
		goto done;
	}
	rc = -1;
	n = snprintf(path, sizeof(path), "%s/%s.zone", pc->zone_dir,
	    dc->name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		dk_error_set("path too long: '%s/%s.zone'", pc->zone_dir,
		    dc->name);
		goto done;
	}
	len = zone.len;
	if (dk_render_add_data(r, 0, path, dk_buf_detach(&zone), len, 0644,
	    NULL, NULL, DK_RPM_CONFIG) != 0)
		goto done;
	if (++r->ndomains <= DESC_DOMAINS &&
	    dk_buf_printf(&t->domains, " %s", dc->name) != 0)
		goto done;
	rc = 0;
done:
	r->curpart = 0;
	dk_buf_dispose(&zone);
	return rc;
}

struct orphans {
	const struct dk_config	*cfg;
	struct dk_strlist	 names;
};

static int
orphan_dir(const char *name, bool is_dir, void *arg)
{
	struct orphans *o = arg;

	if (!is_dir || dk_config_domain(o->cfg, name) != NULL ||
	    dk_name_domain_check(name) != 0)
		return 0;
	return dk_strlist_add(&o->names, name) != 0 ? -1 : 0;
}

/* The public keys of p into the record cache of this commit. */
static int
remember(struct dk_records *now, const struct prepared *p, size_t *derived)
{
	size_t j;

	for (j = 0; p->rec != NULL && j < p->dk->n; j++) {
		if (p->rec[j].pub == NULL)
			continue;
		if (p->rec[j].derived)
			(*derived)++;
		if (dk_records_add(now, p->rec[j].kid, p->rec[j].alg,
		    p->rec[j].pub) != 0)
			return -1;
	}
	return 0;
}

/*
 * The configured domains, then those with keys in the commit that
 * dkimrot.yaml no longer lists.  rotate leaves their keys alone, so the
 * packages keep them too, with the default policy's TTL and flags:
 * dropping a domain from the configuration must not pull its records
 * from DNS under mail in flight.
 */
static int
render_all(struct dk_render *r, struct dk_git *g, struct tables *t)
{
	struct orphans o = { r->cfg, { 0 } };
	struct dk_domain_conf *odc = NULL;
	struct prepared *all = NULL;
	struct dk_records seen = { 0 }, now = { 0 };
	size_t i, m, start, n = 0, nconf = r->cfg->ndomains, derived = 0;
	int rc;

	if ((rc = dk_render_tables_begin(r, t)) != 0)
		goto done;
	rc = dk_git_list_dir(g, r->commit, "keys", orphan_dir, &o);
	if (rc == DK_ENOTFOUND)
		rc = 0;
	if (rc != 0)
		goto done;
	rc = -1;
	if ((odc = calloc(o.names.n + 1, sizeof(*odc))) == NULL ||
	    (all = calloc(nconf + o.names.n + 1, sizeof(*all))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	n = nconf + o.names.n;
	for (i = 0; i < nconf; i++)
		all[i].dc = &r->cfg->domains[i];
	for (i = 0; i < o.names.n; i++) {
		odc[i].name = o.names.v[i];
		odc[i].policy = r->cfg->defaults;
		all[nconf + i].dc = &odc[i];
	}
	if ((rc = dk_records_load(dk_git_workdir(g), &seen)) != 0)
		goto done;
	for (start = 0; start < n && rc == 0; start += m) {
		m = n - start < DK_PREP_CHUNK ? n - start : DK_PREP_CHUNK;
		dk_render_prepare(r, g, &seen, all + start, m);
		for (i = start; i < start + m && rc == 0; i++) {
			/* Rule 8 of rotator/policy.h: a leaving one is
			   expected. */
			if (i >= nconf && (all[i].dk == NULL ||
			    all[i].dk->leaving == 0))
				dk_log_warn("%s: not in dkimrot.yaml; its keys "
				    "stay in the packages as committed",
				    all[i].dc->name);
			if ((rc = render_domain(r, &all[i], t)) != 0)
				dk_error_prefix("%s", all[i].dc->name);
			if (rc == 0)
				rc = remember(&now, &all[i], &derived);
		}
		dk_render_prepared_clear(all + start, m);
	}
	if (rc == 0)
		rc = dk_render_tables_end(r, t);
	/* Derived, so a cache that cannot be written costs time only. */
	if (rc == 0 && (derived > 0 || now.n != seen.n) &&
	    dk_records_save(dk_git_workdir(g), &now) != 0)
		dk_log_debug("the record cache is not saved: %s",
		    dk_error_last());
done:
	dk_records_dispose(&seen);
	dk_records_dispose(&now);
	free(all);
	free(odc);
	dk_strlist_dispose(&o.names);
	return rc;
}

/*
 * The first-parent count of commit id, the version before cmd_package.c
 * picks it (packaging/render.h).  Counting reads every commit of the
 * history, a tenth of a millisecond each: 0.03 s after a year of daily
 * commits, more every year.  So the walk stops at the commit the last
 * count started from, whose count COUNT_FILE keeps ("ID COUNT\n"): an
 * id names its whole history, so the count of one never changes.  It
 * is derived, never committed, and used only when the walk meets its
 * commit; a missing, damaged or foreign one costs the whole walk, one
 * that cannot be written costs the next run the same.
 */
#define COUNT_FILE	".git/dkimrot-count"

static int
count_commits(struct dk_git *g, const char *id, size_t *out)
{
	char path[PATH_MAX], known[DK_GIT_ID_LEN], line[80], end;
	unsigned long long n = 0;
	char *buf = NULL;
	bool file, have;
	int w;

	file = dk_path_join(path, sizeof(path), dk_git_workdir(g),
	    COUNT_FILE) == 0;
	have = file && dk_file_read(path, sizeof(line), &buf, NULL) == 0 &&
	    sscanf(buf, "%40[0-9a-f] %llu%c", known, &n, &end) == 3 &&
	    end == '\n' && strlen(known) == DK_GIT_ID_LEN - 1 &&
	    buf[DK_GIT_ID_LEN] >= '1' && buf[DK_GIT_ID_LEN] <= '9';
	free(buf);
	if (dk_git_count_first_parent(g, id, have ? known : NULL,
	    (size_t)n, out) != 0)
		return -1;
	if (!file || (have && strcmp(known, id) == 0 && n == *out))
		return 0;
	w = snprintf(line, sizeof(line), "%s %zu\n", id, *out);
	if (w > 0 && (size_t)w < sizeof(line) &&
	    dk_file_replace(path, line, (size_t)w, 0600) != 0)
		dk_log_debug("the commit count is not saved: %s",
		    dk_error_last());
	return 0;
}

int
dk_render_commit(struct dk_git *g, const char *id, struct dk_render **out)
{
	struct tables t;
	struct dk_render *r;
	char *yaml = NULL, name[128];
	size_t len;
	int i, rc = -1;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	r->secret.secret = true;
	snprintf(r->commit, sizeof(r->commit), "%s", id);
	if (count_commits(g, id, &r->version) != 0)
		goto done;
	if ((rc = dk_git_read_file(g, id, "dkimrot.yaml", &yaml, &len)) != 0) {
		if (rc == DK_ENOTFOUND)
			dk_error_set("commit %.12s has no dkimrot.yaml", id);
		goto done;
	}
	snprintf(name, sizeof(name), "dkimrot.yaml@%.12s", id);
	if ((rc = dk_config_parse(yaml, len, name, &r->cfg)) != 0)
		goto done;
	/* Parts are RPMs only: a .deb takes every key (render.h). */
	r->defer = r->cfg->packaging.parts > 0 &&
	    !(r->cfg->packaging.formats & DK_FORMAT_DEB);
	if ((rc = dk_git_commit_time(g, id, &r->time)) != 0)
		goto done;
	rc = render_all(r, g, &t);
done:
	free(yaml);
	dk_buf_dispose(&t.keytable);
	dk_buf_dispose(&t.signingtable);
	dk_buf_dispose(&t.sub);
	dk_buf_dispose(&t.rs_conf);
	dk_buf_dispose(&t.rs_sel);
	dk_buf_dispose(&t.rs_path);
	dk_buf_dispose(&t.ex_sel);
	dk_buf_dispose(&t.ex_keys);
	for (i = 0; i < DK_ALG_COUNT; i++) {
		dk_buf_dispose(&t.kt[i]);
		dk_buf_dispose(&t.st[i]);
		dk_buf_dispose(&t.subst[i]);
	}
	dk_buf_dispose(&t.domains);
	if (rc != 0) {
		dk_render_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
dk_render_release_public(struct dk_render *r)
{
	dk_arena_dispose(&r->pubtext);
	free(r->pub);
	free(r->zones);
	r->pub = NULL;
	r->zones = NULL;
	r->npub = r->cappub = r->nzones = r->capzones = 0;
}

void
dk_render_release(struct dk_render *r)
{
	dk_render_release_public(r);
	dk_arena_dispose(&r->privtext);
	dk_arena_dispose(&r->secret);
	free(r->priv);
	free(r->privpart);
	free(r->description);
	r->priv = NULL;
	r->privpart = NULL;
	r->description = NULL;
	r->npriv = r->cappriv = 0;
}

void
dk_render_free(struct dk_render *r)
{
	if (r == NULL)
		return;
	dk_render_release(r);
	dk_config_free(r->cfg);
	free(r);
}
