#pragma once
/// @file DatagramPortBase: the part every datagram port shares (UDP, multicast, UNIX datagram):
/// the socket's life as a listening port and a batched, bounded read path.

#include <coil/core/Deferred.hpp>
#include <coil/core/IDatagramTransport.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/IListeningPort.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>

#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coil::detail {

/// A datagram socket registered as a reader: startListening() opens it (openSocket()), hands
/// it to the protocol (makeConnection → doStart) and starts reading; stopListening() stops
/// reading at once and closes on a later iteration (protocol.doStop(), then the Deferreds).
///
/// Reading takes up to kBatch datagrams per recvmmsg() into buffers made once per port, and
/// repeats until the socket is drained or maxThroughput() bytes were delivered in this event, so
/// one busy port cannot starve the loop. Nothing is allocated per datagram: the sender's
/// address is converted only when it differs from the previous sender's. Thread: reactor.
class DatagramPortBase : public IFileDescriptor,
                         public virtual IListeningPort,
                         public virtual IDatagramTransport,
                         public std::enable_shared_from_this<DatagramPortBase> {
 public:
  /// Twisted's maxThroughput: bytes read per readiness event (256 KiB).
  static constexpr std::size_t kDefaultMaxThroughput = 256 * 1024;

  ~DatagramPortBase() override;

  // ---- IListeningPort
  /// Opens the socket, starts the protocol and reads. Throws error::CannotListenError (or
  /// what openSocket() throws); an exception from startProtocol() closes the socket, undoes
  /// the protocol's start and propagates. Throws coil::LogicError when already listening.
  void startListening() override;
  /// Stops reading now; closes on a later iteration, then protocol.doStop() and the Deferred
  /// fires. Already stopped: an already-fired Deferred.
  Deferred<void> stopListening() override;

  // ---- IDatagramTransport
  /// The largest datagram delivered whole.
  std::size_t maxPacketSize() const override { return maxPacketSize_; }

  // ---- IFileDescriptor
  /// The socket, or -1 when closed.
  int fileno() const override { return fd_.get(); }
  /// Reads and delivers datagrams (see the class comment).
  std::optional<Failure> doRead() override;
  /// The reactor dropped the port (shutdown or a read error): closes it now.
  void connectionLost(const Failure& reason) override;
  /// The protocol's log prefix.
  std::string logPrefix() const override;

  /// True between startListening() and stopListening().
  bool listening() const noexcept { return listening_; }
  /// The per-event read budget in bytes (at least one datagram is read per event).
  void setReadBudget(std::size_t bytes) noexcept { maxThroughput_ = bytes; }
  /// The per-event read budget in bytes.
  std::size_t readBudget() const noexcept { return maxThroughput_; }

 protected:
  /// A port on `reactor` for `protocol` (not null), reading datagrams of up to `maxPacketSize`
  /// bytes (at least 1, else std::invalid_argument). `addressType` is the coil::Address type
  /// name of senders ("UDP"), or null for UNIX sockets.
  DatagramPortBase(ReactorBase& reactor, std::shared_ptr<AbstractDatagramProtocol> protocol,
                   std::size_t maxPacketSize, const char* addressType);

  /// Makes the socket: bound, non-blocking. Throws error::CannotListenError or similar.
  virtual UniqueFd openSocket() = 0;
  /// Called once the socket is open, before the protocol starts (e.g. to reconnect).
  virtual void socketOpened() {}
  /// One datagram arrived from `from` (the sender, unused by connected ports).
  virtual void deliver(std::string_view data, const Address& from) = 0;
  /// A read reported ECONNREFUSED (only connected sockets see it).
  virtual void readRefused() {}
  /// Called after the socket is closed, before the protocol's doStop() (e.g. to unlink).
  virtual void socketClosed() {}

  /// Sends `data` with send() (`to` null) or sendto(); EINTR is retried; EAGAIN/ENOBUFS drop
  /// the datagram; ECONNREFUSED returns true (the caller decides); EMSGSIZE throws
  /// error::MessageLengthError; others throw coil::Error. Throws coil::LogicError when closed.
  bool send(std::string_view data, const SockAddr* to);

  /// The cached socket address of `addr` when it is the last sender's address (the usual
  /// reply), else null.
  const SockAddr* cachedSender(const Address& addr) const noexcept;

  /// The reactor.
  ReactorBase& reactor() const noexcept { return *reactor_; }
  /// The protocol.
  AbstractDatagramProtocol& protocolBase() const noexcept { return *protocol_; }
  /// The socket (-1 when closed).
  int socketFd() const noexcept { return fd_.get(); }
  /// Adopts `fd` as the socket of the next startListening() (adoptDatagramPort()).
  void adoptSocket(UniqueFd fd) noexcept { adopted_ = std::move(fd); }

 private:
  static constexpr std::size_t kBatch = 16;
  void closeNow();
  void prepareBuffers();
  void noteSender(const sockaddr_storage& name, socklen_t length);
  bool readBatch(std::size_t& budgetUsed, std::optional<Failure>& failure);

  ReactorBase* reactor_;
  std::shared_ptr<AbstractDatagramProtocol> protocol_;
  std::size_t maxPacketSize_;
  std::size_t maxThroughput_ = kDefaultMaxThroughput;
  const char* addressType_;
  UniqueFd fd_;
  UniqueFd adopted_;
  bool listening_ = false;
  bool started_ = false;  // the protocol was started and not yet stopped
  std::vector<Deferred<void>> closing_;
  DelayedCallPtr closeCall_;
  // Receive buffers, made on first listen and kept.
  std::size_t batch_ = 1;
  std::vector<char> buffer_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_storage> names_;
  // The last sender, as given to deliver() and as a socket address (for replies).
  Address from_;
  SockAddr fromSock_;
  bool fromValid_ = false;
};

}  // namespace coil::detail
