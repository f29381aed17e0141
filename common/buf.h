/*
 * A growable byte buffer, always NUL-terminated, for building files and
 * messages.  Buffers that held secrets are released with dk_buf_wipe().
 */
#ifndef DK_BUF_H
#define DK_BUF_H

#include <stddef.h>

struct dk_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

int	dk_buf_append(struct dk_buf *, const void *, size_t);
int	dk_buf_puts(struct dk_buf *, const char *);
int	dk_buf_printf(struct dk_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (who frees it); the buffer is empty after. */
char	*dk_buf_detach(struct dk_buf *);
void	dk_buf_dispose(struct dk_buf *);
/* Zeroes the whole allocation before freeing it. */
void	dk_buf_wipe(struct dk_buf *);

#endif
