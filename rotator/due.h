/*
 * The due index, .git/dkimrot-due (docs/design.md §15): for each domain,
 * the earliest time at which rotate could change anything of it.  A
 * rotate that planned every domain writes it after its commit; the next
 * reads it and loads and plans only the domains that are due, so a run
 * with nothing to do reads no keys.yaml and lists no keys/.
 *
 * Derived, never committed, and never trusted when stale: it holds for
 * one HEAD, one dkimrot.yaml (the blob id of its bytes), one dkimrot
 * program (the blob id of /proc/self/exe) and from the time it was made
 * on.  Another HEAD, configuration or program, a clock gone back, or a
 * file that does not parse to its last line, and the run plans every
 * domain as if there were no index.  It is written last (an interrupted
 * run is rolled back to HEAD, which the index describes; a run that
 * committed and died before writing it leaves one whose HEAD no longer
 * matches) and no domain is due later than a day after it was planned,
 * so every domain is planned in full at least once a day.
 *
 * The entries: every configured domain, every leaving domain that
 * dkimrot.yaml no longer lists (rotator/leaving.h), and the key
 * directories of neither (rotate warns of them at every run).
 */
#ifndef DK_DUE_H
#define DK_DUE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct dk_keyrepo;
struct dk_plan;

/* The latest a domain is due after it was planned: a day. */
#define DK_DUE_AHEAD	86400

enum dk_due_kind {
	DK_DUE_CONFIGURED,
	DK_DUE_LEAVING,
	DK_DUE_UNCONFIGURED	/* keys/NAME of a domain neither lists */
};

/*
 * A directory as lstat saw it: a file made, removed or renamed in it, or
 * the directory replaced (by a link, say), changes it.
 */
struct dk_due_stamp {
	unsigned long long ino;
	long long	 sec;	/* mtime */
	long		 nsec;
};

struct dk_due_entry {
	char		*name;
	long long	 due;	/* epoch seconds; 0 for UNCONFIGURED */
	enum dk_due_kind kind;
	struct dk_due_stamp stamp;	/* of keys/NAME */
};

struct dk_due {
	struct dk_due_entry *v;		/* sorted by name once loaded */
	size_t		 n;
	size_t		 cap;
	struct dk_due_stamp keys;	/* of keys/ */
	int		 keys_fd;	/* keys/, while loaded */
	bool		 keys_open;
};

/*
 * The index of r at now, for r->head and r->cfg_id and the keys/ of the
 * work tree: 0 when it holds, DK_ENOTFOUND when there is none or it is
 * stale (why, at -v), -1 when out of memory.  out is empty unless 0.
 */
int	dk_due_load(const struct dk_keyrepo *r, time_t now, struct dk_due *out);
/* The entry of name in a loaded index, or NULL. */
const struct dk_due_entry *
	dk_due_find(const struct dk_due *, const char *name);
/*
 * Whether keys/NAME of a loaded index is as the entry says (a directory,
 * nothing made, removed or renamed in it since): a domain that is not
 * due may be left alone only then.
 */
bool	dk_due_unchanged(const struct dk_due *, const struct dk_due_entry *);
/* Appends an entry (name copied); -1 when out of memory. */
int	dk_due_add(struct dk_due *, const char *name, long long due,
	    enum dk_due_kind kind);
/*
 * Writes d as the index of r->head and r->cfg_id, made at now, with the
 * stamps keys/ and its directories have now (atomic replace, mode 0600).  A failure is logged at -v only: without an
 * index the next run plans every domain.
 */
void	dk_due_save(const struct dk_keyrepo *r, const struct dk_due *d,
	    time_t now);
/* Removes the index (a run that could not write a true one). */
void	dk_due_drop(const struct dk_keyrepo *r);
void	dk_due_dispose(struct dk_due *);

/*
 * When the domain of a plan made at now is next due: now when the plan
 * changes something or asks the name servers, else its earliest WAIT by
 * the clock, at most DK_DUE_AHEAD after now.
 */
long long dk_due_of_plan(const struct dk_plan *plan, time_t now);

#endif
