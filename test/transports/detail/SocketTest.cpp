// transports/detail/Socket helpers and the UNIX lock file, without a reactor.
#include <coil/core/Errors.hpp>
#include <coil/transports/detail/Socket.hpp>
#include <coil/transports/unix/FilesystemLock.hpp>

#include <test/support/Testing.hpp>

#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>

using namespace coil;
using namespace coil::detail;

BOOST_AUTO_TEST_SUITE(SocketHelpers)

COIL_TEST_CASE(ip_literals_and_their_addresses) {
  BOOST_CHECK(isIPv4Literal("127.0.0.1"));
  BOOST_CHECK(!isIPv4Literal("localhost"));
  BOOST_CHECK(isIPv6Literal("::1"));
  BOOST_CHECK(isIPv6Literal("fe80::1%1"));
  BOOST_CHECK(!isIPv6Literal("127.0.0.1"));
  auto v4 = ipSockAddr("10.1.2.3", 8080);
  BOOST_REQUIRE(v4);
  BOOST_CHECK(toAddress(*v4, "TCP") == Address(IPv4Address{"TCP", "10.1.2.3", 8080}));
  auto v6 = ipSockAddr("::1", 53);
  BOOST_REQUIRE(v6);
  BOOST_CHECK(toAddress(*v6, "UDP") == Address(IPv6Address{"UDP", "::1", 53, 0, 0}));
  BOOST_CHECK(!ipSockAddr("example.com", 80));
  BOOST_CHECK(toAddress(anySockAddr(AF_INET6, 1), "TCP") == Address(IPv6Address{"TCP", "::", 1}));
}

COIL_TEST_CASE(unix_addresses_paths_and_abstract_names) {
  SockAddr path = unixSockAddr("/tmp/x.sock");
  BOOST_CHECK_EQUAL(path.length, offsetof(sockaddr_un, sun_path) + 12);
  BOOST_CHECK(toAddress(path, "UNIX") == Address(UNIXAddress{"/tmp/x.sock"}));
  std::string abstractName("\0name", 5);
  SockAddr abstract = unixSockAddr(abstractName);
  BOOST_CHECK_EQUAL(abstract.length, offsetof(sockaddr_un, sun_path) + 5);
  BOOST_CHECK(toAddress(abstract, "UNIX") == Address(UNIXAddress{abstractName}));
  BOOST_CHECK_THROW(unixSockAddr(std::string(200, 'x')), error::InvalidAddressError);
}

COIL_TEST_CASE(connect_errors_map_to_twisted_classes) {
  auto code = [](int e) { return std::error_code(e, std::system_category()); };
  BOOST_CHECK(connectFailure(code(ECONNREFUSED)).check<error::ConnectionRefusedError>());
  BOOST_CHECK(connectFailure(code(ENETUNREACH)).check<error::NoRouteError>());
  BOOST_CHECK(connectFailure(code(EHOSTUNREACH)).check<error::NoRouteError>());
  BOOST_CHECK(connectFailure(code(ETIMEDOUT)).check<error::TCPTimedOutError>());
  Failure other = connectFailure(code(EACCES));
  BOOST_CHECK(other.check<error::ConnectError>());
  BOOST_CHECK(!other.check<error::ConnectionRefusedError>());
  BOOST_CHECK(lostFailure(code(ECONNRESET)).check<error::ConnectionLost>());
  BOOST_CHECK(isTransient(code(EAGAIN)));
  BOOST_CHECK(!isTransient(code(EPIPE)));
}

COIL_TEST_CASE(filesystem_lock_holds_and_breaks_stale_locks) {
  std::string path = "/tmp/coil-lock-test-" + std::to_string(::getpid()) + ".lock";
  ::unlink(path.c_str());
  {
    FilesystemLock lock(path);
    BOOST_CHECK(lock.lock());
    BOOST_CHECK(lock.clean());
    BOOST_CHECK(isLocked(path));
    FilesystemLock second(path);
    BOOST_CHECK(!second.lock());  // held by a live process (this one)
  }
  BOOST_CHECK(!isLocked(path));                              // released by the destructor
  BOOST_REQUIRE(::symlink("999999999", path.c_str()) == 0);  // beyond pid_max: dead
  BOOST_CHECK(!isLocked(path));
  FilesystemLock lock(path);
  BOOST_CHECK(lock.lock());
  BOOST_CHECK(!lock.clean());
  lock.unlock();
  BOOST_CHECK(!isLocked(path));
}

BOOST_AUTO_TEST_SUITE_END()
