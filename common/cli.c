#include <stddef.h>

#include "common/cli.h"

static const char *repo = ".";
static const char *self = "dkimrot";

const char *
dk_cli_repo(void)
{
	return repo;
}

void
dk_cli_set_repo(const char *r)
{
	repo = r;
}

const char *
dk_cli_self(void)
{
	return self;
}

void
dk_cli_set_self(const char *s)
{
	self = s;
}
