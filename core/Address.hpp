#pragma once
/// @file Address: the address value types transports report (Twisted's internet/address.py).

#include <cstdint>
#include <string>
#include <variant>

namespace coil {

/// An IPv4 socket endpoint (Twisted's IPv4Address). Thread: any (a value).
struct IPv4Address {
  /// "TCP" or "UDP".
  std::string type = "TCP";
  /// Dotted-quad host ("127.0.0.1").
  std::string host;
  /// Port number.
  int port = 0;
  /// Memberwise equality.
  friend bool operator==(const IPv4Address&, const IPv4Address&) = default;
};

/// An IPv6 socket endpoint (Twisted's IPv6Address). Thread: any (a value).
struct IPv6Address {
  /// "TCP" or "UDP".
  std::string type = "TCP";
  /// Textual host ("::1"), without brackets or scope suffix.
  std::string host;
  /// Port number.
  int port = 0;
  /// sin6_flowinfo.
  std::uint32_t flowInfo = 0;
  /// sin6_scope_id.
  std::uint32_t scopeID = 0;
  /// Memberwise equality.
  friend bool operator==(const IPv6Address&, const IPv6Address&) = default;
};

/// A UNIX-domain socket address (Twisted's UNIXAddress). Thread: any (a value).
struct UNIXAddress {
  /// The socket path; empty for an unbound socket; Linux abstract-namespace names begin with
  /// '\0' (the string holds the NUL and is compared byte for byte).
  std::string name;
  /// Byte-wise equality of the names.
  friend bool operator==(const UNIXAddress&, const UNIXAddress&) = default;
};

/// An unresolved host name and port (Twisted's HostnameAddress). Thread: any (a value).
struct HostnameAddress {
  /// The host name as given ("example.com").
  std::string hostname;
  /// Port number.
  int port = 0;
  /// Memberwise equality.
  friend bool operator==(const HostnameAddress&, const HostnameAddress&) = default;
};

/// Any address a transport, port or connector reports. Equality compares the alternative and
/// then its members. Thread: any (a value).
using Address = std::variant<IPv4Address, IPv6Address, UNIXAddress, HostnameAddress>;

/// Twisted-style repr: "IPv4Address(type='TCP', host='127.0.0.1', port=80)". Thread: any.
inline std::string toString(const IPv4Address& a) {
  return "IPv4Address(type='" + a.type + "', host='" + a.host +
         "', port=" + std::to_string(a.port) + ")";
}
/// "IPv6Address(type='TCP', host='::1', port=80, flowInfo=0, scopeID=0)". Thread: any.
inline std::string toString(const IPv6Address& a) {
  return "IPv6Address(type='" + a.type + "', host='" + a.host +
         "', port=" + std::to_string(a.port) + ", flowInfo=" + std::to_string(a.flowInfo) +
         ", scopeID=" + std::to_string(a.scopeID) + ")";
}
/// "UNIXAddress('/tmp/sock')"; a NUL byte (abstract namespace) shows as "\\0", an unbound
/// socket as "UNIXAddress(None)". Thread: any.
inline std::string toString(const UNIXAddress& a) {
  if (a.name.empty()) return "UNIXAddress(None)";
  std::string out = "UNIXAddress('";
  for (char c : a.name) {
    if (c == '\0')
      out += "\\0";
    else
      out += c;
  }
  return out + "')";
}
/// "HostnameAddress(hostname='example.com', port=80)". Thread: any.
inline std::string toString(const HostnameAddress& a) {
  return "HostnameAddress(hostname='" + a.hostname + "', port=" + std::to_string(a.port) + ")";
}
/// The repr of whichever alternative `a` holds. Thread: any.
inline std::string toString(const Address& a) {
  return std::visit([](const auto& v) { return toString(v); }, a);
}

}  // namespace coil
