#pragma once
/// @file IConnector: a client connection attempt that can be repeated (Twisted's IConnector).

#include <coil/core/Address.hpp>

#include <memory>

namespace coil {

/// The object a client factory sees in startedConnecting / clientConnectionFailed /
/// clientConnectionLost; calling connect() inside the last two reconnects. Connectors are
/// always owned by std::shared_ptr (connectTCP() returns one), so factories that reconnect
/// later (ReconnectingClientFactory) keep it alive with shared_from_this() — concrete
/// connectors must not add a second enable_shared_from_this base. Thread: reactor.
class IConnector : public std::enable_shared_from_this<IConnector> {
 public:
  virtual ~IConnector() = default;

  /// Starts a connection attempt: factory.doStart() once per cycle, then
  /// startedConnecting(*this). Throws std::logic_error unless disconnected.
  virtual void connect() = 0;

  /// stopConnecting() while connecting, loseConnection() on the transport while connected,
  /// nothing otherwise.
  virtual void disconnect() = 0;

  /// Fails the current attempt with error::UserError (clientConnectionFailed follows). Throws
  /// error::NotConnectingError unless connecting.
  virtual void stopConnecting() = 0;

  /// Where this connector connects, as given (unresolved: HostnameAddress for host names).
  virtual Address getDestination() const = 0;
};

}  // namespace coil
