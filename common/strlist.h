/* A growable list of owned strings: paths to commit, domains to visit. */
#ifndef DK_STRLIST_H
#define DK_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

struct dk_strlist {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

/* Appends a copy of s (_addn: of its first n bytes at most). */
int	dk_strlist_add(struct dk_strlist *, const char *);
int	dk_strlist_addn(struct dk_strlist *, const char *, size_t n);
int	dk_strlist_addf(struct dk_strlist *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
bool	dk_strlist_has(const struct dk_strlist *, const char *);
/* Sorts and drops duplicates. */
void	dk_strlist_uniq(struct dk_strlist *);
void	dk_strlist_dispose(struct dk_strlist *);

#endif
