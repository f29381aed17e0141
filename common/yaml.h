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
};

/*
 * Parses buf (len bytes, need not be NUL-terminated).  An empty document
 * yields NULL in *out and returns 0.  Errors read "FILE:LINE:COL: what".
 */
int		 dk_yaml_parse(const char *, size_t, const char *,
		    struct dk_ynode **);
void		 dk_yaml_free(struct dk_ynode *);
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
