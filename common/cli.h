/*
 * What dkimrot.c hands to the commands: the subcommand entry points and
 * the global options they read.
 */
#ifndef DK_CLI_H
#define DK_CLI_H

/*
 * Each command parses its own options (getopt_long; argv[0] is the
 * command name, optind has been reset) and returns an enum dk_exit.
 * "-h/--help" prints the command's usage on stdout and returns 0.
 */
int	cmd_init(int, char **);
int	cmd_keygen(int, char **);
int	cmd_import(int, char **);
/* import --opendkim (rotator/cmd_import_odkim.c), from cmd_import. */
int	cmd_import_opendkim(int, char **);
int	cmd_rotate(int, char **);
int	cmd_status(int, char **);
int	cmd_package(int, char **);
int	cmd_check(int, char **);
int	cmd_remove(int, char **);
int	cmd_revoke(int, char **);
int	cmd_hook(int, char **);

/* The key repository: -C, else $DKIMROT_REPO, else ".". */
const char	*dk_cli_repo(void);
void		 dk_cli_set_repo(const char *);
/* The path of the running dkimrot binary (for the hook it installs). */
const char	*dk_cli_self(void);
void		 dk_cli_set_self(const char *);

/* --wait SECONDS (0..86400) into *out; DK_EUSAGE with a message. */
int		 dk_cli_wait(const char *, int *);

#endif
