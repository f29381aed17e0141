# A key repository of many domains for the benchmarks (tests/bench/*.sh).
# Needs DKIMROT; HOME and GIT_CONFIG_NOSYSTEM set by the caller.
#
# benchrepo_config DIR N [ALG [BITS]]
#                        dkimrot.yaml of DIR with domains d1..dN.example
#                        (ALG default ed25519, BITS the rsa_bits),
#                        committed
# benchrepo_make DIR N [ALG [BITS]]
#                        init at 2026-11-01, no post-commit hook, and
#                        benchrepo_config

benchrepo_config() {
	awk -v n="$2" -v alg="${3:-ed25519}" -v bits="${4:-2048}" '
	    /^  algorithms:/ { sub(/\[rsa\]/, "[" alg "]") }
	    /^  rsa_bits:/ { sub(/2048/, bits) }
	    /^  - name: d1.example$/ {
		    for (i = 1; i <= n; i++) print "  - name: d" i ".example"
		    next }
	    { print }' "$1/dkimrot.yaml" >"$1/dkimrot.yaml.new" &&
	    mv "$1/dkimrot.yaml.new" "$1/dkimrot.yaml" &&
	    git -C "$1" -c user.name=bench -c user.email=bench@localhost \
	    commit -qam "bench: $2 domains" >/dev/null
}

benchrepo_make() {
	"$DKIMROT" -C "$1" --now 2026-11-01T00:00:00Z init -d d1.example \
	    >/dev/null || return 1
	rm -f "$1/.git/hooks/post-commit"
	benchrepo_config "$@"
}
