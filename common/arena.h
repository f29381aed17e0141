/*
 * Many small allocations that all go at once: copies packed into large
 * blocks, without a header or a rounding each, freed together.  An
 * arena made secret wipes every block before freeing it.
 */
#ifndef DK_ARENA_H
#define DK_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct dk_arena_block;

struct dk_arena {
	struct dk_arena_block	*head;	/* the block filled now first */
	bool			 secret;
};

/* A NUL-terminated copy of p[0..len); NULL when out of memory. */
char	*dk_arena_copy(struct dk_arena *, const void *p, size_t len);
/*
 * Takes buf (len bytes, from malloc) whatever happens: a small one is
 * copied in and freed (wiped first if the arena is secret), a large one
 * kept as it is.  Returns where the bytes are now; NULL when out of
 * memory (buf is freed then too).
 */
char	*dk_arena_adopt(struct dk_arena *, char *buf, size_t len);
/* Frees every block; the arena is empty and can be used again. */
void	 dk_arena_dispose(struct dk_arena *);

#endif
