"""A Twisted echo client, a peer for coil's stream interoperability tests.

Usage: /usr/bin/python3 echo_client.py tcp PORT  IN OUT SIZES
       /usr/bin/python3 echo_client.py unix PATH IN OUT SIZES

Connects to 127.0.0.1:PORT (or the UNIX socket PATH), splits the bytes of file IN into messages
of the comma-separated SIZES (whatever is left over is one more message), sends them one at a
time, waiting for each to be echoed unchanged before sending the next, writes every byte
received to file OUT and closes. Exit status: 0 all echoed, 2 could not connect, 3 connection
lost early, 4 timed out (30 s), 5 an echo differed.
"""

import sys

from twisted.internet import protocol, reactor

result = {"status": 4}


def finish(status, message=None):
    if message:
        sys.stderr.write("echo_client: %s\n" % message)
    if result["status"] == 4:
        result["status"] = status
    if reactor.running:
        reactor.stop()


class Sender(protocol.Protocol):
    def __init__(self, messages, out):
        self.messages = messages
        self.out = out
        self.index = 0
        self.pending = b""
        self.received = []

    def connectionMade(self):
        self.transport.write(self.messages[0])

    def dataReceived(self, data):
        self.received.append(data)
        self.pending += data
        expected = self.messages[self.index]
        if len(self.pending) < len(expected):
            return
        if self.pending != expected:
            finish(5, "echo %d differs (%d bytes back, %d sent)"
                   % (self.index, len(self.pending), len(expected)))
            return
        self.pending = b""
        self.index += 1
        if self.index == len(self.messages):
            with open(self.out, "wb") as f:
                f.write(b"".join(self.received))
            self.transport.loseConnection()
        else:
            self.transport.write(self.messages[self.index])

    def connectionLost(self, reason):
        if self.index == len(self.messages):
            finish(0)
        else:
            finish(3, "lost after %d of %d messages: %s"
                   % (self.index, len(self.messages), reason.getErrorMessage()))


class SenderFactory(protocol.ClientFactory):
    noisy = False

    def __init__(self, messages, out):
        self.messages = messages
        self.out = out

    def buildProtocol(self, addr):
        return Sender(self.messages, self.out)

    def clientConnectionFailed(self, connector, reason):
        finish(2, "cannot connect: %s" % reason.getErrorMessage())


def split(payload, sizes):
    messages, at = [], 0
    for size in sizes:
        messages.append(payload[at:at + size])
        at += size
    if at < len(payload):
        messages.append(payload[at:])
    return [m for m in messages if m]


def main(argv):
    if len(argv) != 6 or argv[1] not in ("tcp", "unix"):
        sys.stderr.write(__doc__)
        return 64
    kind, where, inPath, outPath, sizes = argv[1:]
    with open(inPath, "rb") as f:
        messages = split(f.read(), [int(s) for s in sizes.split(",") if s])
    if not messages:
        sys.stderr.write("echo_client: nothing to send\n")
        return 64
    factory = SenderFactory(messages, outPath)
    if kind == "tcp":
        reactor.connectTCP("127.0.0.1", int(where), factory, timeout=10)
    else:
        reactor.connectUNIX(where, factory, timeout=10)
    reactor.callLater(30, finish, 4, "timed out")
    reactor.run()
    return result["status"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
