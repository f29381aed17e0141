/*
 * Text edits of dkimrot.yaml (rotator/config_edit.h).  The operator's
 * file is theirs: a YAML emitter would drop its comments and reorder it,
 * so the edits work on lines, in the block form 'dkimrot init' writes,
 * and anything else is left for the operator to edit by hand.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/tree.h"
#include "rotator/config_edit.h"
#include "rotator/keyrepo.h"

/* One line of the file: [p, p + len), without its newline. */
struct line {
	const char	*p;
	size_t		 len;
	size_t		 next;	/* offset of the next line */
};

static bool
line_at(const char *s, size_t len, size_t off, struct line *l)
{
	const char *nl;

	if (off >= len)
		return false;
	l->p = s + off;
	nl = memchr(l->p, '\n', len - off);
	l->len = nl != NULL ? (size_t)(nl - l->p) : len - off;
	l->next = off + l->len + (nl != NULL);
	return true;
}

static size_t
indent(const struct line *l)
{
	size_t i = 0;

	while (i < l->len && l->p[i] == ' ')
		i++;
	return i;
}

/* Nothing but spaces, or a comment. */
static bool
blank(const struct line *l)
{
	size_t i = indent(l);

	return i == l->len || l->p[i] == '#' || l->p[i] == '\r';
}

/* The rest after optional spaces and a comment: true when nothing. */
static bool
rest_empty(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == end || *p == '#';
}

/* l is "INDENT- name: NAME [# ...]" with NAME (maybe quoted) = name. */
static bool
is_entry(const struct line *l, const char *name)
{
	const char *p = l->p + indent(l), *end = l->p + l->len, *v;
	size_t n;
	char q = 0;

	if (end - p < 2 || p[0] != '-' || p[1] != ' ')
		return false;
	for (p += 2; p < end && *p == ' '; p++)
		;
	if ((size_t)(end - p) < 5 || memcmp(p, "name:", 5) != 0)
		return false;
	for (p += 5; p < end && *p == ' '; p++)
		;
	if (p < end && (*p == '"' || *p == '\''))
		q = *p++;
	for (v = p; p < end && (q ? *p != q : *p != ' ' && *p != '#' &&
	    *p != '\r'); p++)
		;
	n = (size_t)(p - v);
	if (q && (p == end || *p++ != q))
		return false;
	return n == strlen(name) && strncasecmp(v, name, n) == 0 &&
	    rest_empty(p, end);
}

int
dk_config_edit_remove(const char *yaml, size_t len,
    const struct dk_domain_conf *dc, struct dk_buf *out)
{
	struct line l = { 0 };
	size_t off = 0, start, end, dash;
	int no = 1;

	while (no < dc->line && line_at(yaml, len, off, &l)) {
		off = l.next;
		no++;
	}
	if (!line_at(yaml, len, off, &l) || !is_entry(&l, dc->name)) {
		dk_error_set("cannot take '%s' out of %s: line %d is not "
		    "'- name: %s' (edit the file by hand, then run the "
		    "command again)", dc->name, DK_CONFIG_FILE, dc->line,
		    dc->name);
		return DK_EUSAGE;
	}
	start = off;
	dash = indent(&l);
	end = l.next;
	/* Its other keys: the lines indented deeper, up to a blank one. */
	while (line_at(yaml, len, end, &l) && indent(&l) < l.len &&
	    indent(&l) > dash)
		end = l.next;
	if (dk_buf_append(out, yaml, start) != 0 ||
	    dk_buf_append(out, yaml + end, len - end) != 0)
		return -1;
	return 0;
}

/* The top-level "domains:" line: its offset, and whether it says []. */
static int
find_domains(const char *yaml, size_t len, size_t *at, bool *empty)
{
	const char *p, *end;
	struct line l = { 0 };
	size_t off = 0;

	while (line_at(yaml, len, off, &l)) {
		if (l.len >= 8 && memcmp(l.p, "domains:", 8) == 0) {
			*at = off;
			p = l.p + 8;
			end = l.p + l.len;
			while (p < end && *p == ' ')
				p++;
			*empty = (size_t)(end - p) >= 2 && p[0] == '[' &&
			    p[1] == ']';
			if (*empty)
				p += 2;
			if (rest_empty(p, end))
				return 0;
			break;
		}
		off = l.next;
	}
	dk_error_set("cannot add domains to %s: no 'domains:' list in the "
	    "block form 'dkimrot init' writes (edit the file by hand)",
	    DK_CONFIG_FILE);
	return DK_EUSAGE;
}

int
dk_config_edit_append(const char *yaml, size_t len, const char *const *names,
    const char *const *algs, size_t n, struct dk_buf *out)
{
	struct line l = { 0 };
	size_t at, off, ins, dash = 2, i;
	bool empty, first = true;
	int rc;

	if ((rc = find_domains(yaml, len, &at, &empty)) != 0)
		return rc;
	line_at(yaml, len, at, &l);
	ins = off = l.next;
	/* After the list's last entry line: indented, not a comment. */
	while (!empty && line_at(yaml, len, off, &l) &&
	    (blank(&l) || indent(&l) > 0)) {
		if (!blank(&l)) {
			if (first && l.p[indent(&l)] == '-')
				dash = indent(&l);
			first = false;
			ins = l.next;
		}
		off = l.next;
	}
	if (empty) {
		if (dk_buf_append(out, yaml, at) != 0 ||
		    dk_buf_puts(out, "domains:\n") != 0)
			return -1;
	} else if (dk_buf_append(out, yaml, ins) != 0)
		return -1;
	/* A last line without its newline gets one first. */
	if (!empty && ins > 0 && yaml[ins - 1] != '\n' &&
	    dk_buf_puts(out, "\n") != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (dk_buf_printf(out, "%*s- name: %s\n", (int)dash, "",
		    names[i]) != 0)
			return -1;
		if (algs != NULL && algs[i] != NULL &&
		    dk_buf_printf(out, "%*s  algorithms: %s\n", (int)dash, "",
		    algs[i]) != 0)
			return -1;
	}
	return dk_buf_append(out, yaml + ins, len - ins);
}

int
dk_config_edit_save(const char *repo, const struct dk_buf *data)
{
	struct dk_config *cfg = NULL;
	struct stat st;
	int rc;

	/* Never write what would not load. */
	if ((rc = dk_config_parse(data->data != NULL ? data->data : "",
	    data->len, DK_CONFIG_FILE " (as edited)", &cfg)) != 0)
		return rc;
	dk_config_free(cfg);
	if (dk_tree_stat(repo, DK_CONFIG_FILE, &st) != 0)
		return -1;
	return dk_tree_replace(repo, DK_CONFIG_FILE, data->data, data->len,
	    st.st_mode & 07777);
}
