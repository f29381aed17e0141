/*
 * Test driver for packaging/rpm.c and packaging/repo.c: builds, signs and
 * indexes packages through the library API (in process), so that shell
 * tests can inspect the results with rpm, dnf, rpmlint and gpg.
 *
 *   rpmtool [-v] build|render [-t private|public|private-part|FILE] -o OUTDIR -n NAME
 *           -V VERSION [-r RELEASE] -c VCS -T EPOCH [-p POST] [-d DESC]
 *           [-u URL] [-P PACKAGER] [-m RPMMODE] [-F LIST] [-Z COMPRESS]
 *           [-U USER:GROUP] [-R NAME=VERSION] [-O NAME=VERSION] ENTRY...
 *     -U     the %pre that makes USER and GROUP (pre_user, pre_group)
 *     -R -O  one package required at, or obsoleted below, VERSION
 *     ENTRY  f:PATH:MODE:OWNER:GROUP[:config]=CONTENT   a file
 *            (:noreplace for %config(noreplace))
 *            d:PATH:MODE:OWNER:GROUP                    a directory
 *     LIST   a file of ENTRYs, one a line, before those of the command
 *            line (tests/bench: 20,000 of them exceed ARG_MAX)
 *     build prints the package's path, render the spec text.
 *   rpmtool sign RPM KEY
 *   rpmtool export-key KEY PATH
 *   rpmtool repo DIR KEEP
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gpg.h"
#include "common/log.h"
#include "packaging/repo.h"
#include "packaging/rpm.h"

static int
usage(void)
{
	fprintf(stderr, "usage: rpmtool [-v] build|render|sign|export-key|"
	    "repo ...\n");
	return DK_EXIT_USAGE;
}

/* f:PATH:MODE:OWNER:GROUP[:config]=CONTENT or d:PATH:MODE:OWNER:GROUP */
static int
parse_entry(char *s, struct dk_rpm_file *f)
{
	char *content = NULL, *field[6];
	size_t n = 0;
	char *p;

	memset(f, 0, sizeof(*f));
	if (s[0] == 'f' && (content = strchr(s, '=')) != NULL)
		*content++ = '\0';
	for (p = s; n < 6; n++) {
		field[n] = p;
		if ((p = strchr(p, ':')) == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n < 5 || (s[0] != 'f' && s[0] != 'd') || strlen(field[0]) != 1)
		return -1;
	f->path = field[1];
	f->mode = (mode_t)strtoul(field[2], NULL, 8);
	f->owner = field[3];
	f->group = field[4];
	if (s[0] == 'd')
		f->flags |= DK_RPM_DIR;
	if (n == 6 && strcmp(field[5], "config") == 0)
		f->flags |= DK_RPM_CONFIG;
	if (n == 6 && strcmp(field[5], "noreplace") == 0)
		f->flags |= DK_RPM_CONFIG | DK_RPM_NOREPLACE;
	if (content != NULL) {
		f->data = content;
		f->len = strlen(content);
	}
	return 0;
}

static const char *
template(const char *t, char **buf)
{
	size_t len;

	*buf = NULL;
	if (strcmp(t, "private") == 0)
		return dk_spec_dkim_keys_private;
	if (strcmp(t, "public") == 0)
		return dk_spec_dkim_keys_public;
	if (strcmp(t, "private-part") == 0)
		return dk_spec_dkim_keys_private_part;
	if (dk_file_read(t, DK_FILE_MAX, buf, &len) != 0)
		return NULL;
	return *buf;
}

/* The lines of LIST as entries: split in place in *text (freed last). */
static int
list_entries(const char *list, char **text, char ***v, size_t *n)
{
	char *p, *nl, **nv;
	size_t len, cap = 0;

	*v = NULL;
	*n = 0;
	if (list == NULL)
		return 0;
	if (dk_file_read(list, DK_FILE_MAX, text, &len) != 0)
		return -1;
	for (p = *text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		else
			*nl = '\0';
		if (*p == '\0')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((nv = realloc(*v, cap * sizeof(*nv))) == NULL)
				return -1;
			*v = nv;
		}
		(*v)[(*n)++] = p;
	}
	return 0;
}

static int
build(int argc, char **argv, int render)
{
	struct dk_rpm_pkg pkg;
	struct dk_rpm_file *files = NULL;
	const char *tmpl, *outdir = NULL, *t = "public", *list = NULL;
	char *tbuf = NULL, *out = NULL, *ltext = NULL, **lv = NULL, *eq;
	struct dk_rpm_dep req = { 0 }, obs = { 0 };
	size_t k, nl = 0;
	int ch, i, rc = -1;

	memset(&pkg, 0, sizeof(pkg));
	optind = 1;
	while ((ch = getopt(argc, argv, "t:o:n:V:r:c:T:p:d:u:P:m:F:Z:U:R:O:")) !=
	    -1) {
		switch (ch) {
		case 't': t = optarg; break;
		case 'o': outdir = optarg; break;
		case 'n': pkg.name = optarg; break;
		case 'V': pkg.version = optarg; break;
		case 'r': pkg.release = optarg; break;
		case 'c': pkg.vcs = optarg; break;
		case 'T': pkg.time = (time_t)strtoll(optarg, NULL, 10); break;
		case 'p': pkg.post = optarg; break;
		case 'd': pkg.description = optarg; break;
		case 'u': pkg.url = optarg; break;
		case 'P': pkg.packager = optarg; break;
		case 'm': pkg.rpm_mode = (mode_t)strtoul(optarg, NULL, 8);
			break;
		case 'F': list = optarg; break;
		case 'U':
			if ((eq = strchr(optarg, ':')) == NULL)
				return usage();
			*eq = '\0';
			pkg.pre_user = optarg;
			pkg.pre_group = eq + 1;
			break;
		case 'R':
		case 'O':
			if ((eq = strchr(optarg, '=')) == NULL)
				return usage();
			*eq = '\0';
			if (ch == 'R') {
				req.name = optarg;
				req.version = eq + 1;
				pkg.requires = &req;
				pkg.nrequires = 1;
			} else {
				obs.name = optarg;
				obs.version = eq + 1;
				pkg.obsoletes = &obs;
				pkg.nobsoletes = 1;
			}
			break;
		case 'Z':
			for (pkg.compress = 0; pkg.compress < 3 &&
			    strcmp(dk_compress_name(pkg.compress), optarg) != 0;
			    pkg.compress++)
				;
			if (pkg.compress == 3)
				return usage();
			break;
		default: return usage();
		}
	}
	if ((!render && outdir == NULL) ||
	    list_entries(list, &ltext, &lv, &nl) != 0 ||
	    (files = calloc((size_t)(argc - optind) + nl + 1,
	    sizeof(*files))) == NULL) {
		free(lv);
		free(ltext);
		return usage();
	}
	for (k = 0; k < nl; k++) {
		if (parse_entry(lv[k], &files[pkg.nfiles++]) == -1) {
			free(files);
			free(lv);
			free(ltext);
			return usage();
		}
	}
	for (i = optind; i < argc; i++) {
		if (parse_entry(argv[i], &files[pkg.nfiles++]) == -1) {
			free(files);
			free(lv);
			free(ltext);
			return usage();
		}
	}
	pkg.files = files;
	if ((tmpl = template(t, &tbuf)) == NULL)
		goto done;
	if (render)
		rc = dk_rpm_spec_render(tmpl, &pkg, &out);
	else
		rc = dk_rpm_build(tmpl, &pkg, outdir, &out);
	if (rc == 0)
		printf(render ? "%s" : "%s\n", out);
done:
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	free(out);
	free(tbuf);
	free(files);
	free(lv);
	free(ltext);
	return dk_error_exit(rc);
}

int
main(int argc, char **argv)
{
	struct dk_gpg_signer s;
	int rc;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		dk_log_set_level(DK_LOG_VERBOSE);
		argc--;
		argv++;
	}
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "build") == 0 || strcmp(argv[1], "render") == 0)
		return build(argc - 1, argv + 1, argv[1][0] == 'r');
	if (strcmp(argv[1], "sign") == 0 && argc == 4) {
		if ((rc = dk_gpg_signer_open(&s, argv[3], NULL)) == 0)
			rc = dk_rpm_sign(argv[2], &s, NULL);
		dk_gpg_signer_dispose(&s);
	} else if (strcmp(argv[1], "export-key") == 0 && argc == 4)
		rc = dk_gpg_export(argv[2], NULL, argv[3]);
	else if (strcmp(argv[1], "repo") == 0 && argc == 4)
		rc = dk_repo_update(argv[2], atoi(argv[3]), NULL);
	else
		return usage();
	if (rc != 0)
		dk_log_error("%s", dk_error_last());
	return dk_error_exit(rc);
}
