/*
 * Secrets in memory: the one way to wipe one (docs/design.md §9).
 * Every buffer that held a private key, its DER or base64 form, or a
 * copy read from git is wiped with these before it is freed or goes out
 * of scope.
 */
#ifndef DK_SECRET_H
#define DK_SECRET_H

#include <stddef.h>

/* Zeroes n bytes at p (NULL: nothing); the compiler cannot drop it. */
void	dk_secret_wipe(void *p, size_t n);
/* dk_secret_wipe(p, n), then free(p). */
void	dk_secret_free(void *p, size_t n);

#endif
