# What the signing tests (tests/e2e/opendkim.sh, tests/e2e/signers.sh)
# expect of a message from one of their domains: the key repository $R
# at $NOW, $D2 the domain whose only key is Ed25519.  Source it after
# tests/lib/tap.sh and tests/lib/mail.sh (for $PY3).

# active DOMAIN: the active selectors of DOMAIN, from status --json
active() {
	dk -C "$R" --now "$NOW" status --json | "$PY3" -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(k["selector"] for x in d["domains"]
    if x["domain"] == sys.argv[1] for k in x["keys"]
    if k["state"] == "active")))' "$1"
}

# want DOMAIN: the verdicts of every active key of DOMAIN, in order
want() {
	for s in $(active "$1"); do
		case $s in
		*e) a=ed25519-sha256 ;;
		*r) a=rsa-sha256 ;;
		*) case $1 in $D2) a=ed25519-sha256 ;; *) a=rsa-sha256 ;; esac ;;
		esac
		echo "d=$1 s=$s a=$a pass"
	done
}
