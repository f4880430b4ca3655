"""Twisted's side of coil's datagram interop tests (test/interop/datagram).

Usage: udp_peer.py MODE ARGS...
  echo HOST                     UDP echo server on HOST:0; prints "READY <port>" on stderr
  client HOST PORT COUNT        sends COUNT datagrams to HOST:PORT, exits 0 once all echoed
  unix-echo PATH                UNIX datagram echo server on PATH; prints "READY" on stderr
  unix-client PATH BIND COUNT   connectUNIXDatagram(PATH, bindAddress=BIND), as client
  mcast-listen GROUP            joins GROUP on 127.0.0.1 (port 0, listenMultiple); prints
                                "READY <port>"; answers the first datagram D by multicasting
                                "twisted:D" to GROUP and exits 0
  mcast-send GROUP PORT         multicasts "from-twisted" to GROUP:PORT via 127.0.0.1 every
                                50 ms until it hears "ack" back, then exits 0
Every mode gives up with exit status 1 after 10 seconds.
"""
import sys

from twisted.internet import reactor
from twisted.internet.protocol import ConnectedDatagramProtocol, DatagramProtocol

status = {"code": 1}


def finish(code):
    status["code"] = code
    if reactor.running:
        reactor.stop()


def ready(text):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class Echo(DatagramProtocol):
    def datagramReceived(self, data, addr):
        self.transport.write(data, addr)


class Client(DatagramProtocol):
    def __init__(self, host, port, count):
        self.target = (host, port)
        self.expected = {b"twisted-%d" % i for i in range(count)}

    def startProtocol(self):
        for message in sorted(self.expected):
            self.transport.write(message, self.target)

    def datagramReceived(self, data, addr):
        self.expected.discard(data)
        if not self.expected:
            finish(0)


class UnixClient(ConnectedDatagramProtocol):
    def __init__(self, count):
        self.expected = {b"twisted-unix-%d" % i for i in range(count)}

    def startProtocol(self):
        for message in sorted(self.expected):
            self.transport.write(message)

    def datagramReceived(self, data):
        self.expected.discard(data)
        if not self.expected:
            finish(0)

    def connectionFailed(self, reason):
        sys.stderr.write("connection failed: %s\n" % reason.getErrorMessage())
        finish(1)


class McastListen(DatagramProtocol):
    def __init__(self, group):
        self.group = group

    def startProtocol(self):
        self.transport.setOutgoingInterface("127.0.0.1")
        self.transport.joinGroup(self.group, "127.0.0.1").addCallback(
            lambda _: ready("READY %d" % self.transport.getHost().port)
        )

    def datagramReceived(self, data, addr):
        if data.startswith(b"twisted:"):
            return  # our own answer, looped back
        self.transport.write(b"twisted:" + data, (self.group, addr[1]))
        reactor.callLater(0.2, finish, 0)


class McastSend(DatagramProtocol):
    def __init__(self, group, port):
        self.target = (group, port)

    def startProtocol(self):
        self.transport.setOutgoingInterface("127.0.0.1")
        self.send()

    def send(self):
        self.transport.write(b"from-twisted", self.target)
        self.call = reactor.callLater(0.05, self.send)

    def datagramReceived(self, data, addr):
        if data == b"ack":
            self.call.cancel()
            finish(0)


def main(argv):
    mode = argv[1]
    if mode == "echo":
        port = reactor.listenUDP(0, Echo(), interface=argv[2])
        ready("READY %d" % port.getHost().port)
    elif mode == "client":
        reactor.listenUDP(0, Client(argv[2], int(argv[3]), int(argv[4])),
                          interface=argv[2])
    elif mode == "unix-echo":
        reactor.listenUNIXDatagram(argv[2], Echo())
        ready("READY")
    elif mode == "unix-client":
        reactor.connectUNIXDatagram(argv[2], UnixClient(int(argv[4])), bindAddress=argv[3])
    elif mode == "mcast-listen":
        reactor.listenMulticast(0, McastListen(argv[2]), listenMultiple=True)
    elif mode == "mcast-send":
        reactor.listenMulticast(0, McastSend(argv[2], int(argv[3])))
    else:
        sys.stderr.write("unknown mode %s\n" % mode)
        return 2
    reactor.callLater(10, finish, 1)
    reactor.run()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
