#pragma once
/// @file IReactorTCP: listening and connecting over TCP, IPv4 and IPv6 (Twisted's IReactorTCP).

#include <coil/core/IConnector.hpp>
#include <coil/core/IListeningPort.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace coil {

class Factory;
class ClientFactory;

/// A local address a client socket binds to before connecting (Twisted's `bindAddress`
/// tuple). Thread: any (a value).
struct BindAddress {
  /// An IP literal ("127.0.0.1", "::1"); empty binds the wildcard of the destination's family.
  std::string host;
  /// The local port; 0 lets the kernel choose.
  int port = 0;
};

/// TCP servers and clients. The public methods carry Twisted's defaults and forward to the
/// protected virtuals that a backend implements. Thread: reactor.
class IReactorTCP {
 public:
  virtual ~IReactorTCP() = default;

  /// Binds `interface`:`port` synchronously and listens (port 0: an ephemeral port, read it
  /// with getHost()). `interface` "" means every IPv4 address; an IPv6 literal makes an IPv6
  /// port. factory.doStart() runs on success. Throws error::CannotListenError naming the
  /// interface and port.
  std::shared_ptr<IListeningPort> listenTCP(int port, std::shared_ptr<Factory> factory,
                                            int backlog = 50, std::string_view interface = "") {
    return doListenTCP(port, std::move(factory), backlog, interface);
  }

  /// Starts connecting to `host`:`port` (an IP literal or a host name resolved off the reactor
  /// thread). Every failure, even an immediate one, reaches factory.clientConnectionFailed()
  /// on a later iteration; `timeout` seconds without a connection fail it with
  /// error::TimeoutError.
  std::shared_ptr<IConnector> connectTCP(std::string_view host, int port,
                                         std::shared_ptr<ClientFactory> factory,
                                         double timeout = 30,
                                         std::optional<BindAddress> bindAddress = std::nullopt) {
    return doConnectTCP(host, port, std::move(factory), timeout, std::move(bindAddress));
  }

 protected:
  /// listenTCP() with every argument given.
  virtual std::shared_ptr<IListeningPort> doListenTCP(int port, std::shared_ptr<Factory> factory,
                                                      int backlog, std::string_view interface) = 0;
  /// connectTCP() with every argument given.
  virtual std::shared_ptr<IConnector> doConnectTCP(std::string_view host, int port,
                                                   std::shared_ptr<ClientFactory> factory,
                                                   double timeout,
                                                   std::optional<BindAddress> bindAddress) = 0;
};

}  // namespace coil
