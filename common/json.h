/*
 * JSON output for the --json modes of status and check.
 */
#ifndef DK_JSON_H
#define DK_JSON_H

#include <stdio.h>

/*
 * Writes s to f as a JSON string, quotes included: '"' and '\' escaped,
 * every byte outside printable ASCII as \u00XX, so the output is ASCII
 * whatever s holds (DNS answers, messages from servers).
 */
void	dk_json_quote(FILE *, const char *);

#endif
