// Endpoints over real loopback sockets, on every backend: serverFromString + clientFromString
// round trips over TCP4, TCP6 and UNIX, an adopted blocking socket, HostnameEndpoint to
// "localhost", a refused connection.
#include <coil/core/Errors.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/transports/endpoints/ClientEndpoints.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/HostnameEndpoint.hpp>
#include <coil/transports/endpoints/ServerEndpoints.hpp>
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

using namespace coil;
using namespace coil::endpoints;

namespace {

// Echoes what it receives; closes when the peer closes.
struct Echo : Protocol {
  void dataReceived(std::string_view data) override { transport()->write(data); }
  void connectionLost(const Failure&) override {
    if (onLost) onLost();
  }
  std::function<void()> onLost;
};

// Sends `message`, closes once it came back whole.
struct Sender : Protocol {
  explicit Sender(std::string m) : message(std::move(m)) {}
  void connectionMade() override {
    madeBeforeFire = true;
    transport()->write(message);
  }
  void dataReceived(std::string_view data) override {
    received.append(data);
    if (received.size() >= message.size()) transport()->loseConnection();
  }
  void connectionLost(const Failure& reason) override {
    lost = reason;
    if (onLost) onLost();
  }
  std::string message;
  std::string received;
  bool madeBeforeFire = false;
  std::optional<Failure> lost;
  std::function<void()> onLost;
};

// Counts the events a round trip needs, then stops the reactor.
struct Countdown {
  ReactorBase& reactor;
  int left;
  void hit() {
    if (--left == 0) reactor.stop();
  }
};

int portOf(const IListeningPort& port) {
  Address a = port.getHost();
  if (auto* v4 = std::get_if<IPv4Address>(&a)) return v4->port;
  if (auto* v6 = std::get_if<IPv6Address>(&a)) return v6->port;
  return -1;
}

bool haveIPv6() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

// Listens with `server` description, connects with `client`, echoes `message`; checks the
// connect Deferred fired with the Sender after its connectionMade and the bytes came back.
// `clientFor(port)` builds the client endpoint once the port is known.
void roundTrip(
    ReactorBase& reactor, const std::shared_ptr<IStreamServerEndpoint>& server,
    const std::function<std::shared_ptr<IStreamClientEndpoint>(IListeningPort&)>& clientFor) {
  Countdown done{reactor, 3};  // client lost, server lost, port stopped
  auto echoFactory = std::make_shared<ServerFactory>();
  echoFactory->noisy = false;
  echoFactory->protocol = [&done] {
    auto e = std::make_shared<Echo>();
    e->onLost = [&done] { done.hit(); };
    return e;
  };
  auto listened = server->listen(echoFactory);
  std::shared_ptr<IListeningPort> port = test::successResultOf(listened);
  BOOST_TEST_MESSAGE("listening on " << toString(port->getHost()));

  auto sender = std::make_shared<Sender>(std::string(100000, 'x') + "end");
  sender->onLost = [&done, port] {
    done.hit();
    port->stopListening().addBoth([&done](Result<void> r) {
      BOOST_TEST(r.ok());
      done.hit();
    });
  };
  bool fired = false;
  auto connected = connectProtocol(*clientFor(*port), sender);
  connected.addBoth([&](Result<std::shared_ptr<IProtocol>> r) {
    if (!r.ok()) {
      BOOST_ERROR("connect failed: " + r.failure().describe());
      reactor.stop();
      return;
    }
    BOOST_TEST(r.value() == std::static_pointer_cast<IProtocol>(sender));
    BOOST_TEST(sender->madeBeforeFire);
    fired = true;
  });
  test::runReactor(reactor, 10);
  BOOST_TEST(fired);
  BOOST_TEST(sender->received == sender->message);
  BOOST_REQUIRE(sender->lost.has_value());
  BOOST_TEST(sender->lost->check<error::ConnectionDone>().has_value());
}

void roundTrip(
    ReactorBase& reactor, const std::string& server,
    const std::function<std::shared_ptr<IStreamClientEndpoint>(IListeningPort&)>& clientFor) {
  BOOST_TEST_MESSAGE("server endpoint " << server);
  roundTrip(reactor, serverFromString(reactor, server), clientFor);
}

std::string tempDirectory() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/coil-endpoints-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(EndpointSockets, test::ReactorTest)

COIL_TEST_CASE(tcp4RoundTrip) {
  roundTrip(*reactor, "tcp:0:interface=127.0.0.1", [&](IListeningPort& port) {
    return clientFromString(*reactor, "tcp:127.0.0.1:" + std::to_string(portOf(port)));
  });
}

COIL_TEST_CASE(tcp6RoundTrip) {
  if (!haveIPv6()) {
    BOOST_TEST_MESSAGE("no IPv6 loopback here: skipped");
    return;
  }
  roundTrip(*reactor, "tcp6:0:interface=\\:\\:1", [&](IListeningPort& port) {
    return std::make_shared<TCP6ClientEndpoint>(*reactor, "::1", portOf(port));
  });
}

COIL_TEST_CASE(unixRoundTrip) {
  const std::string dir = tempDirectory();
  const std::string path = dir + "/echo.sock";
  roundTrip(*reactor, "unix:" + quoteStringArgument(path) + ":mode=600", [&](IListeningPort&) {
    return clientFromString(*reactor, "unix:" + quoteStringArgument(path) + ":lockfile=1");
  });
  std::remove(path.c_str());
  std::remove((path + ".lock").c_str());
  ::rmdir(dir.c_str());
}

COIL_TEST_CASE(adoptedBlockingSocketIsMadeNonBlocking) {
  // Inherited listening sockets (systemd, inetd) are usually blocking; a blocking accept would
  // stall the reactor after the first connection, so the endpoint sets O_NONBLOCK (as Twisted).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  BOOST_REQUIRE(::listen(fd, 50) == 0);
  const int probe = ::dup(fd);  // shares the file status flags; the endpoint closes `fd`
  BOOST_REQUIRE(probe >= 0);
  BOOST_REQUIRE((::fcntl(probe, F_GETFL) & O_NONBLOCK) == 0);
  auto server = std::make_shared<AdoptedStreamServerEndpoint>(*reactor, fd, AF_INET);
  roundTrip(*reactor, server, [&](IListeningPort& port) {
    return clientFromString(*reactor, "tcp:127.0.0.1:" + std::to_string(portOf(port)));
  });
  BOOST_TEST((::fcntl(probe, F_GETFL) & O_NONBLOCK) != 0);
  ::close(probe);
}

COIL_TEST_CASE(hostnameEndpointToLocalhost) {
  roundTrip(*reactor, "tcp:0:interface=127.0.0.1", [&](IListeningPort& port) {
    return std::make_shared<HostnameEndpoint>(*reactor, "localhost", portOf(port));
  });
}

COIL_TEST_CASE(refusedConnectionFailsTheDeferred) {
  // A port that was free a moment ago: listen, note it, stop.
  auto factory = std::make_shared<ServerFactory>();
  factory->noisy = false;
  auto port = test::successResultOf(
      serverFromString(*reactor, "tcp:0:interface=127.0.0.1")->listen(factory));
  const int number = portOf(*port);
  std::optional<Failure> failure;
  // Once the port is closed, connect to it (one run: a reactor cannot be restarted).
  port->stopListening().addBoth([&](Result<void>) {
    auto endpoint =
        clientFromString(*reactor, "tcp:127.0.0.1:" + std::to_string(number) + ":timeout=5");
    endpoint->connect(Factory::forProtocol<Protocol>()).addErrback([&](Failure f) {
      failure = f;
      reactor->stop();
      return std::shared_ptr<IProtocol>();
    });
  });
  test::runReactor(*reactor, 10);
  BOOST_REQUIRE(failure.has_value());
  BOOST_TEST(failure->check<error::ConnectionRefusedError>().has_value(), failure->describe());
}

BOOST_AUTO_TEST_SUITE_END()
