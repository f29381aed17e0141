#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/lock.h"

struct dk_lock {
	int	fd;
};

/* The pid the holder wrote, or 0 if unreadable (it may be mid-write). */
static long
holder(int fd)
{
	char buf[32];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int
dk_lock_acquire(const char *repo, int wait_seconds, struct dk_lock **out)
{
	struct timespec nap = { 0, 100 * 1000 * 1000 };
	char path[PATH_MAX], pid[32];
	struct dk_lock *l = NULL;
	time_t deadline;
	int fd, n, rc = -1;

	*out = NULL;
	if (dk_path_join(path, sizeof(path), repo, ".git/dkimrot.lock") != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		dk_error_set_errno(errno, "cannot open lock '%s'", path);
		return -1;
	}
	deadline = time(NULL) + (wait_seconds > 0 ? wait_seconds : 0);
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			dk_error_set_errno(errno, "cannot lock '%s'", path);
			goto done;
		}
		if (time(NULL) >= deadline) {
			dk_error_set("repository '%s' is locked by another "
			    "dkimrot (pid %ld); waited %d s", repo, holder(fd),
			    wait_seconds > 0 ? wait_seconds : 0);
			rc = DK_ELOCKED;
			goto done;
		}
		nanosleep(&nap, NULL);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		dk_error_set_errno(errno, "cannot write lock '%s'", path);
		goto done;
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	l->fd = fd;
	*out = l;
	return 0;
done:
	close(fd);
	return rc;
}

void
dk_lock_release(struct dk_lock *l)
{
	if (l == NULL)
		return;
	/* Closing drops the flock; the file stays for the next run. */
	close(l->fd);
	free(l);
}
