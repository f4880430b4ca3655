#pragma once
/// @file StreamConnector: client connection attempts over TCP and UNIX stream sockets
/// (Twisted's base.BaseConnector with tcp.Connector and unix.Connector).

#include <coil/core/Address.hpp>
#include <coil/core/Deferred.hpp>
#include <coil/core/DelayedCall.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/IConnector.hpp>
#include <coil/core/IReactorTCP.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coil::stream {

class Connection;

/// Connects to one destination, as often as connect() is called (spec §3.6). States:
/// disconnected → connecting → connected → disconnected. Every attempt starts on a later
/// iteration (callLater(0)), so every failure reaches clientConnectionFailed() asynchronously;
/// `timeout` seconds without a connection fail it with error::TimeoutError. Thread: reactor.
class Connector final : public IConnector {
 public:
  /// A TCP connector to `host` (IP literal or host name, resolved with AddressTypes::any; the
  /// first address is used) and `port`.
  static std::shared_ptr<Connector> tcp(ReactorBase& reactor, std::string host, int port,
                                        std::shared_ptr<ClientFactory> factory, double timeout,
                                        std::optional<BindAddress> bindAddress);
  /// A UNIX stream connector to `path`; with `checkPID` a missing or stale `<path>.lock` fails
  /// the attempt with error::BadFileError.
  static std::shared_ptr<Connector> unixStream(ReactorBase& reactor, std::string path,
                                               std::shared_ptr<ClientFactory> factory,
                                               double timeout, bool checkPID);

  /// Starts an attempt (factory.doStart() once per cycle, then startedConnecting()). Throws
  /// std::logic_error unless disconnected.
  void connect() override;
  /// stopConnecting() while connecting, loseConnection() while connected.
  void disconnect() override;
  /// Fails the attempt with error::UserError; error::NotConnectingError unless connecting.
  void stopConnecting() override;
  /// The destination as given: IPv4Address/IPv6Address for IP literals, HostnameAddress for
  /// host names, UNIXAddress for paths.
  Address getDestination() const override;

  // ---- called by the Connection (Thread: reactor)
  /// The attempt failed for `reason`.
  void connectionFailed(const Failure& reason);
  /// The socket connected: the factory's protocol for `peer` (a dummy protocol when it
  /// returns null; the connection is then lost at once). Cancels the timeout.
  std::shared_ptr<IProtocol> connected(const Address& peer, bool& refused);
  /// The established connection was lost for `reason` (after the protocol's connectionLost).
  void connectionLost(const Failure& reason);

  /// For std::make_shared only.
  struct Private {
    explicit Private() = default;
  };
  /// Use tcp() or unixStream().
  Connector(Private, ReactorBase& reactor, std::shared_ptr<ClientFactory> factory, double timeout);

 private:
  enum class State { disconnected, connecting, connected };

  std::shared_ptr<Connector> self();
  void begin();
  void connectTo(const detail::SockAddr& address);
  void cancelPending() noexcept;
  void finishCycle();

  ReactorBase& reactor_;
  std::shared_ptr<ClientFactory> factory_;
  double timeout_;
  bool unix_ = false;
  std::string host_;  // TCP host, or the UNIX path
  int port_ = 0;
  std::optional<BindAddress> bindAddress_;
  bool checkPID_ = false;
  State state_ = State::disconnected;
  bool factoryStarted_ = false;
  DelayedCallPtr startCall_;
  DelayedCallPtr timeoutCall_;
  std::optional<Deferred<std::vector<Address>>> resolving_;
  std::shared_ptr<Connection> attempt_;  // while connecting
  std::weak_ptr<Connection> transport_;  // while connected
};

}  // namespace coil::stream
