/*
 * The key repository's files (docs/design.md §3), relative to the repository
 * root given to every function (NULL or "" = the current directory):
 *
 *   keys/                       0700
 *   keys/DOMAIN/                0700
 *   keys/DOMAIN/SEL.private     0600  published keys only
 *   keys/DOMAIN/SEL.txt         0644  published and revoked keys
 *   keys/DOMAIN/keys.yaml       0644  the single source of truth
 *   keys/DOMAIN/retired.yaml    0644  keys retired long ago, moved out
 *                                     of keys.yaml (dk_store_stage_retired)
 *
 * The store neither generates nor reads keys; keygen writes the key files
 * at the paths dk_store_key_path() gives.  keys.yaml is written last, so a
 * run that changes a domain goes:
 *
 *   dk_store_load          (refuses a domain whose files are missing)
 *   dk_store_repair        (drops debris of an interrupted run, fixes modes)
 *   dk_policy_plan ...     (rotator/policy.h)
 *   write the files the new state needs: SEL.private and SEL.txt of every
 *     GENERATEd key (dk_store_mkdir first), the p= empty SEL.txt of a
 *     REVOKEd key (dk_file_replace, 0644)
 *   dk_plan_apply, dk_store_save (or, for many domains at once,
 *     dk_store_stage, one sync of them all, dk_tree_publish: the key
 *     files are on disk before the keys.yaml that names them)
 *   dk_store_repair        (removes what the new state no longer needs:
 *                           files of retired keys, .private of revoked keys;
 *                           its list is what git must stage as removed;
 *                           only once the new keys.yaml is on disk)
 *
 * A crash before the save leaves files keys.yaml does not name: the next
 * repair removes them.  A crash after it leaves files keys.yaml no longer
 * needs: the same.  Nothing here fsyncs on the read path, and repair's
 * removals are not synced (lost ones are debris again).
 */
#ifndef DK_STORE_H
#define DK_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "rotator/keys.h"
#include "rotator/store_format.h"

struct dk_buf;
struct dk_strlist;

#define DK_STORE_KEYS_DIR	"keys"
#define DK_STORE_YAML		"keys.yaml"
#define DK_STORE_RETIRED	"retired.yaml"
/*
 * A retired key leaves keys.yaml for retired.yaml once keys.yaml records
 * an event this long after its retirement (docs/design.md §3).
 */
#define DK_STORE_RETIRED_AFTER	(30 * 86400)

/* Which files dk_store_remove_key_files() removes. */
#define DK_STORE_PRIVATE	0x1
#define DK_STORE_TXT		0x2

/*
 * Paths: repo/keys/DOMAIN, repo/keys/DOMAIN/SEL.EXT (ext "private" or
 * "txt"), repo/keys/DOMAIN/keys.yaml, repo/keys/DOMAIN/retired.yaml.
 * -1 when buf is too small.  Names are not validated here: load, the
 * policy and the CLI do that.
 */
int	dk_store_domain_path(const char *repo, const char *domain, char *,
	    size_t);
int	dk_store_key_path(const char *repo, const char *domain,
	    const char *sel, const char *ext, char *, size_t);
int	dk_store_yaml_path(const char *repo, const char *domain, char *,
	    size_t);
int	dk_store_retired_path(const char *repo, const char *domain, char *,
	    size_t);

/*
 * Loads keys/DOMAIN/keys.yaml.  No keys.yaml: a domain without keys
 * (exists = false) and 0.  Then checks that each published key has its
 * .private and .txt and each revoked key its .txt, as regular files: if
 * not, -1 with "key file 'keys/D/S.private' is missing; keys.yaml names
 * it (state active)" and nothing touched.  DK_EUSAGE for an invalid
 * domain name or a keys.yaml dk_store_parse() refuses.  Every path is
 * walked below repo without following a link (dk_tree_*, file.h): a
 * link, FIFO, socket, device or hard link on the way is refused (-1).
 */
int	dk_store_load(const char *repo, const char *domain,
	    struct dk_domain_keys **out);
/* Creates keys/ and keys/DOMAIN/ as needed, both 0700. */
int	dk_store_mkdir(const char *repo, const char *domain);
/* Writes keys/DOMAIN/keys.yaml atomically (mkdir as needed), 0644. */
int	dk_store_save(const char *repo, const struct dk_domain_keys *);
/*
 * dk_store_save's first half, for saving many domains with one sync
 * (rotator/rotate.c): keys.yaml's new bytes in a temporary file beside
 * it (mkdir as needed), not fsynced; its path, relative to repo, goes to
 * tmp.  The caller syncs, then dk_tree_publish(repo, tmp, keys.yaml's
 * relative path).  A temporary file
 * left by a crash is debris to dk_store_repair().
 */
int	dk_store_stage(const char *repo, const struct dk_domain_keys *,
	    char *tmp, size_t);
/*
 * Removes from keys/DOMAIN/ every entry that is neither keys.yaml nor a
 * file dk's keys need (see the layout above): debris of an interrupted
 * run, temporary files, files of retired keys, .private of revoked keys.
 * Sets modes: keys/ and keys/DOMAIN/ 0700, .private 0600, .txt and
 * keys.yaml 0644 (git does not keep modes).  The paths removed (relative
 * to repo: "keys/D/S.private") are added to removed, an empty list of
 * the caller's, and sorted; it may hold some even on error.  A subdirectory, or
 * a needed file that is not a regular file, is an error (-1); so is a
 * symlink, FIFO, socket, device or hard link, debris or not, refused
 * before anything is changed (common/tree.h).
 */
int	dk_store_repair(const char *repo, const struct dk_domain_keys *,
	    struct dk_strlist *removed);
/*
 * Loads keys/DOMAIN/retired.yaml as dk_store_load() loads keys.yaml (no
 * file: no keys, exists = false); a key in it that is not retired is
 * DK_EUSAGE.  Its keys have no files.
 */
int	dk_store_load_retired(const char *repo, const char *domain,
	    struct dk_domain_keys **out);
/*
 * Keeps keys.yaml small as years pass: moves out of dk every retired key
 * retired DK_STORE_RETIRED_AFTER or more before the latest event dk
 * records, into retired.yaml, whose new bytes are staged as
 * dk_store_stage() stages keys.yaml (tmp; "" when nothing moves).  The
 * caller publishes retired.yaml before keys.yaml: a crash between leaves
 * a key in both, and the next move keeps the one in retired.yaml.
 * With check (the caller made a key no later than the latest event
 * before its changes: a clock that went back; otherwise every key
 * retired.yaml holds is older than a new one), retired.yaml is read even
 * if nothing moves, and a key of dk not retired whose selector it holds
 * is DK_EUSAGE.  dk is changed only on success.
 */
int	dk_store_stage_retired(const char *repo, struct dk_domain_keys *dk,
	    bool check, char *tmp, size_t);
/*
 * Removes SEL.private and/or SEL.txt (DK_STORE_PRIVATE|DK_STORE_TXT) of
 * a key; a file already gone is fine.
 */
int	dk_store_remove_key_files(const char *repo, const char *domain,
	    const char *sel, unsigned which);
/*
 * The domains with a directory under keys/, sorted, into out (empty).
 * No keys/: none.  An entry that is not a directory named by a valid
 * lower-case domain is an error (DK_EUSAGE), not skipped.
 */
int	dk_store_domains(const char *repo, struct dk_strlist *out);

#endif
