// Connected UDP on every backend: connect() once, write() to the peer, refusals (spec §4).
// Tests: transports/udp/UDPPort.cpp
#include <coil/transports/udp/UDPPort.hpp>
#include <test/transports/datagram/DatagramTesting.hpp>

#include <cerrno>
#include <memory>
#include <string>

using coil::Address;
using coil::IPv4Address;
using coil::test::portOf;
using coil::test::ReactorBuilder;
using coil::test::RecordingDatagram;
using coil::test::stopAndWait;
namespace error = coil::error;

BOOST_FIXTURE_TEST_SUITE(ConnectedUDP, ReactorBuilder)

COIL_TEST_CASE(connectedPortWritesToItsPeerOnly) {
  auto server = std::make_shared<RecordingDatagram>();
  auto client = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUDP(0, server, "127.0.0.1");
  auto c = reactor().listenUDP(0, client, "127.0.0.1");
  auto other = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  c->connect("127.0.0.1", portOf(s->getHost()));
  c->write("to peer");
  c->write("also", IPv4Address{"UDP", "127.0.0.1", portOf(s->getHost())});
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 2; }));
  BOOST_TEST(server->received[0].data == "to peer");
  // Only the peer's datagrams reach a connected socket: "stranger" is filtered by the kernel,
  // so the first datagram after it is the peer's.
  other->write("stranger", c->getHost());
  s->write("reply", c->getHost());
  BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 1; }));
  BOOST_TEST(client->received[0].data == "reply");
  BOOST_CHECK_THROW(c->write("x", IPv4Address{"UDP", "127.0.0.1", portOf(other->getHost())}),
                    coil::LogicError);
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
  stopAndWait(*this, *other);
}

COIL_TEST_CASE(connectOnlyOnceAndOnlyToLiterals) {
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  BOOST_CHECK_THROW(c->connect("localhost", 9), error::InvalidAddressError);
  BOOST_CHECK_THROW(c->connect("::1", 9), error::InvalidAddressError);
  BOOST_TEST(!dynamic_cast<coil::UDPPort&>(*c).isConnected());
  c->connect("127.0.0.1", 9);
  BOOST_CHECK_THROW(c->connect("127.0.0.1", 10), coil::LogicError);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(refusalCallsConnectionRefused) {
  auto gone = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  int dead = portOf(gone->getHost());
  stopAndWait(*this, *gone);
  auto client = std::make_shared<RecordingDatagram>();
  auto c = reactor().listenUDP(0, client, "127.0.0.1");
  c->connect("127.0.0.1", dead);
  // The ICMP answer arrives as a read error or as the next write's error.
  BOOST_TEST_REQUIRE(iterateUntil([&] {
    c->write("anyone?");
    return client->refused > 0;
  }));
  // A refusal is not the end of the port: it still reads.
  BOOST_TEST(reactor().getReaders().size() == 1u);
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUDP(dead, server, "127.0.0.1");
  BOOST_TEST_REQUIRE(iterateUntil([&] {
    c->write("now?");
    return !server->received.empty();
  }));
  s->write("yes", c->getHost());
  BOOST_TEST_REQUIRE(iterateUntil([&] { return !client->received.empty(); }));
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(connectSurvivesRelisten) {
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUDP(0, server, "127.0.0.1");
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  c->connect("127.0.0.1", portOf(s->getHost()));
  stopAndWait(*this, *c);
  c->startListening();
  c->write("again");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

BOOST_AUTO_TEST_SUITE_END()
