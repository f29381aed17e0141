/*
 * Unit tests of check/milter.c: the packet encoder and decoder against
 * bytes recorded from OpenDKIM 2.11.0~beta2 (Debian 12) signing with an
 * Ed25519 key, and a whole conversation with a milter played by a child
 * process on a UNIX socket, which tempfails as released OpenDKIM does
 * when its KeyTable names a key of the wrong algorithm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/milter.h"
#include "common/buf.h"
#include "common/error.h"

/* What the client sends first: version 6, every action, our steps. */
static const unsigned char optneg_sent[] =
    "\x00\x00\x00\x0d" "O" "\x00\x00\x00\x06" "\x00\x00\x01\xff"
    "\x00\x0f\xff\xff";
/* OpenDKIM's answer: actions 0x111, protocol NOHELO|NOUNKNOWN|NODATA|SKIP */
static const unsigned char optneg_reply[] =
    "\x00\x00\x00\x0d\x4f\x00\x00\x00\x06\x00\x00\x01\x11\x00\x00\x07"
    "\x02";
/* OpenDKIM at end of message: insert DKIM-Signature at 0, then accept. */
static const unsigned char eom_reply[] =
    "\x00\x00\x01\x09\x69\x00\x00\x00\x00\x44\x4b\x49\x4d\x2d\x53\x69"
    "\x67\x6e\x61\x74\x75\x72\x65\x00\x76\x3d\x31\x3b\x20\x61\x3d\x65"
    "\x64\x32\x35\x35\x31\x39\x2d\x73\x68\x61\x32\x35\x36\x3b\x20\x63"
    "\x3d\x72\x65\x6c\x61\x78\x65\x64\x2f\x73\x69\x6d\x70\x6c\x65\x3b"
    "\x20\x64\x3d\x65\x78\x61\x6d\x70\x6c\x65\x2e\x63\x6f\x6d\x3b\x0a"
    "\x09\x73\x3d\x73\x65\x6c\x3b\x20\x74\x3d\x31\x37\x39\x36\x31\x36"
    "\x33\x31\x38\x33\x3b\x0a\x09\x62\x68\x3d\x52\x48\x49\x39\x31\x4e"
    "\x44\x67\x31\x47\x6f\x38\x66\x36\x69\x73\x6f\x6c\x53\x32\x48\x43"
    "\x65\x32\x74\x58\x69\x66\x6c\x68\x64\x2b\x67\x73\x67\x48\x41\x45"
    "\x43\x66\x46\x54\x55\x3d\x3b\x0a\x09\x68\x3d\x46\x72\x6f\x6d\x3a"
    "\x53\x75\x62\x6a\x65\x63\x74\x3a\x44\x61\x74\x65\x3b\x0a\x09\x62"
    "\x3d\x57\x69\x42\x5a\x58\x57\x68\x61\x30\x39\x67\x32\x46\x73\x48"
    "\x69\x6a\x64\x35\x59\x59\x79\x37\x58\x78\x64\x48\x79\x6f\x61\x48"
    "\x6e\x67\x61\x4d\x56\x73\x77\x57\x4f\x61\x51\x4a\x51\x2b\x57\x78"
    "\x69\x45\x4c\x35\x70\x58\x66\x48\x67\x7a\x4b\x61\x4a\x54\x49\x50"
    "\x79\x52\x0a\x09\x20\x79\x56\x67\x2b\x61\x54\x67\x2b\x59\x47\x57"
    "\x34\x39\x51\x74\x41\x75\x37\x59\x41\x51\x3d\x3d\x00"
    "\x00\x00\x00\x01" "a";

static void
test_milter__encode(void **state)
{
	struct dk_buf b = { 0 };
	uint32_t v[3] = { htonl(6), htonl(0x1ff), htonl(0xfffff) };

	assert_int_equal(dk_milter_encode(&b, 'O', v, sizeof(v)), 0);
	assert_int_equal(b.len, sizeof(optneg_sent) - 1);
	assert_memory_equal(b.data, optneg_sent, b.len);
	b.len = 0;
	assert_int_equal(dk_milter_encode(&b, 'E', NULL, 0), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "\x00\x00\x00\x01" "E", 5);
	dk_buf_dispose(&b);
}

static void
test_milter__decode_optneg(void **state)
{
	struct dk_milter_packet p;
	size_t used;

	assert_int_equal(dk_milter_decode(optneg_reply,
	    sizeof(optneg_reply) - 1, &p, &used), 0);
	assert_int_equal(p.cmd, 'O');
	assert_int_equal(p.len, 12);
	assert_int_equal(used, 17);
	assert_memory_equal(p.data + 8, "\x00\x00\x07\x02", 4);
}

static void
test_milter__decode_eom(void **state)
{
	const unsigned char *b = eom_reply;
	size_t len = sizeof(eom_reply) - 1, used;
	struct dk_milter_packet p;
	const char *name, *value;

	assert_int_equal(dk_milter_decode(b, len, &p, &used), 0);
	assert_int_equal(p.cmd, 'i');
	assert_int_equal(dk_milter_header(&p, &name, &value), 0);
	assert_string_equal(name, "DKIM-Signature");
	assert_int_equal(strncmp(value, "v=1; a=ed25519-sha256; c=relaxed/"
	    "simple; d=example.com;\n\ts=sel; ", 48), 0);
	b += used;
	len -= used;
	assert_int_equal(dk_milter_decode(b, len, &p, &used), 0);
	assert_int_equal(p.cmd, 'a');
	assert_int_equal(p.len, 0);
	assert_int_equal(used, len);
}

/* Every prefix of a packet asks for more; never a packet, never -1. */
static void
test_milter__decode_partial(void **state)
{
	struct dk_milter_packet p;
	size_t i, used;

	for (i = 0; i < sizeof(eom_reply) - 1 - 5; i++)
		assert_int_equal(dk_milter_decode(eom_reply, i, &p, &used),
		    DK_MILTER_EMORE);
}

static void
test_milter__decode_bad(void **state)
{
	struct dk_milter_packet p;
	size_t used;

	assert_int_equal(dk_milter_decode((const unsigned char *)
	    "\x00\x00\x00\x00" "c", 5, &p, &used), -1);
	assert_string_equal(dk_error_last(), "milter sent a packet of length "
	    "0");
	assert_int_equal(dk_milter_decode((const unsigned char *)
	    "\x7f\xff\xff\xff" "c", 5, &p, &used), -1);
	assert_string_equal(dk_error_last(), "milter sent a packet of length "
	    "2147483647");
}

static void
test_milter__header_bad(void **state)
{
	static const struct { char cmd; const char *data; size_t len; } v[] = {
		{ 'h', "Name\0value", 10 },		/* no final NUL */
		{ 'h', "\0value", 7 },			/* empty name */
		{ 'h', "Name\0value\0x", 12 },		/* bytes after */
		{ 'h', "Name", 4 },			/* no value */
		{ 'i', "\0\0\0", 3 },			/* short index */
		{ 'c', "Name\0value", 11 },		/* not a header */
	};
	struct dk_milter_packet p;
	const char *name, *value;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p.cmd = v[i].cmd;
		p.data = (const unsigned char *)v[i].data;
		p.len = v[i].len;
		if (dk_milter_header(&p, &name, &value) != -1)
			fail_msg("case %zu parsed", i);
	}
	p.cmd = 'h';
	p.data = (const unsigned char *)"X-A\0b\0";
	p.len = 6;
	assert_int_equal(dk_milter_header(&p, &name, &value), 0);
	assert_string_equal(name, "X-A");
	assert_string_equal(value, "b");
}

static void
test_milter__bad_spec(void **state)
{
	static const char *bad[] = { "inet:host@example.com", "inet:25",
	    "inet:0@127.0.0.1", "inet:70000@127.0.0.1", "tcp:25@127.0.0.1",
	    "unix:relative", "inet:x@127.0.0.1", "" };
	struct dk_milter_result r;
	struct dk_milter_msg m;
	char want[256];
	size_t i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dk_milter_run(bad[i], &m, 100, &r),
		    DK_EUSAGE);
		snprintf(want, sizeof(want), "bad milter socket '%s': want "
		    "inet:PORT@ADDR, inet6:PORT@ADDR, inet:ADDR:PORT or "
		    "unix:PATH, numeric addresses", bad[i]);
		assert_string_equal(dk_error_last(), want);
	}
}

/*
 * The milter, played from recorded replies: every step continues, end of
 * message gets OpenDKIM's "451 4.7.0 resource unavailable".  Writes the
 * commands it saw to fd out, one byte each.
 */
static void
play(int lfd, int out)
{
	unsigned char buf[65536], reply[64];
	size_t len = 0, used;
	struct dk_milter_packet p;
	ssize_t n;
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	for (;;) {
		while (dk_milter_decode(buf, len, &p, &used) != 0) {
			if ((n = read(fd, buf + len, sizeof(buf) - len)) <= 0)
				_exit(0);
			len += (size_t)n;
		}
		(void)!write(out, &p.cmd, 1);
		if (p.cmd == 'O')
			(void)!write(fd, optneg_reply, sizeof(optneg_reply) -
			    1);
		else if (p.cmd == 'E') {
			/* cmd, 30 characters, NUL: 32 */
			memcpy(reply, "\x00\x00\x00\x20" "y"
			    "451 4.7.0 resource unavailable", 36);
			(void)!write(fd, reply, 36);
		} else if (p.cmd != 'D' && p.cmd != 'Q')
			(void)!write(fd, "\x00\x00\x00\x01" "c", 5);
		memmove(buf, buf + used, len - used);
		len -= used;
	}
}

static void
test_milter__tempfail(void **state)
{
	const char *names[] = { "From", "Subject" };
	const char *values[] = { "a@example.com", "t" };
	struct dk_milter_msg m = { "127.0.0.1", "localhost",
	    "<a@example.com>", "<b@example.net>", names, values, 2,
	    "hi\r\n" };
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	struct dk_milter_result r;
	char spec[128], seen[64];
	int lfd, pfd[2], st;
	size_t len;
	ssize_t n;
	pid_t pid;

	snprintf(su.sun_path, sizeof(su.sun_path), "/tmp/t_milter.%ld",
	    (long)getpid());
	snprintf(spec, sizeof(spec), "unix:%s", su.sun_path);
	unlink(su.sun_path);
	assert_int_not_equal(lfd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&su, sizeof(su)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		play(lfd, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	close(lfd);
	assert_int_equal(dk_milter_run(spec, &m, 2000, &r), 0);
	assert_int_equal(r.verdict, 'y');
	assert_string_equal(r.reply, "451 4.7.0 resource unavailable");
	assert_int_equal(r.nadded, 0);
	dk_milter_result_dispose(&r);
	/* Everything the milter saw: until it exits and the pipe ends. */
	len = 0;
	while (len < sizeof(seen) - 1 &&
	    (n = read(pfd[0], seen + len, sizeof(seen) - 1 - len)) > 0)
		len += (size_t)n;
	seen[len] = '\0';
	/*
	 * NOHELO and NODATA honoured: no 'H', no 'T'; macros before CONNECT
	 * and MAIL; two headers; QUIT after the verdict.
	 */
	assert_string_equal(seen, "ODCDMRLLNBEQ");
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(su.sun_path);
}

/* Nothing listening: the message an admin reads in check's output. */
static void
test_milter__refused(void **state)
{
	struct dk_milter_result r;
	struct dk_milter_msg m;
	char spec[128];

	memset(&m, 0, sizeof(m));
	snprintf(spec, sizeof(spec), "unix:/tmp/t_milter.none.%ld",
	    (long)getpid());
	assert_int_equal(dk_milter_run(spec, &m, 500, &r), -1);
	assert_non_null(strstr(dk_error_last(), "cannot connect to milter "
	    "'unix:/tmp/t_milter.none."));
	assert_non_null(strstr(dk_error_last(), "': No such file or "
	    "directory"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_milter__encode),
		cmocka_unit_test(test_milter__decode_optneg),
		cmocka_unit_test(test_milter__decode_eom),
		cmocka_unit_test(test_milter__decode_partial),
		cmocka_unit_test(test_milter__decode_bad),
		cmocka_unit_test(test_milter__header_bad),
		cmocka_unit_test(test_milter__bad_spec),
		cmocka_unit_test(test_milter__tempfail),
		cmocka_unit_test(test_milter__refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
