#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "common/error.h"
#include "rotator/hook.h"

/*
 * The child: stdin /dev/null, stdout to our stderr, cwd dir.
 * Only async-signal-safe calls.  An exec failure goes to the parent
 * through the close-on-exec pipe fd.
 */
static void
child(char *const argv[], int script, const char *cwd, int fd)
{
	char *shv[] = { "sh", argv[0], NULL };
	int err, null;

	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, 0) == -1 || dup2(2, 1) == -1 || chdir(cwd) == -1)
		goto fail;
	if (null > 2)
		close(null);
	/* An ignored SIGPIPE (the DNS client's) must not reach the hook. */
	signal(SIGPIPE, SIG_DFL);
	execve(argv[0], argv, environ);
	/* As git does: a script without "#!" runs under sh. */
	if (script && errno == ENOEXEC)
		execve("/bin/sh", shv, environ);
fail:
	err = errno;
	(void)!write(fd, &err, sizeof(err));
	_exit(127);
}

static int
run(char *const argv[], int script, const char *cwd, int *status)
{
	const char *prog = argv[0];
	int fd[2], err, ws;
	ssize_t n;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) == -1) {
		dk_error_set_errno(errno, "cannot run hook '%s'", prog);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		dk_error_set_errno(errno, "cannot run hook '%s'", prog);
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0)
		child(argv, script, cwd, fd[1]);
	close(fd[1]);
	while ((n = read(fd[0], &err, sizeof(err))) == -1 && errno == EINTR)
		;
	close(fd[0]);
	while (waitpid(pid, &ws, 0) == -1)
		if (errno != EINTR) {
			dk_error_set_errno(errno, "cannot wait for hook '%s'",
			    prog);
			return -1;
		}
	if (n == (ssize_t)sizeof(err)) {
		dk_error_set_errno(err, "cannot run hook '%s'", prog);
		return -1;
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (*status != 0)
		dk_error_set("hook '%s' failed with status %d", prog, *status);
	return 0;
}

int
dk_hook_exec(const char *prog, const char *cwd, int *status)
{
	char *argv[] = { (char *)prog, NULL };

	return run(argv, 1, cwd, status);
}

int
dk_hook_exec_argv(char *const argv[], const char *cwd, int *status)
{
	return run(argv, 0, cwd, status);
}
