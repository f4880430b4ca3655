#pragma once
/// @file Socket: socket plumbing every transport shares — owned descriptors, socket addresses
/// and their conversion to coil::Address, IP literals, and errno → Twisted error classes.
/// Private to transports/.

#include <coil/core/Address.hpp>
#include <coil/core/Failure.hpp>

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace coil::detail {

/// A descriptor closed on destruction (move-only). Thread: any.
class UniqueFd {
 public:
  /// Holds nothing.
  UniqueFd() noexcept = default;
  /// Takes ownership of `fd` (-1: nothing).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  /// Closes what it holds.
  ~UniqueFd() { reset(); }
  /// Takes `other`'s descriptor.
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  /// Closes what it holds, then takes `other`'s descriptor.
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  /// The descriptor, or -1.
  int get() const noexcept { return fd_; }
  /// True when it holds a descriptor.
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Gives the descriptor up without closing it.
  int release() noexcept { return std::exchange(fd_, -1); }
  /// Closes what it holds (EINTR is not retried: Linux has closed it anyway) and takes `fd`.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

/// A socket address of any family with its length. Thread: any (a value).
struct SockAddr {
  /// How many of the bytes are meaningful. First, so that a send to an IP address reads it
  /// from the same cache line as the address.
  socklen_t length = 0;
  /// The bytes.
  sockaddr_storage storage{};
  /// storage.ss_family.
  int family() const noexcept { return storage.ss_family; }
  /// The address for bind()/connect()/sendto().
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  /// The address for accept()/getsockname()/recvfrom() (set `length` to sizeof(storage) first).
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
};

/// True for a dotted-quad IPv4 literal ("127.0.0.1"). Thread: any.
bool isIPv4Literal(std::string_view host);
/// True for an IPv6 literal, optionally with a "%scope" suffix ("::1", "fe80::1%lo"). Thread: any.
bool isIPv6Literal(std::string_view host);
/// The socket address of IP literal `host` and `port` (either family; a "%scope" suffix sets
/// sin6_scope_id), or nullopt when `host` is not an IP literal. Thread: any.
std::optional<SockAddr> ipSockAddr(std::string_view host, int port);
/// The wildcard address of `family` (AF_INET: 0.0.0.0, AF_INET6: ::) with `port`. Thread: any.
SockAddr anySockAddr(int family, int port);
/// The AF_UNIX address of `path` (a leading NUL makes it abstract: the length then counts the
/// name exactly). Throws error::InvalidAddressError when the path does not fit. Thread: any.
SockAddr unixSockAddr(std::string_view path);

/// `addr` as coil::Address: IPv4Address/IPv6Address with `type` ("TCP", "UDP"), or
/// UNIXAddress (empty name when unbound). Other families give an empty UNIXAddress. Thread: any.
Address toAddress(const SockAddr& addr, const char* type);
/// getsockname() of `fd` as coil::Address (see toAddress). Thread: any.
Address localAddress(int fd, const char* type);
/// getpeername() of `fd` as coil::Address (see toAddress). Thread: any.
Address peerAddress(int fd, const char* type);

/// A new non-blocking, close-on-exec socket; on failure holds nothing and sets `ec`. Thread: any.
UniqueFd makeSocket(int family, int type, std::error_code& ec) noexcept;
/// A duplicate of `fd` (close-on-exec), for adopting descriptors the caller keeps. Thread: any.
UniqueFd duplicateFd(int fd, std::error_code& ec) noexcept;
/// Sets O_NONBLOCK on `fd`. Thread: any.
std::error_code setNonBlocking(int fd) noexcept;
/// The pending error of a socket (SO_ERROR), cleared by reading it. Thread: any.
std::error_code pendingError(int fd) noexcept;
/// Sets an int socket option. Thread: any.
std::error_code setIntOption(int fd, int level, int name, int value) noexcept;
/// Reads an int socket option (0 on failure). Thread: any.
int getIntOption(int fd, int level, int name) noexcept;

/// errno as a std::error_code (system category). Thread: any.
std::error_code lastSocketError() noexcept;
/// True for the errors that mean "try again later" (EAGAIN, EWOULDBLOCK, EINTR, ENOBUFS).
bool isTransient(std::error_code ec) noexcept;

/// The Twisted ConnectError subclass for a failed connect(): ECONNREFUSED →
/// ConnectionRefusedError, ENETUNREACH/EHOSTUNREACH → NoRouteError, ETIMEDOUT →
/// TCPTimedOutError, anything else → ConnectError; `detail` is appended. Thread: any.
Failure connectFailure(std::error_code ec, std::string detail = {});
/// ConnectionLost carrying `ec` (a socket error on an established connection). Thread: any.
Failure lostFailure(std::error_code ec);

}  // namespace coil::detail
