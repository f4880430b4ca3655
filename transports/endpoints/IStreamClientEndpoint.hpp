#pragma once
/// @file IStreamClientEndpoint: something a stream client can connect to (Twisted's
/// IStreamClientEndpoint), and connectProtocol() for connecting one ready-made protocol.

#include <coil/core/Deferred.hpp>
#include <coil/core/Protocol.hpp>

#include <memory>

namespace coil::endpoints {

/// A client endpoint: where to connect, decided before `connect()` is called. Endpoints are
/// held by std::shared_ptr (clientFromString returns one). Thread: reactor.
class IStreamClientEndpoint {
 public:
  virtual ~IStreamClientEndpoint() = default;
  /// Connects, building the protocol with `factory` (a plain Factory or a ClientFactory; the
  /// ClientFactory callbacks are not called). The Deferred fires with the protocol
  /// buildProtocol() returned, after its connectionMade(); it fails with the connection error
  /// (an error::ConnectError subclass), error::NoProtocol when buildProtocol() returns null, or
  /// what buildProtocol() threw. Cancelling it while connecting abandons the attempt and fails
  /// it with error::ConnectingCancelledError.
  virtual Deferred<std::shared_ptr<IProtocol>> connect(std::shared_ptr<Factory> factory) = 0;
};

/// Connects `protocol` itself through `endpoint` (Twisted's connectProtocol): a one-shot factory
/// whose buildProtocol() returns `protocol`. Fires with `protocol` once connected.
/// Thread: reactor.
Deferred<std::shared_ptr<IProtocol>> connectProtocol(IStreamClientEndpoint& endpoint,
                                                     std::shared_ptr<IProtocol> protocol);

}  // namespace coil::endpoints
