/*
 * Changes to dkimrot.yaml that commands make for the operator (remove,
 * import --opendkim), as text edits that keep the file as written:
 * comments, order and layout stay, only the domain's entry goes or new
 * entries are appended to the domains list.  The file is parsed again
 * afterwards: an edit that would not parse is never written.
 */
#ifndef DK_CONFIG_EDIT_H
#define DK_CONFIG_EDIT_H

#include <stddef.h>

#include "common/buf.h"
#include "common/config.h"

/*
 * The bytes of dkimrot.yaml (yaml, len) without domain dc's entry: its
 * "- name: D" line (dc->line) and the more indented lines below it.
 * DK_EUSAGE when that line is not in the block form "- name: D" (a flow
 * list, a name on a line of its own): the operator edits it by hand.
 */
int	dk_config_edit_remove(const char *yaml, size_t len,
	    const struct dk_domain_conf *dc, struct dk_buf *out);
/*
 * The bytes of dkimrot.yaml with "  - name: D" lines for names[0..n)
 * after the last entry of the domains list (the block form; "domains:
 * []" becomes a block list), each followed by "    algorithms: A" when
 * algs (may be NULL) has a non-NULL algs[i].  DK_EUSAGE for a list in
 * another form.
 */
int	dk_config_edit_append(const char *yaml, size_t len,
	    const char *const *names, const char *const *algs, size_t n,
	    struct dk_buf *out);
/*
 * Replaces repo's dkimrot.yaml with data (its mode kept) once the data
 * parses as a configuration.
 */
int	dk_config_edit_save(const char *repo, const struct dk_buf *data);

#endif
