/*
 * The git block of dkimrot.yaml: the commits' author and the shared
 * remote (git.remote, git.branch and the files its transports read;
 * docs/design.md §14).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/yaml.h"

static int
parse_author(const struct dk_cfgctx *c, const struct dk_ynode *n)
{
	static const char want[] = "\"Name <email>\"";
	struct dk_config *cfg = c->cfg;
	char *name, *email;
	int rc;

	if (dk_cfg_scalar(c, "author", n, want) != 0)
		return DK_EUSAGE;
	if ((rc = dk_config_split_author(n->scalar, &name, &email)) != 0)
		return rc == DK_EUSAGE ? dk_cfg_bad_value(c, "author", n,
		    want) : rc;
	free(cfg->git_name);
	free(cfg->git_email);
	cfg->git_name = name;
	cfg->git_email = email;
	return dk_cfg_set_string(&cfg->git_author, n->scalar);
}

/*
 * git.ssh_key, git.known_hosts, git.credentials, git.ca_file: files,
 * absolute or relative to the repository, read by the run; never
 * committed (secrets or the trust in one: a clone must not carry them).
 */
static int
remote_files(const struct dk_cfgctx *c, const struct dk_ynode *map)
{
	static const char want[] = "a path without control characters";
	struct dk_config *cfg = c->cfg;
	static const char *const names[] = {
		"ssh_key", "known_hosts", "credentials", "ca_file"
	};
	char **fields[] = {
		&cfg->git_ssh_key, &cfg->git_known_hosts, &cfg->git_credentials,
		&cfg->git_ca_file
	};
	const struct dk_ynode *n;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((n = dk_yaml_get(map, names[i])) == NULL)
			continue;
		if (dk_cfg_scalar(c, names[i], n, want) != 0)
			return DK_EUSAGE;
		if (!dk_config_check_output(n->scalar))
			return dk_cfg_bad_value(c, names[i], n, want);
		if ((rc = dk_cfg_set_string(fields[i], n->scalar)) != 0)
			return rc;
	}
	return 0;
}

/*
 * git.remote and git.branch (docs/design.md §14).  A URL with a
 * password in it is refused: libgit2 and git both quote URLs in their
 * messages, and the credentials have a file of their own.
 */
static int
parse_remote(const struct dk_cfgctx *c, const struct dk_ynode *map)
{
	static const char rwant[] = "a git URL (ssh://, git://, https://, "
	    "file:// or an absolute path) without a password or spaces";
	static const char bwant[] = "a branch name of letters, digits and "
	    "/ . _ - without '..', '//' or a final '/' or '.lock'";
	struct dk_config *cfg = c->cfg;
	const struct dk_ynode *n;
	int rc;

	if ((n = dk_yaml_get(map, "remote")) != NULL) {
		if (dk_cfg_scalar(c, "remote", n, rwant) != 0)
			return DK_EUSAGE;
		if (!dk_config_check_remote(n->scalar))
			return dk_cfg_bad_value(c, "remote", n, rwant);
		if ((rc = dk_cfg_set_string(&cfg->git_remote, n->scalar)) != 0)
			return rc;
	}
	if ((rc = remote_files(c, map)) != 0)
		return rc;
	if ((n = dk_yaml_get(map, "branch")) != NULL) {
		if (dk_cfg_scalar(c, "branch", n, bwant) != 0)
			return DK_EUSAGE;
		if (!dk_config_check_branch(n->scalar))
			return dk_cfg_bad_value(c, "branch", n, bwant);
		if ((rc = dk_cfg_set_string(&cfg->git_branch, n->scalar)) != 0)
			return rc;
	}
	return 0;
}

int
dk_cfg_git(const struct dk_cfgctx *c, const struct dk_ynode *map)
{
	static const char keys[] = "author, remote, branch, ssh_key, "
	    "known_hosts, credentials, ca_file";
	const struct dk_ynode *n;
	const char *k;
	size_t i;
	int rc;

	if (dk_yaml_is_null(map))
		return 0;
	if (map->type != DK_Y_MAP)
		return dk_cfg_wrong_type(c, "git", map, "a mapping");
	for (i = 0; i < map->n; i++) {
		k = map->keys[i]->scalar;
		if (strcmp(k, "author") != 0 && strcmp(k, "remote") != 0 &&
		    strcmp(k, "branch") != 0 && strcmp(k, "ssh_key") != 0 &&
		    strcmp(k, "known_hosts") != 0 &&
		    strcmp(k, "credentials") != 0 && strcmp(k, "ca_file") != 0)
			return dk_cfg_unknown(c, map->keys[i], "in git", keys);
	}
	if ((n = dk_yaml_get(map, "author")) != NULL &&
	    (rc = parse_author(c, n)) != 0)
		return rc;
	return parse_remote(c, map);
}
