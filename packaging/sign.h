/*
 * Signing a yum repository of dkimrot's packages (docs/design.md §9, "Two
 * repositories ... both signed"): which key signs, and one directory's
 * packages and public key.  dk_repo_update() signs repodata/repomd.xml.
 * Everything takes the directory, so each repository is signed alike.
 */
#ifndef DK_SIGN_H
#define DK_SIGN_H

#include "common/gpg.h"

struct dk_packaging_conf;

/*
 * The signer of packaging.sign_key in packaging.gnupg_home (relative to
 * repo unless absolute; "" = $GNUPGHOME or ~/.gnupg) into s, checked
 * (dk_gpg_home_check(), dk_gpg_signer_open()).  An empty sign_key
 * leaves s->key NULL, signs nothing and warns, on every run: clients
 * of an unsigned repository cannot use gpgcheck.
 */
int	dk_sign_setup(const char *repo, const struct dk_packaging_conf *,
	    struct dk_gpg_signer *s);
/*
 * Every package of the build ledger l in dir (key: dir as the ledger
 * names it, packaging/ledger.h) whose bytes are still the ones dkimrot
 * wrote signed by s, re-signed when its signature is someone else's
 * (the key changed) or missing; anything else in dir is never signed.
 * A package is signed as a copy in stage (a directory of the vault)
 * and put back, and l (saved in repo first) records its new checksum.
 * Then s's public key is exported to dir/DK_GPG_KEY_FILE.  *changed is
 * 1 when a package changed, and the metadata must be written again.
 * Nothing when s->key is NULL.
 */
struct dk_ledger;
int	dk_sign_dir(const char *dir, const char *key,
	    const struct dk_gpg_signer *s, struct dk_ledger *l,
	    const char *repo, const char *stage, int *changed);

#endif
