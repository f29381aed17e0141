/*
 * import --opendkim (rotator/cmd_import_odkim.c): the run's state, and
 * the half that reads the tables and their keys
 * (rotator/import_odkim_read.c).  Private to those two files.
 */
#ifndef DK_IMPORT_ODKIM_H
#define DK_IMPORT_ODKIM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/strlist.h"
#include "keygen/key.h"
#include "rotator/keyrepo.h"
#include "rotator/keys.h"
#include "rotator/opendkim.h"
#include "rotator/policy.h"

#define TABLE_MAX	(16u * 1024 * 1024)

struct opts {
	const char	*keytable;
	const char	*signingtable;
	bool		 dry_run;
	int		 wait;
};

/* One KeyTable key. */
struct one {
	struct dk_key	*key;
	bool		 signs;		/* the SigningTable uses it */
	bool		 keep;		/* imported (else left out) */
	int		 sign_line;	/* where the SigningTable names it */
};

/* One domain: its keys are t->keys[i] with dom[i] == this. */
struct dom {
	const char		*name;
	const struct dk_domain_conf *dc;	/* NULL: to be added */
	struct dk_policy	 pol;
	unsigned		 algs;		/* of its signing keys */
	bool			 skip;
	struct dk_domain_keys	*dk;
	struct dk_plan		 plan;
	struct dk_buf		 line;
};

struct run {
	struct opts		 o;
	struct dk_odkim		 t;
	struct one		*keys;		/* parallel to t.keys */
	struct dom		*doms;
	size_t			 ndoms;
	size_t			*dom_of;	/* t.keys[i]'s domain */
	struct dk_strlist	 errors;
	struct dk_keyrepo	 r;
};

/* A refusal, kept to be reported with the others: 0, or -1. */
int	dk_import_refuse(struct run *u, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Reads and parses one table (keytable: the KeyTable, else the
 * SigningTable); the file's bytes are wiped (inline keys).
 */
int	dk_import_read_table(struct run *u, const char *path, bool keytable);
/* Every key of the KeyTable, or a refusal naming its line. */
int	dk_import_load_keys(struct run *u, const char *file);
/* The domains, in KeyTable order, and which key belongs to which. */
int	dk_import_group(struct run *u);
/* Which keys sign, which are kept, which domains are skipped. */
int	dk_import_choose(struct run *u);

#endif
