// Listening ports (spec §3.5) and adopted sockets (IReactorSocket), on every backend.
#include <coil/core/Errors.hpp>

#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/stream/StreamTesting.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <string>

using namespace coil;
using namespace coil::test;

namespace {

bool stop(ReactorBuilder& b, IListeningPort& port) {
  bool done = false;
  port.stopListening().addCallback([&done] { done = true; });
  return b.iterateUntil([&] { return done; });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(StreamPort)

COIL_TEST_CASE(port_zero_gets_an_ephemeral_port_and_the_factory_starts) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingServerFactory<>>();
  auto port = b.reactor().listenTCP(0, factory, 50, "127.0.0.1");
  auto host = std::get<IPv4Address>(port->getHost());
  BOOST_CHECK_EQUAL(host.type, "TCP");
  BOOST_CHECK_EQUAL(host.host, "127.0.0.1");
  BOOST_CHECK_GT(host.port, 0);
  BOOST_CHECK_EQUAL(factory->numPorts(), 1);
  auto any = b.reactor().listenTCP(0, factory);  // "" = every IPv4 address
  BOOST_CHECK_EQUAL(std::get<IPv4Address>(any->getHost()).host, "0.0.0.0");
  BOOST_CHECK_EQUAL(factory->numPorts(), 2);
  BOOST_CHECK(stop(b, *port));
  BOOST_CHECK(stop(b, *any));
  BOOST_CHECK_EQUAL(factory->numPorts(), 0);
  if (haveIPv6()) {
    auto v6 = b.reactor().listenTCP(0, factory, 50, "::1");
    BOOST_CHECK(std::get<IPv6Address>(v6->getHost()).host == "::1");
    BOOST_CHECK(stop(b, *v6));
  }
}

COIL_TEST_CASE(a_port_in_use_is_CannotListenError_naming_interface_and_port) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingServerFactory<>>();
  auto port = b.reactor().listenTCP(0, factory, 50, "127.0.0.1");
  int number = portOf(*port);
  try {
    b.reactor().listenTCP(number, factory, 50, "127.0.0.1");
    BOOST_ERROR("listening twice on one port succeeded");
  } catch (const error::CannotListenError& e) {
    BOOST_CHECK_EQUAL(e.interface, "127.0.0.1");
    BOOST_CHECK_EQUAL(e.port, number);
    BOOST_CHECK_EQUAL(e.code().value(), EADDRINUSE);
    std::string what = e.what();
    BOOST_CHECK_NE(what.find("127.0.0.1:" + std::to_string(number)), std::string::npos);
  }
  BOOST_CHECK_THROW(b.reactor().listenTCP(0, factory, 50, "not-an-ip"), error::CannotListenError);
  BOOST_CHECK_EQUAL(factory->numPorts(), 1);
  BOOST_CHECK(stop(b, *port));
}

COIL_TEST_CASE(stopListening_fires_later_and_the_port_is_rebindable) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingServerFactory<>>();
  auto port = b.reactor().listenTCP(0, factory, 50, "127.0.0.1");
  int number = portOf(*port);
  bool done = false;
  port->stopListening().addCallback([&done] { done = true; });
  BOOST_CHECK(!done);
  BOOST_CHECK_EQUAL(factory->numPorts(), 1);  // doStop runs with the Deferred
  BOOST_CHECK(b.iterateUntil([&] { return done; }));
  BOOST_CHECK_EQUAL(factory->numPorts(), 0);
  bool again = false;
  port->stopListening().addCallback([&again] { again = true; });
  BOOST_CHECK(again);  // not listening: already fired
  auto second = b.reactor().listenTCP(number, factory, 50, "127.0.0.1");
  BOOST_CHECK_EQUAL(portOf(*second), number);
  BOOST_CHECK(stop(b, *second));
  port->startListening();  // a stopped port may listen again
  BOOST_CHECK(stop(b, *port));
}

COIL_TEST_CASE(accepted_connections_survive_stopListening) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      BOOST_CHECK(stop(b, *pair.port));
      pair.port.reset();
      pair.client().transport()->write("still connected");
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().received == "still connected"; }));
      BOOST_CHECK_EQUAL(pair.server().lostCount, 0);
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(a_null_protocol_closes_the_accepted_socket) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      pair.serverFactory->refuse = true;
      pair.port = kind.listen(b.reactor(), pair.serverFactory);
      pair.connector = kind.connect(b.reactor(), *pair.port, pair.clientFactory, 30);
      BOOST_CHECK(b.iterateUntil([&] { return pair.clientFactory->lostCount == 1; }));
      BOOST_CHECK_EQUAL(pair.serverFactory->peers.size(), 1u);
      BOOST_CHECK(pair.serverFactory->built.empty());
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(adopted_port_and_connection) {
  ReactorBuilder b;
  std::error_code ec;
  detail::UniqueFd listener = detail::makeSocket(AF_INET, SOCK_STREAM, ec);
  BOOST_REQUIRE(!ec);
  auto sa = detail::ipSockAddr("127.0.0.1", 0);
  BOOST_REQUIRE(::bind(listener.get(), sa->get(), sa->length) == 0);
  BOOST_REQUIRE(::listen(listener.get(), 5) == 0);
  auto factory = std::make_shared<RecordingServerFactory<>>();
  auto port = b.reactor().adoptStreamPort(listener.get(), AF_INET, factory);
  BOOST_CHECK(port->getHost() == detail::localAddress(listener.get(), "TCP"));
  BOOST_CHECK_EQUAL(factory->numPorts(), 1);
  listener.reset();  // the port holds its own duplicate

  // A connected socket made by hand, adopted as a connection.
  detail::UniqueFd raw = detail::makeSocket(AF_INET, SOCK_STREAM, ec);
  auto to = detail::ipSockAddr("127.0.0.1", portOf(*port));
  ::connect(raw.get(), to->get(), to->length);
  BOOST_REQUIRE(b.iterateUntil([&] { return factory->built.size() == 1; }));
  auto adopting = std::make_shared<RecordingServerFactory<>>();
  b.reactor().adoptStreamConnection(raw.get(), AF_INET, adopting);
  raw.reset();
  BOOST_REQUIRE_EQUAL(adopting->built.size(), 1u);
  BOOST_CHECK_EQUAL(adopting->numPorts(), 0);  // no doStart for adopted connections
  adopting->built[0]->transport()->write("adopted");
  BOOST_CHECK(b.iterateUntil([&] { return factory->built[0]->received == "adopted"; }));
  adopting->built[0]->transport()->loseConnection();
  BOOST_CHECK(b.iterateUntil([&] { return factory->built[0]->lostCount == 1; }));
  BOOST_CHECK(b.iterateUntil([&] { return adopting->built[0]->lostCount == 1; }));
  BOOST_CHECK(stop(b, *port));

  BOOST_CHECK_THROW(b.reactor().adoptStreamPort(0, AF_APPLETALK, factory),
                    error::UnsupportedAddressFamily);
  BOOST_CHECK_THROW(b.reactor().adoptStreamConnection(0, AF_APPLETALK, factory),
                    error::UnsupportedAddressFamily);
}

COIL_TEST_CASE(running_out_of_descriptors_does_not_busy_loop_and_recovers) {
  LogCapture logs;
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingServerFactory<>>();
  auto port = b.reactor().listenTCP(0, factory, 50, "127.0.0.1");
  auto to = detail::ipSockAddr("127.0.0.1", portOf(*port));
  rlimit saved{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  // Open client sockets until only a few descriptors are left, then lower the limit to the
  // highest descriptor in use: every accept() fails with EMFILE.
  std::vector<detail::UniqueFd> clients;
  std::error_code ec;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(detail::makeSocket(AF_INET, SOCK_STREAM, ec));
    ::connect(clients.back().get(), to->get(), to->length);
  }
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd)
    if (::fcntl(fd, F_GETFD) != -1) highest = fd;
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 1);
  BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<detail::UniqueFd> fillers;  // take every free number under the limit
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.emplace_back(fd);
  // While out of descriptors, iterate for a fixed time: a busy loop would make hundreds of
  // passes (the listening socket staying readable); waiting ones take `step` each.
  int passes = 0;
  b.iterateUntil([&] { return ++passes > 1000; }, 0.3, 0.05);
  bool closed = true;
  for (auto& c : clients) {
    char byte;
    // The excess connections were accepted and closed: the clients see EOF.
    if (::recv(c.get(), &byte, 1, MSG_DONTWAIT) != 0) closed = false;
  }
  fillers.clear();
  ::setrlimit(RLIMIT_NOFILE, &saved);
  BOOST_CHECK(closed);
  BOOST_CHECK_LT(passes, 30);
  BOOST_CHECK(factory->built.empty());
  BOOST_CHECK_EQUAL(logs.count("Too many open files"), 1u);  // rate-limited warning
  // Recovered: a new connection is served.
  StreamPair<> pair;
  pair.serverFactory = factory;
  pair.port = port;
  pair.connector = b.reactor().connectTCP("127.0.0.1", portOf(*port), pair.clientFactory);
  BOOST_CHECK(b.iterateUntil([&] { return factory->built.size() == 1; }));
  BOOST_CHECK(b.iterateUntil([&] { return pair.clientFactory->built.size() == 1; }));
  pair.close(b);
}

BOOST_AUTO_TEST_SUITE_END()
