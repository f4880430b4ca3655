// Address conversions and target checks for datagram ports.
// Tests: test/transports/datagram/UDPTest.cpp, UNIXDatagramTest.cpp
#include <coil/transports/udp/DatagramAddress.hpp>

#include <coil/core/Errors.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace coil::detail {

namespace {

template <class A>
A& holder(Address& out) {
  if (!std::holds_alternative<A>(out)) out.emplace<A>();
  return std::get<A>(out);
}

void assignIp(std::string& typeOut, std::string& hostOut, const char* type, int family,
              const void* raw) {
  char text[INET6_ADDRSTRLEN];
  ::inet_ntop(family, raw, text, sizeof text);
  if (typeOut != type) typeOut = type;
  hostOut.assign(text);
}

// Dotted quad of a network-order IPv4 address into `host` (inet_ntop goes through sprintf,
// which costs more than the rest of a datagram's delivery).
void assignIPv4(std::string& host, const in_addr& addr) {
  const auto* b = reinterpret_cast<const unsigned char*>(&addr.s_addr);
  char text[16];
  char* p = text;
  for (int i = 0; i < 4; ++i) {
    unsigned v = b[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i < 3) *p++ = '.';
  }
  host.assign(text, static_cast<std::size_t>(p - text));
}

}  // namespace

void assignSender(Address& out, const sockaddr_storage& name, socklen_t length, const char* type) {
  if (type != nullptr && name.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(name);
    IPv4Address& a = holder<IPv4Address>(out);
    if (a.type != type) a.type = type;
    assignIPv4(a.host, sin.sin_addr);
    a.port = ntohs(sin.sin_port);
    return;
  }
  if (type != nullptr && name.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(name);
    IPv6Address& a = holder<IPv6Address>(out);
    assignIp(a.type, a.host, type, AF_INET6, &sin6.sin6_addr);
    a.port = ntohs(sin6.sin6_port);
    a.flowInfo = ntohl(sin6.sin6_flowinfo);
    a.scopeID = sin6.sin6_scope_id;
    return;
  }
  UNIXAddress& a = holder<UNIXAddress>(out);
  const auto& sun = reinterpret_cast<const sockaddr_un&>(name);
  constexpr std::size_t offset = offsetof(sockaddr_un, sun_path);
  // An unbound sender. The length is checked first: for a name of length 0 the kernel writes
  // no family.
  if (length <= offset || name.ss_family != AF_UNIX) {
    a.name.clear();
    return;
  }
  std::size_t n = length - offset;
  if (sun.sun_path[0] != '\0') n = ::strnlen(sun.sun_path, n);
  a.name.assign(sun.sun_path, n);
}

SockAddr ipTarget(std::string_view host, int port, int family) {
  if (port < 0 || port > 65535)
    throw error::InvalidAddressError(std::string(host) + ":" + std::to_string(port) +
                                     ": port out of range");
  if (family == AF_INET && host == "<broadcast>") host = "255.255.255.255";
  std::optional<SockAddr> out = ipSockAddr(host, port);
  if (!out) throw error::InvalidAddressError(std::string(host) + ": not an IPv4 or IPv6 address");
  if (out->family() != family)
    throw error::InvalidAddressError(
        std::string(host) + ": " +
        (family == AF_INET ? "IPv6 address on an IPv4 port" : "IPv4 address on an IPv6 port"));
  return *out;
}

SockAddr ipTarget(const Address& addr, int family) {
  if (const auto* v4 = std::get_if<IPv4Address>(&addr)) {
    if (!isIPv4Literal(v4->host) && v4->host != "<broadcast>")
      throw error::InvalidAddressError(v4->host + ": not an IPv4 address");
    return ipTarget(v4->host, v4->port, family);
  }
  if (const auto* v6 = std::get_if<IPv6Address>(&addr)) {
    if (!isIPv6Literal(v6->host))
      throw error::InvalidAddressError(v6->host + ": not an IPv6 address");
    SockAddr out = ipTarget(v6->host, v6->port, family);
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(out.storage);
    sin6.sin6_flowinfo = htonl(v6->flowInfo);
    if (v6->scopeID != 0) sin6.sin6_scope_id = v6->scopeID;
    return out;
  }
  throw error::InvalidAddressError(toString(addr) + ": not an IP address");
}

SockAddr unixTarget(const Address& addr) {
  const auto* local = std::get_if<UNIXAddress>(&addr);
  if (local == nullptr) throw error::InvalidAddressError(toString(addr) + ": not a UNIX address");
  if (local->name.empty())
    throw error::InvalidAddressError("UNIXAddress(None): the sender is not bound");
  return unixSockAddr(local->name);
}

int interfaceFamily(std::string_view interface) {
  if (interface.empty() || isIPv4Literal(interface)) return AF_INET;
  if (isIPv6Literal(interface)) return AF_INET6;
  throw error::InvalidAddressError(std::string(interface) + ": not an IPv4 or IPv6 address");
}

}  // namespace coil::detail
