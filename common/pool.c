#include <pthread.h>
#include <stdatomic.h>

#include "common/pool.h"

struct pool {
	void		(*fn)(size_t, void *);
	void		*arg;
	size_t		 n;
	atomic_size_t	 next;
};

static void *
worker(void *p)
{
	struct pool *pool = p;
	size_t i;

	while ((i = atomic_fetch_add(&pool->next, 1)) < pool->n)
		pool->fn(i, pool->arg);
	return NULL;
}

void
dk_pool_run(size_t n, int threads, void (*fn)(size_t, void *), void *arg)
{
	pthread_t tid[64];
	struct pool pool;
	int i, started = 0;

#ifdef DK_FAULTS
	/*
	 * The crash tests name "the N-th time a point is reached": on
	 * threads that would be whichever thread came first, a different
	 * domain from run to run.  In the test binary, one thread.
	 */
	threads = 1;
#endif
	pool.fn = fn;
	pool.arg = arg;
	pool.n = n;
	atomic_init(&pool.next, 0);
	if (threads > (int)(sizeof(tid) / sizeof(tid[0])))
		threads = (int)(sizeof(tid) / sizeof(tid[0]));
	if ((size_t)threads > n)
		threads = (int)n;
	for (i = 1; i < threads; i++) {
		if (pthread_create(&tid[started], NULL, worker, &pool) != 0)
			break;
		started++;
	}
	worker(&pool);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}
