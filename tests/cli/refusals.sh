#!/bin/sh
# What a changing command refuses to act on (docs/design.md §4 rule 4,
# keyrepo.h): a clock behind the last recorded event (unless --force), a merge
# in progress, a detached HEAD.  Each refusal: its exact message, exit 1,
# nothing changed, not even the rollback of an interrupted run.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
now=2027-01-10T00:00:00Z
back=2027-01-01T00:00:00Z

dk -C "$R" --now $now init -d a.example -d b.example >/dev/null 2>&1
rm "$R/.git/hooks/post-commit"
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys"
dk -C "$R" --now $now rotate >/dev/null 2>&1
opendkim-genkey -b 1024 -D "$tmp" -d a.example -s legacy 2>/dev/null

# --- the clock went back
before=$(tree "$R")
dk -C "$R" --now $back rotate >"$tmp/out" 2>"$tmp/err"
rc=$?
cat >"$tmp/want" <<EOF
dkimrot: a.example: clock went back: 2027-01-01T00:00:00Z is earlier than the last recorded event 2027-01-10T00:00:00Z for a.example; use --force
dkimrot: b.example: clock went back: 2027-01-01T00:00:00Z is earlier than the last recorded event 2027-01-10T00:00:00Z for b.example; use --force
EOF
check "rotate with the clock 9 days back exits 1" [ $rc = 1 ]
check "naming every domain, the time and the last event" \
    same "$tmp/want" "$tmp/err"
check "and changes nothing" [ "$before" = "$(tree "$R")" ]
expect "import with the clock back is refused too" 1 \
    "dkimrot: clock went back: 2027-01-01T00:00:00Z is earlier than the last recorded event 2027-01-10T00:00:00Z for a.example; use --force" \
    -C "$R" --now $back import -d a.example -s legacy \
    --private "$tmp/legacy.private"
check "and changes nothing" [ "$before" = "$(tree "$R")" ]
dk -C "$R" --now $back rotate --force >"$tmp/out" 2>&1
rc=$?
check "rotate --force runs (nothing is due then)" eval \
    '[ $rc = 0 ] && [ ! -s "$tmp/out" ] && [ "$before" = "$(tree "$R")" ]'
dk -C "$R" --now $back import --force -d a.example -s legacy \
    --private "$tmp/legacy.private" >"$tmp/out" 2>&1
rc=$?
check "import --force imports" eval \
    '[ $rc = 0 ] && grep -q "^a.example: +legacy imported" "$tmp/out"'

# --- a merge in progress
gitq -C "$R" checkout -qb side
echo "# side" >>"$R/dkimrot.yaml"
gitq -C "$R" commit -qam side
gitq -C "$R" checkout -q main
echo "# main" >>"$R/dkimrot.yaml"
gitq -C "$R" commit -qam main
gitq -C "$R" merge -q side >/dev/null 2>&1
# An interrupted run's journal must wait until the merge is done.
echo 1 >"$R/.git/dkimrot.dirty"
echo debris >"$R/keys/a.example/20990101000000.private"
before=$(tree "$R")
expect "rotate during a merge exits 1" 1 \
    "dkimrot: cannot change the key repository '$R': a merge is in progress (finish or abort it first)" \
    -C "$R" --now 2027-02-01T00:00:00Z rotate
expect "revoke during a merge exits 1" 1 \
    "dkimrot: cannot change the key repository '$R': a merge is in progress (finish or abort it first)" \
    -C "$R" --now 2027-02-01T00:00:00Z revoke -d a.example -s legacy
check "and nothing changed, nothing rolled back" eval \
    '[ "$before" = "$(tree "$R")" ] && [ -e "$R/.git/dkimrot.dirty" ]'
gitq -C "$R" merge --abort

# --- a detached HEAD
gitq -C "$R" checkout -q --detach HEAD
before=$(tree "$R")
expect "rotate on a detached HEAD exits 1" 1 \
    "dkimrot: cannot change the key repository '$R': HEAD is detached (check out a branch first)" \
    -C "$R" --now 2027-02-01T00:00:00Z rotate
expect "import on a detached HEAD exits 1" 1 \
    "dkimrot: cannot change the key repository '$R': HEAD is detached (check out a branch first)" \
    -C "$R" --now 2027-02-01T00:00:00Z import -d b.example -s legacy \
    --private "$tmp/legacy.private"
check "and nothing changed" eval \
    '[ "$before" = "$(tree "$R")" ] && [ -e "$R/.git/dkimrot.dirty" ]'
gitq -C "$R" checkout -q main
dk -C "$R" --now 2027-02-01T00:00:00Z rotate >/dev/null 2>"$tmp/err"
rc=$?
check "back on the branch, rotate rolls back and runs" eval \
    '[ $rc = 0 ] && grep -q "was interrupted" "$tmp/err" &&
    [ ! -e "$R/keys/a.example/20990101000000.private" ] &&
    [ ! -e "$R/.git/dkimrot.dirty" ]'
echo "1..$n"
