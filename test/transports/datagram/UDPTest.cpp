// listenUDP on every backend: binding, addresses, reading, writing, stopping (spec §4).
// Tests: transports/udp/UDPPort.cpp, DatagramPortBase.cpp, backends/PosixReactorDatagram.cpp
#include <test/support/DeferredTesting.hpp>
#include <test/transports/datagram/DatagramTesting.hpp>

#include <coil/core/IFileDescriptor.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>

using coil::Address;
using coil::IPv4Address;
using coil::IPv6Address;
using coil::test::portOf;
using coil::test::ReactorBuilder;
using coil::test::RecordingDatagram;
using coil::test::stopAndWait;
namespace error = coil::error;

namespace {

int fdOf(coil::IUDPPort& port) {
  return dynamic_cast<coil::IFileDescriptor&>(port).fileno();
}

IPv4Address loopback(int port) {
  return IPv4Address{"UDP", "127.0.0.1", port};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(UDP, ReactorBuilder)

COIL_TEST_CASE(listenStartsProtocolAndReportsTheChosenPort) {
  auto proto = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, proto, "127.0.0.1");
  BOOST_TEST(proto->starts == 1);
  BOOST_TEST(proto->transport() == static_cast<coil::IDatagramTransport*>(port.get()));
  Address host = port->getHost();
  BOOST_TEST_REQUIRE(std::holds_alternative<IPv4Address>(host));
  BOOST_TEST(std::get<IPv4Address>(host).type == "UDP");
  BOOST_TEST(std::get<IPv4Address>(host).host == "127.0.0.1");
  BOOST_TEST(portOf(host) > 0);
  BOOST_TEST(port->maxPacketSize() == 8192u);
  BOOST_TEST(port->maxThroughput() == 256u * 1024u);
  BOOST_TEST(reactor().getReaders().size() == 1u);
  stopAndWait(*this, *port);
  BOOST_TEST(proto->stops == 1);
  BOOST_TEST(proto->transport() == nullptr);
}

COIL_TEST_CASE(emptyInterfaceIsEveryIPv4Address) {
  auto port = reactor().listenUDP(0, std::make_shared<RecordingDatagram>());
  BOOST_TEST(std::get<IPv4Address>(port->getHost()).host == "0.0.0.0");
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(ipv6InterfaceMakesAnIPv6Port) {
  auto port = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "::1");
  Address host = port->getHost();
  BOOST_TEST_REQUIRE(std::holds_alternative<IPv6Address>(host));
  BOOST_TEST(std::get<IPv6Address>(host).host == "::1");
  BOOST_TEST(std::get<IPv6Address>(host).type == "UDP");
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(interfaceThatIsNotALiteralIsInvalidAddress) {
  auto proto = std::make_shared<RecordingDatagram>();
  BOOST_CHECK_THROW(reactor().listenUDP(0, proto, "localhost"), error::InvalidAddressError);
  BOOST_CHECK_THROW(reactor().listenUDP(0, proto, "1.2.3"), error::InvalidAddressError);
  BOOST_TEST(proto->starts == 0);
  BOOST_CHECK_THROW(reactor().listenUDP(70000, proto), std::invalid_argument);
}

COIL_TEST_CASE(portInUseIsCannotListen) {
  auto first = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  int taken = portOf(first->getHost());
  auto proto = std::make_shared<RecordingDatagram>();
  try {
    reactor().listenUDP(taken, proto, "127.0.0.1");
    BOOST_ERROR("listening twice on one port succeeded");
  } catch (const error::CannotListenError& e) {
    BOOST_TEST(e.port == taken);
    BOOST_TEST(e.interface == "127.0.0.1");
    BOOST_TEST(e.code().value() == EADDRINUSE);
  }
  BOOST_TEST(proto->starts == 0);
  stopAndWait(*this, *first);
}

COIL_TEST_CASE(datagramsArriveWithTheSendersAddress) {
  for (const char* iface : {"127.0.0.1", "::1"}) {
    auto server = std::make_shared<RecordingDatagram>();
    auto client = std::make_shared<RecordingDatagram>();
    auto s = reactor().listenUDP(0, server, iface);
    auto c = reactor().listenUDP(0, client, iface);
    Address to = s->getHost();
    c->write("hello", to);
    c->write(std::string(1000, 'x'), to);
    BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 2; }));
    BOOST_TEST(server->received[0].data == "hello");
    BOOST_TEST(server->received[1].data == std::string(1000, 'x'));
    BOOST_TEST(server->received[0].from == c->getHost());
    // Answer through the address we were given (the cached reply path).
    server->transport()->write("back", server->received[0].from);
    BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 1; }));
    BOOST_TEST(client->received[0].data == "back");
    BOOST_TEST(client->received[0].from == s->getHost());
    stopAndWait(*this, *s);
    stopAndWait(*this, *c);
  }
}

COIL_TEST_CASE(emptyDatagramIsDelivered) {
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUDP(0, server, "127.0.0.1");
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  c->write("", s->getHost());
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  BOOST_TEST(server->received[0].data.empty());
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(longDatagramsAreTruncatedToMaxPacketSize) {
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUDP(0, server, "127.0.0.1", 10);
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  c->write("0123456789abcdefghij", s->getHost());
  c->write("short", s->getHost());
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 2; }));
  BOOST_TEST(server->received[0].data == "0123456789");
  BOOST_TEST(server->received[1].data == "short");
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(exceptionInDatagramReceivedIsLoggedAndPortKeepsWorking) {
  coil::test::LogCapture logs;
  auto server = std::make_shared<RecordingDatagram>();
  server->onDatagram = [](std::string_view data, const Address&) {
    if (data == "boom") throw std::runtime_error("datagram handler failed");
  };
  auto s = reactor().listenUDP(0, server, "127.0.0.1");
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  c->write("boom", s->getHost());
  c->write("after", s->getHost());
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 2; }));
  BOOST_TEST(server->received[1].data == "after");
  BOOST_TEST(logs.count("datagram handler failed") == 1u);
  BOOST_TEST(reactor().getReaders().size() == 2u);
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(writeNeedsAnIPLiteralOfThePortsFamily) {
  auto v4 = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  auto v6 = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "::1");
  BOOST_CHECK_THROW(v4->write("x", IPv4Address{"UDP", "localhost", 9}), error::InvalidAddressError);
  BOOST_CHECK_THROW(v4->write("x", coil::HostnameAddress{"localhost", 9}),
                    error::InvalidAddressError);
  BOOST_CHECK_THROW(v4->write("x", IPv6Address{"UDP", "::1", 9}), error::InvalidAddressError);
  BOOST_CHECK_THROW(v6->write("x", loopback(9)), error::InvalidAddressError);
  BOOST_CHECK_THROW(v4->write("x", coil::UNIXAddress{"/tmp/x"}), error::InvalidAddressError);
  BOOST_CHECK_THROW(v4->write("x"), coil::LogicError);  // unconnected: an address is needed
  stopAndWait(*this, *v4);
  stopAndWait(*this, *v6);
}

COIL_TEST_CASE(tooLongDatagramIsMessageLengthError) {
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  try {
    c->write(std::string(70000, 'x'), loopback(9));
    BOOST_ERROR("a 70000-byte datagram was sent");
  } catch (const error::MessageLengthError& e) {
    BOOST_TEST(e.code().value() == EMSGSIZE);
  }
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(refusalIsIgnoredWhenUnconnected) {
  auto gone = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  Address dead = gone->getHost();
  stopAndWait(*this, *gone);
  auto client = std::make_shared<RecordingDatagram>();
  auto c = reactor().listenUDP(0, client, "127.0.0.1");
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUDP(0, server, "127.0.0.1");
  for (int i = 0; i < 3; ++i) BOOST_CHECK_NO_THROW(c->write("x", dead));
  c->write("alive", s->getHost());
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  BOOST_TEST(client->refused == 0);
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(broadcastNeedsPermission) {
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>());
  BOOST_TEST(!c->getBroadcastAllowed());
  IPv4Address everyone{"UDP", "<broadcast>", 9};
  try {
    c->write("x", everyone);
    BOOST_ERROR("broadcast without SO_BROADCAST succeeded");
  } catch (const coil::Error& e) {
    BOOST_TEST(e.code().value() == EACCES);
  }
  c->setBroadcastAllowed(true);
  BOOST_TEST(c->getBroadcastAllowed());
  BOOST_TEST(coil::detail::getIntOption(fdOf(*c), SOL_SOCKET, SO_BROADCAST) == 1);
  try {
    c->write("x", everyone);  // may still fail on a host without a broadcast route
  } catch (const coil::Error& e) {
    BOOST_TEST(e.code().value() != EACCES);
  }
  c->setBroadcastAllowed(false);
  BOOST_TEST(coil::detail::getIntOption(fdOf(*c), SOL_SOCKET, SO_BROADCAST) == 0);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(readBudgetBoundsOneEvent) {
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUDP(0, server, "127.0.0.1");
  s->setMaxThroughput(1000);
  BOOST_TEST(s->maxThroughput() == 1000u);
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  for (int i = 0; i < 100; ++i) c->write(std::string(100, 'a'), s->getHost());
  // The first event reads the budget (a read never asks for more than is left of it), not
  // all 100.
  BOOST_TEST_REQUIRE(iterateUntil([&] { return !server->received.empty(); }));
  BOOST_TEST(server->received.size() >= 10u);
  BOOST_TEST(server->received.size() <= 26u);
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 100; }));
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(stopListeningFiresLaterAndPortCanListenAgain) {
  auto proto = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, proto, "127.0.0.1");
  int number = portOf(port->getHost());
  bool fired = false;
  coil::Deferred<void> d = port->stopListening();
  d.addCallback([&] { fired = true; });
  BOOST_TEST(!fired);  // never synchronously
  BOOST_TEST(proto->stops == 0);
  BOOST_TEST(reactor().getReaders().empty());  // no longer read at once
  BOOST_TEST_REQUIRE(iterateUntil([&] { return fired; }));
  BOOST_TEST(proto->stops == 1);
  BOOST_TEST(fdOf(*port) == -1);
  // Stopping again: already fired.
  BOOST_TEST(port->stopListening().called());
  // The same port object binds again and restarts the protocol.
  port->startListening();
  BOOST_TEST(proto->starts == 2);
  stopAndWait(*this, *port);
  // And the number is free again for a new port.
  auto again = reactor().listenUDP(number, proto, "127.0.0.1");
  BOOST_TEST(portOf(again->getHost()) == number);
  BOOST_TEST(proto->starts == 3);
  stopAndWait(*this, *again);
  BOOST_TEST(proto->stops == 3);
}

COIL_TEST_CASE(stopTwiceBeforeCloseFiresBoth) {
  auto proto = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, proto, "127.0.0.1");
  int fired = 0;
  port->stopListening().addCallback([&] { ++fired; });
  port->stopListening().addCallback([&] { ++fired; });
  BOOST_TEST_REQUIRE(iterateUntil([&] { return fired == 2; }));
  BOOST_TEST(proto->stops == 1);
}

COIL_TEST_CASE(oneProtocolCountsItsPorts) {
  auto proto = std::make_shared<RecordingDatagram>();
  auto first = reactor().listenUDP(0, proto, "127.0.0.1");
  BOOST_TEST(proto->numPorts() == 1);
  // Like Twisted, a protocol serves one port at a time.
  BOOST_CHECK_THROW(reactor().listenUDP(0, proto, "127.0.0.1"), std::logic_error);
  BOOST_TEST(proto->numPorts() == 1);
  BOOST_TEST(reactor().getReaders().size() == 1u);
  stopAndWait(*this, *first);
  BOOST_TEST(proto->numPorts() == 0);
  BOOST_TEST(proto->starts == 1);
  BOOST_TEST(proto->stops == 1);
}

COIL_TEST_CASE(reactorShutdownStopsTheProtocol) {
  auto proto = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUDP(0, proto, "127.0.0.1");
  reactor().callLater(0, [this] { reactor().stop(); });
  coil::test::runReactor(reactor());
  BOOST_TEST(proto->stops == 1);
  BOOST_TEST(reactor().getReaders().empty());
}

COIL_TEST_CASE(adoptDatagramPortServesACallersSocket) {
  std::error_code ec;
  coil::detail::UniqueFd own = coil::detail::makeSocket(AF_INET, SOCK_DGRAM, ec);
  BOOST_TEST_REQUIRE(!ec);
  coil::detail::SockAddr addr = *coil::detail::ipSockAddr("127.0.0.1", 0);
  BOOST_TEST_REQUIRE(::bind(own.get(), addr.get(), addr.length) == 0);
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().adoptDatagramPort(own.get(), AF_INET, server);
  BOOST_TEST(server->starts == 1);
  BOOST_TEST(fdOf(*s) != own.get());  // duplicated
  BOOST_TEST(s->getHost() == coil::detail::localAddress(own.get(), "UDP"));
  auto c = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  c->write("adopted", s->getHost());
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  stopAndWait(*this, *s);
  BOOST_TEST(server->stops == 1);
  BOOST_TEST(coil::detail::getIntOption(own.get(), SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);  // open
  BOOST_CHECK_THROW(s->startListening(), coil::LogicError);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(adoptDatagramPortChecksItsArguments) {
  auto proto = std::make_shared<RecordingDatagram>();
  std::error_code ec;
  coil::detail::UniqueFd tcp = coil::detail::makeSocket(AF_INET, SOCK_STREAM, ec);
  BOOST_CHECK_THROW(reactor().adoptDatagramPort(tcp.get(), AF_UNIX, proto),
                    error::UnsupportedAddressFamily);
  BOOST_CHECK_THROW(reactor().adoptDatagramPort(tcp.get(), AF_INET, proto), std::invalid_argument);
  BOOST_CHECK_THROW(reactor().adoptDatagramPort(tcp.get(), AF_INET6, proto), std::invalid_argument);
  BOOST_TEST(proto->starts == 0);
}

BOOST_AUTO_TEST_SUITE_END()
