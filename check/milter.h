/*
 * A milter-protocol client (version 6, as Sendmail's libmilter and
 * Postfix speak it) for `dkimrot check --milter` (docs/design.md §12):
 * hands one message to a running signing milter, as an MTA would, and
 * collects the header fields it adds at end-of-message.
 *
 * Every packet, both ways: a 4-byte length in network order (the
 * command byte and the data), the command byte, the data.
 */
#ifndef DK_MILTER_H
#define DK_MILTER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* A packet longer than this is refused (libmilter's is 64 KiB + 1). */
#define DK_MILTER_PACKET_MAX	(256u * 1024)
/* More bytes needed (dk_milter_decode). */
#define DK_MILTER_EMORE		1

struct dk_milter_packet {
	char			 cmd;
	const unsigned char	*data;	/* into the decoded buffer */
	size_t			 len;
};

/* Appends one packet. */
int	dk_milter_encode(struct dk_buf *b, char cmd, const void *data,
	    size_t len);
/*
 * The packet at the start of buf (len bytes): 0 with out and *used (the
 * bytes it took), DK_MILTER_EMORE when buf holds only part of it, -1 for
 * a length of 0 or over DK_MILTER_PACKET_MAX (message in dk_error_last()).
 */
int	dk_milter_decode(const unsigned char *buf, size_t len,
	    struct dk_milter_packet *out, size_t *used);
/*
 * The name and value of an add-header ('h': NAME NUL VALUE NUL) or
 * insert-header ('i': a 4-byte index, then the same) packet, pointing
 * into it; -1 when it is malformed (no NUL, an empty name, bytes after).
 */
int	dk_milter_header(const struct dk_milter_packet *p, const char **name,
	    const char **value);

/* What the client sends: one SMTP transaction from a client address. */
struct dk_milter_msg {
	const char	*client_addr;	/* numeric IPv4 */
	const char	*helo;
	const char	*mail_from;	/* "<a@b>" */
	const char	*rcpt_to;
	const char	*const *hdr_names;
	const char	*const *hdr_values;
	size_t		 nhdrs;
	const char	*body;		/* CRLF lines */
};

struct dk_milter_added {
	char	*name;
	char	*value;
};

struct dk_milter_result {
	/*
	 * The milter's final word at end-of-message: 'a' accept, 'c'
	 * continue, 't' tempfail, 'r' reject, 'd' discard, 'y' a reply
	 * code of its own; or the step where it said other than continue.
	 */
	char			 verdict;
	/* "451 4.7.0 resource unavailable", "tempfail", ... */
	char			 reply[256];
	struct dk_milter_added	*added;	/* header fields it added */
	size_t			 nadded;
};

/*
 * Runs msg through the milter at spec, OpenDKIM's form
 * ("inet:PORT@ADDR", "inet6:PORT@ADDR", "unix:PATH", "local:PATH") or
 * Postfix's ("inet:ADDR:PORT"), numeric addresses only, waiting at most
 * timeout_ms for each reply.  0 when the conversation ran to its end
 * (whatever the verdict), DK_EUSAGE for a bad spec, -1 when the milter
 * cannot be reached or breaks the protocol ("cannot connect to milter
 * 'inet:8891@127.0.0.1': Connection refused").
 */
/* 0 when spec is a socket dk_milter_run() takes, else DK_EUSAGE. */
int	dk_milter_spec_check(const char *spec);
int	dk_milter_run(const char *spec, const struct dk_milter_msg *msg,
	    int timeout_ms, struct dk_milter_result *out);
void	dk_milter_result_dispose(struct dk_milter_result *);

#endif
