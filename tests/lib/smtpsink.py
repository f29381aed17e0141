"""A small SMTP sink for the mail tests: accepts every message on
127.0.0.1 and writes each, as received (CRLF line ends), to
DIR/NNN.eml, numbered from 1 in arrival order.

    python3 smtpsink.py DIR &

It binds a port of the kernel's choosing and writes it to DIR/port once
it listens, and its pid to DIR/pid; SIGTERM stops it.  Needs aiosmtpd.
"""
import asyncio
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, d):
        self.dir = d
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        data = envelope.original_content
        name = os.path.join(self.dir, "%03d.eml" % self.n)
        with open(name + ".tmp", "wb") as f:
            f.write(data)
        os.rename(name + ".tmp", name)
        return "250 OK"


async def main(d):
    loop = asyncio.get_running_loop()
    sink = Sink(d)
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.dkimrot.test",
                     decode_data=False),
        host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    with open(os.path.join(d, "pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
