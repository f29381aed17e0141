#!/bin/sh
# The bad-input catalogue (docs/bad-input.md): every input there that no
# other test covers, with its exact message and exit code, and proof
# that nothing was lost: the repository (files, modes, contents, HEAD)
# is exactly as the bad input left it, and once the input is put right
# the next run works.  Test names here are the catalogue's row ids.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
t0=2027-01-01T00:00:00Z
t1=2027-01-02T00:00:00Z	# both domains' keys are due to activate
Y=$R/dkimrot.yaml
K=$R/keys/a.example/keys.yaml

dk -C "$R" --now $t0 init -d a.example -d b.example >/dev/null 2>&1
rm "$R/.git/hooks/post-commit"
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$Y"
gitq -C "$R" commit -qam "small keys"
dk -C "$R" --now $t0 rotate >/dev/null 2>&1
good=$(tree "$R")

# restore: the repository as committed, nothing else
restore() {
	gitq -C "$R" checkout -q -- .
	gitq -C "$R" clean -qfd keys
	chmod 0700 "$R/keys" "$R/keys/a.example" "$R/keys/b.example"
}
# bad ID CODE WANT BREAK ARGS...: after the shell code BREAK, dkimrot
# ARGS exits CODE, prints exactly WANT on stderr and changes nothing
bad() {
	id=$1 code=$2 want=$3
	eval "$4"
	shift 4
	before=$(tree "$R")
	dk "$@" >"$tmp/.out" 2>"$tmp/.err"
	got=$?
	printf '%s\n' "$want" >"$tmp/.want"
	if [ "$got" = "$code" ] && same "$tmp/.want" "$tmp/.err" &&
	    [ "$before" = "$(tree "$R")" ]; then
		ok "$id"
	else
		nok "$id (exit $got, want $code)"
	fi
	restore
}
# yset KEY VALUE: one line of dkimrot.yaml's defaults replaced
yset() { sed -i "s/^  $1: .*/  $1: $2/" "$Y"; }
rot() { echo -C "$R" --now $t1 rotate; }
rota() { echo -C "$R" --now $t1 rotate -d a.example; }

# --- dkimrot.yaml (exit 2: configuration error; read errors exit 1)
bad C1-malformed-yaml 2 \
    "dkimrot: $Y:16:11: did not find expected ',' or ']' while parsing a flow sequence" \
    'yset ttl "[3600"' $(rot)
bad C2-unknown-key 2 \
    "dkimrot: $Y:16:3: unknown key 'colour' in defaults (expected one of: algorithms, rsa_bits, rotate_every, publish_lead, min_age, drain, keep_published, ttl, restrict, testmode, subdomains)" \
    'yset ttl "3600\n  colour: blue"' $(rot)
bad C3-wrong-type-scalar 2 \
    "dkimrot: $Y:9:13: rsa_bits must be an integer from 1024 to 4096, not 'big'" \
    'yset rsa_bits big' $(rot)
bad C4-wrong-type-sequence 2 \
    "dkimrot: $Y:14:19: keep_published: expected an integer from 1 to 100, found a sequence" \
    'yset keep_published "[2]"' $(rot)
bad C5-wrong-type-boolean 2 \
    "dkimrot: $Y:17:13: testmode must be true or false, not 'maybe'" \
    'yset testmode maybe' $(rot)
bad C6-bad-duration 2 \
    "dkimrot: $Y:10:17: rotate_every must be a duration such as 30d or 1d12h (units s, m, h, d, w), not '30x'" \
    'yset rotate_every 30x' $(rot)
bad C7-integer-overflow 2 \
    "dkimrot: $Y:9:13: rsa_bits must be an integer from 1024 to 4096, not '99999999999999999999'" \
    'yset rsa_bits 99999999999999999999' $(rot)
bad C8-duplicate-key 2 \
    "dkimrot: $Y:53:1: duplicate key 'defaults' (first at line 7)" \
    'echo "defaults: {}" >>"$Y"' $(rot)
bad C9-duplicate-domain 2 \
    "dkimrot: $Y:24:11: duplicate domain 'a.example' (first at line 23)" \
    'sed -i "s/^  - name: b.example/  - name: a.example/" "$Y"' $(rot)
bad C10-invalid-domain 2 \
    "dkimrot: $Y:24:11: invalid domain 'b_x.example': only letters, digits, '-' and '.' are allowed (IDNs as xn-- A-labels)" \
    'sed -i "s/^  - name: b.example/  - name: b_x.example/" "$Y"' $(rot)
bad C11-unicode-domain 2 \
    "dkimrot: $Y:24:11: invalid domain 'bücher.example': only letters, digits, '-' and '.' are allowed (IDNs as xn-- A-labels)" \
    'sed -i "s/^  - name: b.example/  - name: bücher.example/" "$Y"' $(rot)
bad C12-newline-in-domain 2 \
    "dkimrot: $Y:24:11: invalid domain 'b.example?': only letters, digits, '-' and '.' are allowed (IDNs as xn-- A-labels)" \
    'sed -i "s/^  - name: b.example/  - name: \"b.example\\\\n\"/" "$Y"' \
    $(rot)
bad C13-control-bytes 2 \
    "dkimrot: $Y:53:1: control characters are not allowed (byte 0x00)" \
    'printf "\000\001binary" >>"$Y"' $(rot)
bad C14-invalid-utf8 2 \
    "dkimrot: $Y:15:8: invalid leading UTF-8 octet (byte 0xff)" \
    'yset ttl "\xff"' $(rot)
bad C15-alias 2 \
    "dkimrot: $Y:9:13: anchors are not allowed" \
    'yset rsa_bits "\&a 1024"; yset ttl "*a"' $(rot)
bad C16-second-document 2 \
    "dkimrot: $Y:53:1: only one YAML document is allowed" \
    'echo "--- {}" >>"$Y"' $(rot)
bad C17-deep-nesting 2 \
    "dkimrot: $Y:1:36: nested too deeply" \
    '/usr/bin/python3 -c "print(\"x: \" + \"[\" * 100000)" >"$Y"' $(rot)
bad C18-huge-file 1 \
    "dkimrot: cannot read '$Y': larger than 16777216 bytes" \
    'head -c 17000000 /dev/zero | tr "\000" "#" >"$Y"' $(rot)
# Accepted: an empty document is the defaults and no domains (init
# without -d writes "domains: []"), with a warning, and every domain
# with keys is named.
bad C19-empty-file 0 \
    "dkimrot: warning: dkimrot.yaml lists no domains: nothing to rotate
dkimrot: warning: a.example: has keys but is not in dkimrot.yaml; its keys are left as they are
dkimrot: warning: b.example: has keys but is not in dkimrot.yaml; its keys are left as they are" \
    ': >"$Y"' $(rot)
bad C20-missing 1 \
    "dkimrot: cannot read '$Y': No such file or directory" \
    'rm "$Y"' $(rot)
bad C21-not-a-file 1 \
    "dkimrot: cannot read '$Y': not a regular file" \
    'rm "$Y"; mkdir "$Y"' $(rot)
rmdir "$Y" 2>/dev/null
gitq -C "$R" checkout -q -- dkimrot.yaml
# Custody: a package owns its directories; a daemon's own is refused.
bad C22-system-directory 2 \
    "dkimrot: $Y:41:13: zone_dir '/var/named' is a system directory, which the package would own and re-mode: use a dedicated subdirectory such as '/var/named/dkim'" \
    'sed -i "s|^  zone_dir: .*|  zone_dir: /var/named|" "$Y"' $(rot)
# A server type dkimrot has no reload for (docs/design.md §13).
bad C27-dns-server 2 \
    "dkimrot: $Y:29:11: server must be bind, nsd or knot, not 'powerdns'" \
    'sed -i "s|^  server: .*|  server: powerdns|" "$Y"' $(rot)
# Custody: 16 MB of one-byte scalars stop at the document's memory
# budget, not after half a gigabyte.
bad C23-huge-tree 2 \
    "dkimrot: $Y:1:1647761: document too big: its tree would need more than 100663296 bytes of memory" \
    '/usr/bin/python3 -c "print(\"x: [\" + \"a,\" * 8000000 + \"a]\")" >"$Y"' \
    $(rot)

# --- keys.yaml (exit 1: that domain stops, loudly; its files stay)
bad K1-truncated 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:6:5: a key needs 'state'" \
    'head -c 300 "$K" >"$K.cut"; mv "$K.cut" "$K"' $(rota)
bad K2-truncated-to-comments 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:1:1: empty document: expected domain and keys" \
    'head -c 100 "$K" >"$K.cut"; mv "$K.cut" "$K"' $(rota)
bad K3-empty 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:1:1: empty document: expected domain and keys" \
    ': >"$K"' $(rota)
bad K4-unknown-field 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:9:5: unknown field 'colour'" \
    'sed -i "s/^    bits: 1024/    bits: 1024\n    colour: red/" "$K"' $(rota)
bad K5-wrong-type 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:8:11: bits: expected a number, not 'lots'" \
    'sed -i "s/bits: 1024/bits: lots/" "$K"' $(rota)
bad K6-path-in-selector 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:6:15: invalid selector '../../x'" \
    'sed -i "s/selector: \"20270101000000\"/selector: \"..\/..\/x\"/" "$K"' \
    $(rota)
bad K7-other-domain 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:4:9: domain 'b.example' does not match its directory 'a.example'" \
    'sed -i "s/^domain: a.example/domain: b.example/" "$K"' $(rota)
bad K8-deep-nesting 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:1:36: nested too deeply" \
    '/usr/bin/python3 -c "print(\"x: \" + \"[\" * 100000)" >"$K"' $(rota)
bad K9-huge 1 \
    "dkimrot: a.example: cannot read '$K': larger than 16777216 bytes" \
    'head -c 17000000 /dev/zero | tr "\000" "#" >"$K"' $(rota)
bad K16-huge-tree 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:1:1647761: document too big: its tree would need more than 100663296 bytes of memory" \
    '/usr/bin/python3 -c "print(\"x: [\" + \"a,\" * 8000000 + \"a]\")" >"$K"' \
    $(rota)
bad K10-deleted-but-committed 1 \
    "dkimrot: a.example: 'keys/a.example/keys.yaml' is missing but committed; restore it ('git checkout -- keys/a.example/keys.yaml') before rotating" \
    'rm "$K"' $(rota)
bad K11-key-file-is-a-directory 1 \
    "dkimrot: a.example: key file 'keys/a.example/20270101000000.txt' is not a regular file; keys.yaml names it (state pending)" \
    'rm "$R/keys/a.example/20270101000000.txt";
    mkdir "$R/keys/a.example/20270101000000.txt"' $(rota)
rmdir "$R/keys/a.example/20270101000000.txt" 2>/dev/null
restore
bad K12-unknown-state 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:9:12: unknown state 'actve': expected pending, active, retiring, retired or revoked" \
    'sed -i "s/^    state: pending/    state: actve/" "$K"' $(rota)
bad K13-bad-time 1 \
    "dkimrot: a.example: keys/a.example/keys.yaml:10:14: created: invalid time 'yesterday': expected RFC 3339 UTC (2026-11-22T13:15:00Z) or null" \
    'sed -i "s/^    created: .*/    created: yesterday/" "$K"' $(rota)

# --- private keys for import (exit 2: the input is wrong; unreadable: 1)
opendkim-genkey -b 1024 -D "$tmp" -d a.example -s legacy 2>/dev/null
P=$tmp/legacy.private
imp() { echo -C "$R" --now $t1 import -d a.example -s legacy --private "$1"; }
sed '3s/./!/' "$P" >"$tmp/p1"
bad P1-corrupted-pem 2 \
    "dkimrot: cannot load key '$tmp/p1': not a valid PEM private key: unsupported (No supported data to decode. Input type: PEM)" \
    : $(imp "$tmp/p1")
head -c 300 "$P" >"$tmp/p2"
bad P2-truncated-pem 2 \
    "dkimrot: cannot load key '$tmp/p2': not a valid PEM private key: unsupported (No supported data to decode. Input type: PEM)" \
    : $(imp "$tmp/p2")
openssl rsa -in "$P" -pubout -out "$tmp/p3" 2>/dev/null
bad P3-public-key 2 \
    "dkimrot: cannot load key '$tmp/p3': unsupported PEM type 'PUBLIC KEY' (expected 'PRIVATE KEY' or 'RSA PRIVATE KEY')" \
    : $(imp "$tmp/p3")
openssl ecparam -genkey -name prime256v1 -noout -out "$tmp/p4" 2>/dev/null
bad P4-ec-key 2 \
    "dkimrot: cannot load key '$tmp/p4': unsupported PEM type 'EC PRIVATE KEY' (expected 'PRIVATE KEY' or 'RSA PRIVATE KEY')" \
    : $(imp "$tmp/p4")
openssl req -x509 -key "$P" -subj /CN=x -days 1 -out "$tmp/p5" 2>/dev/null
bad P5-certificate 2 \
    "dkimrot: cannot load key '$tmp/p5': unsupported PEM type 'CERTIFICATE' (expected 'PRIVATE KEY' or 'RSA PRIVATE KEY')" \
    : $(imp "$tmp/p5")
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -aes128 \
    -pass pass:x -out "$tmp/p6" 2>/dev/null
bad P6-encrypted 2 \
    "dkimrot: cannot load key '$tmp/p6': unsupported PEM type 'ENCRYPTED PRIVATE KEY' (expected 'PRIVATE KEY' or 'RSA PRIVATE KEY')" \
    : $(imp "$tmp/p6")
openssl genrsa -out "$tmp/p7" 512 2>/dev/null
bad P7-rsa-512 2 \
    "dkimrot: cannot load key '$tmp/p7': rsa key size must be from 1024 to 4096 bits, not 512" \
    : $(imp "$tmp/p7")
head -c 100000 /dev/zero >"$tmp/p8"
bad P8-huge 1 \
    "dkimrot: cannot load key: cannot read '$tmp/p8': larger than 65536 bytes" \
    : $(imp "$tmp/p8")
: >"$tmp/p9"
bad P9-empty 2 "dkimrot: cannot load key '$tmp/p9': not a PEM file" \
    : $(imp "$tmp/p9")
bad P10-missing 1 \
    "dkimrot: cannot load key: cannot read '$tmp/none': No such file or directory" \
    : $(imp "$tmp/none")

# --- names and options on the command line (exit 2)
bad N1-selector-leading-hyphen 2 \
    "dkimrot: invalid selector '-bad': label starts with '-'" \
    : -C "$R" --now $t1 import -d a.example -s -bad --private "$P"
bad N2-selector-space 2 \
    "dkimrot: invalid selector 'a b': only letters, digits, '-' and '.' are allowed (IDNs as xn-- A-labels)" \
    : -C "$R" --now $t1 import -d a.example -s "a b" --private "$P"
long=$(printf '%070d' 0 | tr 0 a)
bad N3-selector-too-long 2 "dkimrot: invalid selector '$long': too long" \
    : -C "$R" --now $t1 revoke -d a.example -s "$long"
bad N4-domain-syntax 2 \
    "dkimrot: invalid domain 'bad_dom.example': only letters, digits, '-' and '.' are allowed (IDNs as xn-- A-labels)" \
    : -C "$R" --now $t1 rotate -d bad_dom.example
bad N5-domain-one-label 2 \
    "dkimrot: invalid domain 'localhost': needs at least two labels" \
    : -C "$R" --now $t1 revoke -d localhost -s x
bad N6-wait 2 "dkimrot: invalid --wait 'abc': expected seconds from 0 to 86400" \
    : -C "$R" --now $t1 rotate --wait abc
bad N7-now-out-of-range 2 \
    "dkimrot: invalid time '99999-01-01T00:00:00Z': expected RFC 3339 (2026-11-22T13:15:00Z) or @EPOCH" \
    : -C "$R" --now 99999-01-01T00:00:00Z rotate
bad N13-milter-socket 2 \
    "dkimrot: bad milter socket 'inet:8891@localhost': want inet:PORT@ADDR, inet6:PORT@ADDR, inet:ADDR:PORT or unix:PATH, numeric addresses" \
    : -C "$R" check --nameserver 127.0.0.1:9 --milter inet:8891@localhost

# --- the file system: read-only, full (needs root for mount -t tmpfs)
M=$tmp/mnt
mkdir "$M"
if mount -t tmpfs -o size=4m tmpfs "$M" 2>/dev/null; then
	trap 'umount "$M" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
	cp -a "$R" "$M/repo"
	S=$M/repo
	# The room left below is counted without the due index (a run that
	# fails removes it, which would free a block).
	rm -f "$S/.git/dkimrot-due"
	mount -o remount,ro "$M"
	bad F1-read-only 1 \
	    "dkimrot: cannot open lock '$S/.git/dkimrot.lock': Read-only file system" \
	    : -C "$S" --now $t1 rotate
	mount -o remount,rw "$M"
	dd if=/dev/zero of="$M/fill" bs=4096 2>/dev/null
	bad F2-disk-full 1 \
	    "dkimrot: cannot write '$S/.git/dkimrot.dirty': No space left on device" \
	    : -C "$S" --now $t1 -q rotate
	# Room for the journal and keys.yaml, not for the commit's objects.
	# Which domain's keys.yaml finds the disk full depends on the order
	# domains are staged in; the test binary stages them on one thread,
	# in order, so it is always the second (a plain build's pool gave
	# a.example now and then, under valgrind).
	truncate -s -8192 "$M/fill"
	${DKIMROT_WRAP:-} "$DKIMROT_FAULTS" -C "$S" --now $t1 -q rotate \
	    >/dev/null 2>"$tmp/err"
	rc=$?
	printf '%s\n' "dkimrot: b.example: cannot write '$S/keys/b.example/keys.yaml': No space left on device" \
	    "dkimrot: cannot write the new objects to '$S': cannot write the pack index: No space left on device" \
	    >"$tmp/want"
	check "F3-disk-full-mid-run: exit 1, the commit's failure named" eval \
	    '[ $rc = 1 ] && same "$tmp/want" "$tmp/err"'
	check "F3-disk-full-mid-run: HEAD untouched, the journal kept" eval \
	    '[ "$(git -C "$S" rev-parse HEAD)" = \
	    "$(git -C "$R" rev-parse HEAD)" ] && [ -e "$S/.git/dkimrot.dirty" ]'
	rm "$M/fill"
	dk -C "$S" --now 2027-01-02T01:00:00Z -q rotate >/dev/null 2>"$tmp/err"
	rc=$?
	check "F3-disk-full-mid-run: with room again the next run repairs" \
	    eval '[ $rc = 0 ] &&
	    /usr/bin/python3 "$DKIMROT_SRC/tests/lib/repocheck.py" "$S" \
	    2027-01-02T01:00:00Z >"$tmp/chk" || { diag "$tmp/chk"; false; }'
	# Wherever the disk fills up, a run either commits (and its work
	# tree is clean) or says why and keeps the journal for the next:
	# never exit 0 with the branch where it was.
	bad4=""
	for k in 1 2 3 4 5 6 7 8; do
		rm -rf "$S" "$M/fill"
		cp -a "$R" "$S"
		rm -f "$S/.git/dkimrot-due" "$S/.git/hooks/post-commit"
		dd if=/dev/zero of="$M/fill" bs=4096 2>/dev/null
		truncate -s -$((k * 4096)) "$M/fill"
		"$DKIMROT_FAULTS" -C "$S" --now $t1 -q rotate >/dev/null \
		    2>"$tmp/err"
		rc=$?
		moved=no
		[ "$(git -C "$S" rev-parse HEAD)" != \
		    "$(git -C "$R" rev-parse HEAD)" ] && moved=yes
		if [ $rc = 0 ] && [ $moved = yes ] &&
		    [ -z "$(git -C "$S" status --porcelain -- keys)" ]; then
			:
		elif [ $rc = 1 ] && [ $moved = no ] && [ -s "$tmp/err" ] &&
		    [ -e "$S/.git/dkimrot.dirty" ]; then
			:
		else
			bad4="$bad4 $((k * 4))K:rc=$rc,moved=$moved"
		fi
	done
	check "F4-disk-full-anywhere: committed, or failed saying why$bad4" \
	    [ -z "$bad4" ]
	rm -rf "$S" "$M/fill"
	umount "$M"
else
	for t in F1-read-only F2-disk-full F3 F3 F3 F4; do
		ok "$t # skip mount -t tmpfs needs root"
	done
fi

# --- and after all of it
check "nothing of the repository changed" [ "$good" = "$(tree "$R")" ]
dk -C "$R" --now $t1 rotate >"$tmp/out" 2>"$tmp/err"
rc=$?
check "the next good run works" eval '[ $rc = 0 ] &&
    grep -q "^a.example: 20270101000000 pending -> active" "$tmp/out" &&
    /usr/bin/python3 "$DKIMROT_SRC/tests/lib/repocheck.py" "$R" $t1 \
    >"$tmp/chk" || { diag "$tmp/chk"; false; }'
echo "1..$n"
