// IPv4 multicast on every backend, over loopback (the outgoing interface pinned to 127.0.0.1,
// since the default route would send group traffic out of another interface) (spec §4).
// Tests: transports/udp/MulticastPort.cpp
#include <test/support/DeferredTesting.hpp>
#include <test/transports/datagram/DatagramTesting.hpp>

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

using coil::Address;
using coil::IPv4Address;
using coil::test::portOf;
using coil::test::ReactorBuilder;
using coil::test::RecordingDatagram;
using coil::test::stopAndWait;
using coil::test::successResultOf;
namespace error = coil::error;

namespace {

// A group of this process's own (suites for other backends may run at the same time).
const std::string kGroupText =
    "225.1." + std::to_string((::getpid() >> 8) & 255) + "." + std::to_string(::getpid() & 255);
const char* const kGroup = kGroupText.c_str();

// True when the kernel lists `group` as joined on `lo` (/proc/net/igmp).
bool loopbackHasGroup(const std::string& group) {
  in_addr a{};
  ::inet_pton(AF_INET, group.c_str(), &a);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08X", a.s_addr);
  std::ifstream in("/proc/net/igmp");
  std::string line;
  bool inLo = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '\t')
      inLo = line.find("lo ") != std::string::npos;
    else if (inLo && line.find(hex) != std::string::npos)
      return true;
  }
  return false;
}

// A sender whose multicast leaves through loopback.
std::shared_ptr<coil::IMulticastPort> loopbackSender(coil::ReactorBase& reactor,
                                                     std::shared_ptr<RecordingDatagram> proto) {
  auto port = reactor.listenMulticast(0, std::move(proto));
  successResultOf(port->setOutgoingInterface("127.0.0.1"));
  return port;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(Multicast, ReactorBuilder)

COIL_TEST_CASE(defaults) {
  auto port = reactor().listenMulticast(0, std::make_shared<RecordingDatagram>());
  BOOST_TEST(port->getTTL() == 1);
  BOOST_TEST(port->getLoopbackMode());
  BOOST_TEST(port->getOutgoingInterface() == "0.0.0.0");
  BOOST_TEST(port->maxPacketSize() == 8192u);
  BOOST_TEST(std::get<IPv4Address>(port->getHost()).host == "0.0.0.0");
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(controlsChangeTheSocket) {
  auto port = reactor().listenMulticast(0, std::make_shared<RecordingDatagram>());
  port->setTTL(7);
  BOOST_TEST(port->getTTL() == 7);
  BOOST_CHECK_THROW(port->setTTL(256), std::invalid_argument);
  port->setLoopbackMode(false);
  BOOST_TEST(!port->getLoopbackMode());
  port->setLoopbackMode(true);
  BOOST_TEST(port->getLoopbackMode());
  successResultOf(port->setOutgoingInterface("127.0.0.1"));
  BOOST_TEST(port->getOutgoingInterface() == "127.0.0.1");
  coil::test::failureResultOf<error::InvalidAddressError>(port->setOutgoingInterface("loopback"));
  stopAndWait(*this, *port);
  BOOST_CHECK_THROW(port->getTTL(), coil::LogicError);  // closed
}

COIL_TEST_CASE(joinFailsWithMulticastJoinError) {
  auto port = reactor().listenMulticast(0, std::make_shared<RecordingDatagram>());
  coil::Failure f =
      coil::test::failureResultOf<error::MulticastJoinError>(port->joinGroup("127.0.0.1"));
  BOOST_TEST(f.getErrorMessage().find("127.0.0.1") != std::string::npos);
  coil::test::failureResultOf<error::MulticastJoinError>(port->joinGroup("not-an-address"));
  coil::test::failureResultOf<error::MulticastJoinError>(port->joinGroup("ff02::1"));
  coil::test::failureResultOf<error::MulticastJoinError>(port->joinGroup(kGroup, "bogus"));
  // Leaving a group never joined fails the same way.
  coil::test::failureResultOf<error::MulticastJoinError>(port->leaveGroup(kGroup, "127.0.0.1"));
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(groupDatagramsReachMembers) {
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenMulticast(0, server);
  successResultOf(s->joinGroup(kGroup, "127.0.0.1"));
  auto c = loopbackSender(reactor(), std::make_shared<RecordingDatagram>());
  c->write("to the group", IPv4Address{"UDP", kGroup, portOf(s->getHost())});
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  BOOST_TEST(server->received[0].data == "to the group");
  BOOST_TEST(portOf(server->received[0].from) == portOf(c->getHost()));
  successResultOf(s->leaveGroup(kGroup, "127.0.0.1"));
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

// Loopback mode cannot be observed here: a datagram sent out of `lo` comes back in through `lo`
// whatever IP_MULTICAST_LOOP says. MulticastIPv6Test checks it on a veth pair.

COIL_TEST_CASE(listenMultipleLetsTwoPortsShareAGroup) {
  auto first = std::make_shared<RecordingDatagram>();
  auto second = std::make_shared<RecordingDatagram>();
  auto a = reactor().listenMulticast(0, first, "", 8192, true);
  int number = portOf(a->getHost());
  auto b = reactor().listenMulticast(number, second, "", 8192, true);
  BOOST_CHECK_THROW(reactor().listenMulticast(number, std::make_shared<RecordingDatagram>()),
                    error::CannotListenError);
  successResultOf(a->joinGroup(kGroup, "127.0.0.1"));
  successResultOf(b->joinGroup(kGroup, "127.0.0.1"));
  auto c = loopbackSender(reactor(), std::make_shared<RecordingDatagram>());
  IPv4Address group{"UDP", kGroup, number};
  c->write("both", group);
  BOOST_TEST_REQUIRE(
      iterateUntil([&] { return first->received.size() == 1 && second->received.size() == 1; }));
  BOOST_TEST(first->received[0].data == "both");
  BOOST_TEST(second->received[0].data == "both");
  stopAndWait(*this, *a);
  stopAndWait(*this, *b);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(leaveGroupDropsTheMembership) {
  // Linux delivers group traffic to every socket on the port once any socket joined
  // (IP_MULTICAST_ALL), so membership is observed in the kernel's table instead.
  auto port = reactor().listenMulticast(0, std::make_shared<RecordingDatagram>());
  BOOST_TEST(!loopbackHasGroup(kGroupText));
  successResultOf(port->joinGroup(kGroup, "127.0.0.1"));
  BOOST_TEST(loopbackHasGroup(kGroupText));
  successResultOf(port->leaveGroup(kGroup, "127.0.0.1"));
  BOOST_TEST(!loopbackHasGroup(kGroupText));
  successResultOf(port->joinGroup(kGroup, "127.0.0.1"));
  stopAndWait(*this, *port);
  BOOST_TEST(!loopbackHasGroup(kGroupText));  // closing leaves
}

COIL_TEST_CASE(protocolReachesMulticastControlsThroughItsTransport) {
  auto proto = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenMulticast(0, proto);
  auto* controls = proto->transportAs<coil::IMulticastTransport>();
  BOOST_TEST_REQUIRE(controls != nullptr);
  BOOST_TEST(controls->getTTL() == 1);
  auto plain = std::make_shared<RecordingDatagram>();
  auto udp = reactor().listenUDP(0, plain);
  BOOST_TEST(plain->transportAs<coil::IMulticastTransport>() == nullptr);
  BOOST_TEST(plain->transportAs<coil::IUDPTransport>() != nullptr);
  stopAndWait(*this, *port);
  stopAndWait(*this, *udp);
}

BOOST_AUTO_TEST_SUITE_END()
