/*
 * common/arena.h: blocks of BLOCK bytes, filled front to back; what does
 * not fit in the room left starts a new one, and a copy larger than
 * BIG (or a large buffer adopted) gets a block of its own behind the
 * one being filled, so that the room left is not wasted.
 */
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/secret.h"

#define BLOCK	(256u << 10)
#define BIG	(BLOCK / 8)

struct dk_arena_block {
	struct dk_arena_block	*next;
	char			*p;	/* the bytes: data[] or adopted */
	size_t			 size;
	size_t			 used;
	char			 data[];
};

static struct dk_arena_block *
block_new(struct dk_arena *a, size_t size)
{
	struct dk_arena_block *b;

	if ((b = malloc(sizeof(*b) + size)) == NULL) {
		dk_error_set("out of memory");
		return NULL;
	}
	b->p = b->data;
	b->size = size;
	b->used = 0;
	/* Behind the head, which keeps its room, unless there is none. */
	if (a->head != NULL && size != BLOCK) {
		b->next = a->head->next;
		a->head->next = b;
	} else {
		b->next = a->head;
		a->head = b;
	}
	return b;
}

char *
dk_arena_copy(struct dk_arena *a, const void *p, size_t len)
{
	struct dk_arena_block *b = a->head;
	char *dst;

	if (len >= BIG) {
		if (len > (size_t)-1 - sizeof(*b) - 1) {
			dk_error_set("out of memory");
			return NULL;
		}
		if ((b = block_new(a, len + 1)) == NULL)
			return NULL;
	} else if (b == NULL || b->p != b->data || b->size - b->used <
	    len + 1) {
		if ((b = block_new(a, BLOCK)) == NULL)
			return NULL;
	}
	dst = b->p + b->used;
	if (len > 0)
		memcpy(dst, p, len);
	dst[len] = '\0';
	b->used += len + 1;
	return dst;
}

char *
dk_arena_adopt(struct dk_arena *a, char *buf, size_t len)
{
	struct dk_arena_block *b;
	char *p;

	if (len < BIG) {
		p = dk_arena_copy(a, buf, len);
		if (a->secret)
			dk_secret_free(buf, len);
		else
			free(buf);
		return p;
	}
	if ((b = block_new(a, 0)) == NULL) {
		if (a->secret)
			dk_secret_free(buf, len);
		else
			free(buf);
		return NULL;
	}
	b->p = buf;
	b->size = b->used = len;
	return buf;
}

void
dk_arena_dispose(struct dk_arena *a)
{
	struct dk_arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		if (b->p != b->data) {
			if (a->secret)
				dk_secret_free(b->p, b->size);
			else
				free(b->p);
		} else if (a->secret)
			dk_secret_wipe(b->data, b->used);
		free(b);
	}
	a->head = NULL;
}
