/*
 * Unit-test helper: the scratch directory of a test group, made by its
 * setup and removed by its teardown, with the key repository's path
 * below it.
 */
#ifndef DK_TEST_TMPDIR_H
#define DK_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/run.h"

/* tmpdir is a mkdtemp template; repo receives tmpdir/repo. */
static inline int
t_tmpdir_make(char *tmpdir, char *repo, size_t size)
{
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(repo, size, "%s/repo", tmpdir);
	return 0;
}

static inline int
t_tmpdir_remove(char *tmpdir)
{
	char *rm[] = { "rm", "-rf", tmpdir, NULL };

	return t_run(rm, NULL, 0) == 0 ? 0 : -1;
}

#endif
