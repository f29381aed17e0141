#include <stddef.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/error.h"

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

int
dk_cli_wait(const char *arg, int *out)
{
	char *end;
	long w;

	w = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || w < 0 || w > 86400) {
		dk_error_set("invalid --wait '%s': expected seconds from 0 to "
		    "86400", arg);
		return DK_EUSAGE;
	}
	*out = (int)w;
	return 0;
}
