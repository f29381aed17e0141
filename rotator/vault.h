/*
 * The key repository is a vault (docs/design.md §9): its history holds every
 * private key ever made, so before a command reads keys from it, its
 * top directory, .git and .git/objects must be closed to everyone but
 * their owner, in the way of OpenSSH's StrictModes.
 */
#ifndef DK_VAULT_H
#define DK_VAULT_H

/*
 * Refuses (-1, with a message that names the path and the command that
 * fixes it) a repository at path whose top directory, .git or
 * .git/objects is not a directory, is owned by a user other than us or
 * root, or has any group or other permission bit.  Changes nothing.
 */
int	dk_vault_check(const char *);

/* For the --help of the commands that call dk_vault_check(). */
#define DK_VAULT_HELP \
	"\nThe key repository's history holds every private key ever made: "\
	"REPO, REPO/.git\nand REPO/.git/objects must be owned by this user "\
	"(or root) and closed to\ngroup and others (mode 0700, as 'dkimrot "\
	"init' makes them), else this command\nrefuses to run; fix with "\
	"chmod -R go-rwx REPO.\n"

#endif
