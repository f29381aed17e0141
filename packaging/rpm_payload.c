/*
 * The payload of a package (packaging/rpm_write.c): a cpio archive in
 * the "newc" format with names "./PATH", as rpmbuild writes it (the same
 * bytes for the same files: tests/e2e/rpm_header.sh), streamed from the
 * files in memory through librpm's own compressor into a memfd, and read
 * back to be placed behind the header.  Key material reaches no file
 * system on the way.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpm/rpmcrypto.h>
#include <rpm/rpmio.h>
#include <rpm/rpmpgp.h>

#include "common/error.h"
#include "common/secret.h"
#include "packaging/rpm.h"
#include "packaging/rpm_int.h"

#define CPIO_HDR	110

/* The payload as it is written: compressed into a memfd, and digested. */
struct payload {
	FD_t		 z;
	DIGEST_CTX	 alt;		/* of the uncompressed archive */
	uint64_t	 size;
};

static int
put(struct payload *p, const void *data, size_t len)
{
	static const char zero[4];

	if (len == 0)
		return 0;
	if (Fwrite(data != NULL ? data : zero, 1, len, p->z) != (ssize_t)len ||
	    Ferror(p->z)) {
		dk_error_set("cannot compress the payload: %s",
		    Fstrerror(p->z));
		return -1;
	}
	rpmDigestUpdate(p->alt, data != NULL ? data : zero, len);
	p->size += len;
	return 0;
}

/* A cpio "newc" entry: header, name and data, each padded to 4 bytes. */
static int
entry(struct payload *p, const char *name, uint32_t ino, uint32_t mode,
    time_t t, const void *data, size_t len)
{
	char hdr[CPIO_HDR + 1];
	size_t nlen = strlen(name) + 1;

	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x"
	    "%08x%08x%08x%08x%08x%08x", ino, mode, 0u, 0u, 1u, (uint32_t)t,
	    (uint32_t)len, 0u, 0u, 0u, 0u, (uint32_t)nlen, 0u);
	return put(p, hdr, CPIO_HDR) == -1 || put(p, name, nlen) == -1 ||
	    put(p, NULL, (4 - (CPIO_HDR + nlen) % 4) % 4) == -1 ||
	    put(p, data, len) == -1 || put(p, NULL, (4 - len % 4) % 4) == -1 ?
	    -1 : 0;
}

static int
archive(struct payload *p, const struct dk_rpm_file *const *v, size_t n,
    time_t t)
{
	const struct dk_rpm_file *f;
	char name[PATH_MAX + 2];
	size_t i;

	for (i = 0; i < n; i++) {
		f = v[i];
		snprintf(name, sizeof(name), ".%s", f->path);
		if (entry(p, name, (uint32_t)(i + 1), (f->flags & DK_RPM_DIR ?
		    S_IFDIR : S_IFREG) | f->mode, t, f->flags & DK_RPM_DIR ?
		    NULL : f->data, f->flags & DK_RPM_DIR ? 0 : f->len) == -1)
			return -1;
	}
	return entry(p, "TRAILER!!!", 0, 0, 0, NULL, 0);
}

int
rpm_payload(const struct dk_rpm_file *const *v, size_t n, time_t t,
    const char *mode, unsigned char **out, size_t *len, uint64_t *size,
    char *alt)
{
	struct payload p = { 0 };
	struct stat st;
	void *hex = NULL;
	size_t hlen = 0, off;
	ssize_t r;
	int mfd, rc = -1;

	*out = NULL;
	if ((mfd = memfd_create("dkimrot-payload", MFD_CLOEXEC)) == -1) {
		dk_error_set_errno(errno, "cannot create the payload");
		return -1;
	}
	p.alt = rpmDigestInit(PGPHASHALGO_SHA256, RPMDIGEST_NONE);
	if ((p.z = fdDup(mfd)) != NULL)
		p.z = Fdopen(p.z, mode);
	if (p.z == NULL || p.alt == NULL) {
		dk_error_set("cannot compress the payload");
		goto done;
	}
	if (archive(&p, v, n, t) == -1)
		goto done;
	if (Fclose(p.z) != 0) {
		p.z = NULL;
		dk_error_set("cannot compress the payload");
		goto done;
	}
	p.z = NULL;
	if (rpmDigestFinal(p.alt, &hex, &hlen, 1) != 0 || hlen != 65) {
		p.alt = NULL;
		dk_error_set("cannot compute a SHA-256");
		goto done;
	}
	p.alt = NULL;
	memcpy(alt, hex, 65);
	if (fstat(mfd, &st) == -1 || p.size > RPM_MAX_SIZE ||
	    (uint64_t)st.st_size > RPM_MAX_SIZE) {
		dk_error_set("package payload too large");
		goto done;
	}
	if ((*out = malloc((size_t)st.st_size + 1)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	for (off = 0; off < (size_t)st.st_size; off += (size_t)r) {
		r = pread(mfd, *out + off, (size_t)st.st_size - off,
		    (off_t)off);
		if (r == -1 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0) {
			dk_error_set_errno(r == 0 ? EIO : errno,
			    "cannot read the payload back");
			goto done;
		}
	}
	*len = (size_t)st.st_size;
	*size = p.size;
	rc = 0;
done:
	if (p.z != NULL)
		Fclose(p.z);
	if (p.alt != NULL)
		rpmDigestFinal(p.alt, NULL, NULL, 0);
	free(hex);
	close(mfd);
	if (rc != 0 && *out != NULL) {
		dk_secret_free(*out, (size_t)st.st_size);
		*out = NULL;
	}
	return rc;
}

