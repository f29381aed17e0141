/*
 * The package file, written from its description: no build root and no
 * librpmbuild packaging step (docs/design.md §7, "Packages at scale").
 *
 * librpmbuild needs every file of a package on disk: at 100,000 domains
 * that was 300,000 entries written, classified, read twice and removed,
 * two thirds of `package`.  Here the header starts as the one
 * librpmbuild parses from the rendered spec (without its %files: the
 * name, version, summary, description, scriptlets, dependencies and
 * changelog all come from the template), and gets what rpmbuild adds
 * when it packages: the file list, the sizes, the build host and time,
 * the rpmlib() features the package uses and the payload's digests.
 * The payload (packaging/rpm_payload.c) is a cpio archive of the files
 * in memory, compressed by librpm's own writers into a memfd, so key
 * material never reaches a file system on its way into the package.  tests/e2e/rpm_header.sh checks that rpmbuild -bb of the
 * same spec and build root gives the same header.
 *
 * Left out against rpmbuild: the file classes and colours (FILECLASS,
 * CLASSDICT, FILECOLORS), which come from libmagic, feed only
 * dependency generators (off: AutoReqProv: no) and multilib colouring
 * (noarch has none).
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpm/header.h>
#include <rpm/rpmcrypto.h>
#include <rpm/rpmds.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmtag.h>

#include "common/config.h"
#include "common/error.h"
#include "common/secret.h"
#include "packaging/rpm.h"
#include "packaging/rpm_int.h"
#include "packaging/spec_int.h"

#define LEAD_SIZE	96
#define RESERVED_SPACE	4128	/* for the signature rpmsign adds, as rpm */

static const unsigned char header_magic[8] = { 0x8e, 0xad, 0xe8, 0x01 };

/* Full paths in strcmp() order: rpm looks files up in the header so. */
static int
by_name(const void *a, const void *b)
{
	return strcmp((*(const struct dk_rpm_file *const *)a)->path,
	    (*(const struct dk_rpm_file *const *)b)->path);
}

/*
 * The header's directory names ("DIR/"), each once, in the order files
 * first name them: a hash of those seen, for 100,000 key directories.
 */
struct dirs {
	char		**name;
	uint32_t	 n;
	uint32_t	*slot;		/* 0 empty, else index + 1 */
	size_t		 mask;
};

static int
dirs_init(struct dirs *d, size_t nfiles)
{
	size_t size = 16;

	memset(d, 0, sizeof(*d));
	while (size < 2 * nfiles)
		size *= 2;
	d->mask = size - 1;
	d->name = calloc(nfiles ? nfiles : 1, sizeof(*d->name));
	d->slot = calloc(size, sizeof(*d->slot));
	if (d->name == NULL || d->slot == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

static void
dirs_dispose(struct dirs *d)
{
	uint32_t i;

	for (i = 0; i < d->n; i++)
		free(d->name[i]);
	free(d->name);
	free(d->slot);
}

/* The index of the directory path[0..len) (with its '/'); -1 if no memory. */
static int64_t
dirs_index(struct dirs *d, const char *path, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i, s;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)path[i]) * 1099511628211ULL;
	for (s = (size_t)h & d->mask; d->slot[s] != 0; s = (s + 1) & d->mask) {
		const char *name = d->name[d->slot[s] - 1];

		if (strncmp(name, path, len) == 0 && name[len] == '\0')
			return d->slot[s] - 1;
	}
	if ((d->name[d->n] = strndup(path, len)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	d->slot[s] = ++d->n;
	return d->n - 1;
}

/* The per-file arrays of the header, one headerPut each. */
struct filetags {
	const char	**base, **user, **group, **digest, **empty;
	char		 *hex;		/* the digests, 65 bytes each */
	uint32_t	 *dirindex, *size, *mtime, *flags, *verify, *dev, *ino;
	uint16_t	 *mode, *rdev;
};

static void
filetags_dispose(struct filetags *t)
{
	free(t->base);
	free(t->user);
	free(t->group);
	free(t->digest);
	free(t->empty);
	free(t->hex);
	free(t->dirindex);
	free(t->size);
	free(t->mtime);
	free(t->flags);
	free(t->verify);
	free(t->dev);
	free(t->ino);
	free(t->mode);
	free(t->rdev);
}

static int
filetags_init(struct filetags *t, size_t n)
{
	memset(t, 0, sizeof(*t));
#define ALLOC(f, k) ((t->f = calloc(n, (k))) == NULL)
	if (ALLOC(base, sizeof(char *)) || ALLOC(user, sizeof(char *)) ||
	    ALLOC(group, sizeof(char *)) || ALLOC(digest, sizeof(char *)) ||
	    ALLOC(empty, sizeof(char *)) || ALLOC(hex, 65) ||
	    ALLOC(dirindex, 4) || ALLOC(size, 4) || ALLOC(mtime, 4) ||
	    ALLOC(flags, 4) || ALLOC(verify, 4) || ALLOC(dev, 4) ||
	    ALLOC(ino, 4) || ALLOC(mode, 2) || ALLOC(rdev, 2)) {
#undef ALLOC
		dk_error_set("out of memory");
		return -1;
	}
	return 0;
}

static const char *
owner(const char *s)
{
	return s != NULL ? s : "root";
}

/*
 * The file list of v[0..n) into h, as rpmbuild puts it: directories
 * with size 0 and no flags, every file verified in full, inode numbers
 * 1..n on device 1 (no hard links).  *total: the files' bytes.
 */
static int
put_files(Header h, const struct dk_rpm_file *const *v, size_t n,
    time_t t, uint64_t *total)
{
	struct filetags ft;
	struct dirs d;
	const struct dk_rpm_file *f;
	const char *slash;
	int64_t di;
	size_t i;
	int rc = -1;

	*total = 0;
	if (n == 0)
		return 0;
	memset(&ft, 0, sizeof(ft));
	if (dirs_init(&d, n) == -1 || filetags_init(&ft, n) == -1)
		goto done;
	for (i = 0; i < n; i++) {
		f = v[i];
		slash = strrchr(f->path, '/');
		if ((di = dirs_index(&d, f->path, (size_t)(slash - f->path) +
		    1)) == -1)
			goto done;
		ft.dirindex[i] = (uint32_t)di;
		ft.base[i] = slash + 1;
		ft.user[i] = owner(f->owner);
		ft.group[i] = owner(f->group);
		ft.empty[i] = "";
		ft.digest[i] = "";
		ft.mtime[i] = (uint32_t)t;
		ft.verify[i] = RPMVERIFY_ALL;
		ft.dev[i] = 1;
		ft.ino[i] = (uint32_t)(i + 1);
		if (f->flags & DK_RPM_DIR) {
			ft.mode[i] = (uint16_t)(S_IFDIR | f->mode);
			continue;
		}
		ft.mode[i] = (uint16_t)(S_IFREG | f->mode);
		ft.size[i] = (uint32_t)f->len;
		*total += f->len;
		ft.flags[i] = (f->flags & DK_RPM_CONFIG ? RPMFILE_CONFIG : 0) |
		    (f->flags & DK_RPM_NOREPLACE ? RPMFILE_NOREPLACE : 0);
		if (rpm_sha256(f->data, f->len, ft.hex + 65 * i) == -1)
			goto done;
		ft.digest[i] = ft.hex + 65 * i;
	}
	if (!headerPutStringArray(h, RPMTAG_BASENAMES, ft.base, n) ||
	    !headerPutUint32(h, RPMTAG_DIRINDEXES, ft.dirindex, n) ||
	    !headerPutStringArray(h, RPMTAG_DIRNAMES, (const char **)d.name,
	    d.n) ||
	    !headerPutUint32(h, RPMTAG_FILESIZES, ft.size, n) ||
	    !headerPutUint16(h, RPMTAG_FILEMODES, ft.mode, n) ||
	    !headerPutUint16(h, RPMTAG_FILERDEVS, ft.rdev, n) ||
	    !headerPutUint32(h, RPMTAG_FILEMTIMES, ft.mtime, n) ||
	    !headerPutStringArray(h, RPMTAG_FILEDIGESTS, ft.digest, n) ||
	    !headerPutStringArray(h, RPMTAG_FILELINKTOS, ft.empty, n) ||
	    !headerPutUint32(h, RPMTAG_FILEFLAGS, ft.flags, n) ||
	    !headerPutStringArray(h, RPMTAG_FILEUSERNAME, ft.user, n) ||
	    !headerPutStringArray(h, RPMTAG_FILEGROUPNAME, ft.group, n) ||
	    !headerPutUint32(h, RPMTAG_FILEVERIFYFLAGS, ft.verify, n) ||
	    !headerPutUint32(h, RPMTAG_FILEDEVICES, ft.dev, n) ||
	    !headerPutUint32(h, RPMTAG_FILEINODES, ft.ino, n) ||
	    !headerPutStringArray(h, RPMTAG_FILELANGS, ft.empty, n)) {
		dk_error_set("cannot add the file list to the package header");
		goto done;
	}
	rc = 0;
done:
	filetags_dispose(&ft);
	dirs_dispose(&d);
	return rc;
}

/* The compressions of rpm.h: rpmio mode, header name, level, feature. */
static const struct {
	const char	*mode, *name, *level, *feature, *since;
} compressors[] = {
	/*
	 * gzip 6, zlib's default, not rpm's 9: on key material 9 saves
	 * 0.1% at twice the CPU.  xz 2 was Fedora's before zstd; zstd 9,
	 * because level 19 cost 13 s of CPU for 10,000 domains and saved
	 * 1%: the payload is mostly random key material.
	 */
	[DK_COMPRESS_GZIP] = { "w6.gzdio", "gzip", "6", NULL, NULL },
	[DK_COMPRESS_XZ] = { "w2.xzdio", "xz", "2", "rpmlib(PayloadIsXz)",
	    "5.2-1" },
	[DK_COMPRESS_ZSTD] = { "w9.zstdio", "zstd", "9",
	    "rpmlib(PayloadIsZstd)", "5.4.18-1" },
};

/* What rpmbuild adds to the spec's header when it packages. */
static int
put_build(Header h, const struct dk_rpm_pkg *pkg, uint64_t total,
    int nfiles, const char *digest, const char *alt)
{
	static const char *const feat[] = { "rpmlib(CompressedFileNames)",
	    "rpmlib(FileDigests)", "rpmlib(PayloadFilesHavePrefix)" };
	static const char *const since[] = { "3.0.4-1", "4.6.0-1", "4.0-1" };
	const uint32_t lib = RPMSENSE_RPMLIB | RPMSENSE_LESS | RPMSENSE_EQUAL;
	const uint32_t sha256 = PGPHASHALGO_SHA256;
	uint32_t when = (uint32_t)pkg->time, size = (uint32_t)total;
	char src[PATH_MAX];
	size_t i;
	int c = pkg->compress;

	snprintf(src, sizeof(src), "%s-%s-%s.src.rpm", pkg->name,
	    pkg->version, pkg->release ? pkg->release : "1");
	for (i = 0; i < sizeof(feat) / sizeof(feat[0]); i++)
		if (!headerPutString(h, RPMTAG_REQUIRENAME, feat[i]) ||
		    !headerPutString(h, RPMTAG_REQUIREVERSION, since[i]) ||
		    !headerPutUint32(h, RPMTAG_REQUIREFLAGS, &lib, 1))
			goto bad;
	if (compressors[c].feature != NULL && (!headerPutString(h,
	    RPMTAG_REQUIRENAME, compressors[c].feature) ||
	    !headerPutString(h, RPMTAG_REQUIREVERSION, compressors[c].since) ||
	    !headerPutUint32(h, RPMTAG_REQUIREFLAGS, &lib, 1)))
		goto bad;
	if (!headerPutUint32(h, RPMTAG_BUILDTIME, &when, 1) ||
	    !headerPutString(h, RPMTAG_BUILDHOST, "dkimrot") ||
	    !headerPutUint32(h, RPMTAG_SIZE, &size, 1) ||
	    !headerPutString(h, RPMTAG_SOURCERPM, src) ||
	    !headerPutString(h, RPMTAG_RPMVERSION, RPMVERSION) ||
	    !headerPutString(h, RPMTAG_ENCODING, "utf-8") ||
	    !headerPutString(h, RPMTAG_PAYLOADFORMAT, "cpio") ||
	    !headerPutString(h, RPMTAG_PAYLOADCOMPRESSOR,
	    compressors[c].name) ||
	    !headerPutString(h, RPMTAG_PAYLOADFLAGS, compressors[c].level) ||
	    !headerPutString(h, RPMTAG_PAYLOADDIGEST, digest) ||
	    !headerPutUint32(h, RPMTAG_PAYLOADDIGESTALGO, &sha256, 1) ||
	    !headerPutString(h, RPMTAG_PAYLOADDIGESTALT, alt) ||
	    (nfiles && !headerPutUint32(h, RPMTAG_FILEDIGESTALGO, &sha256, 1)))
		goto bad;
	return 0;
bad:
	dk_error_set("cannot complete the package header");
	return -1;
}

static int
put_sig(Header s, rpmTagVal tag, rpmTagType type, const void *data,
    rpm_count_t count)
{
	struct rpmtd_s td;

	rpmtdReset(&td);
	td.tag = tag;
	td.type = type;
	td.data = (void *)data;
	td.count = count;
	return headerPut(s, &td, HEADERPUT_DEFAULT);
}

static int
digest(int algo, const void *a, size_t alen, const void *b, size_t blen,
    const void *c, size_t clen, int ascii, void **out)
{
	DIGEST_CTX ctx = rpmDigestInit(algo, RPMDIGEST_NONE);
	size_t n;

	*out = NULL;
	if (ctx == NULL)
		return -1;
	rpmDigestUpdate(ctx, a, alen);
	rpmDigestUpdate(ctx, b, blen);
	if (clen > 0)
		rpmDigestUpdate(ctx, c, clen);
	return rpmDigestFinal(ctx, out, &n, ascii) == 0 && *out != NULL ?
	    0 : -1;
}

/*
 * The signature header of a package whose header (without its magic)
 * is hdr and whose payload is pay: sizes, the header's SHA-1 and
 * SHA-256, the MD5 of both, and room for rpmsign's signature.  Exported
 * into *out, *len bytes.
 */
static int
signature(const void *hdr, size_t hlen, const void *pay, size_t plen,
    uint64_t archive, void **out, size_t *len)
{
	Header s = headerNew();
	void *sha1 = NULL, *sha256 = NULL, *md5 = NULL;
	unsigned char *room = NULL;
	uint32_t size = (uint32_t)(sizeof(header_magic) + hlen + plen);
	uint32_t asize = (uint32_t)archive;
	unsigned int n = 0;
	int rc = -1;

	*out = NULL;
	if (digest(PGPHASHALGO_SHA1, header_magic, sizeof(header_magic), hdr,
	    hlen, NULL, 0, 1, &sha1) != 0 || digest(PGPHASHALGO_SHA256,
	    header_magic, sizeof(header_magic), hdr, hlen, NULL, 0, 1,
	    &sha256) != 0 || digest(PGPHASHALGO_MD5, header_magic,
	    sizeof(header_magic), hdr, hlen, pay, plen, 0, &md5) != 0 ||
	    (room = calloc(1, RESERVED_SPACE)) == NULL) {
		dk_error_set("cannot compute the package's digests");
		goto done;
	}
	if (!put_sig(s, RPMSIGTAG_SHA1, RPM_STRING_TYPE, sha1, 1) ||
	    !put_sig(s, RPMSIGTAG_SHA256, RPM_STRING_TYPE, sha256, 1) ||
	    !put_sig(s, RPMSIGTAG_SIZE, RPM_INT32_TYPE, &size, 1) ||
	    !put_sig(s, RPMSIGTAG_MD5, RPM_BIN_TYPE, md5, 16) ||
	    !put_sig(s, RPMSIGTAG_PAYLOADSIZE, RPM_INT32_TYPE, &asize, 1) ||
	    !put_sig(s, RPMSIGTAG_RESERVEDSPACE, RPM_BIN_TYPE, room,
	    RESERVED_SPACE) ||
	    (s = headerReload(s, RPMTAG_HEADERSIGNATURES)) == NULL ||
	    (*out = headerExport(s, &n)) == NULL) {
		dk_error_set("cannot write the package's signature header");
		goto done;
	}
	*len = n;
	rc = 0;
done:
	headerFree(s);
	free(sha1);
	free(sha256);
	free(md5);
	free(room);
	return rc;
}

/* The lead: obsolete, but read by every rpm; as rpm 4.18 writes it. */
static void
lead(unsigned char *l, const struct dk_rpm_pkg *pkg)
{
	memset(l, 0, LEAD_SIZE);
	memcpy(l, "\xed\xab\xee\xdb\x03\x00\x00\x00\x00\x01", 10);
	snprintf((char *)l + 10, 66, "%s-%s-%s", pkg->name, pkg->version,
	    pkg->release ? pkg->release : "1");
	l[76] = 0;
	l[77] = 1;	/* os: Linux */
	l[78] = 0;
	l[79] = 5;	/* signature: a header */
}

int
rpm_write(Header spec, const struct dk_rpm_pkg *pkg, unsigned char **out,
    size_t *len)
{
	const struct dk_rpm_file **v = NULL;
	unsigned char *pay = NULL, *p;
	void *hdr = NULL, *sig = NULL, *pdigest = NULL;
	size_t i, n = pkg->nfiles, plen = 0, slen = 0, pad, head;
	unsigned int hlen = 0;
	uint64_t bytes, asize = 0;
	char alt[65];
	Header h = NULL;
	int rc = -1;

	*out = NULL;
	if (pkg->compress < 0 || (size_t)pkg->compress >= sizeof(compressors) /
	    sizeof(compressors[0])) {
		dk_error_set("unknown payload compression %d", pkg->compress);
		return DK_EUSAGE;
	}
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((rc = dk_spec_check_file(&pkg->files[i])) != 0)
			goto done;
		v[i] = &pkg->files[i];
	}
	rc = -1;
	qsort(v, n, sizeof(*v), by_name);
	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1]->path, v[i]->path) == 0) {
			dk_error_set("file '%s' listed twice in package",
			    v[i]->path);
			rc = DK_EUSAGE;
			goto done;
		}
	if ((h = headerCopy(spec)) == NULL ||
	    put_files(h, v, n, pkg->time, &bytes) == -1 ||
	    rpm_payload(v, n, pkg->time, compressors[pkg->compress].mode,
	    &pay, &plen, &asize, alt) == -1)
		goto done;
	if (bytes > RPM_MAX_SIZE ||
	    digest(PGPHASHALGO_SHA256, pay, plen, "", 0, NULL, 0, 1,
	    &pdigest) != 0 ||
	    put_build(h, pkg, bytes, n > 0, pdigest, alt) == -1)
		goto done;
	if ((h = headerReload(h, RPMTAG_HEADERIMMUTABLE)) == NULL ||
	    (hdr = headerExport(h, &hlen)) == NULL) {
		dk_error_set("cannot write the package header");
		goto done;
	}
	/* The header is its bytes now (12 MB at 100,000 domains). */
	h = headerFree(h);
	if (signature(hdr, hlen, pay, plen, asize, &sig, &slen) == -1)
		goto done;
	pad = (8 - slen % 8) % 8;
	head = LEAD_SIZE + 2 * sizeof(header_magic) + slen + pad + hlen;
	if (head + plen > RPM_MAX_SIZE) {
		dk_error_set("package too large");
		goto done;
	}
	/* The payload moves up in its own buffer: never two copies. */
	if ((p = realloc(pay, head + plen)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	pay = NULL;
	*out = p;
	*len = head + plen;
	memmove(p + head, p, plen);
	lead(p, pkg);
	p += LEAD_SIZE;
	memcpy(p, header_magic, sizeof(header_magic));
	memcpy(p += sizeof(header_magic), sig, slen);
	memset(p += slen, 0, pad);
	memcpy(p += pad, header_magic, sizeof(header_magic));
	memcpy(p + sizeof(header_magic), hdr, hlen);
	rc = 0;
done:
	dk_secret_free(pay, plen);
	free(pdigest);
	free(hdr);
	free(sig);
	headerFree(h);
	free(v);
	return rc;
}
