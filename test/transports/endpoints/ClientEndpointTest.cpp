// Client endpoints over MemoryReactor: the connect Deferred fires with the user's protocol
// after its connectionMade; failures, NoProtocol, buildProtocol errors, cancellation; optional
// interfaces of the wrapper; TCP6 resolution; connectProtocol.
#include <coil/core/Errors.hpp>
#include <coil/core/IFileDescriptorReceiver.hpp>
#include <coil/core/IHalfCloseableProtocol.hpp>
#include <coil/transports/endpoints/ClientEndpoints.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/MemoryReactor.hpp>
#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/endpoints/FakeResolver.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace coil;
using namespace coil::endpoints;
using coil::test::MemoryReactor;
using coil::test::StringTransport;

namespace {

struct Recorder : Protocol {
  void connectionMade() override { events.push_back("made"); }
  void dataReceived(std::string_view data) override {
    events.push_back("data:" + std::string(data));
  }
  void connectionLost(const Failure& reason) override {
    events.push_back("lost:" + reason.typeName());
  }
  std::string logPrefix() const override { return "Recorder"; }
  std::vector<std::string> events;
};

struct HalfCloser : Recorder, IHalfCloseableProtocol {
  void readConnectionLost() override { events.push_back("readLost"); }
  void writeConnectionLost() override { events.push_back("writeLost"); }
};

struct FdReceiver : Recorder, IFileDescriptorReceiver {
  void fileDescriptorReceived(int fd) override { events.push_back("fd:" + std::to_string(fd)); }
};

struct Both : HalfCloser, IFileDescriptorReceiver {
  void fileDescriptorReceived(int fd) override { events.push_back("fd:" + std::to_string(fd)); }
};

// A factory that builds `P`, counting doStart/doStop through numPorts().
template <class P>
std::shared_ptr<Factory> factoryFor() {
  return Factory::forProtocol<P>();
}

using ProtocolDeferred = Deferred<std::shared_ptr<IProtocol>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(ClientEndpoints)

COIL_TEST_CASE(firesWithTheUserProtocolAfterConnectionMade) {
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "10.1.2.3", 99);
  auto factory = factoryFor<Recorder>();
  ProtocolDeferred d = endpoint.connect(factory);
  BOOST_REQUIRE_EQUAL(r.tcpClients.size(), 1u);
  BOOST_TEST(r.tcpClients[0].host == "10.1.2.3");
  BOOST_TEST(r.tcpClients[0].port == 99);
  BOOST_TEST(r.tcpClients[0].timeout == 30.0);
  BOOST_TEST(!r.tcpClients[0].bindAddress.has_value());
  BOOST_TEST(factory->numPorts() == 1);  // doStart passes through
  test::assertNoResult(d);

  std::vector<std::string> seenAtFire;
  ProtocolDeferred observed = d.addCallback([&](std::shared_ptr<IProtocol> p) {
    seenAtFire = std::dynamic_pointer_cast<Recorder>(p)->events;
    return p;
  });
  StringTransport transport;
  std::shared_ptr<IProtocol> wrapper = r.connectors[0]->connectionMade(transport);
  BOOST_REQUIRE(wrapper);
  auto user = std::dynamic_pointer_cast<Recorder>(test::successResultOf(observed));
  BOOST_REQUIRE(user);
  BOOST_TEST(wrapper != std::static_pointer_cast<IProtocol>(user));
  BOOST_TEST(seenAtFire == std::vector<std::string>{"made"}, boost::test_tools::per_element());
  BOOST_TEST(user->transport() == &transport);
  BOOST_TEST(wrapper->logPrefix() == "Recorder");

  // Events reach the user's protocol through the wrapper; doStop passes through.
  wrapper->dataReceived("hi");
  r.connectors[0]->connectionLost(Failure(error::ConnectionDone()));
  BOOST_TEST(user->events ==
                 (std::vector<std::string>{"made", "data:hi", "lost:coil::error::ConnectionDone"}),
             boost::test_tools::per_element());
  BOOST_TEST(factory->numPorts() == 0);
}

COIL_TEST_CASE(connectionFailureFailsWithTheConnectError) {
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "h", 1, 7.5, BindAddress{"10.0.0.9", 0});
  auto factory = factoryFor<Recorder>();
  ProtocolDeferred d = endpoint.connect(factory);
  BOOST_TEST(r.tcpClients[0].timeout == 7.5);
  BOOST_TEST(r.tcpClients[0].bindAddress->host == "10.0.0.9");
  r.connectors[0]->connectionFailed(Failure(error::TCPTimedOutError()));
  test::failureResultOf<error::TCPTimedOutError>(d);
  BOOST_TEST(factory->numPorts() == 0);
}

COIL_TEST_CASE(nullProtocolIsNoProtocol) {
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "h", 1);
  ProtocolDeferred d = endpoint.connect(std::make_shared<Factory>());  // protocol() empty
  StringTransport transport;
  BOOST_TEST(!r.connectors[0]->connectionMade(transport));
  test::failureResultOf<error::NoProtocol>(d);
}

COIL_TEST_CASE(buildProtocolErrorIsTheFailure) {
  MemoryReactor r;
  UNIXClientEndpoint endpoint(r, "/tmp/x");
  auto factory = std::make_shared<Factory>();
  factory->protocol = []() -> std::shared_ptr<IProtocol> { throw std::domain_error("no way"); };
  ProtocolDeferred d = endpoint.connect(factory);
  StringTransport transport;
  BOOST_TEST(!r.connectors[0]->connectionMade(transport));
  Failure f = test::failureResultOf<std::domain_error>(d);
  BOOST_TEST(f.getErrorMessage() == "no way");
}

COIL_TEST_CASE(cancelFailsWithConnectingCancelledAndStopsConnecting) {
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "10.0.0.5", 80);
  auto factory = factoryFor<Recorder>();
  ProtocolDeferred d = endpoint.connect(factory);
  d.cancel();
  Failure f = test::failureResultOf<error::ConnectingCancelledError>(d);
  BOOST_TEST(f.getErrorMessage().find("IPv4Address(type='TCP', host='10.0.0.5', port=80)") !=
             std::string::npos);
  BOOST_TEST(r.connectors[0]->stopConnectingCalls == 1);
  BOOST_TEST(factory->numPorts() == 0);
}

COIL_TEST_CASE(unixCancelNamesThePath) {
  MemoryReactor r;
  UNIXClientEndpoint endpoint(r, "/run/s", 4, true);
  ProtocolDeferred d = endpoint.connect(factoryFor<Recorder>());
  BOOST_TEST(r.unixClients[0].timeout == 4.0);
  BOOST_TEST(r.unixClients[0].checkPID == true);
  d.cancel();
  Failure f = test::failureResultOf<error::ConnectingCancelledError>(d);
  BOOST_TEST(f.getErrorMessage().find("UNIXAddress('/run/s')") != std::string::npos);
}

COIL_TEST_CASE(cancelAfterConnectingDoesNothing) {
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "h", 1);
  ProtocolDeferred d = endpoint.connect(factoryFor<Recorder>());
  StringTransport transport;
  r.connectors[0]->connectionMade(transport);
  d.cancel();
  BOOST_TEST(test::successResultOf(d) != nullptr);
  BOOST_TEST(r.connectors[0]->stopConnectingCalls == 0);
}

COIL_TEST_CASE(connectErrorFailsTheDeferred) {
  MemoryReactor r;
  r.connectError = std::make_exception_ptr(error::ServiceNameUnknownError("http"));
  TCP4ClientEndpoint endpoint(r, "h", 1);
  ProtocolDeferred d = endpoint.connect(factoryFor<Recorder>());
  test::failureResultOf<error::ServiceNameUnknownError>(d);
}

COIL_TEST_CASE(errorInConnectionMadeFailsTheDeferredAndPropagates) {
  struct Throws : Protocol {
    void connectionMade() override { throw std::runtime_error("boom"); }
  };
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "h", 1);
  ProtocolDeferred d = endpoint.connect(factoryFor<Throws>());
  StringTransport transport;
  BOOST_CHECK_THROW(r.connectors[0]->connectionMade(transport), std::runtime_error);
  test::failureResultOf<std::runtime_error>(d);
}

COIL_TEST_CASE(wrapperOffersOnlyTheInterfacesTheUserProtocolHas) {
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "h", 1);
  StringTransport transport;
  auto wrapperFor = [&](std::shared_ptr<Factory> factory) {
    ProtocolDeferred d = endpoint.connect(std::move(factory));
    auto wrapper = r.connectors.back()->connectionMade(transport);
    auto user = std::dynamic_pointer_cast<Recorder>(test::successResultOf(d));
    BOOST_REQUIRE(user);
    return std::make_pair(wrapper, user);
  };
  auto [plain, plainUser] = wrapperFor(factoryFor<Recorder>());
  BOOST_TEST(!dynamic_cast<IHalfCloseableProtocol*>(plain.get()));
  BOOST_TEST(!dynamic_cast<IFileDescriptorReceiver*>(plain.get()));

  auto [half, halfUser] = wrapperFor(factoryFor<HalfCloser>());
  BOOST_REQUIRE(dynamic_cast<IHalfCloseableProtocol*>(half.get()));
  BOOST_TEST(!dynamic_cast<IFileDescriptorReceiver*>(half.get()));
  dynamic_cast<IHalfCloseableProtocol&>(*half).readConnectionLost();
  dynamic_cast<IHalfCloseableProtocol&>(*half).writeConnectionLost();
  BOOST_TEST(halfUser->events == (std::vector<std::string>{"made", "readLost", "writeLost"}),
             boost::test_tools::per_element());

  auto [fds, fdsUser] = wrapperFor(factoryFor<FdReceiver>());
  BOOST_TEST(!dynamic_cast<IHalfCloseableProtocol*>(fds.get()));
  BOOST_REQUIRE(dynamic_cast<IFileDescriptorReceiver*>(fds.get()));
  dynamic_cast<IFileDescriptorReceiver&>(*fds).fileDescriptorReceived(42);
  BOOST_TEST(fdsUser->events.back() == "fd:42");

  auto [both, bothUser] = wrapperFor(factoryFor<Both>());
  BOOST_REQUIRE(dynamic_cast<IHalfCloseableProtocol*>(both.get()));
  BOOST_REQUIRE(dynamic_cast<IFileDescriptorReceiver*>(both.get()));
  dynamic_cast<IFileDescriptorReceiver&>(*both).fileDescriptorReceived(7);
  dynamic_cast<IHalfCloseableProtocol&>(*both).readConnectionLost();
  BOOST_TEST(bothUser->events == (std::vector<std::string>{"made", "fd:7", "readLost"}),
             boost::test_tools::per_element());
  for (auto& c : r.connectors) c->connectionLost(Failure(error::ConnectionDone()));
}

COIL_TEST_CASE(connectProtocolConnectsThatProtocol) {
  MemoryReactor r;
  TCP4ClientEndpoint endpoint(r, "h", 1);
  auto mine = std::make_shared<Recorder>();
  ProtocolDeferred d = connectProtocol(endpoint, mine);
  StringTransport transport;
  r.connectors[0]->connectionMade(transport);
  BOOST_TEST(test::successResultOf(d) == std::static_pointer_cast<IProtocol>(mine));
  BOOST_TEST(mine->events == std::vector<std::string>{"made"}, boost::test_tools::per_element());
}

COIL_TEST_CASE(tcp6LiteralConnectsWithoutResolving) {
  MemoryReactor r;
  auto resolver = std::make_shared<test::FakeResolver>();
  r.installNameResolver(resolver);
  TCP6ClientEndpoint endpoint(r, "::1", 8443, 3, BindAddress{"::1", 0});
  ProtocolDeferred d = endpoint.connect(factoryFor<Recorder>());
  BOOST_TEST(resolver->calls.empty());
  BOOST_REQUIRE_EQUAL(r.tcpClients.size(), 1u);
  BOOST_TEST(r.tcpClients[0].host == "::1");
  BOOST_TEST(r.tcpClients[0].port == 8443);
  BOOST_TEST(r.tcpClients[0].timeout == 3.0);
  BOOST_TEST(r.tcpClients[0].bindAddress->host == "::1");
  r.connectors[0]->refuse();
  test::failureResultOf<error::ConnectionRefusedError>(d);
}

COIL_TEST_CASE(tcp6ResolvesToTheFirstIPv6Address) {
  MemoryReactor r;
  auto resolver = std::make_shared<test::FakeResolver>();
  r.installNameResolver(resolver);
  TCP6ClientEndpoint endpoint(r, "ipv6.example", 80);
  ProtocolDeferred d = endpoint.connect(factoryFor<Recorder>());
  BOOST_REQUIRE_EQUAL(resolver->calls.size(), 1u);
  BOOST_TEST(resolver->calls[0].hostName == "ipv6.example");
  BOOST_TEST(resolver->calls[0].port == 80);
  BOOST_TEST((resolver->calls[0].types == AddressTypes::ipv6));
  BOOST_TEST(r.tcpClients.empty());
  resolver->calls[0].result.callback(
      {IPv6Address{"TCP", "2001:db8::2", 80}, IPv6Address{"TCP", "2001:db8::3", 80}});
  BOOST_REQUIRE_EQUAL(r.tcpClients.size(), 1u);
  BOOST_TEST(r.tcpClients[0].host == "2001:db8::2");
  StringTransport transport;
  r.connectors[0]->connectionMade(transport);
  BOOST_TEST(std::dynamic_pointer_cast<Recorder>(test::successResultOf(d)));
}

COIL_TEST_CASE(tcp6ResolutionFailures) {
  MemoryReactor r;
  auto resolver = std::make_shared<test::FakeResolver>();
  r.installNameResolver(resolver);
  TCP6ClientEndpoint endpoint(r, "nowhere", 80);
  ProtocolDeferred failed = endpoint.connect(factoryFor<Recorder>());
  resolver->calls[0].result.errback(error::DNSLookupError("address 'nowhere' not found"));
  test::failureResultOf<error::DNSLookupError>(failed);
  ProtocolDeferred empty = endpoint.connect(factoryFor<Recorder>());
  resolver->calls[1].result.callback({});
  Failure f = test::failureResultOf<error::DNSLookupError>(empty);
  BOOST_TEST(f.getErrorMessage().find("nowhere") != std::string::npos);
  ProtocolDeferred cancelled = endpoint.connect(factoryFor<Recorder>());
  cancelled.cancel();
  test::failureResultOf<CancelledError>(cancelled);
  BOOST_TEST(r.tcpClients.empty());
}

COIL_TEST_CASE(noResolverFailsTheDeferred) {
  MemoryReactor r;
  TCP6ClientEndpoint endpoint(r, "name", 80);
  ProtocolDeferred d = endpoint.connect(factoryFor<Recorder>());
  test::failureResultOf<NotImplementedError>(d);
}

BOOST_AUTO_TEST_SUITE_END()
