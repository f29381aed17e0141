# A key repository of many Ed25519 domains for the benchmarks
# (tests/bench/upgrade.sh; tests/bench/run.sh's mkrepo and config do the
# same and are to come here).  Needs DKIMROT; HOME and GIT_CONFIG_NOSYSTEM
# set by the caller.
#
# benchrepo_make DIR N   init at 2026-11-01, no post-commit hook, and
#                        dkimrot.yaml with domains d1..dN.example, ed25519
#                        only, committed

benchrepo_make() {
	"$DKIMROT" -C "$1" --now 2026-11-01T00:00:00Z init -d d1.example \
	    >/dev/null || return 1
	rm -f "$1/.git/hooks/post-commit"
	awk -v n="$2" '
	    /^  algorithms:/ { sub(/\[rsa\]/, "[ed25519]") }
	    /^  - name: d1.example$/ {
		    for (i = 1; i <= n; i++) print "  - name: d" i ".example"
		    next }
	    { print }' "$1/dkimrot.yaml" >"$1/dkimrot.yaml.new" &&
	    mv "$1/dkimrot.yaml.new" "$1/dkimrot.yaml" &&
	    git -C "$1" -c user.name=bench -c user.email=bench@localhost \
	    commit -qam "bench: $2 domains"
}
