#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

/*
 * The holder as the kernel knows it: the /proc/locks line of the FLOCK
 * on this file (waiters' lines start with "->" and do not match).  0 if
 * there is none (no /proc, or the holder just let go).
 */
static long
kernel_holder(int fd)
{
	unsigned long long ino;
	unsigned int maj, min;
	char line[256];
	struct stat st;
	long pid, found = 0;
	FILE *f;

	if (fstat(fd, &st) == -1 || (f = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*d: FLOCK %*s WRITE %ld %x:%x:%llu", &pid,
		    &maj, &min, &ino) == 4 && ino == st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev))
			found = pid;
	}
	fclose(f);
	return found;
}

/*
 * Who holds the lock, or 0.  The kernel knows for sure.  Else the pid
 * the holder wrote; it writes just after it got the lock, so a run that
 * starts at that moment reads an empty or half-written file (found by
 * the crash simulation, tests/sim/year.sh): look again for a moment.
 */
static long
holder(int fd)
{
	struct timespec nap = { 0, 5 * 1000 * 1000 };
	char buf[32];
	ssize_t n;
	long pid;
	int i;

	if ((pid = kernel_holder(fd)) > 0)
		return pid;
	for (i = 0; i < 40; i++) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0 && buf[n - 1] == '\n') {
			buf[n] = '\0';
			return strtol(buf, NULL, 10);
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

int
dk_lock_acquire(const char *repo, int wait_seconds, struct dk_lock **out)
{
	struct timespec nap = { 0, 100 * 1000 * 1000 };
	char path[PATH_MAX], pid[32];
	struct dk_lock *l = NULL;
	time_t deadline;
	long pid_held;
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
			if ((pid_held = holder(fd)) > 0)
				snprintf(pid, sizeof(pid), "%ld", pid_held);
			else
				snprintf(pid, sizeof(pid), "unknown");
			dk_error_set("repository '%s' is locked by another "
			    "dkimrot (pid %s); waited %d s", repo, pid,
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
