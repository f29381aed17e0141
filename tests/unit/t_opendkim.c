/*
 * Unit tests: OpenDKIM's KeyTable and SigningTable as import --opendkim
 * reads them (rotator/opendkim.c).  Table-driven: the two tables, then
 * what was read ("DOMAIN:SELECTOR:file|inline" per key, "DOMAIN>KEY"
 * per signing entry) or every refusal, with its line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "rotator/opendkim.h"

struct ocase {
	const char	*name;
	const char	*keytable;
	const char	*signingtable;	/* NULL: none */
	int		 rc;
	const char	*want;		/* keys and signs, or the errors */
};

static const struct ocase cases[] = {
	{ .name = "opendkim-genkey's layout, comments, blank lines",
	  .keytable = "# KeyTable\n\n"
	  "default._domainkey.example.com example.com:default:"
	  "/etc/opendkim/keys/example.com/default.private\n"
	  "  mail._domainkey.example.org\texample.org:mail:"
	  "/etc/opendkim/keys/example.org/mail.private  # old\n",
	  .signingtable = "*@example.com default._domainkey.example.com\n"
	  "example.org mail._domainkey.example.org\n",
	  .want = "example.com:default:file example.org:mail:file "
	  "example.com>0 example.org>1" },
	{ .name = "upper case is lowered, CRLF, no final newline",
	  .keytable = "K EXAMPLE.COM:Sel-1:./rel/key\r\nk2 a.example:s:/k",
	  .signingtable = "*@Example.Com K\r\n",
	  .want = "example.com:sel-1:file a.example:s:file example.com>0" },
	{ .name = "an inline key: not starting with /, ./ or ../",
	  .keytable = "k example.com:s:MIIEvQIBAD/ANBgkqhkiG9w0BAQEFAASC\n"
	  "k2 example.org:s:../keys/s.private\n",
	  .want = "example.com:s:inline example.org:s:file" },
	{ .name = "'%' in a key file",
	  .keytable = "k example.com:s:/etc/keys/%/s.private\n",
	  .rc = DK_EUSAGE,
	  .want = "KT:1: cannot map '%' in key file '/etc/keys/%/s.private': "
	  "dkimrot keys belong to one domain" },
	{ .name = "KeyTable refusals, every line",
	  .keytable = "k1 example.com:s1:/k1\n"
	  "k2 %:s:/k\n"
	  "k3 bad_dom:s:/k\n"
	  "k4 example.com:s1:/again\n"
	  "k1 example.net:x:/dup\n"
	  "onlyone\n"
	  "a b c d\n"
	  "k5 example.com:s5:\n"
	  "k6 example.com\n"
	  "k7 example.com:-s:/k\n",
	  .rc = DK_EUSAGE,
	  .want = "KT:2: cannot map '%' (the domain of each message): dkimrot "
	  "keys belong to one domain|"
	  "KT:3: invalid domain 'bad_dom'|"
	  "KT:4: selector 's1' of example.com given twice (first at line "
	  "1)|"
	  "KT:5: key name 'k1' given twice (first at line 1)|"
	  "KT:6: expected 'KEYNAME DOMAIN:SELECTOR:KEY', found 1 fields|"
	  "KT:7: expected 'KEYNAME DOMAIN:SELECTOR:KEY', found more than 3 "
	  "fields|"
	  "KT:8: no key after 'example.com:s5:'|"
	  "KT:9: expected DOMAIN:SELECTOR:KEY, not 'example.com'|"
	  "KT:10: invalid selector '-s'" },
	{ .name = "an empty KeyTable",
	  .keytable = "# nothing\n", .rc = DK_EUSAGE,
	  .want = "KT:1: no keys" },
	{ .name = "SigningTable refusals, every line",
	  .keytable = "k1 example.com:s1:/k1\nk2 example.org:s2:/k2\n",
	  .signingtable = "user@example.com k1\n"
	  "*@*.example.com k1\n"
	  "*@example.net k1\n"
	  "*@example.com nosuch\n"
	  "* k1\n"
	  "*@example.com\n"
	  "*@example.com k1 x\n"
	  "*@example.org k2\n",
	  .rc = DK_EUSAGE,
	  .want = "ST:1: cannot map pattern 'user@example.com': dkimrot signs "
	  "whole domains (*@DOMAIN)|"
	  "ST:2: cannot map pattern '*@*.example.com': dkimrot signs whole "
	  "domains (*@DOMAIN)|"
	  "ST:3: example.net would sign with key 'k1' of example.com: "
	  "dkimrot signs a domain with keys of its own|"
	  "ST:4: key 'nosuch' is not in the KeyTable|"
	  "ST:5: cannot map pattern '*': dkimrot signs whole domains "
	  "(*@DOMAIN)|"
	  "ST:6: expected 'PATTERN KEYNAME'|"
	  "ST:7: expected 'PATTERN KEYNAME'" },
};

static void
render(const struct dk_odkim *t, int rc, char *out, size_t size)
{
	size_t i, n = 0;

	out[0] = '\0';
	if (rc != 0) {
		for (i = 0; i < t->errors.n; i++)
			n += (size_t)snprintf(out + n, size - n, "%s%s",
			    i ? "|" : "", t->errors.v[i]);
		assert_true(n < size);
		return;
	}
	for (i = 0; i < t->nkeys; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s:%s:%s",
		    n ? " " : "", t->keys[i].domain, t->keys[i].selector,
		    t->keys[i].path != NULL ? "file" : "inline");
	for (i = 0; i < t->nsigns; i++)
		n += (size_t)snprintf(out + n, size - n, " %s>%zu",
		    t->signs[i].domain, t->signs[i].key);
	assert_true(n < size);
}

static void
test_opendkim__tables(void **state)
{
	const struct ocase *c;
	struct dk_odkim t;
	char got[4096];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		memset(&t, 0, sizeof(t));
		rc = dk_odkim_keytable(&t, c->keytable, strlen(c->keytable),
		    "KT");
		if (rc == 0 && c->signingtable != NULL)
			rc = dk_odkim_signingtable(&t, c->signingtable,
			    strlen(c->signingtable), "ST");
		render(&t, rc, got, sizeof(got));
		if (rc != c->rc || strcmp(got, c->want) != 0)
			fail_msg("%s: rc %d, got\n%s\nwant\n%s", c->name, rc,
			    got, c->want);
		dk_odkim_dispose(&t);
	}
}

/* A key's path keeps its case; the inline key is wiped on dispose. */
static void
test_opendkim__values(void **state)
{
	static const char kt[] =
	    "k example.com:s:/Etc/Keys/S.private\nk2 example.org:t:QUJD\n";
	struct dk_odkim t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(dk_odkim_keytable(&t, kt, strlen(kt), "KT"), 0);
	assert_string_equal(t.keys[0].path, "/Etc/Keys/S.private");
	assert_int_equal(t.keys[1].inline_b64.len, 4);
	assert_memory_equal(t.keys[1].inline_b64.data, "QUJD", 4);
	assert_int_equal(dk_odkim_find(&t, "k2"), 1);
	assert_int_equal(dk_odkim_find(&t, "k3"), -1);
	dk_odkim_dispose(&t);
	assert_null(t.keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opendkim__tables),
		cmocka_unit_test(test_opendkim__values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
