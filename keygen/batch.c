#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "keygen/batch.h"
#include "keygen/key.h"

struct pool {
	struct dk_keyreq	*reqs;
	size_t			 n;
	atomic_size_t		 next;
	atomic_size_t		 done;
};

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct dk_keyreq *r;
	size_t i;

	/* Requests are taken one at a time: RSA times vary a lot. */
	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		r = &p->reqs[i];
		r->key = NULL;
		r->rc = dk_key_generate(&r->key, r->alg, r->bits);
		if (r->rc != 0)
			snprintf(r->err, sizeof(r->err), "%s",
			    dk_error_last());
		atomic_fetch_add(&p->done, 1);
	}
	dk_key_thread_end();
	return NULL;
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
show(struct pool *p, const struct timespec *t0, int last)
{
	size_t done = atomic_load(&p->done);
	double s = elapsed(t0), rate = s > 0 ? (double)done / s : 0;

	fprintf(stderr, "\rdkimrot: keys %zu/%zu, %.1f/s, %.0f s left   %s",
	    done, p->n, rate, rate > 0 ? (double)(p->n - done) / rate : 0.0,
	    last ? "\n" : "");
}

int
dk_key_generate_batch(struct dk_keyreq *reqs, size_t n, int threads,
    bool progress)
{
	struct timespec t0, nap = { 0, 250 * 1000 * 1000 };
	pthread_t tid[256];
	struct pool p;
	long cores;
	int i, started = 0;
	size_t k;

	if (n == 0)
		return 0;
	if (threads <= 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cores > 0 ? (int)cores : 1;
	}
	if ((size_t)threads > n)
		threads = (int)n;
	if (threads > (int)(sizeof(tid) / sizeof(tid[0])))
		threads = (int)(sizeof(tid) / sizeof(tid[0]));
	p.reqs = reqs;
	p.n = n;
	atomic_init(&p.next, 0);
	atomic_init(&p.done, 0);
	progress = progress && isatty(STDERR_FILENO) && n >= 20;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/*
	 * One worker is this thread and the rest are started; with a
	 * progress line this thread draws it and every worker is started
	 * (else a 2-core machine made keys on one).
	 */
	for (i = progress ? 0 : 1; i < threads; i++) {
		if (pthread_create(&tid[started], NULL, worker, &p) != 0)
			break;
		started++;
	}
	if (progress && started > 0) {
		while (atomic_load(&p.done) < n) {
			show(&p, &t0, 0);
			nanosleep(&nap, NULL);
		}
	}
	worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (progress)
		show(&p, &t0, 1);
	for (k = 0; k < n; k++) {
		if (reqs[k].rc != 0) {
			dk_error_set("%s", reqs[k].err);
			return -1;
		}
	}
	return 0;
}
