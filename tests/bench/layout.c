/*
 * The floor that the repository layout (docs/design.md §3) sets for adding N
 * new domains: the files alone, as 'dkimrot rotate' leaves them for each
 * (keys/DOMAIN/, SEL.private, SEL.txt, keys.yaml written to a temporary name
 * and renamed), then one syncfs, with no key made, nothing hashed and no
 * commit.  Prints the seconds it took.
 *
 *   layout DIR N
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The sizes of an Ed25519 domain's files. */
static char key[119], txt[161], yaml[474];

/* A path into buf (PATH_MAX); a path that does not fit ends the run. */
static void
pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "layout: path too long\n");
		exit(1);
	}
}

static int
put(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		perror(path);
		return -1;
	}
	if (write(fd, data, len) != (ssize_t)len) {
		perror(path);
		close(fd);
		return -1;
	}
	return close(fd);
}

static int
domain(const char *keys, long i)
{
	char dir[PATH_MAX], p[PATH_MAX], q[PATH_MAX];

	pathf(dir, "%s/d%ld.example", keys, i);
	if (mkdir(dir, 0700) == -1) {
		perror(dir);
		return -1;
	}
	pathf(p, "%s/20261101000000.private", dir);
	if (put(p, key, sizeof(key), 0600) == -1)
		return -1;
	pathf(p, "%s/20261101000000.txt", dir);
	if (put(p, txt, sizeof(txt), 0644) == -1)
		return -1;
	pathf(p, "%s/keys.yaml.tmp", dir);
	pathf(q, "%s/keys.yaml", dir);
	if (put(p, yaml, sizeof(yaml), 0644) == -1 || rename(p, q) == -1)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	char keys[PATH_MAX];
	struct timespec a, b;
	long i, n;
	int fd;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: layout DIR N\n");
		return 2;
	}
	memset(key, 'k', sizeof(key));
	memset(txt, 't', sizeof(txt));
	memset(yaml, 'y', sizeof(yaml));
	pathf(keys, "%s/keys", argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (mkdir(keys, 0700) == -1) {
		perror(keys);
		return 1;
	}
	for (i = 1; i <= n; i++)
		if (domain(keys, i) == -1)
			return 1;
	if ((fd = open(keys, O_RDONLY | O_DIRECTORY)) == -1 ||
	    syncfs(fd) == -1) {
		perror(keys);
		return 1;
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.3f\n", (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
