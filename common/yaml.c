#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/yaml.h"

struct builder {
	yaml_parser_t	 parser;
	const char	*file;
	const char	*buf;
	size_t		 len;
	size_t		 nodes;
	size_t		 cost;		/* bytes charged, this tree */
	size_t		 reserved;	/* of the process's budget */
};

/* Every tree alive in this process, all threads (yaml.h). */
static atomic_size_t charged;

/* What malloc(size) takes from the heap: glibc's 8-byte header, 16-byte
   steps, a 32-byte minimum chunk. */
static size_t
heap_cost(size_t size)
{
	size_t c;

	if (size == 0)
		return 0;
	c = (size + 8 + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

/* The process-wide budget is taken in steps, not an atomic a node. */
#define RESERVE_STEP	(64u * 1024)

/*
 * Charges bytes to the tree of b before they are allocated: refused past
 * the document's budget (bad input) or the process's (other trees).
 */
static int
charge(struct builder *b, size_t bytes, int line, int col)
{
	size_t need, prev;

	if (bytes > DK_YAML_DOC_BUDGET - b->cost) {
		dk_error_set("%s:%d:%d: document too big: its tree would need "
		    "more than %u bytes of memory", b->file, line, col,
		    DK_YAML_DOC_BUDGET);
		return DK_EUSAGE;
	}
	b->cost += bytes;
	if (b->cost <= b->reserved)
		return 0;
	need = (b->cost - b->reserved + RESERVE_STEP - 1) /
	    RESERVE_STEP * RESERVE_STEP;
	prev = atomic_fetch_add(&charged, need);
	if (prev + need > DK_YAML_RUN_BUDGET) {
		atomic_fetch_sub(&charged, need);
		b->cost -= bytes;
		dk_error_set("%s:%d:%d: out of memory for YAML: the documents "
		    "read at once would need more than %u bytes", b->file,
		    line, col, DK_YAML_RUN_BUDGET);
		return -1;
	}
	b->reserved += need;
	return 0;
}

static void
release(size_t bytes)
{
	atomic_fetch_sub(&charged, bytes);
}

size_t
dk_yaml_charged(void)
{
	return atomic_load(&charged);
}

static void
node_free(struct dk_ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys != NULL)
			node_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->scalar);
	free(n);
}

void
dk_yaml_free(struct dk_ynode *n)
{
	if (n == NULL)
		return;
	release(n->cost);
	node_free(n);
}

static int
fail_at(struct builder *b, const yaml_mark_t *m, const char *what)
{
	dk_error_set("%s:%zu:%zu: %s", b->file, m->line + 1, m->column + 1,
	    what);
	return DK_EUSAGE;
}

/*
 * libyaml's reader (bad bytes: control characters, invalid UTF-8) gives
 * a byte offset and no mark; count lines and columns (in bytes) to it.
 */
static void
reader_error(struct builder *b)
{
	const yaml_parser_t *p = &b->parser;
	size_t i, off = p->problem_offset, line = 1, col = 1;

	for (i = 0; i < off && i < b->len; i++) {
		if (b->buf[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	if (p->problem_value >= 0)
		dk_error_set("%s:%zu:%zu: %s (byte 0x%02x)", b->file, line, col,
		    p->problem ? p->problem : "unreadable input",
		    (unsigned)p->problem_value & 0xff);
	else
		dk_error_set("%s:%zu:%zu: %s", b->file, line, col,
		    p->problem ? p->problem : "unreadable input");
}

static int
next_event(struct builder *b, yaml_event_t *ev)
{
	char msg[512];

	if (yaml_parser_parse(&b->parser, ev))
		return 0;
	if (b->parser.error == YAML_READER_ERROR) {
		reader_error(b);
		return DK_EUSAGE;
	}
	snprintf(msg, sizeof(msg), "%s%s%s",
	    b->parser.problem ? b->parser.problem : "malformed YAML",
	    b->parser.context ? " " : "",
	    b->parser.context ? b->parser.context : "");
	dk_error_set("%s:%zu:%zu: %s", b->file, b->parser.problem_mark.line + 1,
	    b->parser.problem_mark.column + 1, msg);
	return DK_EUSAGE;
}

/* 0, or -1 / DK_EUSAGE with the message set. */
static int
node_new(struct builder *b, enum dk_ytype type, const yaml_mark_t *m,
    struct dk_ynode **out)
{
	struct dk_ynode *n;
	int rc;

	*out = NULL;
	if (++b->nodes > DK_YAML_MAX_NODES) {
		fail_at(b, m, "too many nodes");
		return -1;
	}
	if ((rc = charge(b, heap_cost(sizeof(*n)), (int)m->line + 1,
	    (int)m->column + 1)) != 0)
		return rc;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	n->type = type;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	*out = n;
	return 0;
}

static int
push(struct builder *b, struct dk_ynode *parent, struct dk_ynode *key,
    struct dk_ynode *item, size_t *cap)
{
	struct dk_ynode **p;
	size_t ncap, grow;
	int rc;

	if (parent->n == *cap) {
		ncap = *cap ? *cap * 2 : 4;
		grow = heap_cost(ncap * sizeof(*p)) -
		    heap_cost(*cap * sizeof(*p));
		if (parent->type == DK_Y_MAP)
			grow *= 2;
		if ((rc = charge(b, grow, item->line, item->col)) != 0)
			return rc;
		if ((p = realloc(parent->items, ncap * sizeof(*p))) == NULL)
			goto oom;
		parent->items = p;
		if (parent->type == DK_Y_MAP) {
			if ((p = realloc(parent->keys, ncap * sizeof(*p))) ==
			    NULL)
				goto oom;
			parent->keys = p;
		}
		*cap = ncap;
	}
	parent->items[parent->n] = item;
	if (parent->type == DK_Y_MAP)
		parent->keys[parent->n] = key;
	parent->n++;
	return 0;
oom:
	dk_error_set("out of memory");
	return -1;
}

static int build(struct builder *, yaml_event_t *, int, struct dk_ynode **);

/* Builds the children of a sequence or mapping until its end event. */
static int
build_children(struct builder *b, struct dk_ynode *n, int depth)
{
	struct dk_ynode *key = NULL, *val = NULL;
	yaml_event_t ev;
	size_t cap = 0, i;
	int rc, done = 0;
	char msg[600];

	while (!done) {
		/* A syntax error after a key must not leak that key. */
		if ((rc = next_event(b, &ev)) != 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT ||
		    ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		rc = build(b, &ev, depth + 1, n->type == DK_Y_MAP && key ==
		    NULL ? &key : &val);
		yaml_event_delete(&ev);
		if (rc != 0)
			goto fail;
		if (n->type == DK_Y_MAP && val == NULL) {
			if (key->type != DK_Y_SCALAR) {
				dk_error_set("%s:%d:%d: mapping keys must be "
				    "scalars", b->file, key->line, key->col);
				rc = DK_EUSAGE;
				goto fail;
			}
			for (i = 0; i < n->n; i++) {
				if (strcmp(n->keys[i]->scalar, key->scalar))
					continue;
				snprintf(msg, sizeof(msg), "duplicate key "
				    "'%.200s' (first at line %d)", key->scalar,
				    n->keys[i]->line);
				dk_error_set("%s:%d:%d: %s", b->file, key->line,
				    key->col, msg);
				rc = DK_EUSAGE;
				goto fail;
			}
			continue;
		}
		if ((rc = push(b, n, key, val, &cap)) != 0)
			goto fail;
		key = val = NULL;
	}
	return 0;
fail:
	node_free(key);
	node_free(val);
	return rc;
}

static int
build(struct builder *b, yaml_event_t *ev, int depth, struct dk_ynode **out)
{
	struct dk_ynode *n = NULL;
	int rc;

	*out = NULL;
	if (depth > DK_YAML_MAX_DEPTH)
		return fail_at(b, &ev->start_mark, "nested too deeply");
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail_at(b, &ev->start_mark, "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL)
			return fail_at(b, &ev->start_mark,
			    "anchors are not allowed");
		if (ev->data.scalar.tag != NULL)
			return fail_at(b, &ev->start_mark,
			    "tags are not allowed");
		if (strlen((char *)ev->data.scalar.value) !=
		    ev->data.scalar.length)
			return fail_at(b, &ev->start_mark,
			    "NUL character in a scalar");
		if ((rc = node_new(b, DK_Y_SCALAR, &ev->start_mark, &n)) != 0)
			return rc;
		if ((rc = charge(b, heap_cost(ev->data.scalar.length + 1),
		    n->line, n->col)) != 0) {
			free(n);
			return rc;
		}
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if ((n->scalar = strdup((char *)ev->data.scalar.value)) ==
		    NULL) {
			free(n);
			dk_error_set("out of memory");
			return -1;
		}
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if ((ev->type == YAML_SEQUENCE_START_EVENT ?
		    ev->data.sequence_start.anchor :
		    ev->data.mapping_start.anchor) != NULL)
			return fail_at(b, &ev->start_mark,
			    "anchors are not allowed");
		if ((ev->type == YAML_SEQUENCE_START_EVENT ?
		    ev->data.sequence_start.tag :
		    ev->data.mapping_start.tag) != NULL)
			return fail_at(b, &ev->start_mark,
			    "tags are not allowed");
		if ((rc = node_new(b, ev->type == YAML_SEQUENCE_START_EVENT ?
		    DK_Y_SEQ : DK_Y_MAP, &ev->start_mark, &n)) != 0)
			return rc;
		if ((rc = build_children(b, n, depth)) != 0) {
			node_free(n);
			return rc;
		}
		*out = n;
		return 0;
	default:
		return fail_at(b, &ev->start_mark, "unexpected YAML event");
	}
}

int
dk_yaml_parse(const char *buf, size_t len, const char *file,
    struct dk_ynode **out)
{
	struct builder b;
	struct dk_ynode *root = NULL;
	yaml_event_t ev;
	int rc;

	*out = NULL;
	if (len > DK_YAML_MAX_SIZE) {
		dk_error_set("%s: larger than %u bytes", file,
		    DK_YAML_MAX_SIZE);
		return DK_EUSAGE;
	}
	memset(&b, 0, sizeof(b));
	b.file = file;
	b.buf = buf;
	b.len = len;
	if (!yaml_parser_initialize(&b.parser)) {
		dk_error_set("out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)buf,
	    len);
	/* STREAM-START, then DOCUMENT-START or STREAM-END (empty input). */
	if ((rc = next_event(&b, &ev)) != 0)
		goto done;
	yaml_event_delete(&ev);
	if ((rc = next_event(&b, &ev)) != 0)
		goto done;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		rc = 0;
		goto done;
	}
	yaml_event_delete(&ev);
	if ((rc = next_event(&b, &ev)) != 0)
		goto done;
	rc = build(&b, &ev, 0, &root);
	yaml_event_delete(&ev);
	if (rc != 0)
		goto done;
	/* DOCUMENT-END, then STREAM-END: a second document is an error. */
	if ((rc = next_event(&b, &ev)) != 0)
		goto done;
	yaml_event_delete(&ev);
	if ((rc = next_event(&b, &ev)) != 0)
		goto done;
	if (ev.type != YAML_STREAM_END_EVENT) {
		rc = fail_at(&b, &ev.start_mark,
		    "only one YAML document is allowed");
		yaml_event_delete(&ev);
		goto done;
	}
	yaml_event_delete(&ev);
	if (root != NULL)
		root->cost = b.reserved;
	else
		release(b.reserved);
	*out = root;
	root = NULL;
	rc = 0;
done:
	if (rc != 0) {
		node_free(root);
		release(b.reserved);
	}
	yaml_parser_delete(&b.parser);
	return rc;
}

struct dk_ynode *
dk_yaml_get(const struct dk_ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != DK_Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->scalar, key) == 0)
			return map->items[i];
	return NULL;
}

bool
dk_yaml_is_null(const struct dk_ynode *n)
{
	if (n == NULL)
		return true;
	if (n->type != DK_Y_SCALAR || !n->plain)
		return false;
	return n->scalar[0] == '\0' || strcmp(n->scalar, "~") == 0 ||
	    strcmp(n->scalar, "null") == 0 || strcmp(n->scalar, "Null") == 0 ||
	    strcmp(n->scalar, "NULL") == 0;
}

const char *
dk_yaml_type_name(const struct dk_ynode *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->type) {
	case DK_Y_SEQ:
		return "a sequence";
	case DK_Y_MAP:
		return "a mapping";
	default:
		return "a scalar";
	}
}

/* Plain when it is a "safe" word that YAML reads back as the same string. */
static bool
plain_ok(const char *s)
{
	const char *p;

	if (*s == '\0' || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0 ||
	    strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "yes") == 0 || strcasecmp(s, "no") == 0)
		return false;
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			continue;
		if ((*p == '.' || *p == '-' || *p == '_' || *p == '/' ||
		    *p == ':' || *p == '@' || *p == '+') && p != s)
			continue;
		return false;
	}
	/* "a: b" would be a mapping; a trailing ':' likewise. */
	return strstr(s, ": ") == NULL && s[strlen(s) - 1] != ':';
}

int
dk_yaml_emit_scalar(struct dk_buf *b, const char *s)
{
	const unsigned char *p;

	if (plain_ok(s))
		return dk_buf_puts(b, s);
	if (dk_buf_puts(b, "\"") == -1)
		return -1;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			if (dk_buf_printf(b, "\\%c", *p) == -1)
				return -1;
		} else if (*p < 0x20 || *p == 0x7f) {
			if (dk_buf_printf(b, "\\x%02x", *p) == -1)
				return -1;
		} else if (dk_buf_append(b, p, 1) == -1)
			return -1;
	}
	return dk_buf_puts(b, "\"");
}
