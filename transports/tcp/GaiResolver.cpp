// GaiResolver: getaddrinfo() in the reactor's thread pool.
// Tests: test/transports/stream/ResolverTest.cpp
#include <coil/transports/tcp/GaiResolver.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Threads.hpp>
#include <coil/transports/detail/Socket.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace coil::stream {

std::vector<Address> resolveBlocking(const std::string& hostName, int port, AddressTypes types,
                                     const std::string& transportSemantics) {
  addrinfo hints{};
  hints.ai_family = types == AddressTypes::ipv4   ? AF_INET
                    : types == AddressTypes::ipv6 ? AF_INET6
                                                  : AF_UNSPEC;
  hints.ai_socktype = transportSemantics == "UDP" ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(hostName.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    throw error::DNSLookupError("address '" + hostName + "' not found: " + ::gai_strerror(rc));
  }
  std::vector<Address> out;
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    detail::SockAddr sa;
    std::memcpy(&sa.storage, ai->ai_addr, ai->ai_addrlen);
    sa.length = ai->ai_addrlen;
    Address a = detail::toAddress(sa, transportSemantics.c_str());
    std::visit(
        [port](auto& v) {
          if constexpr (
              requires { v.port; } && !requires { v.hostname; })
            v.port = port;
        },
        a);
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  }
  ::freeaddrinfo(found);
  return out;
}

Deferred<std::vector<Address>> GaiResolver::resolveHostName(std::string hostName, int port,
                                                            AddressTypes types,
                                                            std::string transportSemantics) {
  return deferToThread(reactor_, [hostName = std::move(hostName), port, types,
                                  semantics = std::move(transportSemantics)] {
    return resolveBlocking(hostName, port, types, semantics);
  });
}

}  // namespace coil::stream
