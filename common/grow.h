/* Growable arrays: the one way the code doubles an array's room. */
#ifndef DK_GROW_H
#define DK_GROW_H

#include <stddef.h>

/*
 * Room for element n of the array at *(T **)arrayp, of elements of size
 * bytes, which has room for *cap: when n == *cap the array is
 * reallocated to twice that (first, when it has none).  0, or -1 with
 * "out of memory" in the last error and the array as it was.
 */
int	dk_grow(void *arrayp, size_t *cap, size_t n, size_t size, size_t first);

#endif
