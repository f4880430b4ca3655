"""A Twisted echo server, a peer for coil's stream interoperability tests.

Usage: /usr/bin/python3 echo_server.py tcp          (prints the port it listens on)
       /usr/bin/python3 echo_server.py unix PATH    (prints PATH once listening)

It serves twisted.protocols.wire.Echo on 127.0.0.1, port 0 (or on the UNIX socket PATH) and
exits when its standard input closes (the test went away) or after 60 seconds.
"""

import sys

from twisted.internet import protocol, reactor, stdio
from twisted.protocols import wire


class StopOnEOF(protocol.Protocol):
    """Stops the reactor when standard input closes."""

    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()


def main(argv):
    factory = protocol.Factory.forProtocol(wire.Echo)
    factory.noisy = False
    if len(argv) == 2 and argv[1] == "tcp":
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        print(port.getHost().port, flush=True)
    elif len(argv) == 3 and argv[1] == "unix":
        reactor.listenUNIX(argv[2], factory)
        print(argv[2], flush=True)
    else:
        sys.stderr.write(__doc__)
        return 2
    stdio.StandardIO(StopOnEOF())
    reactor.callLater(60, reactor.stop)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
