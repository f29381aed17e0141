/*
 * Unit-test helper: run a program with fork+execvp and an explicit argv,
 * collect its stdout (never let it reach the TAP stream), return its exit
 * status.  stderr is inherited so that failures explain themselves.
 */
#ifndef DK_TEST_RUN_H
#define DK_TEST_RUN_H

#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Exit status (0..255), or -1 if it could not run or died of a signal.
 * out (may be NULL) receives at most outlen - 1 bytes of stdout, without
 * trailing newlines; the rest is read and dropped.
 */
static inline int
t_run(char *const argv[], char *out, size_t outlen)
{
	char drop[512];
	size_t n = 0;
	ssize_t r;
	int fd[2], status;
	pid_t pid;

	if (pipe(fd) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		close(fd[0]);
		if (dup2(fd[1], STDOUT_FILENO) == -1)
			_exit(127);
		close(fd[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		if (out != NULL && n + 1 < outlen)
			r = read(fd[0], out + n, outlen - 1 - n);
		else
			r = read(fd[0], drop, sizeof(drop));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out != NULL && n + 1 < outlen)
			n += (size_t)r;
	}
	close(fd[0]);
	if (out != NULL && outlen > 0) {
		while (n > 0 && out[n - 1] == '\n')
			n--;
		out[n] = '\0';
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
