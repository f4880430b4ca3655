// Client connectors (spec §3.6) over TCP and UNIX, on every backend.
#include <coil/core/Errors.hpp>
#include <coil/core/IHostnameResolver.hpp>
#include <coil/core/ThreadPool.hpp>

#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/stream/StreamTesting.hpp>

#include <stdexcept>
#include <string>

using namespace coil;
using namespace coil::test;

namespace {

// A TCP port number nobody listens on (a port that was just closed).
int closedPort(ReactorBuilder& b) {
  auto port =
      b.reactor().listenTCP(0, std::make_shared<RecordingServerFactory<>>(), 50, "127.0.0.1");
  int number = portOf(*port);
  bool done = false;
  port->stopListening().addCallback([&done] { done = true; });
  b.iterateUntil([&] { return done; });
  return number;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(StreamConnector)

COIL_TEST_CASE(refused_connection_is_reported_later_through_clientConnectionFailed) {
  ReactorBuilder b;
  int number = closedPort(b);
  auto factory = std::make_shared<RecordingClientFactory<>>();
  auto connector = b.reactor().connectTCP("127.0.0.1", number, factory);
  BOOST_CHECK_EQUAL(factory->started, 1);
  BOOST_CHECK_EQUAL(factory->failedCount, 0);  // never synchronous
  BOOST_CHECK_EQUAL(factory->numPorts(), 1);
  BOOST_CHECK(b.iterateUntil([&] { return factory->failedCount == 1; }));
  BOOST_CHECK(factory->failed->check<error::ConnectionRefusedError>());
  BOOST_CHECK_EQUAL(factory->numPorts(), 0);  // doStop: the factory did not reconnect
  BOOST_CHECK(connector->getDestination() == Address(IPv4Address{"TCP", "127.0.0.1", number}));
}

COIL_TEST_CASE(refused_unix_connection_is_reported_later) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingClientFactory<>>();
  std::string path = tempSocketPath("missing");
  auto connector = b.reactor().connectUNIX(path, factory);
  BOOST_CHECK_EQUAL(factory->failedCount, 0);
  BOOST_CHECK(b.iterateUntil([&] { return factory->failedCount == 1; }));
  BOOST_CHECK(factory->failed->check<error::ConnectError>());
  BOOST_CHECK(connector->getDestination() == Address(UNIXAddress{path}));
}

COIL_TEST_CASE(stopConnecting_fails_with_UserError_and_only_while_connecting) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingClientFactory<>>();
  auto connector = b.reactor().connectTCP("127.0.0.1", closedPort(b), factory);
  connector->stopConnecting();
  BOOST_CHECK_EQUAL(factory->failedCount, 1);
  BOOST_CHECK(factory->failed->check<error::UserError>());
  BOOST_CHECK(!factory->failed->check<error::TimeoutError>());
  BOOST_CHECK_THROW(connector->stopConnecting(), error::NotConnectingError);
  connector->disconnect();  // disconnected: nothing
  BOOST_CHECK_EQUAL(factory->failedCount, 1);
  BOOST_CHECK_THROW(
      {
        connector->connect();
        connector->connect();
      },
      std::logic_error);
  connector->disconnect();  // connecting: stopConnecting
  BOOST_CHECK_EQUAL(factory->failedCount, 2);
  int passes = 0;
  b.iterateUntil([&] { return ++passes > 3; });
  BOOST_CHECK_EQUAL(factory->failedCount, 2);
}

COIL_TEST_CASE(timeout_fails_the_attempt_with_TimeoutError) {
  // A zero timeout expires in the same pass as the attempt starts: deterministic, unlike a
  // non-routable address.
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      auto server = std::make_shared<RecordingServerFactory<>>();
      auto port = kind.listen(b.reactor(), server);
      auto factory = std::make_shared<RecordingClientFactory<>>();
      auto connector = kind.connect(b.reactor(), *port, factory, 0);
      BOOST_CHECK(b.iterateUntil([&] { return factory->failedCount == 1; }));
      BOOST_CHECK(factory->failed->check<error::TimeoutError>());
      BOOST_CHECK(factory->built.empty());
      bool stopped = false;
      port->stopListening().addCallback([&] { stopped = true; });
      b.iterateUntil([&] {
        for (auto& p : server->built)
          if (p->lostCount == 0) return false;
        return stopped;
      });
    }
  }
}

COIL_TEST_CASE(reconnecting_from_clientConnectionLost) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      int reconnects = 0;
      pair.clientFactory->onLost = [&](IConnector& c, const Failure&) {
        if (reconnects++ == 0) c.connect();
      };
      if (!pair.open(b, kind)) continue;
      pair.server().transport()->loseConnection();
      BOOST_CHECK(b.iterateUntil([&] {
        return pair.clientFactory->built.size() == 2 && pair.clientFactory->built[1]->made == 1;
      }));
      BOOST_CHECK_EQUAL(pair.clientFactory->started, 2);
      BOOST_CHECK_EQUAL(pair.clientFactory->numPorts(), 1);  // one cycle: doStart once
      pair.close(b);
      BOOST_CHECK_EQUAL(pair.clientFactory->lostCount, 2);
      BOOST_CHECK_EQUAL(pair.clientFactory->numPorts(), 0);
    }
  }
}

COIL_TEST_CASE(connector_disconnect_loses_an_established_connection) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      pair.connector->disconnect();
      BOOST_CHECK(b.iterateUntil([&] { return pair.clientFactory->lostCount == 1; }));
      BOOST_CHECK(pair.clientFactory->lost->check<error::ConnectionDone>());
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(bindAddress_and_ConnectBindError) {
  ReactorBuilder b;
  StreamPair<> pair;
  pair.port = b.reactor().listenTCP(0, pair.serverFactory, 50, "127.0.0.1");
  int number = portOf(*pair.port);
  pair.connector = b.reactor().connectTCP("127.0.0.1", number, pair.clientFactory, 30,
                                          BindAddress{"127.0.0.1", 0});
  BOOST_REQUIRE(b.iterateUntil([&] { return pair.serverFactory->built.size() == 1; }));
  auto peer = std::get<IPv4Address>(pair.server().transport()->getPeer());
  BOOST_CHECK_EQUAL(peer.host, "127.0.0.1");
  // Binding to the listening port itself fails.
  auto failing = std::make_shared<RecordingClientFactory<>>();
  auto c2 =
      b.reactor().connectTCP("127.0.0.1", number, failing, 30, BindAddress{"127.0.0.1", number});
  BOOST_CHECK(b.iterateUntil([&] { return failing->failedCount == 1; }));
  BOOST_CHECK(failing->failed->check<error::ConnectBindError>());
  BOOST_REQUIRE(b.iterateUntil([&] { return pair.clientFactory->built.size() == 1; }));
  pair.close(b);
}

COIL_TEST_CASE(host_names_are_resolved_off_the_reactor_thread) {
  ReactorBuilder b;
  b.reactor().getThreadPool().start();  // started by run(); these tests only iterate
  std::vector<Address> found;
  b.reactor()
      .nameResolver()
      .resolveHostName("localhost", 80)
      .addCallback([&](std::vector<Address> v) { found = std::move(v); });
  BOOST_REQUIRE(b.iterateUntil([&] { return !found.empty(); }));
  for (const Address& a : found) {
    bool ip = std::holds_alternative<IPv4Address>(a) || std::holds_alternative<IPv6Address>(a);
    BOOST_CHECK(ip);
  }
  // connectTCP with a host name: listen on every address of the first result's family.
  bool v6 = std::holds_alternative<IPv6Address>(found.front());
  StreamPair<> pair;
  pair.port = b.reactor().listenTCP(0, pair.serverFactory, 50, v6 ? "::" : "0.0.0.0");
  pair.connector = b.reactor().connectTCP("localhost", portOf(*pair.port), pair.clientFactory);
  BOOST_CHECK(pair.connector->getDestination() ==
              Address(HostnameAddress{"localhost", portOf(*pair.port)}));
  BOOST_CHECK(b.iterateUntil([&] {
    return !pair.clientFactory->built.empty() && pair.clientFactory->built[0]->made == 1;
  }));
  if (!pair.clientFactory->built.empty()) {
    // The client's peer is the resolved IP, not the name.
    Address peer = pair.client().transport()->getPeer();
    BOOST_CHECK(!std::holds_alternative<HostnameAddress>(peer));
  }
  BOOST_REQUIRE(b.iterateUntil([&] { return pair.serverFactory->built.size() == 1; }));
  pair.close(b);
}

COIL_TEST_CASE(a_lookup_failure_reaches_clientConnectionFailed) {
  ReactorBuilder b;
  b.reactor().getThreadPool().start();
  auto factory = std::make_shared<RecordingClientFactory<>>();
  auto connector = b.reactor().connectTCP("no-such-host.invalid", 80, factory, 10);
  BOOST_CHECK(b.iterateUntil([&] { return factory->failedCount == 1; }, 12));
  BOOST_REQUIRE(factory->failed);
  BOOST_CHECK(factory->failed->check<error::DNSLookupError>());
}

BOOST_AUTO_TEST_SUITE_END()
