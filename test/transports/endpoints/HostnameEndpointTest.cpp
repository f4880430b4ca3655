// HostnameEndpoint over MemoryReactor with a fake resolver and the reactor's task::Clock:
// resolution errors, staggered attempts in resolver order, first success wins, last failure
// reported, cancellation.
#include <coil/core/Errors.hpp>
#include <coil/transports/endpoints/HostnameEndpoint.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/MemoryReactor.hpp>
#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/endpoints/FakeResolver.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace coil;
using namespace coil::endpoints;
using coil::test::MemoryReactor;
using coil::test::StringTransport;

namespace {

using ProtocolDeferred = Deferred<std::shared_ptr<IProtocol>>;

struct Fixture {
  MemoryReactor reactor;
  std::shared_ptr<test::FakeResolver> resolver = std::make_shared<test::FakeResolver>();
  std::shared_ptr<Factory> factory = Factory::forProtocol<Protocol>();
  Fixture() { reactor.installNameResolver(resolver); }
  ~Fixture() {
    BOOST_CHECK_MESSAGE(reactor.getDelayedCalls().empty(), "delayed calls left pending");
  }

  // connect() on `endpoint`, then the resolver answers `addresses`.
  ProtocolDeferred connectResolved(HostnameEndpoint& endpoint, std::vector<Address> addresses) {
    ProtocolDeferred d = endpoint.connect(factory);
    BOOST_REQUIRE_EQUAL(resolver->calls.size(), 1u);
    resolver->calls[0].result.callback(std::move(addresses));
    return d;
  }

  std::vector<std::string> attemptedHosts() const {
    std::vector<std::string> out;
    for (const auto& c : reactor.tcpClients) out.push_back(c.host);
    return out;
  }
};

std::vector<Address> threeAddresses() {
  return {IPv4Address{"TCP", "10.0.0.1", 80}, IPv6Address{"TCP", "2001:db8::1", 80},
          IPv4Address{"TCP", "10.0.0.2", 80}};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(HostnameEndpoints, Fixture)

COIL_TEST_CASE(resolvesTheHostForTCP) {
  HostnameEndpoint endpoint(reactor, "example.com", 443);
  BOOST_TEST(endpoint.timeout() == 30.0);
  BOOST_TEST(endpoint.attemptDelay() == 0.3);
  BOOST_TEST(!endpoint.bindAddress().has_value());
  ProtocolDeferred d = endpoint.connect(factory);
  BOOST_REQUIRE_EQUAL(resolver->calls.size(), 1u);
  BOOST_TEST(resolver->calls[0].hostName == "example.com");
  BOOST_TEST(resolver->calls[0].port == 443);
  BOOST_TEST((resolver->calls[0].types == AddressTypes::any));
  BOOST_TEST(resolver->calls[0].transportSemantics == "TCP");
  test::assertNoResult(d);
  resolver->calls[0].result.callback({});
  Failure f = test::failureResultOf<error::DNSLookupError>(d);
  BOOST_TEST(contains(f.getErrorMessage(), "no results for hostname lookup: example.com"));
}

COIL_TEST_CASE(resolverErrorIsCouldNotFind) {
  HostnameEndpoint endpoint(reactor, "nowhere.invalid", 80);
  ProtocolDeferred d = endpoint.connect(factory);
  resolver->calls[0].result.errback(std::runtime_error("resolver exploded"));
  Failure f = test::failureResultOf<error::DNSLookupError>(d);
  BOOST_TEST(contains(f.getErrorMessage(), "Couldn't find the hostname 'nowhere.invalid'"));
  BOOST_TEST(reactor.tcpClients.empty());
}

COIL_TEST_CASE(attemptsAreStaggeredInResolverOrder) {
  HostnameEndpoint endpoint(reactor, "multi", 80, 9, BindAddress{"10.9.9.9", 0});
  ProtocolDeferred d = connectResolved(endpoint, threeAddresses());
  BOOST_TEST(attemptedHosts() == std::vector<std::string>{"10.0.0.1"},
             boost::test_tools::per_element());
  reactor.clock.advance(0.29);
  BOOST_TEST(reactor.tcpClients.size() == 1u);
  reactor.clock.advance(0.01);
  BOOST_TEST(attemptedHosts() == (std::vector<std::string>{"10.0.0.1", "2001:db8::1"}),
             boost::test_tools::per_element());
  reactor.clock.advance(0.3);
  BOOST_TEST(attemptedHosts() == (std::vector<std::string>{"10.0.0.1", "2001:db8::1", "10.0.0.2"}),
             boost::test_tools::per_element());
  for (const auto& c : reactor.tcpClients) {
    BOOST_TEST(c.port == 80);
    BOOST_TEST(c.timeout == 9.0);
    BOOST_TEST(c.bindAddress->host == "10.9.9.9");
  }
  reactor.clock.advance(10);
  BOOST_TEST(reactor.tcpClients.size() == 3u);  // no more addresses, no more attempts
  test::assertNoResult(d);
  d.cancel();
  test::failureResultOf<error::ConnectingCancelledError>(d);
}

COIL_TEST_CASE(attemptDelayIsConfigurable) {
  HostnameEndpoint endpoint(reactor, "multi", 80, 30, std::nullopt, 2.0);
  ProtocolDeferred d = connectResolved(endpoint, threeAddresses());
  reactor.clock.advance(1.9);
  BOOST_TEST(reactor.tcpClients.size() == 1u);
  reactor.clock.advance(0.1);
  BOOST_TEST(reactor.tcpClients.size() == 2u);
  d.cancel();
  test::failureResultOf<error::ConnectingCancelledError>(d);
}

COIL_TEST_CASE(firstSuccessWinsAndCancelsTheRest) {
  HostnameEndpoint endpoint(reactor, "multi", 80);
  ProtocolDeferred d = connectResolved(endpoint, threeAddresses());
  reactor.clock.pump({0.3, 0.3});
  BOOST_REQUIRE_EQUAL(reactor.connectors.size(), 3u);
  StringTransport transport;
  reactor.connectors[1]->connectionMade(transport);
  auto p = test::successResultOf(d);
  BOOST_TEST(std::dynamic_pointer_cast<Protocol>(p)->transport() == &transport);
  BOOST_TEST(reactor.connectors[0]->stopConnectingCalls == 1);
  BOOST_TEST(reactor.connectors[1]->stopConnectingCalls == 0);
  BOOST_TEST(reactor.connectors[2]->stopConnectingCalls == 1);
  reactor.connectors[1]->connectionLost(Failure(error::ConnectionDone()));
}

COIL_TEST_CASE(earlySuccessStopsFurtherAttempts) {
  HostnameEndpoint endpoint(reactor, "multi", 80);
  ProtocolDeferred d = connectResolved(endpoint, threeAddresses());
  StringTransport transport;
  reactor.connectors[0]->connectionMade(transport);
  test::successResultOf(d);
  reactor.clock.advance(5);
  BOOST_TEST(reactor.tcpClients.size() == 1u);  // the timer was cancelled (fixture checks too)
  reactor.connectors[0]->connectionLost(Failure(error::ConnectionDone()));
}

COIL_TEST_CASE(aFailureDoesNotHurryTheNextAttempt) {
  HostnameEndpoint endpoint(reactor, "multi", 80);
  ProtocolDeferred d = connectResolved(endpoint, threeAddresses());
  reactor.connectors[0]->refuse();
  test::assertNoResult(d);
  BOOST_TEST(reactor.tcpClients.size() == 1u);
  reactor.clock.advance(0.3);
  BOOST_TEST(reactor.tcpClients.size() == 2u);
  d.cancel();
  test::failureResultOf<error::ConnectingCancelledError>(d);
}

COIL_TEST_CASE(allFailedReportsTheLastFailure) {
  HostnameEndpoint endpoint(reactor, "multi", 80);
  ProtocolDeferred d = connectResolved(endpoint, threeAddresses());
  reactor.clock.pump({0.3, 0.3});
  reactor.connectors[2]->refuse();
  reactor.connectors[0]->connectionFailed(Failure(error::NoRouteError()));
  test::assertNoResult(d);
  reactor.connectors[1]->connectionFailed(Failure(error::TCPTimedOutError()));
  test::failureResultOf<error::TCPTimedOutError>(d);
}

COIL_TEST_CASE(singleAddressFailure) {
  HostnameEndpoint endpoint(reactor, "one", 80);
  ProtocolDeferred d = connectResolved(endpoint, {IPv4Address{"TCP", "10.0.0.1", 80}});
  reactor.connectors[0]->refuse();
  test::failureResultOf<error::ConnectionRefusedError>(d);
}

COIL_TEST_CASE(unknownAddressTypesAreSkipped) {
  HostnameEndpoint endpoint(reactor, "odd", 80);
  ProtocolDeferred d =
      connectResolved(endpoint, {UNIXAddress{"/x"}, IPv4Address{"TCP", "10.0.0.1", 80},
                                 HostnameAddress{"h", 1}, IPv6Address{"TCP", "::1", 80}});
  reactor.clock.advance(0.3);
  BOOST_TEST(attemptedHosts() == (std::vector<std::string>{"10.0.0.1", "::1"}),
             boost::test_tools::per_element());
  reactor.connectors[0]->refuse();
  reactor.connectors[1]->refuse();
  test::failureResultOf<error::ConnectionRefusedError>(d);
}

COIL_TEST_CASE(cancelDuringResolution) {
  HostnameEndpoint endpoint(reactor, "slow.example", 8080);
  ProtocolDeferred d = endpoint.connect(factory);
  d.cancel();
  Failure f = test::failureResultOf<error::ConnectingCancelledError>(d);
  BOOST_TEST(contains(f.getErrorMessage(), "HostnameAddress(hostname='slow.example', port=8080)"));
  BOOST_TEST(resolver->calls[0].result.called());  // the lookup was cancelled too
  BOOST_TEST(reactor.tcpClients.empty());
}

COIL_TEST_CASE(cancelDuringAttemptsStopsThemAll) {
  HostnameEndpoint endpoint(reactor, "multi", 80);
  ProtocolDeferred d = connectResolved(endpoint, threeAddresses());
  reactor.clock.advance(0.3);
  BOOST_REQUIRE_EQUAL(reactor.connectors.size(), 2u);
  d.cancel();
  Failure f = test::failureResultOf<error::ConnectingCancelledError>(d);
  BOOST_TEST(contains(f.getErrorMessage(), "HostnameAddress(hostname='multi', port=80)"));
  BOOST_TEST(reactor.connectors[0]->stopConnectingCalls == 1);
  BOOST_TEST(reactor.connectors[1]->stopConnectingCalls == 1);
  reactor.clock.advance(1);
  BOOST_TEST(reactor.tcpClients.size() == 2u);
}

COIL_TEST_CASE(badAttemptDelayIsRefused) {
  BOOST_CHECK_THROW(HostnameEndpoint(reactor, "h", 1, 30, std::nullopt, -1), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
