#pragma once
/// @file IListeningPort: a bound server socket (Twisted's IListeningPort).

#include <coil/core/Address.hpp>
#include <coil/core/Deferred.hpp>

namespace coil {

/// A listening port, owned by its reactor while it listens. Thread: reactor.
class IListeningPort {
 public:
  virtual ~IListeningPort() = default;

  /// Binds and listens (synchronously); factory.doStart() on success. Throws
  /// error::CannotListenError on failure. listenTCP() calls it for you.
  virtual void startListening() = 0;

  /// Stops accepting now; the Deferred fires on a later iteration once the socket is closed and
  /// factory.doStop() ran (an exception from stopFactory fails it). Already-accepted
  /// connections stay open. When not listening, returns an already-fired Deferred. The port may
  /// be started again afterwards.
  virtual Deferred<void> stopListening() = 0;

  /// The bound address (port 0 resolved to the ephemeral port chosen).
  virtual Address getHost() const = 0;
};

}  // namespace coil
