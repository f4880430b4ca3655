#pragma once
/// @file IStreamServerEndpoint: something a stream server can listen on (Twisted's
/// IStreamServerEndpoint): a TCP port, a UNIX path, an adopted socket, or a plugin's type.

#include <coil/core/Deferred.hpp>
#include <coil/core/IListeningPort.hpp>
#include <coil/core/Protocol.hpp>

#include <memory>

namespace coil::endpoints {

/// A server endpoint: where to listen, decided before `listen()` is called. Endpoints are held
/// by std::shared_ptr (serverFromString returns one). Thread: reactor.
class IStreamServerEndpoint {
 public:
  virtual ~IStreamServerEndpoint() = default;
  /// Listens with `factory`. The Deferred fires with the listening port, or fails (typically
  /// with error::CannotListenError); the built-in endpoints return it already fired.
  virtual Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) = 0;
};

}  // namespace coil::endpoints
