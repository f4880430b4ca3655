// Server endpoints over MemoryReactor: listen() returns an already-fired Deferred with the port
// or the listen error; the adopted endpoint listens once and closes its descriptor.
#include <coil/core/Errors.hpp>
#include <coil/transports/endpoints/ServerEndpoints.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/MemoryReactor.hpp>
#include <test/support/Testing.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>

using namespace coil;
using namespace coil::endpoints;
using coil::test::MemoryReactor;

BOOST_AUTO_TEST_SUITE(ServerEndpoints)

COIL_TEST_CASE(tcp4ListenFiresWithThePort) {
  MemoryReactor r;
  TCP4ServerEndpoint endpoint(r, 8080, 12, "127.0.0.1");
  auto factory = std::make_shared<Factory>();
  auto port = test::successResultOf(endpoint.listen(factory));
  BOOST_REQUIRE_EQUAL(r.ports.size(), 1u);
  BOOST_TEST(port == std::static_pointer_cast<IListeningPort>(r.ports[0]));
  BOOST_TEST((port->getHost() == Address(IPv4Address{"TCP", "127.0.0.1", 8080})));
  BOOST_REQUIRE_EQUAL(r.tcpServers.size(), 1u);
  BOOST_TEST(r.tcpServers[0].port == 8080);
  BOOST_TEST(r.tcpServers[0].backlog == 12);
  BOOST_TEST(r.tcpServers[0].interface == "127.0.0.1");
  BOOST_TEST(r.tcpServers[0].factory == factory);
}

COIL_TEST_CASE(constructorDefaults) {
  MemoryReactor r;
  TCP4ServerEndpoint tcp4(r, 1);
  BOOST_TEST(tcp4.backlog() == 50);
  BOOST_TEST(tcp4.interface() == "");
  TCP6ServerEndpoint tcp6(r, 2);
  BOOST_TEST(tcp6.backlog() == 50);
  BOOST_TEST(tcp6.interface() == "::");
  test::successResultOf(tcp6.listen(std::make_shared<Factory>()));
  BOOST_TEST(r.tcpServers.at(0).interface == "::");
  UNIXServerEndpoint unix(r, "/tmp/u");
  BOOST_TEST(unix.backlog() == 50);
  BOOST_TEST(unix.mode() == 0666);
  BOOST_TEST(unix.wantPID() == false);
}

COIL_TEST_CASE(listenErrorIsTheFailure) {
  MemoryReactor r;
  r.listenError = std::make_exception_ptr(
      error::CannotListenError("", 80, std::make_error_code(std::errc::permission_denied)));
  TCP4ServerEndpoint tcp(r, 80);
  auto f = test::failureResultOf<error::CannotListenError>(tcp.listen(std::make_shared<Factory>()));
  BOOST_TEST(f.value<error::CannotListenError>()->port == 80);
  UNIXServerEndpoint unix(r, "/nope/s");
  test::failureResultOf<error::CannotListenError>(unix.listen(std::make_shared<Factory>()));
}

COIL_TEST_CASE(unixListenPassesEveryArgument) {
  MemoryReactor r;
  UNIXServerEndpoint endpoint(r, "/tmp/sock", 3, 0600, true);
  auto port = test::successResultOf(endpoint.listen(std::make_shared<Factory>()));
  BOOST_TEST((port->getHost() == Address(UNIXAddress{"/tmp/sock"})));
  BOOST_REQUIRE_EQUAL(r.unixServers.size(), 1u);
  BOOST_TEST(r.unixServers[0].backlog == 3);
  BOOST_TEST(r.unixServers[0].mode == 0600);
  BOOST_TEST(r.unixServers[0].wantPID == true);
}

COIL_TEST_CASE(adoptedListensOnceAndClosesTheDescriptor) {
  MemoryReactor r;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  AdoptedStreamServerEndpoint endpoint(r, fd, AF_INET);
  auto factory = std::make_shared<Factory>();
  test::successResultOf(endpoint.listen(factory));
  BOOST_REQUIRE_EQUAL(r.adoptedPorts.size(), 1u);
  BOOST_TEST(r.adoptedPorts[0].fd == fd);
  BOOST_TEST(r.adoptedPorts[0].addressFamily == AF_INET);
  BOOST_TEST(r.adoptedPorts[0].factory == factory);
  errno = 0;
  BOOST_TEST(::fcntl(fd, F_GETFD) == -1);  // closed after adoption
  BOOST_TEST(errno == EBADF);
  test::failureResultOf<error::AlreadyListened>(endpoint.listen(factory));
  BOOST_TEST(r.adoptedPorts.size() == 1u);
}

COIL_TEST_CASE(adoptedFailureKeepsTheDescriptor) {
  MemoryReactor r;
  r.listenError = std::make_exception_ptr(error::UnsupportedAddressFamily("42"));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  AdoptedStreamServerEndpoint endpoint(r, fd, 42);
  test::failureResultOf<error::UnsupportedAddressFamily>(
      endpoint.listen(std::make_shared<Factory>()));
  BOOST_TEST(::fcntl(fd, F_GETFD) != -1);
  ::close(fd);
  // Still one-shot: Twisted marks it used before trying.
  test::failureResultOf<error::AlreadyListened>(endpoint.listen(std::make_shared<Factory>()));
}

BOOST_AUTO_TEST_SUITE_END()
