/*
 * libarchive, in process: the control file of a .deb read back, for the
 * apt index (deb.h).  With deb.c, the only module that includes
 * <archive.h>.  The input may be planted (a file in the repository
 * directory): sizes are bounded and every libarchive error is an error;
 * tests/fuzz/f_deb.c replays a corpus through it.
 */
#include <archive.h>
#include <archive_entry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/secret.h"
#include "packaging/deb.h"

#define DEB_MAX_MEMBER	(1024u * 1024 * 1024)	/* a member read */
#define DEB_MAX_CONTROL	(1024u * 1024)		/* a control file read */

/* The whole current member of a into *out. */
static int
read_member(struct archive *a, struct archive_entry *e, size_t max,
    struct dk_buf *out)
{
	char chunk[16384];
	la_ssize_t r;

	if (archive_entry_size(e) < 0 ||
	    (unsigned long long)archive_entry_size(e) > max) {
		dk_error_set("member '%s' too big",
		    archive_entry_pathname(e));
		return -1;
	}
	while ((r = archive_read_data(a, chunk, sizeof(chunk))) > 0)
		if (dk_buf_append(out, chunk, (size_t)r) == -1) {
			dk_error_set("out of memory");
			return -1;
		}
	if (r < 0) {
		dk_error_set("cannot read member '%s': %s",
		    archive_entry_pathname(e), archive_error_string(a));
		return -1;
	}
	return 0;
}

int
dk_deb_control(const char *path, char **out)
{
	char *data = NULL, why[256];
	size_t len = 0;
	int rc;

	*out = NULL;
	if (dk_file_read(path, DEB_MAX_MEMBER, &data, &len) != 0)
		return -1;
	rc = dk_deb_control_mem(data, len, out);
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s", dk_error_last());
		dk_error_set("cannot read package '%s': %s", path, why);
	}
	/* A private package's bytes are key material. */
	dk_secret_free(data, len);
	return rc;
}

int
dk_deb_control_mem(const void *data, size_t len, char **out)
{
	struct archive *a = NULL, *t = NULL;
	struct archive_entry *e;
	struct dk_buf ctl = { 0 }, text = { 0 };
	const char *name;
	int rc = -1, r;

	*out = NULL;
	if ((a = archive_read_new()) == NULL ||
	    archive_read_support_format_ar(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		dk_error_set(a ? "not an ar archive" : "out of memory");
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		name = archive_entry_pathname(e);
		if (name != NULL && strncmp(name, "control.tar", 11) == 0)
			break;
	}
	if (r != ARCHIVE_OK) {
		dk_error_set("no control member");
		goto done;
	}
	if (read_member(a, e, DEB_MAX_MEMBER, &ctl) != 0)
		goto done;
	if ((t = archive_read_new()) == NULL ||
	    archive_read_support_filter_all(t) != ARCHIVE_OK ||
	    archive_read_support_format_tar(t) != ARCHIVE_OK ||
	    archive_read_open_memory(t, ctl.data ? ctl.data : "",
	    ctl.len) != ARCHIVE_OK) {
		dk_error_set("unreadable control member");
		goto done;
	}
	while ((r = archive_read_next_header(t, &e)) == ARCHIVE_OK) {
		name = archive_entry_pathname(e);
		if (name != NULL && (strcmp(name, "./control") == 0 ||
		    strcmp(name, "control") == 0))
			break;
	}
	if (r != ARCHIVE_OK) {
		dk_error_set("no control file");
		goto done;
	}
	if (read_member(t, e, DEB_MAX_CONTROL, &text) != 0)
		goto done;
	/* One text: no NUL inside, as the index copies it whole. */
	if (text.len == 0 || memchr(text.data, '\0', text.len) != NULL) {
		dk_error_set("control file empty or binary");
		goto done;
	}
	if ((*out = dk_buf_detach(&text)) == NULL) {
		dk_error_set("out of memory");
		goto done;
	}
	rc = 0;
done:
	if (t != NULL)
		archive_read_free(t);
	if (a != NULL)
		archive_read_free(a);
	dk_buf_wipe(&ctl);
	dk_buf_dispose(&text);
	return rc;
}

int
dk_deb_field(const char *control, const char *name, char *buf, size_t size)
{
	size_t n = strlen(name), len;
	const char *p;

	for (p = control; *p != '\0'; p += strcspn(p, "\n") + (p[strcspn(p,
	    "\n")] != '\0')) {
		if (strncmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		p += strspn(p, " \t");
		len = strcspn(p, "\n");
		if (len >= size)
			return -1;
		memcpy(buf, p, len);
		buf[len] = '\0';
		return 0;
	}
	return -1;
}
