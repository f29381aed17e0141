# A change of the package signing key in tests.

# signkey_new G R: a new key 'dkimrot new <new@example.test>' in the
# GnuPG home G, made the sign_key of R/dkimrot.yaml (not committed); its
# fingerprint in $new.
signkey_new() {
	gpg --homedir "$1" --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key 'dkimrot new <new@example.test>' rsa3072 sign \
	    never 2>/dev/null
	new=$(gpg --homedir "$1" --with-colons --list-secret-keys \
	    new@example.test 2>/dev/null |
	    sed -n 's/^fpr:*\([0-9A-F]\{40\}\):$/\1/p' | head -1)
	sed -i "s/^  sign_key: .*/  sign_key: $new/" "$2/dkimrot.yaml"
}
