/*
 * YAML documents as a tree of nodes with positions.  The only user of
 * libyaml (its event API); config.c and the key store walk the tree, so
 * every error they report can name file:line:column.
 *
 * Limits of our own, since libyaml 0.2.5 has none: input size, nesting
 * depth and node count.  Anchors and aliases are refused (alias bombs),
 * as are tags, several documents, and duplicate mapping keys.
 */
#ifndef DK_YAML_H
#define DK_YAML_H

#include <stdbool.h>
#include <stddef.h>

#define DK_YAML_MAX_SIZE	(32u * 1024 * 1024)
#define DK_YAML_MAX_DEPTH	32
#define DK_YAML_MAX_NODES	4000000
/*
 * Memory budgets, in bytes of tree (nodes, scalars, item arrays, each
 * with the allocator's overhead), charged as the tree is built.  Per
 * document: a 16 MiB file of one-byte scalars would otherwise take some
 * 500 MB; dkimrot.yaml takes about 400 bytes of tree a domain listed by
 * name alone (40 MB at 100,000 domains, the scale dkimrot is built for:
 * docs/design.md §15), a keys.yaml a few kB.  Per process, for all trees
 * alive at once (package parses keys.yaml files on every core): room for
 * the largest dkimrot.yaml and the keys.yaml files beside it, so that a
 * run never takes more than this, whatever it reads.
 */
#define DK_YAML_DOC_BUDGET	(96u * 1024 * 1024)
#define DK_YAML_RUN_BUDGET	(192u * 1024 * 1024)

enum dk_ytype {
	DK_Y_SCALAR,
	DK_Y_SEQ,
	DK_Y_MAP
};

struct dk_ynode {
	enum dk_ytype	  type;
	int		  line;		/* 1-based */
	int		  col;		/* 1-based */
	char		 *scalar;	/* DK_Y_SCALAR */
	bool		  plain;	/* unquoted scalar: "~", "null" mean null */
	/* DK_Y_SEQ: items; DK_Y_MAP: keys[i] -> items[i] */
	struct dk_ynode	**items;
	struct dk_ynode	**keys;
	size_t		  n;
	size_t		  cost;		/* root: the tree's charge */
};

/*
 * Parses buf (len bytes, need not be NUL-terminated).  An empty document
 * yields NULL in *out and returns 0.  Errors read "FILE:LINE:COL: what".
 * DK_EUSAGE for bad input (a document over DK_YAML_DOC_BUDGET among it);
 * -1 when the process-wide budget is spent by other trees alive.
 */
int		 dk_yaml_parse(const char *, size_t, const char *,
		    struct dk_ynode **);
/* Frees a tree from dk_yaml_parse() and gives its charge back. */
void		 dk_yaml_free(struct dk_ynode *);
/* Bytes charged for the trees alive now (for tests). */
size_t		 dk_yaml_charged(void);
/* The value of key in a mapping, or NULL. */
struct dk_ynode	*dk_yaml_get(const struct dk_ynode *, const char *);
/* True for a plain "~", "null", "Null", "NULL" or empty plain scalar. */
bool		 dk_yaml_is_null(const struct dk_ynode *);
/* "mapping", "sequence" or "scalar", for messages. */
const char	*dk_yaml_type_name(const struct dk_ynode *);

struct dk_buf;
/*
 * Appends s as a YAML scalar: plain when that reads back the same,
 * double-quoted with escapes otherwise.  For writing keys.yaml.
 */
int		 dk_yaml_emit_scalar(struct dk_buf *, const char *);

#endif
