/*
 * A libmagic database for librpmbuild's file classification
 * (packaging/rpm.c).  The only user of libmagic.
 *
 * librpmbuild 4.18 runs libmagic's whole database over every file of a
 * package to classify it, with no switch to turn that off: four fifths
 * of packaging 10,000 domains.  Every file dkimrot packages is plain
 * text, which libmagic recognizes before and without its database, so a
 * database of one rule that matches nothing gives the same
 * classification, and byte for byte the same packages, at a fraction of
 * the cost.  magic_load() takes the database from $MAGIC.
 */
#ifndef DK_MAGIC_H
#define DK_MAGIC_H

#include <stddef.h>

/*
 * Compiles that database into dir (dir/none.mgc, its path to path) and
 * checks that libmagic loads it.  -1 when it cannot: the caller then
 * leaves $MAGIC alone and rpm uses the system's database.
 */
int	dk_magic_none(const char *dir, char *path, size_t size);

#endif
