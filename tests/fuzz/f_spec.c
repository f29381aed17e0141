/*
 * Fuzz target: spec rendering (packaging/spec.c) with hostile values.
 * Input: NUL-separated fields packager, description, post, url, path,
 * owner.  Whatever the renderer accepts must be inert for rpm 4.18:
 *  - no line may start a section or directive except the ones we emit;
 *  - rpm's reader must never join two lines (an unclosed "%{", "%(",
 *    "%[" or a trailing '\'), which is how text escapes its line;
 *  - every '%' is doubled except in the directives we write.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packaging/rpm.h"

static const char tmpl[] = "Packager: @PACKAGER@\n@URL@\n"
    "%description\n@DESCRIPTION@\n@POST@\n%files\n@FILES@\n";

/* rpm 4.18's copyNextLineFromOFI(): would this line pull in the next? */
static int
joins(const char *p, size_t n)
{
	int bc = 0, pc = 0, xc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '\\':
			if (i + 1 == n)
				return 1;
			i++;
			break;
		case '%':
			if (i + 1 < n && p[i + 1] == '{')
				bc++, i++;
			else if (i + 1 < n && p[i + 1] == '(')
				pc++, i++;
			else if (i + 1 < n && p[i + 1] == '[')
				xc++, i++;
			else if (i + 1 < n && p[i + 1] == '%')
				i++;
			break;
		case '{': if (bc > 0) bc++; break;
		case '}': if (bc > 0) bc--; break;
		case '(': if (pc > 0) pc++; break;
		case ')': if (pc > 0) pc--; break;
		case '[': if (xc > 0) xc++; break;
		case ']': if (xc > 0) xc--; break;
		}
	}
	return bc || pc || xc;
}

/*
 * A line rpm could read as a section or directive, or with a '%' that is
 * not doubled, other than the ones we write ourselves.
 */
static int
bad_line(const char *p, size_t n)
{
	static const char *const sections[] = { "%post", "%files",
	    "%description" };
	static const char *const attrs[] = { "%attr(", "%dir %attr(",
	    "%config %attr(" };
	size_t i, k, m;

	for (k = 0; k < sizeof(sections) / sizeof(sections[0]); k++)
		if (n == strlen(sections[k]) && memcmp(p, sections[k], n) == 0)
			return 0;
	for (k = 0; k < sizeof(attrs) / sizeof(attrs[0]); k++) {
		m = strlen(attrs[k]);
		if (n >= m && memcmp(p, attrs[k], m) == 0)
			return memchr(p + m, '%', n - m) != NULL;
	}
	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i < n && p[i] == '%')
		return 1;	/* "%%files" expands to "%files" */
	for (; i < n; i++) {
		if (p[i] != '%')
			continue;
		if (i + 1 < n && p[i + 1] == '%')
			i++;
		else
			return 1;
	}
	return 0;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[6] = { NULL, NULL, NULL, NULL, "/etc/x", NULL };
	struct dk_rpm_file file;
	struct dk_rpm_pkg pkg;
	char *buf, *out = NULL, *p, *nl;
	size_t i, k = 0, n;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0, f[0] = buf; i < size && k < 5; i++)
		if (buf[i] == '\0')
			f[++k] = buf + i + 1;
	memset(&pkg, 0, sizeof(pkg));
	memset(&file, 0, sizeof(file));
	pkg.name = "fuzz";
	pkg.version = "1";
	pkg.vcs = "x";
	pkg.packager = f[0];
	pkg.description = f[1];
	pkg.post = f[2];
	pkg.url = f[3];
	file.path = f[4];
	file.owner = f[5];
	file.mode = 0644;
	pkg.files = &file;
	pkg.nfiles = 1;
	if (dk_rpm_spec_render(tmpl, &pkg, &out) == 0) {
		for (p = out; *p != '\0'; p = nl + (*nl != '\0')) {
			nl = strchr(p, '\n');
			if (nl == NULL)
				nl = p + strlen(p);
			n = (size_t)(nl - p);
			if (joins(p, n) || bad_line(p, n))
				abort();
		}
	}
	free(out);
	free(buf);
	return 0;
}
