// Tests for coil::Protocol, IProtocol, Address and the datagram protocol bases.
// Tests: core/Protocol.hpp, core/Address.hpp
#include <coil/core/Address.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/IHalfCloseableProtocol.hpp>
#include <coil/core/Protocol.hpp>

#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace coil;
using coil::test::LogCapture;
using coil::test::StringTransport;

namespace {

/// Records every event, and what it saw of its transport at connectionMade.
class Recorder : public Protocol {
 public:
  void connectionMade() override {
    events.push_back("made");
    sawTransport = transport() != nullptr;
    sawConnected = connected;
  }
  void dataReceived(std::string_view data) override {
    events.push_back("data:" + std::string(data));
  }
  void connectionLost(const Failure& reason) override {
    events.push_back("lost:" + reason.typeName());
    doneClean = reason.check<error::ConnectionDone>().has_value();
  }
  std::vector<std::string> events;
  bool sawTransport = false;
  bool sawConnected = false;
  bool doneClean = false;
};

class Echo : public Protocol {
 public:
  void dataReceived(std::string_view data) override { transport()->write(data); }
};

class HalfCloser : public Protocol, public IHalfCloseableProtocol {
 public:
  void readConnectionLost() override { ++reads; }
  void writeConnectionLost() override { ++writes; }
  int reads = 0;
  int writes = 0;
};

class CountingDatagram : public DatagramProtocol {
 public:
  void startProtocol() override { ++starts; }
  void stopProtocol() override { ++stops; }
  void datagramReceived(std::string_view data, const Address& addr) override {
    last = std::string(data) + "@" + toString(addr);
  }
  int starts = 0;
  int stops = 0;
  std::string last;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ProtocolBase)

COIL_TEST_CASE(makeConnectionSetsTransportAndConnectedBeforeConnectionMade) {
  Recorder p;
  StringTransport t;
  BOOST_TEST(p.transport() == nullptr);
  BOOST_TEST(!p.connected);
  p.makeConnection(t);
  BOOST_TEST(p.sawTransport);
  BOOST_TEST(p.sawConnected);
  BOOST_TEST(p.transport() == &t);
  BOOST_REQUIRE_EQUAL(p.events.size(), 1u);
  BOOST_TEST(p.events[0] == "made");
}

COIL_TEST_CASE(defaultProtocolIgnoresEveryEvent) {
  Protocol p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("ignored");
  p.connectionLost(Failure(error::ConnectionDone()));
  BOOST_TEST(t.value().empty());
  BOOST_TEST(p.logPrefix() == "-");
}

COIL_TEST_CASE(echoWritesThroughItsTransport) {
  Echo p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("hello ");
  p.dataReceived("world");
  BOOST_TEST(t.value() == "hello world");
}

COIL_TEST_CASE(loseConnectionWithDisconnectionDeliversConnectionDoneOnce) {
  Recorder p;
  coil::test::StringTransportWithDisconnection t;
  t.protocol = &p;
  p.makeConnection(t);
  p.transport()->loseConnection();
  p.transport()->loseConnection();
  BOOST_REQUIRE_EQUAL(p.events.size(), 2u);
  BOOST_TEST(p.events[1].find("lost:") == 0u);
  BOOST_TEST(p.doneClean);
  BOOST_TEST(!t.connected);
  BOOST_TEST(t.loseConnectionCalls() == 2);
}

COIL_TEST_CASE(halfCloseableProtocolIsFoundByDynamicCast) {
  auto p = std::make_shared<HalfCloser>();
  std::shared_ptr<IProtocol> asProtocol = p;
  auto* half = dynamic_cast<IHalfCloseableProtocol*>(asProtocol.get());
  BOOST_REQUIRE(half != nullptr);
  half->readConnectionLost();
  half->writeConnectionLost();
  BOOST_TEST(p->reads == 1);
  BOOST_TEST(p->writes == 1);
  std::shared_ptr<IProtocol> plain = std::make_shared<Protocol>();
  BOOST_TEST(dynamic_cast<IHalfCloseableProtocol*>(plain.get()) == nullptr);
}

COIL_TEST_CASE(factoryAsIsNullWithoutFactory) {
  Protocol p;
  BOOST_TEST(p.factoryAs<Factory>() == nullptr);
  BOOST_TEST(p.factoryAs<ClientFactory>() == nullptr);
}

// ---- Address ----

COIL_TEST_CASE(addressEqualityComparesAlternativeAndMembers) {
  Address a = IPv4Address{"TCP", "127.0.0.1", 80};
  Address b = IPv4Address{"TCP", "127.0.0.1", 80};
  Address udp = IPv4Address{"UDP", "127.0.0.1", 80};
  Address other = IPv4Address{"TCP", "127.0.0.1", 81};
  Address v6 = IPv6Address{"TCP", "::1", 80, 0, 0};
  BOOST_TEST((a == b));
  BOOST_TEST((a != udp));
  BOOST_TEST((a != other));
  BOOST_TEST((a != v6));
  BOOST_TEST((IPv6Address{"TCP", "::1", 80, 0, 1} != IPv6Address{"TCP", "::1", 80, 0, 0}));
  BOOST_TEST((UNIXAddress{"/tmp/s"} == UNIXAddress{"/tmp/s"}));
  BOOST_TEST((HostnameAddress{"example.com", 80} != HostnameAddress{"example.org", 80}));
}

COIL_TEST_CASE(addressToStringIsTwistedRepr) {
  BOOST_TEST(toString(Address(IPv4Address{"TCP", "127.0.0.1", 80})) ==
             "IPv4Address(type='TCP', host='127.0.0.1', port=80)");
  BOOST_TEST(toString(Address(IPv6Address{"UDP", "::1", 53, 0, 2})) ==
             "IPv6Address(type='UDP', host='::1', port=53, flowInfo=0, scopeID=2)");
  BOOST_TEST(toString(Address(UNIXAddress{"/tmp/sock"})) == "UNIXAddress('/tmp/sock')");
  BOOST_TEST(toString(Address(UNIXAddress{})) == "UNIXAddress(None)");
  BOOST_TEST(toString(Address(HostnameAddress{"example.com", 443})) ==
             "HostnameAddress(hostname='example.com', port=443)");
}

COIL_TEST_CASE(abstractUnixNamesKeepTheirNulByte) {
  UNIXAddress abstract{std::string("\0coil", 5)};
  UNIXAddress path{"coil"};
  BOOST_TEST(abstract.name.size() == 5u);
  BOOST_TEST((abstract != path));
  BOOST_TEST(toString(abstract) == "UNIXAddress('\\0coil')");
}

// ---- datagram protocols ----

COIL_TEST_CASE(datagramStartAndStopAreRefCounted) {
  LogCapture capture;
  CountingDatagram p;
  p.doStart();
  p.doStart();
  BOOST_TEST(p.starts == 1);
  BOOST_TEST(p.numPorts() == 2);
  p.doStop();
  BOOST_TEST(p.stops == 0);
  p.doStop();
  BOOST_TEST(p.stops == 1);
  BOOST_TEST(p.numPorts() == 0);
  BOOST_TEST(capture.count("Starting protocol") == 1u);
  BOOST_TEST(capture.count("Stopping protocol") == 1u);
  BOOST_CHECK_THROW(p.doStop(), std::logic_error);
}

COIL_TEST_CASE(datagramMakeConnectionSetsTransportAndStarts) {
  CountingDatagram p;
  p.noisy = false;
  // Any object stands in for the (issue #5) datagram transport: only its address is kept.
  alignas(16) unsigned char storage[16] = {};
  auto& fake = *reinterpret_cast<IDatagramTransport*>(storage);
  p.makeConnection(fake);
  BOOST_TEST(p.transport() == &fake);
  BOOST_TEST(p.starts == 1);
  BOOST_CHECK_THROW(p.makeConnection(fake), std::logic_error);
  p.doStop();
  BOOST_TEST(p.transport() == nullptr);
  BOOST_TEST(p.stops == 1);
}

COIL_TEST_CASE(datagramReceivedGetsDataAndAddress) {
  CountingDatagram p;
  p.datagramReceived("ping", IPv4Address{"UDP", "10.0.0.2", 9});
  BOOST_TEST(p.last == "ping@IPv4Address(type='UDP', host='10.0.0.2', port=9)");
  ConnectedDatagramProtocol c;
  c.datagramReceived("x");  // default no-ops
  c.connectionFailed(Failure(error::ConnectionRefusedError()));
  c.connectionRefused();
  BOOST_TEST(c.numPorts() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
