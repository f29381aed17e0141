#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/secret.h"

static int
grow(struct dk_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (need < b->len || need == (size_t)-1) {
		dk_error_set("buffer too large");
		return -1;
	}
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need + 1) {
		if (cap > ((size_t)-1) / 2) {
			dk_error_set("buffer too large");
			return -1;
		}
		cap *= 2;
	}
	/*
	 * Not realloc: a buffer may hold key material, and realloc could
	 * leave a copy of it behind in freed memory.
	 */
	if ((p = malloc(cap)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		dk_secret_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
dk_buf_append(struct dk_buf *b, const void *data, size_t n)
{
	if (grow(b, b->len + n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
dk_buf_puts(struct dk_buf *b, const char *s)
{
	return dk_buf_append(b, s, strlen(s));
}

int
dk_buf_printf(struct dk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		dk_error_set("cannot format text");
		return -1;
	}
	if (grow(b, b->len + (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *
dk_buf_detach(struct dk_buf *b)
{
	char *p;

	if (b->data == NULL && grow(b, 0) == -1)
		return NULL;
	if (b->len == 0)
		b->data[0] = '\0';
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
dk_buf_dispose(struct dk_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
dk_buf_wipe(struct dk_buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL)
		dk_secret_wipe(b->data, b->cap);
	dk_buf_dispose(b);
}
