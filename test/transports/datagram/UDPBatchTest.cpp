// Write batching of UDP ports on every backend: replies written inside datagramReceived() of a
// read that returned several datagrams leave by one sendmmsg() when the batch's deliveries end,
// in the order written; every other write leaves at once (DatagramPortBase's class comment).
// Tests: transports/udp/DatagramPortBase.cpp, UDPPort.cpp, MulticastPort.cpp
#include <test/transports/datagram/DatagramTesting.hpp>

#include <coil/core/IFileDescriptor.hpp>
#include <coil/transports/udp/UDPPort.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using coil::Address;
using coil::UDPPort;
using coil::test::kWaitMs;
using coil::test::Peer;
using coil::test::portOf;
using coil::test::ReactorBuilder;
using coil::test::RecordingDatagram;
using coil::test::stopAndWait;
using coil::test::udp;
namespace detail = coil::detail;

namespace {

std::string tag(int peer, int round) {
  return std::to_string(peer) + ":" + std::to_string(round);
}

// Three peers send `rounds` datagrams each, interleaved, before the reactor reads; the server
// echoes each to its sender with a prefix. Every peer gets its own echoes, all of them, in order,
// from the server's address; and some were queued (the batch path ran).
void checkOrderedEchoes(ReactorBuilder& b, coil::IUDPPort& port, RecordingDatagram& server,
                        const char* host, int rounds) {
  std::size_t mostQueued = 0;
  server.onDatagram = [&](std::string_view data, const Address& from) {
    port.write("re:" + std::string(data), from);
    mostQueued = std::max(mostQueued, udp(port).pendingWrites());
  };
  std::vector<Peer> peers;
  for (int p = 0; p < 3; ++p) peers.emplace_back(host);
  for (int r = 0; r < rounds; ++r)
    for (int p = 0; p < 3; ++p)
      peers[static_cast<std::size_t>(p)].sendTo(portOf(port.getHost()), tag(p, r));
  std::size_t total = static_cast<std::size_t>(3 * rounds);
  BOOST_TEST_REQUIRE(b.iterateUntil([&] { return server.received.size() == total; }));
  BOOST_TEST(mostQueued >= 2u);
  Address replier = port.getHost();
  if (const auto* v4 = std::get_if<coil::IPv4Address>(&replier); v4 && v4->host == "0.0.0.0")
    replier = coil::IPv4Address{"UDP", "127.0.0.1", v4->port};
  for (int p = 0; p < 3; ++p) {
    std::vector<std::string> expected;
    for (int r = 0; r < rounds; ++r) expected.push_back("re:" + tag(p, r));
    std::vector<std::string> got = peers[static_cast<std::size_t>(p)].drain(replier);
    BOOST_TEST(got == expected, boost::test_tools::per_element());
  }
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(UDPBatch, ReactorBuilder)

COIL_TEST_CASE(repliesInsideABatchArriveInOrderFromEverySender) {
  for (const char* host : {"127.0.0.1", "::1"}) {
    auto server = std::make_shared<RecordingDatagram>();
    auto port = reactor().listenUDP(0, server, host, 1024);  // 16 datagrams per recvmmsg()
    checkOrderedEchoes(*this, *port, *server, host, 6);
    stopAndWait(*this, *port);
  }
}

COIL_TEST_CASE(multicastPortBatchesRepliesToo) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenMulticast(0, server, "", 1024);
  checkOrderedEchoes(*this, *port, *server, "127.0.0.1", 4);
  // A multicast control sends the queue first.
  std::vector<std::size_t> queued;
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write("re:" + std::string(data), from);
    queued.push_back(udp(*port).pendingWrites());
    if (data != "b") return;
    port->setTTL(2);
    queued.push_back(udp(*port).pendingWrites());
  };
  Peer peer("127.0.0.1");
  for (const char* d : {"a", "b", "c"}) peer.sendTo(portOf(port->getHost()), d);
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 4 * 3 + 3; }));
  std::vector<std::size_t> expectQueued{1, 2, 0, 1};
  BOOST_TEST(queued == expectQueued, boost::test_tools::per_element());
  std::vector<std::string> expected{"re:a", "re:b", "re:c"};
  std::vector<std::string> got =
      peer.drain(coil::IPv4Address{"UDP", "127.0.0.1", portOf(port->getHost())});
  BOOST_TEST(got == expected, boost::test_tools::per_element());
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(connectInsideABatchSendsTheQueueFirst) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  Peer peer("127.0.0.1");
  std::vector<std::string> seenAtConnect;
  std::vector<std::size_t> queued;
  server->onDatagram = [&](std::string_view data, const Address& from) {
    if (udp(*port).isConnected()) {
      port->write("re:" + std::string(data));
    } else {
      port->write("re:" + std::string(data), from);
    }
    queued.push_back(udp(*port).pendingWrites());
    if (data != "1") return;
    port->connect("127.0.0.1", peer.port());
    queued.push_back(udp(*port).pendingWrites());
    seenAtConnect = peer.drain(port->getHost());
  };
  for (int i = 0; i < 3; ++i) peer.sendTo(portOf(port->getHost()), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 3; }));
  std::vector<std::size_t> expectQueued{1, 2, 0, 1};
  BOOST_TEST(queued == expectQueued, boost::test_tools::per_element());
  std::vector<std::string> expectSeen{"re:0", "re:1"};
  BOOST_TEST(seenAtConnect == expectSeen, boost::test_tools::per_element());
  std::vector<std::string> rest = peer.drain(port->getHost());
  BOOST_TEST(rest == std::vector<std::string>{"re:2"}, boost::test_tools::per_element());
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(moreWritesThanABatchHoldsKeepTheirOrder) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1", 1024);
  std::size_t mostQueued = 0;
  server->onDatagram = [&](std::string_view data, const Address& from) {
    for (char c : {'a', 'b', 'c'}) {
      port->write(std::string(1, c) + std::string(data), from);
      mostQueued = std::max(mostQueued, udp(*port).pendingWrites());
    }
  };
  Peer peer("127.0.0.1");
  for (int i = 0; i < 16; ++i) peer.sendTo(portOf(port->getHost()), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 16; }));
  // 48 writes: the batch was sent when full and again at the end.
  BOOST_TEST(mostQueued == UDPPort::kWriteBatch - 1);
  std::vector<std::string> expected;
  for (int i = 0; i < 16; ++i)
    for (char c : {'a', 'b', 'c'}) expected.push_back(std::string(1, c) + std::to_string(i));
  std::vector<std::string> got = peer.drain(port->getHost());
  BOOST_TEST(got == expected, boost::test_tools::per_element());
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(bigDatagramAmongSmallOnesKeepsTheOrder) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "::1");
  std::vector<std::size_t> queued;
  server->onDatagram = [&](std::string_view data, const Address& from) {
    std::string i(data);
    for (std::string reply : {"a" + i, std::string(UDPPort::kMaxQueuedDatagram + 1, i[0]),
                              std::string(UDPPort::kMaxQueuedDatagram, i[0]), "c" + i}) {
      port->write(reply, from);
      queued.push_back(udp(*port).pendingWrites());
    }
  };
  Peer peer("::1");
  for (int i = 0; i < 4; ++i) peer.sendTo(portOf(port->getHost()), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 4; }));
  // The 513-byte write sent what was queued, then itself; 512 bytes may still queue.
  std::vector<std::size_t> expectQueued{1, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2};
  BOOST_TEST(queued == expectQueued, boost::test_tools::per_element());
  std::vector<std::string> expected;
  for (int n = 0; n < 4; ++n) {
    std::string i = std::to_string(n);
    expected.push_back("a" + i);
    expected.push_back(std::string(UDPPort::kMaxQueuedDatagram + 1, i[0]));
    expected.push_back(std::string(UDPPort::kMaxQueuedDatagram, i[0]));
    expected.push_back("c" + i);
  }
  std::vector<std::string> got = peer.drain(port->getHost());
  BOOST_TEST(got == expected, boost::test_tools::per_element());
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(stopListeningInsideABatchSendsWhatWasWrittenBefore) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  Address host = port->getHost();
  Peer peer("127.0.0.1");
  bool stopped = false;
  std::vector<std::string> seenAtStop;
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write("re:" + std::string(data), from);
    if (data != "2") return;
    BOOST_TEST(udp(*port).pendingWrites() == 3u);
    port->stopListening().addCallback([&] { stopped = true; });
    BOOST_TEST(udp(*port).pendingWrites() == 0u);
    seenAtStop = peer.drain(host);    // sent by stopListening(), before it returned
    port->write("after stop", from);  // the socket is open until the close
  };
  for (int i = 0; i < 5; ++i) peer.sendTo(portOf(host), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return stopped; }));
  BOOST_TEST(server->received.size() == 3u);  // reading stopped at once
  std::vector<std::string> expected{"re:0", "re:1", "re:2"};
  BOOST_TEST(seenAtStop == expected, boost::test_tools::per_element());
  std::vector<std::string> rest = peer.drain(host);
  BOOST_TEST(rest == std::vector<std::string>{"after stop"}, boost::test_tools::per_element());
  BOOST_TEST(server->stops == 1);
}

COIL_TEST_CASE(connectionLostInsideABatchSendsWhatWasWrittenBefore) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  Address host = port->getHost();
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write("re:" + std::string(data), from);
    if (data != "1") return;
    // What the reactor does with a reader that failed: remove it, then connectionLost().
    auto& fd = dynamic_cast<coil::IFileDescriptor&>(*port);
    reactor().removeReader(&fd);
    fd.connectionLost(coil::Failure(coil::error::ConnectionLost()));
  };
  Peer peer("127.0.0.1");
  for (int i = 0; i < 4; ++i) peer.sendTo(portOf(host), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->stops == 1; }));
  BOOST_TEST(server->received.size() == 2u);
  std::vector<std::string> expected{"re:0", "re:1"};
  std::vector<std::string> got = peer.drain(host);
  BOOST_TEST(got == expected, boost::test_tools::per_element());
}

COIL_TEST_CASE(connectedPortRepliesInsideABatchInOrder) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  Peer peer("127.0.0.1");
  port->connect("127.0.0.1", peer.port());
  std::size_t mostQueued = 0;
  server->onDatagram = [&](std::string_view data, const Address&) {
    port->write("re:" + std::string(data));
    mostQueued = std::max(mostQueued, udp(*port).pendingWrites());
  };
  for (int i = 0; i < 6; ++i) peer.sendTo(portOf(port->getHost()), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 6; }));
  BOOST_TEST(mostQueued >= 2u);
  std::vector<std::string> expected{"re:0", "re:1", "re:2", "re:3", "re:4", "re:5"};
  std::vector<std::string> got = peer.drain(port->getHost());
  BOOST_TEST(got == expected, boost::test_tools::per_element());
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(connectedRefusalAtTheBatchsEndCallsConnectionRefused) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  Peer peer("127.0.0.1");
  port->connect("127.0.0.1", peer.port());
  bool pendingError = false;
  server->onDatagram = [&](std::string_view data, const Address&) {
    port->write("re:" + std::string(data));
    if (data != "0") return;
    // Changing an option sends the queue: "re:0" meets the closed peer, and the ICMP answer
    // leaves ECONNREFUSED pending on the socket (POLLERR shows it without taking it).
    port->setBroadcastAllowed(false);
    pollfd p{dynamic_cast<coil::IFileDescriptor&>(*port).fileno(), 0, 0};
    pendingError = ::poll(&p, 1, kWaitMs) == 1 && (p.revents & POLLERR) != 0;
    port->write("re:0 again");  // queued: the batch's sendmmsg() meets the refusal first
  };
  for (int i = 0; i < 3; ++i) peer.sendTo(portOf(port->getHost()), std::to_string(i));
  peer.close();
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 3; }));
  BOOST_TEST_REQUIRE(pendingError);
  // Reported by the flush at the end of that same read, not by a later one.
  BOOST_TEST(server->refused >= 1);
  BOOST_TEST(reactor().getReaders().size() == 1u);  // the port goes on
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(writesOutsideABatchLeaveAtOnce) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  Peer peer("127.0.0.1");
  Peer third("127.0.0.1");
  // Outside any read: the peer has it before the reactor runs again.
  port->write("now", peer.address());
  BOOST_TEST(peer.receive(kWaitMs).value_or("(nothing)") == "now");
  std::vector<std::string> seenInside;
  std::vector<std::size_t> queued;
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write("re:" + std::string(data), from);
    queued.push_back(udp(*port).pendingWrites());
    // Another destination than the sender: sent at once, even inside a batch.
    port->write("fwd:" + std::string(data), third.address());
    queued.push_back(udp(*port).pendingWrites());
    if (std::optional<std::string> d = third.receive(kWaitMs)) seenInside.push_back(*d);
    if (data == "single") {
      if (std::optional<std::string> d = peer.receive(kWaitMs)) seenInside.push_back(*d);
    }
  };
  // A read of one datagram: its reply leaves at once.
  peer.sendTo(portOf(port->getHost()), "single");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  // A read of two: the replies to the sender are queued, the forwards are not.
  peer.sendTo(portOf(port->getHost()), "x");
  peer.sendTo(portOf(port->getHost()), "y");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 3; }));
  std::vector<std::string> expectSeen{"fwd:single", "re:single", "fwd:x", "fwd:y"};
  BOOST_TEST(seenInside == expectSeen, boost::test_tools::per_element());
  std::vector<std::size_t> expectQueued{0, 0, 1, 0, 1, 0};
  BOOST_TEST(queued == expectQueued, boost::test_tools::per_element());
  std::vector<std::string> replies = peer.drain(port->getHost());
  std::vector<std::string> expectReplies{"re:x", "re:y"};
  BOOST_TEST(replies == expectReplies, boost::test_tools::per_element());
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(sendErrorAtTheFlushIsLoggedWithTheDestination) {
  coil::test::LogCapture logs;
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  int fd = dynamic_cast<coil::IFileDescriptor&>(*port).fileno();
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write("re:" + std::string(data), from);
    // No more sending on this socket (EPIPE from now on); reading goes on.
    if (data == "2") ::shutdown(fd, SHUT_WR);
  };
  Peer peer("127.0.0.1");
  for (int i = 0; i < 3; ++i) peer.sendTo(portOf(port->getHost()), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 3; }));
  // Every queued write was tried and each failure logged with its destination.
  std::string where = "batched datagram write to " + coil::toString(peer.address());
  BOOST_TEST(logs.count(where) == 3u);
  BOOST_TEST(logs.count("Broken pipe") == 3u);
  BOOST_TEST(peer.drain(port->getHost()).empty());
  // Outside a batch the same error is thrown by write(), as before.
  try {
    port->write("x", peer.address());
    BOOST_ERROR("a write after SHUT_WR succeeded");
  } catch (const coil::Error& e) {
    BOOST_TEST(e.code().value() == EPIPE);
  }
  peer.sendTo(portOf(port->getHost()), "still reading");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 4; }));
  stopAndWait(*this, *port);
}

BOOST_AUTO_TEST_SUITE_END()
