// ClientEndpoints: TCP4/TCP6/UNIX stream client endpoints, and connectProtocol().
// Tests: test/transports/endpoints/ClientEndpointTest.cpp
#include <coil/transports/endpoints/ClientEndpoints.hpp>

#include <coil/core/Errors.hpp>
#include <coil/transports/endpoints/detail/WrappingFactory.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace coil::endpoints {

namespace {

using ProtocolDeferred = Deferred<std::shared_ptr<IProtocol>>;

bool isIPv6Literal(const std::string& host) {
  in6_addr out{};
  return ::inet_pton(AF_INET6, host.c_str(), &out) == 1;
}

// The one-shot factory of connectProtocol().
class OneShotFactory : public Factory {
 public:
  explicit OneShotFactory(std::shared_ptr<IProtocol> protocol) : protocol_(std::move(protocol)) {}
  std::shared_ptr<IProtocol> buildProtocol(const Address& /*addr*/) override { return protocol_; }

 private:
  std::shared_ptr<IProtocol> protocol_;
};

ProtocolDeferred connectTCPWrapped(ReactorBase& reactor, const std::string& host, int port,
                                   std::shared_ptr<Factory> factory, double timeout,
                                   const std::optional<BindAddress>& bindAddress) {
  return detail::connectWrapped(std::move(factory), [&](std::shared_ptr<ClientFactory> wrapping) {
    reactor.connectTCP(host, port, std::move(wrapping), timeout, bindAddress);
  });
}

}  // namespace

TCP4ClientEndpoint::TCP4ClientEndpoint(ReactorBase& reactor, std::string host, int port,
                                       double timeout, std::optional<BindAddress> bindAddress)
    : reactor_(reactor),
      host_(std::move(host)),
      port_(port),
      timeout_(timeout),
      bindAddress_(std::move(bindAddress)) {}

ProtocolDeferred TCP4ClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  return connectTCPWrapped(reactor_, host_, port_, std::move(factory), timeout_, bindAddress_);
}

TCP6ClientEndpoint::TCP6ClientEndpoint(ReactorBase& reactor, std::string host, int port,
                                       double timeout, std::optional<BindAddress> bindAddress)
    : TCP4ClientEndpoint(reactor, std::move(host), port, timeout, std::move(bindAddress)) {}

ProtocolDeferred TCP6ClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  if (isIPv6Literal(host()))
    return connectTCPWrapped(reactor(), host(), port(), std::move(factory), timeout(),
                             bindAddress());
  Deferred<std::vector<Address>> resolved;
  try {
    resolved = reactor().nameResolver().resolveHostName(host(), port(), AddressTypes::ipv6);
  } catch (...) {
    return fail<std::shared_ptr<IProtocol>>(Failure::current());
  }
  // The chain copies what it needs: the endpoint may be gone when the resolution ends (the
  // reactor must not be).
  return resolved.addCallback([&reactor = reactor(), host = host(), port = port(),
                               timeout = timeout(), bindAddress = bindAddress(),
                               factory = std::move(factory)](std::vector<Address> found) {
    for (const Address& a : found)
      if (const auto* v6 = std::get_if<IPv6Address>(&a))
        return connectTCPWrapped(reactor, v6->host, port, factory, timeout, bindAddress);
    return fail<std::shared_ptr<IProtocol>>(
        error::DNSLookupError("no results for hostname lookup: " + host));
  });
}

UNIXClientEndpoint::UNIXClientEndpoint(ReactorBase& reactor, std::string path, double timeout,
                                       bool checkPID)
    : reactor_(reactor), path_(std::move(path)), timeout_(timeout), checkPID_(checkPID) {}

ProtocolDeferred UNIXClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  return detail::connectWrapped(std::move(factory), [&](std::shared_ptr<ClientFactory> wrapping) {
    reactor_.connectUNIX(path_, std::move(wrapping), timeout_, checkPID_);
  });
}

ProtocolDeferred connectProtocol(IStreamClientEndpoint& endpoint,
                                 std::shared_ptr<IProtocol> protocol) {
  return endpoint.connect(std::make_shared<OneShotFactory>(std::move(protocol)));
}

}  // namespace coil::endpoints
