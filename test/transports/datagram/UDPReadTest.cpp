// The UDP read path on every backend: batches sized by count within the byte budget, single
// reads for a peer that waits for each reply and batches again when datagrams queue up, the
// per-thread receive buffers shared by ports of different maxPacketSize (and a nested read
// while they are in use), and the sender cache with more senders than it keeps.
// Tests: transports/udp/DatagramPortBase.cpp, SenderCache.cpp
#include <test/transports/datagram/DatagramTesting.hpp>

#include <coil/transports/udp/UDPPort.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using coil::Address;
using coil::test::kWaitMs;
using coil::test::Peer;
using coil::test::portOf;
using coil::test::ReactorBuilder;
using coil::test::RecordingDatagram;
using coil::test::stopAndWait;
using coil::test::udp;
namespace detail = coil::detail;

BOOST_FIXTURE_TEST_SUITE(UDPRead, ReactorBuilder)

COIL_TEST_CASE(smallDatagramsComeInBatchesOfMoreThanEight) {
  // 8192-byte slots, 256 KiB per read: 32 datagrams fit one recvmmsg() (64 KiB fitted 8).
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  std::size_t mostQueued = 0;
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write(data, from);
    mostQueued = std::max(mostQueued, udp(*port).pendingWrites());
  };
  Peer peer("127.0.0.1");
  for (int i = 0; i < 20; ++i) peer.sendTo(portOf(port->getHost()), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 20; }));
  // The twenty were queued before the reactor read (loopback delivers within sendto()): one
  // read took them all, so every reply waited for one sendmmsg().
  BOOST_TEST(mostQueued > 8u);
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(peer.receive(kWaitMs).value_or("(nothing)") == std::to_string(i));
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(aPortThatGotOneDatagramPerEventBatchesAgainOnceTheyQueueUp) {
  // A peer that waits for each reply: every event holds one datagram, so the port starts its
  // events with a read of one. When datagrams queue up again, it must deliver every one, in
  // order, and go back to reading them in batches within a few events.
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  std::vector<std::size_t> queued;  // pendingWrites() after each reply
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write("re:" + std::string(data), from);
    queued.push_back(udp(*port).pendingWrites());
  };
  Peer peer("127.0.0.1");
  const std::size_t pingPong = 40, burst = 60;
  for (std::size_t i = 0; i < pingPong; ++i) {
    peer.sendTo(portOf(port->getHost()), std::to_string(i));
    BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == i + 1; }));
    BOOST_TEST_REQUIRE(peer.receive(kWaitMs).value_or("(nothing)") == "re:" + std::to_string(i));
  }
  BOOST_TEST(std::count(queued.begin(), queued.end(), 0u) == std::ptrdiff_t(pingPong));
  for (std::size_t i = pingPong; i < pingPong + burst; ++i)
    peer.sendTo(portOf(port->getHost()), std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == pingPong + burst; }));
  for (std::size_t i = 0; i < pingPong + burst; ++i) {
    BOOST_TEST(server->received[i].data == std::to_string(i));
    if (i >= pingPong)
      BOOST_TEST(peer.receive(kWaitMs).value_or("(nothing)") == "re:" + std::to_string(i));
  }
  // The burst was read in batches again (a reply queued behind another), after at most a
  // score of single reads.
  auto burstQueued =
      std::vector<std::size_t>(queued.begin() + std::ptrdiff_t(pingPong), queued.end());
  auto firstBatched =
      std::find_if(burstQueued.begin(), burstQueued.end(), [](std::size_t n) { return n > 1; });
  std::ptrdiff_t singlesFirst = firstBatched - burstQueued.begin();
  BOOST_TEST(singlesFirst <= 20);
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(portsOfDifferentSizesShareTheReadBuffersWholeAndTruncated) {
  auto small = std::make_shared<RecordingDatagram>();
  auto big = std::make_shared<RecordingDatagram>();
  auto smallPort = reactor().listenUDP(0, small, "127.0.0.1", 100);
  auto bigPort = reactor().listenUDP(0, big, "127.0.0.1", 3000);
  Peer peer("127.0.0.1");
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) {
      peer.sendTo(portOf(smallPort->getHost()), std::string(150, static_cast<char>('a' + i)));
      peer.sendTo(portOf(bigPort->getHost()), std::string(2900, static_cast<char>('k' + i)));
    }
    std::size_t want = static_cast<std::size_t>(5 * (round + 1));
    BOOST_TEST_REQUIRE(iterateUntil(
        [&] { return small->received.size() == want && big->received.size() == want; }));
  }
  for (std::size_t i = 0; i < small->received.size(); ++i) {
    char c = static_cast<char>('a' + i % 5);
    BOOST_TEST(small->received[i].data == std::string(100, c));  // truncated to maxPacketSize
    BOOST_TEST(big->received[i].data == std::string(2900, static_cast<char>('k' + i % 5)));
    BOOST_TEST(small->received[i].from == peer.address());
    BOOST_TEST(big->received[i].from == peer.address());
  }
  stopAndWait(*this, *smallPort);
  stopAndWait(*this, *bigPort);
}

COIL_TEST_CASE(aNestedReadLeavesTheBatchBeingDeliveredIntact) {
  // Port A's datagramReceived() iterates the reactor, which reads port B meanwhile: A's
  // datagrams (in the thread's buffers) must come out as they were sent.
  auto a = std::make_shared<RecordingDatagram>();
  auto b = std::make_shared<RecordingDatagram>();
  auto portA = reactor().listenUDP(0, a, "127.0.0.1");
  auto portB = reactor().listenUDP(0, b, "127.0.0.1");
  Peer peer("127.0.0.1");
  bool nested = false;
  a->onDatagram = [&](std::string_view data, const Address&) {
    if (nested) return;
    nested = true;
    std::string before(data);
    for (int i = 0; i < 20 && b->received.size() < 3; ++i) reactor().iterate(0.05);
    BOOST_TEST(b->received.size() == 3u);  // B was read meanwhile
    BOOST_TEST(std::string(data) == before);
  };
  // A is readable first, so its event is handled first; B waits for the nested iteration.
  for (int i = 0; i < 3; ++i) peer.sendTo(portOf(portA->getHost()), "a" + std::to_string(i));
  for (int i = 0; i < 3; ++i) peer.sendTo(portOf(portB->getHost()), "b" + std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return a->received.size() == 3; }));
  BOOST_TEST_REQUIRE(b->received.size() == 3u);
  std::vector<std::string> gotA, gotB;
  for (const RecordingDatagram::Received& r : a->received) gotA.push_back(r.data);
  for (const RecordingDatagram::Received& r : b->received) gotB.push_back(r.data);
  std::sort(gotA.begin(), gotA.end());  // a nested read of A itself may deliver out of order
  std::vector<std::string> expectA{"a0", "a1", "a2"}, expectB{"b0", "b1", "b2"};
  BOOST_TEST(gotA == expectA, boost::test_tools::per_element());
  BOOST_TEST(gotB == expectB, boost::test_tools::per_element());
  stopAndWait(*this, *portA);
  stopAndWait(*this, *portB);
}

COIL_TEST_CASE(moreSendersThanTheCacheKeepsEachGetTheirOwnAddressAndReply) {
  auto server = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, server, "127.0.0.1");
  server->onDatagram = [&](std::string_view data, const Address& from) {
    port->write("re:" + std::string(data), from);
  };
  const std::size_t count = detail::SenderCache::kEntries + 40;  // the cache starts over
  std::vector<std::unique_ptr<Peer>> peers;
  for (std::size_t i = 0; i < count; ++i) peers.push_back(std::make_unique<Peer>("127.0.0.1"));
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < count; ++i)
      peers[i]->sendTo(portOf(port->getHost()), std::to_string(i));
    std::size_t want = count * static_cast<std::size_t>(round + 1);
    BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == want; }));
    for (std::size_t i = 0; i < count; ++i)
      BOOST_TEST(peers[i]->receive(kWaitMs).value_or("(nothing)") == "re:" + std::to_string(i));
  }
  for (const RecordingDatagram::Received& r : server->received) {
    std::size_t i = std::stoul(r.data);
    BOOST_TEST(r.from == peers[i]->address());
  }
  stopAndWait(*this, *port);
}

BOOST_AUTO_TEST_SUITE_END()
