/* Private to common/file.c and common/tree.c: the halves both share. */
#ifndef DK_FILE_INT_H
#define DK_FILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Reads the regular file open at fd (named name in messages) whole, at
 * most max bytes.  fd is the caller's to close.
 */
int	dk_file_read_fd(int fd, const char *name, size_t max, char **out,
	    size_t *outlen);
/*
 * Writes data to the new file fd (at name in directory dfd), fsynced
 * when sync, and closes it.  On failure name is removed and the error
 * names path, the file the caller meant to write.
 */
int	dk_file_fill(int dfd, int fd, const char *name, const char *path,
	    const void *data, size_t len, mode_t mode, bool sync);

#endif
