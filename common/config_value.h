/*
 * Reading and checking single values of dkimrot.yaml, for config.c and
 * config_template.c.  Not for other modules: they get checked values
 * from struct dk_config.
 */
#ifndef DK_CONFIG_VALUE_H
#define DK_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>

struct dk_config;
struct dk_nameserver;
struct dk_ynode;

#define DK_CONFIG_PATH_MAX	1024
#define DK_CONFIG_STRING_MAX	4096

/*
 * A directory that goes into the RPM specs: absolute, only
 * [A-Za-z0-9/._+-], no "..", no "//", no "." component, no final '/'.
 */
bool	dk_config_check_dir(const char *);
/*
 * A directory the packages must not own: "/", the FHS top directories
 * and the well-known directories of the name servers, mail servers and
 * DKIM signers.  Compared after collapsing "//", "." and "..", and
 * dropping a final '/'.
 */
bool	dk_config_system_dir(const char *);
/* A POSIX user or group name: [a-z_][a-z0-9_-]*, 1..32 characters. */
bool	dk_config_check_user(const char *);
/*
 * A shell command for %post, or a GPG key name: printable ASCII without
 * '%' (no RPM macro, no second line).  Empty is allowed.
 */
bool	dk_config_check_text(const char *);
/* The output directory: not empty, no control character. */
bool	dk_config_check_output(const char *);
/*
 * git.remote: ssh://, git://, https:// or file:// URLs, scp-like
 * USER@HOST:PATH, or an absolute path; printable ASCII, no spaces, no
 * password in the URL (USER:PASSWORD@).
 */
bool	dk_config_check_remote(const char *);
/* git.branch: what git check-ref-format --branch takes, narrowed. */
bool	dk_config_check_branch(const char *);
/* "IPv4", "IPv4:PORT", "IPv6", "[IPv6]" or "[IPv6]:PORT". */
bool	dk_config_check_nameserver(const char *, struct dk_nameserver *);
/*
 * "Name <email>": the name and the address split off into *name and
 * *email (the caller frees them).  0 ok, DK_EUSAGE malformed, -1 no
 * memory.
 */
int	dk_config_split_author(const char *, char **, char **);
/*
 * A duration in its largest exact unit up to days: 2592000 -> "30d",
 * 90 -> "90s".  size of 24 always suffices.
 */
void	dk_config_duration_text(long long, char *, size_t);

/* What the node readers need to name a place. */
struct dk_cfgctx {
	const char		*file;
	struct dk_config	*cfg;
};

#define DK_CFG_SHOWN	80	/* bytes of a bad value quoted in a message */

/*
 * The node readers.  On a bad node each sets "FILE:LINE:COL: message"
 * and returns DK_EUSAGE; key names the value in the message, want says
 * what was expected ("an integer from 1 to 100").
 */
int	dk_cfg_fail(const struct dk_cfgctx *, const struct dk_ynode *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
/* "KEY: expected WANT, found a sequence" (or "found no value"). */
int	dk_cfg_wrong_type(const struct dk_cfgctx *, const char *,
	    const struct dk_ynode *, const char *);
/* "unknown key 'K' WHERE (expected one of: LIST)" at the key. */
int	dk_cfg_unknown(const struct dk_cfgctx *, const struct dk_ynode *,
	    const char *, const char *);
/* "KEY must be WANT, not 'VALUE'". */
int	dk_cfg_bad_value(const struct dk_cfgctx *, const char *,
	    const struct dk_ynode *, const char *);
/* A scalar that is not null. */
int	dk_cfg_scalar(const struct dk_cfgctx *, const char *,
	    const struct dk_ynode *, const char *);
/* Plain decimal digits, no sign, no leading zero, min..max. */
int	dk_cfg_integer(const struct dk_cfgctx *, const char *,
	    const struct dk_ynode *, long long, long long, long long *);
/* Plain true or false only. */
int	dk_cfg_boolean(const struct dk_cfgctx *, const char *,
	    const struct dk_ynode *, bool *);
/* dk_duration_parse(); when positive is set, 0 is refused. */
int	dk_cfg_duration(const struct dk_cfgctx *, const char *,
	    const struct dk_ynode *, bool, long long *);
/* s, or its first DK_CFG_SHOWN bytes and "..." in buf. */
/* strdup(value) into *field, the old value freed. */
/* The git block (config_git.c); a null node is an empty one. */
int	dk_cfg_git(const struct dk_cfgctx *, const struct dk_ynode *);
/* The sections of config_policy.c; a null node is an empty section. */
int	dk_cfg_defaults(const struct dk_cfgctx *, const struct dk_ynode *);
int	dk_cfg_domains(const struct dk_cfgctx *, const struct dk_ynode *);
const char *dk_cfg_shown(const char *, char [DK_CFG_SHOWN + 4]);
int	dk_cfg_oom(void);
/* *field = a copy of value (the old one freed). */
int	dk_cfg_set_string(char **field, const char *value);
/* The dns: section (common/config_dns.c). */
int	dk_cfg_dns(const struct dk_cfgctx *, const struct dk_ynode *);

/* What the messages say a path or a text value must be. */
#define DK_CFG_DIR_WANT	"an absolute path of letters, digits and / . _ + - " \
			"without '..', '//' or a final '/'"
#define DK_CFG_TEXT_WANT	"one line of printable ASCII without '%'"

#endif
