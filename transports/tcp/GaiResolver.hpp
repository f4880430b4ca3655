#pragma once
/// @file GaiResolver: the default host name resolver — getaddrinfo() run in the reactor's thread
/// pool (Twisted's _resolver.GAIResolver).

#include <coil/core/IHostnameResolver.hpp>
#include <coil/core/ReactorBase.hpp>

namespace coil::stream {

/// Resolves names with getaddrinfo() on a pool thread (deferToThread), so the reactor never
/// blocks. Results keep getaddrinfo's order, duplicates removed. Thread: reactor.
class GaiResolver final : public IHostnameResolver {
 public:
  /// A resolver using `reactor`'s thread pool; the reactor must outlive it.
  explicit GaiResolver(ReactorBase& reactor) : reactor_(reactor) {}

  /// See IHostnameResolver::resolveHostName(). A failing lookup is error::DNSLookupError
  /// naming the host and getaddrinfo's message.
  Deferred<std::vector<Address>> resolveHostName(std::string hostName, int port,
                                                 AddressTypes types = AddressTypes::any,
                                                 std::string transportSemantics = "TCP") override;

 private:
  ReactorBase& reactor_;
};

/// getaddrinfo() of `hostName` on the calling thread (what GaiResolver runs in the pool).
/// Throws error::DNSLookupError. Thread: any.
std::vector<Address> resolveBlocking(const std::string& hostName, int port, AddressTypes types,
                                     const std::string& transportSemantics);

}  // namespace coil::stream
