/*
 * Replays a fuzz target's corpus without libFuzzer: `make check` runs
 * every target over every file in tests/fuzz/corpus/NAME/ (under the
 * sanitizers with SANITIZE=1), so a fixed finding stays fixed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char **argv)
{
	struct dirent *de;
	char path[4096];
	size_t len;
	char *data;
	DIR *d;
	int n = 0;

	if (argc != 2 || (d = opendir(argv[1])) == NULL) {
		fprintf(stderr, "usage: replay CORPUS-DIR\n");
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (dk_path_join(path, sizeof(path), argv[1], de->d_name) != 0 ||
		    dk_file_read(path, DK_FILE_MAX, &data, &len) != 0) {
			fprintf(stderr, "replay: cannot read '%s'\n", path);
			closedir(d);
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		free(data);
		n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "replay: empty corpus '%s'\n", argv[1]);
		return 1;
	}
	printf("replay: %d inputs from %s\n", n, argv[1]);
	return 0;
}
