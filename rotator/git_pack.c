/*
 * A commit's new objects into the repository as one pack and its index
 * (rotator/git_int.h: dk_git_pack_write), written as git's pack format
 * version 2 and index version 2 say, without delta compression.
 *
 * libgit2's way there (a packbuilder's delta search, then its indexer
 * reading the pack back to inflate and hash every object again) cost a
 * third of a first rotation of 2,000 domains, and held the whole pack in
 * memory twice.  Each object is deflated once, on every core a batch at
 * a time, and streamed to the file; the index is written from what was
 * streamed.  The pack keeps the order the objects come in (the order a
 * reader of the new tree wants them); the index sorts them by id.
 * Without deltas the pack is larger (keys.yaml files delta
 * well); the post-commit hook's git gc --auto repacks them with deltas
 * in time.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "common/error.h"
#include "common/fault.h"
#include "common/file.h"
#include "common/pool.h"
#include "common/secret.h"
#include "rotator/git_int.h"

#define OUT_BUF	(1u << 20)

/* A file being written, with the SHA-1 of every byte so far. */
struct out {
	const char	*what;	/* "the pack" or "the pack index", for errors */
	int		 fd;
	char		 path[PATH_MAX];
	EVP_MD_CTX	*sha;
	unsigned char	*buf;
	size_t		 len;
	uint64_t	 off;	/* bytes written so far */
};

/* Each object of the pack: where it starts, the CRC-32 of its bytes. */
struct placed {
	git_oid		id;
	uint64_t	off;
	uint32_t	crc;
};

static int
out_open(struct out *o, const char *dir, const char *prefix,
    const char *what)
{
	memset(o, 0, sizeof(*o));
	o->what = what;
	o->fd = -1;
	if (snprintf(o->path, sizeof(o->path), "%s/%s_XXXXXX", dir,
	    prefix) >= (int)sizeof(o->path)) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	if ((o->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(o->sha, EVP_sha1(), NULL) != 1 ||
	    (o->buf = malloc(OUT_BUF)) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	if ((o->fd = mkstemp(o->path)) == -1) {
		dk_error_set_errno(errno, "cannot create %s in '%s'", what,
		    dir);
		o->path[0] = '\0';
		return -1;
	}
	return 0;
}

static int
out_flush(struct out *o)
{
	size_t done = 0;
	ssize_t w;

	while (done < o->len) {
		if ((w = write(o->fd, o->buf + done, o->len - done)) == -1) {
			if (errno == EINTR)
				continue;
			dk_error_set_errno(errno, "cannot write %s",
			    o->what);
			return -1;
		}
		done += (size_t)w;
	}
	o->len = 0;
	return 0;
}

/* Appends bytes, hashed unless raw (the trailer, which is the hash). */
static int
out_put(struct out *o, const void *p, size_t n, int raw)
{
	const unsigned char *s = p;
	size_t k;

	if (!raw && EVP_DigestUpdate(o->sha, p, n) != 1) {
		dk_error_set("cannot hash %s", o->what);
		return -1;
	}
	o->off += n;
	while (n > 0) {
		if (o->len == OUT_BUF && out_flush(o) != 0)
			return -1;
		k = OUT_BUF - o->len < n ? OUT_BUF - o->len : n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
	return 0;
}

static int
out_be32(struct out *o, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	return out_put(o, b, 4, 0);
}

/* The SHA-1 so far as the file's trailer; then flushed and fsynced. */
static int
out_close(struct out *o, unsigned char sum[20])
{
	unsigned int len = 20;

	if (EVP_DigestFinal_ex(o->sha, sum, &len) != 1) {
		dk_error_set("cannot hash %s", o->what);
		return -1;
	}
	if (out_put(o, sum, 20, 1) != 0 || out_flush(o) != 0)
		return -1;
	/* Read-only and the owner's alone, as libgit2 makes them here. */
	if (fchmod(o->fd, 0400) == -1 || fsync(o->fd) == -1) {
		dk_error_set_errno(errno, "cannot write %s", o->what);
		return -1;
	}
	return 0;
}

/* Closes and removes the file unless it was renamed into place. */
static void
out_free(struct out *o)
{
	if (o->fd != -1)
		close(o->fd);
	if (o->path[0] != '\0')
		unlink(o->path);
	EVP_MD_CTX_free(o->sha);
	dk_secret_wipe(o->buf, o->buf != NULL ? OUT_BUF : 0);
	free(o->buf);
}

/* Renames the finished file to its name in the pack directory. */
static int
out_rename(struct out *o, const char *to)
{
	if (rename(o->path, to) == -1) {
		dk_error_set_errno(errno, "cannot rename %s to '%s'", o->what,
		    to);
		return -1;
	}
	o->path[0] = '\0';
	return 0;
}

/*
 * One object, ready to append: its type and size header, then its
 * deflated bytes, with their CRC-32.  Deflated at zlib's level 1 with a
 * 4 KiB window for small objects: on key material the pack is 0.7%
 * larger than at level 6, and zlib is the pack's cost (on the VM of the
 * README, 20 us for each object of a few hundred bytes: 6 s for the
 * 300,000 objects of 100,000 new domains on one core).  The deflated
 * copy of a key is wiped as the plain one is (it is the key).
 */
struct packed {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
	uint32_t	 crc;
	char		 err[256];	/* when buf is NULL */
};

static void
packed_free(struct packed *pk)
{
	dk_secret_wipe(pk->buf, pk->cap);
	free(pk->buf);
	pk->buf = NULL;
}

static int
deflate_into(struct packed *pk, git_object_t type, const unsigned char *data,
    size_t size)
{
	unsigned char hdr[16];
	uint64_t s = size;
	size_t n = 0;
	z_stream z;
	int ok;

	hdr[n++] = (unsigned char)(((unsigned)type << 4) | (s & 15));
	for (s >>= 4; s > 0; s >>= 7) {
		hdr[n - 1] |= 0x80;
		hdr[n++] = s & 0x7f;
	}
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, size <= 4096 ? 12 : 15,
	    size <= 4096 ? 2 : 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	pk->cap = n + deflateBound(&z, size);
	if ((pk->buf = malloc(pk->cap)) == NULL) {
		deflateEnd(&z);
		return -1;
	}
	memcpy(pk->buf, hdr, n);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)size;
	z.next_out = pk->buf + n;
	z.avail_out = (uInt)(pk->cap - n);
	ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
	pk->len = pk->cap - z.avail_out;
	deflateEnd(&z);
	if (!ok) {
		packed_free(pk);
		return -1;
	}
	pk->crc = (uint32_t)crc32(0, pk->buf, (uInt)pk->len);
	return 0;
}

/* A batch of objects deflated at once, one per core. */
struct batch {
	git_odb_backend		*src;
	const git_oid		*ids;
	struct packed		*pk;
};

static void
pack_one(size_t i, void *arg)
{
	struct batch *b = arg;
	struct packed *pk = &b->pk[i];
	git_object_t type;
	void *data = NULL;
	size_t len;

	if (b->src->read(&data, &len, &type, b->src, &b->ids[i]) < 0) {
		snprintf(pk->err, sizeof(pk->err), "cannot read object %s",
		    git_oid_tostr_s(&b->ids[i]));
		return;
	}
	if (deflate_into(pk, type, data, len) != 0)
		snprintf(pk->err, sizeof(pk->err), "cannot deflate object %s",
		    git_oid_tostr_s(&b->ids[i]));
	dk_secret_wipe(data, len);
	git_odb_backend_data_free(b->src, data);
}

#define BATCH	4096

static int
write_pack(struct out *o, git_odb_backend *src, const git_oid *ids,
    size_t n, struct placed *pl)
{
	static const unsigned char magic[4] = { 'P', 'A', 'C', 'K' };
	struct packed *pk;
	struct batch b;
	size_t i, j, k;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int rc = -1;

	if ((pk = calloc(BATCH, sizeof(*pk))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	b.src = src;
	b.pk = pk;
	if (out_put(o, magic, 4, 0) != 0 || out_be32(o, 2) != 0 ||
	    out_be32(o, (uint32_t)n) != 0)
		goto done;
	for (i = 0; i < n; i += k) {
		k = n - i < BATCH ? n - i : BATCH;
		b.ids = ids + i;
		memset(pk, 0, k * sizeof(*pk));
		dk_pool_run(k, cores < 1 ? 1 : cores > 64 ? 64 : (int)cores,
		    pack_one, &b);
		for (j = 0; j < k; j++) {
			if (pk[j].buf == NULL) {
				dk_error_set("%s", pk[j].err);
				goto done;
			}
			git_oid_cpy(&pl[i + j].id, &b.ids[j]);
			pl[i + j].off = o->off;
			pl[i + j].crc = pk[j].crc;
			if (out_put(o, pk[j].buf, pk[j].len, 0) != 0)
				goto done;
			packed_free(&pk[j]);
		}
	}
	rc = 0;
done:
	for (j = 0; j < BATCH; j++)
		packed_free(&pk[j]);
	free(pk);
	return rc;
}

/* The index, version 2: fan-out, ids, CRCs, offsets (then 64-bit ones). */
static int
placed_cmp(const void *a, const void *b)
{
	return git_oid_cmp(&((const struct placed *)a)->id,
	    &((const struct placed *)b)->id);
}

/* pl[0..n) sorted by id here. */
static int
write_idx(struct out *o, struct placed *pl, size_t n,
    const unsigned char packsum[20])
{
	static const unsigned char magic[4] = { 0xff, 't', 'O', 'c' };
	unsigned char b8[8];
	size_t i, big = 0;
	uint32_t fan[256];
	int k;

	qsort(pl, n, sizeof(*pl), placed_cmp);
	memset(fan, 0, sizeof(fan));
	for (i = 0; i < n; i++)
		fan[pl[i].id.id[0]]++;
	for (k = 1; k < 256; k++)
		fan[k] += fan[k - 1];
	if (out_put(o, magic, 4, 0) != 0 || out_be32(o, 2) != 0)
		return -1;
	for (k = 0; k < 256; k++)
		if (out_be32(o, fan[k]) != 0)
			return -1;
	for (i = 0; i < n; i++)
		if (out_put(o, pl[i].id.id, GIT_OID_RAWSZ, 0) != 0)
			return -1;
	for (i = 0; i < n; i++)
		if (out_be32(o, pl[i].crc) != 0)
			return -1;
	for (i = 0; i < n; i++)
		if (out_be32(o, pl[i].off < 0x80000000u ? (uint32_t)pl[i].off :
		    0x80000000u | (uint32_t)big++) != 0)
			return -1;
	for (i = 0; i < n; i++) {
		if (pl[i].off < 0x80000000u)
			continue;
		for (k = 0; k < 8; k++)
			b8[k] = (unsigned char)(pl[i].off >> (56 - 8 * k));
		if (out_put(o, b8, 8, 0) != 0)
			return -1;
	}
	return out_put(o, packsum, 20, 0);
}

/* dir/pack-SUM.EXT */
static int
final_name(char *buf, size_t size, const char *dir,
    const unsigned char sum[20], const char *ext)
{
	char hex[41];
	int i;

	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	if (snprintf(buf, size, "%s/pack-%s.%s", dir, hex, ext) >= (int)size) {
		dk_error_set("path too long: '%s'", dir);
		return -1;
	}
	return 0;
}

int
dk_git_pack_write(struct dk_git *g, git_odb_backend *src,
    const git_oid *ids, size_t n)
{
	char dir[PATH_MAX], ppath[PATH_MAX], ipath[PATH_MAX];
	unsigned char psum[20], isum[20];
	struct placed *pl = NULL;
	struct out pack, idx;
	int rc = -1;
	git_odb *odb;

	memset(&pack, 0, sizeof(pack));
	memset(&idx, 0, sizeof(idx));
	pack.fd = idx.fd = -1;
	if (n == 0)
		return 0;
	if (dk_path_join(dir, sizeof(dir), git_repository_path(g->repo),
	    "objects/pack") != 0)
		return -1;
	if ((pl = calloc(n, sizeof(*pl))) == NULL) {
		dk_error_set("out of memory");
		return -1;
	}
	if (out_open(&pack, dir, "tmp_pack", "the pack") != 0 ||
	    write_pack(&pack, src, ids, n, pl) != 0 ||
	    out_close(&pack, psum) != 0 ||
	    out_open(&idx, dir, "tmp_idx", "the pack index") != 0 ||
	    write_idx(&idx, pl, n, psum) != 0 ||
	    out_close(&idx, isum) != 0 ||
	    final_name(ppath, sizeof(ppath), dir, psum, "pack") != 0 ||
	    final_name(ipath, sizeof(ipath), dir, psum, "idx") != 0)
		goto done;
	/* The index last: a pack without one is not read (nor named). */
	if (out_rename(&pack, ppath) != 0)
		goto done;
	DK_FAULT("pack-before-idx");
	if (out_rename(&idx, ipath) != 0) {
		unlink(ppath);
		goto done;
	}
	if (dk_dir_sync(dir) != 0)
		goto done;
	if (git_repository_odb(&odb, g->repo) == 0) {
		git_odb_refresh(odb);
		git_odb_free(odb);
	}
	rc = 0;
done:
	out_free(&pack);
	out_free(&idx);
	free(pl);
	if (rc != 0)
		dk_error_prefix("cannot write the new objects to '%s'",
		    g->workdir);
	return rc;
}
