#pragma once
/// @file EchoService: coild's `echo` subcommand — an Echo protocol (Twisted's
/// protocols.wire.Echo, made half-close aware and flow-controlled) served on coil's TCP and
/// UNIX stream transports.

#include <coil/core/IHalfCloseableProtocol.hpp>
#include <coil/core/IListeningPort.hpp>
#include <coil/core/IProducer.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace coil::coild {

/// Writes back every byte it receives. Flow control: the protocol registers itself as the
/// transport's push producer, so when more than the transport's buffer size is waiting to be
/// sent the transport pauses it, and pausing stops reading from the peer; a peer that sends but
/// never reads therefore cannot make the server grow without bound. When the peer half-closes
/// (EOF), what is still buffered is sent before the connection closes. Thread: reactor.
class Echo final : public Protocol,
                   public IProducer,
                   public IHalfCloseableProtocol,
                   public std::enable_shared_from_this<Echo> {
 public:
  /// Registers this protocol as the transport's streaming producer.
  void connectionMade() override;

  /// Writes `data` back: the whole per-message path.
  void dataReceived(std::string_view data) override { transport_->write(data); }

  /// The peer sent EOF: flush what is queued, then close.
  void readConnectionLost() override;

  /// Never called (the echo never half-closes its own side).
  void writeConnectionLost() override {}

  /// The transport's buffer is above its high-water mark: stop reading.
  void pauseProducing() override { transport_->pauseProducing(); }

  /// The transport's buffer drained: read again.
  void resumeProducing() override { transport_->resumeProducing(); }

  /// The connection is gone; nothing to stop.
  void stopProducing() override {}
};

/// A factory building Echo protocols (quiet: no "Starting factory" lines). Thread: reactor.
std::shared_ptr<Factory> echoFactory();

/// Listens with echoFactory() on TCP `interface`:`port` ("" = every IPv4 address, an IPv6
/// literal = IPv6; port 0 = any free port). Throws error::CannotListenError. Thread: reactor.
std::shared_ptr<IListeningPort> listenEchoTCP(ReactorBase& reactor, int port,
                                              const std::string& interface);

/// Listens with echoFactory() on the UNIX stream socket `path` (mode 0666, with a
/// `<path>.lock` PID lock file so that a socket left by a dead coild is replaced). Throws
/// error::CannotListenError. Thread: reactor.
std::shared_ptr<IListeningPort> listenEchoUNIX(ReactorBase& reactor, const std::string& path);

/// "127.0.0.1:8000", "[::1]:8000" or "unix:/path" for a port's getHost(). Thread: any.
std::string describe(const Address& address);

}  // namespace coil::coild
