#pragma once
/// @file IHostnameResolver: turning a host name into addresses (Twisted's IHostnameResolver,
/// with a Deferred instead of a resolution receiver).

#include <coil/core/Address.hpp>
#include <coil/core/Deferred.hpp>

#include <string>
#include <vector>

namespace coil {

/// Which address families a resolution may return.
enum class AddressTypes {
  /// IPv4 only.
  ipv4 = 1,
  /// IPv6 only.
  ipv6 = 2,
  /// Both, in the resolver's order.
  any = 3,
};

/// Resolves host names without blocking the reactor. Thread: reactor.
class IHostnameResolver {
 public:
  virtual ~IHostnameResolver() = default;

  /// Resolves `hostName` to IPv4Address/IPv6Address values carrying `port` and
  /// `transportSemantics` ("TCP" or "UDP") as their type, in the resolver's order (duplicates
  /// removed). Fails with error::DNSLookupError when the name does not resolve; an empty list
  /// is a success. Cancelling abandons the lookup.
  virtual Deferred<std::vector<Address>> resolveHostName(
      std::string hostName, int port, AddressTypes types = AddressTypes::any,
      std::string transportSemantics = "TCP") = 0;
};

}  // namespace coil
