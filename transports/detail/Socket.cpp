// Socket plumbing shared by the transports.
// Tests: test/transports/detail/SocketTest.cpp
#include <coil/transports/detail/Socket.hpp>

#include <coil/core/Errors.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace coil::detail {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

bool isIPv4Literal(std::string_view host) {
  if (host.empty() || host.size() > 15) return false;
  std::string copy(host);
  in_addr out{};
  return ::inet_pton(AF_INET, copy.c_str(), &out) == 1;
}

bool isIPv6Literal(std::string_view host) {
  std::string_view bare = host.substr(0, host.find('%'));
  if (bare.empty() || bare.size() >= INET6_ADDRSTRLEN) return false;
  std::string copy(bare);
  in6_addr out{};
  return ::inet_pton(AF_INET6, copy.c_str(), &out) == 1;
}

std::optional<SockAddr> ipSockAddr(std::string_view host, int port) {
  SockAddr out;
  if (isIPv4Literal(host)) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, std::string(host).c_str(), &sin->sin_addr);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  if (!isIPv6Literal(host)) return std::nullopt;
  // getaddrinfo with AI_NUMERICHOST never blocks and understands "%scope".
  addrinfo hints{};
  hints.ai_family = AF_INET6;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (::getaddrinfo(std::string(host).c_str(), nullptr, &hints, &found) != 0 || !found) {
    return std::nullopt;
  }
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  ::freeaddrinfo(found);
  reinterpret_cast<sockaddr_in6*>(&out.storage)->sin6_port =
      htons(static_cast<std::uint16_t>(port));
  return out;
}

SockAddr anySockAddr(int family, int port) {
  SockAddr out;
  if (family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_any;
    sin6->sin6_port = htons(static_cast<std::uint16_t>(port));
    out.length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_ANY);
    sin->sin_port = htons(static_cast<std::uint16_t>(port));
    out.length = sizeof(sockaddr_in);
  }
  return out;
}

SockAddr unixSockAddr(std::string_view path) {
  SockAddr out;
  auto* sun = reinterpret_cast<sockaddr_un*>(&out.storage);
  sun->sun_family = AF_UNIX;
  bool abstract = !path.empty() && path.front() == '\0';
  // A filesystem path needs room for its terminating NUL; an abstract name does not.
  if (path.size() + (abstract ? 0 : 1) > sizeof(sun->sun_path)) {
    throw error::InvalidAddressError("UNIX socket path too long (" + std::to_string(path.size()) +
                                     " bytes, at most " +
                                     std::to_string(sizeof(sun->sun_path) - 1) + ")");
  }
  std::memcpy(sun->sun_path, path.data(), path.size());
  out.length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  return out;
}

Address toAddress(const SockAddr& addr, const char* type) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    ::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    return IPv4Address{type, text, ntohs(sin->sin_port)};
  }
  if (addr.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    return IPv6Address{type, text, ntohs(sin6->sin6_port), ntohl(sin6->sin6_flowinfo),
                       sin6->sin6_scope_id};
  }
  if (addr.family() == AF_UNIX) {
    const auto* sun = reinterpret_cast<const sockaddr_un*>(&addr.storage);
    std::size_t offset = offsetof(sockaddr_un, sun_path);
    if (addr.length <= offset) return UNIXAddress{};
    std::size_t n = addr.length - offset;
    if (sun->sun_path[0] != '\0') n = ::strnlen(sun->sun_path, n);  // drop the terminator
    return UNIXAddress{std::string(sun->sun_path, n)};
  }
  return UNIXAddress{};
}

Address localAddress(int fd, const char* type) {
  SockAddr addr;
  addr.length = sizeof addr.storage;
  if (::getsockname(fd, addr.get(), &addr.length) != 0) return UNIXAddress{};
  return toAddress(addr, type);
}

Address peerAddress(int fd, const char* type) {
  SockAddr addr;
  addr.length = sizeof addr.storage;
  if (::getpeername(fd, addr.get(), &addr.length) != 0) return UNIXAddress{};
  return toAddress(addr, type);
}

UniqueFd makeSocket(int family, int type, std::error_code& ec) noexcept {
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ec = fd < 0 ? lastSocketError() : std::error_code{};
  return UniqueFd(fd);
}

UniqueFd duplicateFd(int fd, std::error_code& ec) noexcept {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  ec = copy < 0 ? lastSocketError() : std::error_code{};
  return UniqueFd(copy);
}

std::error_code setNonBlocking(int fd) noexcept {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return lastSocketError();
  return {};
}

std::error_code pendingError(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return lastSocketError();
  return {err, std::system_category()};
}

std::error_code setIntOption(int fd, int level, int name, int value) noexcept {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return lastSocketError();
  return {};
}

int getIntOption(int fd, int level, int name) noexcept {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, name, &value, &len) != 0) return 0;
  return value;
}

std::error_code lastSocketError() noexcept {
  return {errno, std::system_category()};
}

bool isTransient(std::error_code ec) noexcept {
  int e = ec.value();
  return ec.category() == std::system_category() &&
         (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ENOBUFS);
}

Failure connectFailure(std::error_code ec, std::string detail) {
  switch (ec.value()) {
    case ECONNREFUSED:
      return Failure(error::ConnectionRefusedError(std::move(detail), ec));
    case ENETUNREACH:
    case EHOSTUNREACH:
      return Failure(error::NoRouteError(std::move(detail), ec));
    case ETIMEDOUT:
      return Failure(error::TCPTimedOutError(std::move(detail), ec));
    default:
      return Failure(error::ConnectError(std::move(detail), ec));
  }
}

Failure lostFailure(std::error_code ec) {
  return Failure(error::ConnectionLost({}, ec));
}

}  // namespace coil::detail
