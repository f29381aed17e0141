#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/grow.h"
#include "common/strlist.h"

static int
push(struct dk_strlist *l, char *s)
{
	if (dk_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 16) != 0) {
		free(s);
		return -1;
	}
	l->v[l->n++] = s;
	return 0;
}

int
dk_strlist_add(struct dk_strlist *l, const char *s)
{
	char *copy;

	if ((copy = strdup(s)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	return push(l, copy);
}

int
dk_strlist_addn(struct dk_strlist *l, const char *s, size_t n)
{
	char *copy;

	if ((copy = strndup(s, n)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	return push(l, copy);
}

int
dk_strlist_addf(struct dk_strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		dk_error_set("out of memory");
		return -1;
	}
	return push(l, s);
}

bool
dk_strlist_has(const struct dk_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
dk_strlist_uniq(struct dk_strlist *l)
{
	size_t i, j;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp);
	for (i = 0, j = 1; j < l->n; j++) {
		if (strcmp(l->v[i], l->v[j]) == 0)
			free(l->v[j]);
		else
			l->v[++i] = l->v[j];
	}
	l->n = i + 1;
}

void
dk_strlist_dispose(struct dk_strlist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
