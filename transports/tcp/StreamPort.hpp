#pragma once
/// @file StreamPort: a listening stream socket — TCP (IPv4, IPv6) or UNIX — that accepts
/// connections for a factory (Twisted's tcp.Port and unix.Port).

#include <coil/core/Deferred.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/IListeningPort.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>
#include <coil/transports/unix/FilesystemLock.hpp>

#include <memory>
#include <optional>
#include <string>

namespace coil::stream {

/// A listening socket. Accepts up to a batch per readable event (100 to start, grown by 20 when
/// used up, shrunk to what was accepted otherwise). Running out of descriptors (EMFILE, ENFILE)
/// is handled with a reserved descriptor: it is closed, the excess connection accepted and
/// closed, the reserve reopened, and a warning logged at most once every 10 seconds.
/// Thread: reactor.
class Port final : public IListeningPort,
                   public IFileDescriptor,
                   public std::enable_shared_from_this<Port> {
 public:
  /// What to bind.
  struct Config {
    /// AF_INET, AF_INET6 or AF_UNIX.
    int family = AF_INET;
    /// The interface as given (for messages; IP ports).
    std::string interface;
    /// The port as given (IP ports).
    int port = 0;
    /// The socket path (UNIX; a leading NUL = abstract namespace).
    std::string path;
    /// listen() backlog.
    int backlog = 50;
    /// chmod() mode of the socket file (UNIX, not abstract).
    int mode = 0666;
    /// Take `<path>.lock` (UNIX, not abstract).
    bool wantPID = false;
  };

  /// For std::make_shared only.
  struct Private {
    explicit Private() = default;
  };
  /// Use listen() or adopt().
  Port(Private, ReactorBase& reactor, std::shared_ptr<Factory> factory, Config config);
  ~Port() override;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  /// A port for `config`, listening (startListening() done). Throws error::CannotListenError.
  static std::shared_ptr<Port> listen(ReactorBase& reactor, std::shared_ptr<Factory> factory,
                                      Config config);
  /// A port over a duplicate of the listening socket `fd` (factory.doStart() runs). Throws
  /// error::UnsupportedAddressFamily for a family other than AF_INET, AF_INET6, AF_UNIX.
  static std::shared_ptr<Port> adopt(ReactorBase& reactor, std::shared_ptr<Factory> factory, int fd,
                                     int family);

  // ---- IListeningPort
  /// Binds, listens, starts the factory and watches for connections.
  void startListening() override;
  /// Stops accepting and closes the socket now (UNIX: unlinks the path, releases the lock); the
  /// Deferred fires on a later iteration after factory.doStop().
  Deferred<void> stopListening() override;
  /// The bound address.
  Address getHost() const override;

  // ---- IFileDescriptor
  /// The listening socket, or -1.
  int fileno() const override { return fd_.get(); }
  /// Accepts a batch of connections.
  std::optional<Failure> doRead() override;
  /// The reactor dropped the port: closes it and stops the factory.
  void connectionLost(const Failure& reason) override;
  /// "<factory prefix> (TCP|UNIX)".
  std::string logPrefix() const override;

 private:
  void bindAndListen();
  void closeSocket() noexcept;
  void serve(detail::UniqueFd fd, const detail::SockAddr& peer);
  bool handleExhaustion(int err);

  ReactorBase& reactor_;
  std::shared_ptr<Factory> factory_;
  Config config_;
  detail::UniqueFd fd_;
  detail::UniqueFd adopted_;  // a duplicate given to adopt(), used by the first start
  detail::UniqueFd reserve_;  // spare descriptor for EMFILE/ENFILE
  std::optional<detail::FilesystemLock> lock_;
  Address host_;
  bool listening_ = false;
  int numberAccepts_ = 100;
  double lastWarning_ = -1e9;
};

}  // namespace coil::stream
