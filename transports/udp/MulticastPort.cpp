// Multicast controls on UDP ports, IPv4 and IPv6 (Twisted's udp.MulticastMixin).
// Tests: test/transports/datagram/MulticastTest.cpp, MulticastIPv6Test.cpp
#include <coil/transports/udp/MulticastPort.hpp>

#include <coil/core/Errors.hpp>
#include <coil/transports/udp/DatagramAddress.hpp>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <charconv>
#include <optional>
#include <stdexcept>

namespace coil {

namespace {

// An IPv6 interface: "" = 0, a decimal index, or a name; nullopt when unknown.
std::optional<unsigned> interfaceIndex(std::string_view interface) {
  if (interface.empty()) return 0u;
  unsigned index = 0;
  auto [end, ec] = std::from_chars(interface.data(), interface.data() + interface.size(), index);
  if (ec == std::errc() && end == interface.data() + interface.size()) return index;
  unsigned found = ::if_nametoindex(std::string(interface).c_str());
  if (found == 0) return std::nullopt;
  return found;
}

// An IPv4 interface: "" = INADDR_ANY, else a literal; nullopt otherwise.
std::optional<in_addr> interfaceAddress(std::string_view interface) {
  in_addr out{};
  if (interface.empty()) {
    out.s_addr = htonl(INADDR_ANY);
    return out;
  }
  if (!detail::isIPv4Literal(interface)) return std::nullopt;
  ::inet_pton(AF_INET, std::string(interface).c_str(), &out);
  return out;
}

}  // namespace

MulticastPort::MulticastPort(ReactorBase& reactor, int port,
                             std::shared_ptr<DatagramProtocol> protocol, std::string_view interface,
                             std::size_t maxPacketSize, bool listenMultiple)
    : UDPPort(reactor, port, std::move(protocol), interface, maxPacketSize),
      listenMultiple_(listenMultiple) {}

void MulticastPort::beforeBind(int fd) {
  if (!listenMultiple_) return;
  if (std::error_code ec = detail::setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1))
    throw error::CannotListenError(interface(), 0, ec);
  if (std::error_code ec = detail::setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1))
    throw error::CannotListenError(interface(), 0, ec);
}

int MulticastPort::openFd() const {
  if (socketFd() < 0) throw LogicError("multicast control on a closed port");
  return socketFd();
}

std::string MulticastPort::getOutgoingInterface() const {
  int fd = openFd();
  if (family() == AF_INET6) {
    int index = detail::getIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF);
    char name[IF_NAMESIZE] = {};
    if (index == 0 || ::if_indextoname(static_cast<unsigned>(index), name) == nullptr) return {};
    return name;
  }
  in_addr addr{};
  socklen_t length = sizeof addr;
  if (::getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &addr, &length) != 0) return "0.0.0.0";
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr, text, sizeof text);
  return text;
}

Deferred<void> MulticastPort::setOutgoingInterface(std::string_view interface) {
  flushWrites();  // queued replies leave under the options they were written with
  int fd = openFd();
  int rc = 0;
  if (family() == AF_INET6) {
    std::optional<unsigned> index = interfaceIndex(interface);
    if (!index)
      return fail<void>(error::InvalidAddressError(std::string(interface) + ": no such interface"));
    int value = static_cast<int>(*index);
    rc = ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &value, sizeof value);
  } else {
    std::optional<in_addr> addr = interfaceAddress(interface);
    if (!addr)
      return fail<void>(
          error::InvalidAddressError(std::string(interface) + ": not an IPv4 address"));
    rc = ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &*addr, sizeof *addr);
  }
  if (rc != 0) return fail<void>(Error("setOutgoingInterface", detail::lastSocketError()));
  return succeed();
}

bool MulticastPort::getLoopbackMode() const {
  int fd = openFd();
  return family() == AF_INET6 ? detail::getIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP) != 0
                              : detail::getIntOption(fd, IPPROTO_IP, IP_MULTICAST_LOOP) != 0;
}

void MulticastPort::setLoopbackMode(bool enabled) {
  flushWrites();  // queued replies leave under the options they were written with
  int fd = openFd();
  std::error_code ec =
      family() == AF_INET6
          ? detail::setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, enabled ? 1 : 0)
          : detail::setIntOption(fd, IPPROTO_IP, IP_MULTICAST_LOOP, enabled ? 1 : 0);
  if (ec) throw Error("setLoopbackMode", ec);
}

int MulticastPort::getTTL() const {
  int fd = openFd();
  return family() == AF_INET6 ? detail::getIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS)
                              : detail::getIntOption(fd, IPPROTO_IP, IP_MULTICAST_TTL);
}

void MulticastPort::setTTL(int ttl) {
  if (ttl < 0 || ttl > 255)
    throw std::invalid_argument("setTTL: " + std::to_string(ttl) + " is not in 0..255");
  flushWrites();
  int fd = openFd();
  std::error_code ec = family() == AF_INET6
                           ? detail::setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl)
                           : detail::setIntOption(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl);
  if (ec) throw Error("setTTL", ec);
}

Deferred<void> MulticastPort::joinGroup(std::string_view addr, std::string_view interface) {
  return membership(addr, interface, true);
}

Deferred<void> MulticastPort::leaveGroup(std::string_view addr, std::string_view interface) {
  return membership(addr, interface, false);
}

Deferred<void> MulticastPort::membership(std::string_view addr, std::string_view interface,
                                         bool join) {
  flushWrites();  // queued replies leave under the options they were written with
  int fd = openFd();
  std::string what = std::string(addr) + (interface.empty() ? "" : " on ") + std::string(interface);
  std::optional<detail::SockAddr> group = detail::ipSockAddr(addr, 0);
  if (!group || group->family() != family())
    return fail<void>(error::MulticastJoinError(
        what + ": not an " + (family() == AF_INET6 ? "IPv6" : "IPv4") + " address"));
  int rc = 0;
  if (family() == AF_INET6) {
    std::optional<unsigned> index = interfaceIndex(interface);
    if (!index) return fail<void>(error::MulticastJoinError(what + ": no such interface"));
    ipv6_mreq request{};
    request.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6&>(group->storage).sin6_addr;
    request.ipv6mr_interface = *index;
    rc = ::setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &request,
                      sizeof request);
  } else {
    std::optional<in_addr> local = interfaceAddress(interface);
    if (!local) return fail<void>(error::MulticastJoinError(what + ": bad interface"));
    ip_mreq request{};
    request.imr_multiaddr = reinterpret_cast<const sockaddr_in&>(group->storage).sin_addr;
    request.imr_interface = *local;
    rc = ::setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &request,
                      sizeof request);
  }
  if (rc != 0) return fail<void>(error::MulticastJoinError(what, detail::lastSocketError()));
  return succeed();
}

}  // namespace coil
