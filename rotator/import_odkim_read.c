/*
 * import --opendkim, the reading half (rotator/import_odkim.h): the
 * KeyTable and SigningTable, their keys, the domains, and which key
 * signs.  Nothing here touches the repository.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "keygen/key.h"
#include "rotator/import_odkim.h"
#include "rotator/opendkim.h"

int __attribute__((format(printf, 2, 3)))
dk_import_refuse(struct run *u, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dk_strlist_add(&u->errors, msg);
}

/* Reads and parses one table; the file's bytes are wiped (inline keys). */
int
dk_import_read_table(struct run *u, const char *path, bool keytable)
{
	struct dk_buf b = { 0 };
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = dk_file_read(path, TABLE_MAX, &buf, &len)) != 0)
		return rc == DK_ENOTFOUND ? DK_EUSAGE : rc;
	b.data = buf;
	b.len = len;
	b.cap = len + 1;
	rc = keytable ? dk_odkim_keytable(&u->t, buf, len, path) :
	    dk_odkim_signingtable(&u->t, buf, len, path);
	dk_buf_wipe(&b);
	return rc;
}

/*
 * An inline KeyTable key: base64 DER, PKCS#8 or PKCS#1, as PEM text for
 * dk_key_load_pem.  The PEM is wiped.
 */
static int
load_inline(const struct dk_odkim_key *k, struct dk_key **out)
{
	static const char *types[] = { "PRIVATE KEY", "RSA PRIVATE KEY" };
	struct dk_buf pem = { 0 };
	const char *b64 = k->inline_b64.data;
	size_t i, j, len = k->inline_b64.len;
	int rc = DK_EUSAGE;

	for (i = 0; i < 2 && rc != 0; i++) {
		pem.len = 0;
		if (dk_buf_printf(&pem, "-----BEGIN %s-----\n", types[i]) != 0)
			break;
		for (j = 0; j < len; j += 64)
			if (dk_buf_append(&pem, b64 + j, len - j < 64 ?
			    len - j : 64) != 0 || dk_buf_puts(&pem, "\n") != 0)
				goto done;
		if (dk_buf_printf(&pem, "-----END %s-----\n", types[i]) != 0)
			break;
		rc = dk_key_load_pem(out, pem.data, pem.len, k->name);
	}
done:
	dk_buf_wipe(&pem);
	return rc;
}

/* Every key of the KeyTable, or a refusal naming its line. */
int
dk_import_load_keys(struct run *u, const char *file)
{
	const struct dk_odkim_key *k;
	size_t i;
	int rc;

	if ((u->keys = calloc(u->t.nkeys + 1, sizeof(*u->keys))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < u->t.nkeys; i++) {
		k = &u->t.keys[i];
		rc = k->path != NULL ? dk_key_load(&u->keys[i].key, k->path) :
		    load_inline(k, &u->keys[i].key);
		if (rc == 0)
			continue;
		if (k->path == NULL)
			rc = dk_import_refuse(u, "%s:%d: cannot read the inline key of "
			    "'%s': not a private key in base64 DER (PKCS#8 or "
			    "PKCS#1)", file, k->line, k->name);
		else
			rc = dk_import_refuse(u, "%s:%d: %s", file, k->line,
			    rc == DK_ENOTFOUND ? "no such key file" :
			    dk_error_last());
		if (rc != 0)
			return -1;
	}
	for (i = 0; i < u->t.nsigns; i++) {
		u->keys[u->t.signs[i].key].signs = true;
		if (u->keys[u->t.signs[i].key].sign_line == 0)
			u->keys[u->t.signs[i].key].sign_line =
			    u->t.signs[i].line;
	}
	return 0;
}

/* The domains, in KeyTable order, and which key belongs to which. */
int
dk_import_group(struct run *u)
{
	size_t i, d;

	u->doms = calloc(u->t.nkeys + 1, sizeof(*u->doms));
	u->dom_of = calloc(u->t.nkeys + 1, sizeof(*u->dom_of));
	if (u->doms == NULL || u->dom_of == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < u->t.nkeys; i++) {
		for (d = 0; d < u->ndoms; d++)
			if (strcmp(u->doms[d].name, u->t.keys[i].domain) == 0)
				break;
		if (d == u->ndoms)
			u->doms[u->ndoms++].name = u->t.keys[i].domain;
		u->dom_of[i] = d;
	}
	return 0;
}

/*
 * Which keys sign: one per algorithm and domain.  Without a
 * SigningTable, a domain's only key of an algorithm.
 */
int
dk_import_choose(struct run *u)
{
	struct one *k;
	size_t i, j;
	enum dk_alg a;

	for (i = 0; i < u->t.nkeys; i++) {
		k = &u->keys[i];
		if (k->key == NULL)
			continue;
		a = dk_key_alg(k->key);
		for (j = 0; j < u->t.nkeys; j++) {
			if (j == i || u->keys[j].key == NULL ||
			    u->dom_of[j] != u->dom_of[i] ||
			    dk_key_alg(u->keys[j].key) != a)
				continue;
			if (u->o.signingtable == NULL) {
				if (j < i && dk_import_refuse(u, "%s:%d: %s has more "
				    "than one %s key (also line %d): give "
				    "--signing-table to tell which one signs",
				    u->o.keytable, u->t.keys[i].line,
				    u->t.keys[i].domain, dk_alg_name(a),
				    u->t.keys[j].line) != 0)
					return -1;
				break;
			}
			if (k->signs && u->keys[j].signs && j < i &&
			    dk_import_refuse(u, "%s:%d: a second %s key signs for %s "
			    "(the first at line %d): dkimrot signs with one "
			    "key per algorithm", u->o.signingtable,
			    k->sign_line, dk_alg_name(a), u->t.keys[i].domain,
			    u->keys[j].sign_line) != 0)
				return -1;
		}
		if (u->o.signingtable == NULL && j == u->t.nkeys)
			k->signs = true;
		k->keep = true;
		if (k->signs)
			u->doms[u->dom_of[i]].algs |= DK_ALG_BIT(a);
	}
	return 0;
}
