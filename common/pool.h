/*
 * A few threads for work that waits on the disk, not the CPU: on a
 * loaded or networked filesystem each create, rename or unlink can wait
 * milliseconds for the journal, and thousands of them in a row add up
 * where a handful in flight at once do not.
 */
#ifndef DK_POOL_H
#define DK_POOL_H

#include <stddef.h>

/* Threads for disk-bound work: not the cores, the requests in flight. */
#define DK_POOL_IO	8

/*
 * Calls fn(i, arg) once for each i in [0, n), on up to threads threads
 * (the caller's one included), in no particular order, and returns when
 * all are done.  fn must be safe to run concurrently for different i
 * (the last-error buffer is per thread).  Fewer threads if they cannot
 * be started; with one, plainly in order.
 */
void	dk_pool_run(size_t n, int threads, void (*fn)(size_t, void *),
	    void *arg);

#endif
