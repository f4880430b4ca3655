#pragma once
/// @file StreamConnection: the connected stream transport shared by TCP (IPv4, IPv6) and UNIX
/// stream sockets (Twisted's tcp.Connection + abstract.FileDescriptor).
///
/// Steady state costs one recv() per readable event into a per-thread buffer and one send() per
/// write when nothing is queued; the reactor is asked to watch for writability only while bytes
/// are queued.

#include <coil/core/Failure.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/ITCPTransport.hpp>
#include <coil/core/IUNIXTransport.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coil {

class IFileDescriptorReceiver;
class IHalfCloseableProtocol;

namespace stream {

class Connector;

/// Transports pause a push producer once more than this many bytes are queued (Twisted's
/// bufferSize).
inline constexpr std::size_t kHighWaterMark = 64 * 1024;

/// Bytes a readable event may deliver at most (the size of the per-thread receive buffer):
/// 256 KiB unless setReadBufferSize() changed it. Thread: any.
std::size_t readBufferSize() noexcept;

/// Sets readBufferSize() for buffers made afterwards; values under 64 KiB become 64 KiB.
/// Thread: any (a thread's buffer is resized on its next read).
void setReadBufferSize(std::size_t bytes) noexcept;

/// A connected (or, for clients, connecting) stream socket. Created by Port (accepted),
/// Connector (outgoing) or adoptStreamConnection(); always owned by std::shared_ptr. The reactor
/// holds it while it is registered, and it holds itself while connected, until
/// connectionLost() has run. Thread: reactor.
class Connection : public ITCPTransport,
                   public IFileDescriptor,
                   public std::enable_shared_from_this<Connection> {
 public:
  /// Wraps the non-blocking socket `fd` of `family` (AF_INET, AF_INET6, AF_UNIX); `connector`
  /// is set for client connections.
  Connection(ReactorBase& reactor, detail::UniqueFd fd, int family,
             std::shared_ptr<Connector> connector = nullptr);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The socket is connected: starts reading, then protocol->makeConnection(*this). An
  /// exception from makeConnection loses the connection with it as the reason. Throws
  /// std::system_error when the reactor refuses the descriptor (the socket is then closed).
  void start(std::shared_ptr<IProtocol> protocol);
  /// Client side: the non-blocking connect() is in progress; watch for its completion.
  void startConnecting();
  /// Client side: gives up a connect in progress (closes the socket, no callbacks).
  void cancelConnecting() noexcept;

  // ---- ITransport / ITCPTransport
  /// Sends at once when nothing is queued; queues (and watches for writability) only the rest.
  void write(std::string_view data) override;
  /// Scatter-gather write (one sendmsg() when nothing is queued).
  void writeSequence(std::span<const std::string_view> data) override;
  /// Stops reading; closes once the buffer is flushed and no producer is registered.
  void loseConnection() override;
  /// RST now; connectionLost(ConnectionAborted) on a later iteration.
  void abortConnection() override;
  /// True after loseConnection()/abortConnection() or once lost.
  bool disconnecting() const override { return disconnecting_; }
  /// The peer's address (UNIXAddress with an empty name for unnamed UNIX peers).
  Address getPeer() const override { return peer_; }
  /// The local address.
  Address getHost() const override { return host_; }
  /// Stops reading.
  void pauseProducing() override;
  /// Resumes reading while connected and not disconnecting.
  void resumeProducing() override;
  /// loseConnection().
  void stopProducing() override { loseConnection(); }
  /// See IConsumer::registerProducer().
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override;
  /// See IConsumer::unregisterProducer().
  void unregisterProducer() override;
  /// Half-closes once the buffer is flushed.
  void loseWriteConnection() override;
  /// TCP_NODELAY (false for UNIX sockets).
  bool getTcpNoDelay() const override;
  /// Sets TCP_NODELAY (ignored for UNIX sockets).
  void setTcpNoDelay(bool enabled) override;
  /// SO_KEEPALIVE.
  bool getTcpKeepAlive() const override;
  /// Sets SO_KEEPALIVE.
  void setTcpKeepAlive(bool enabled) override;

  // ---- IFileDescriptor
  /// The socket, or -1 once closed.
  int fileno() const override { return fd_.get(); }
  /// One recv() (recvmsg() for UNIX, collecting passed descriptors) and dataReceived().
  std::optional<Failure> doRead() override;
  /// Flushes queued bytes; drives producers, a pending close or half-close; completes connects.
  std::optional<Failure> doWrite() override;
  /// Closes the socket, stops the producer, then protocol.connectionLost(reason) and (clients)
  /// the connector's clientConnectionLost. Runs once.
  void connectionLost(const Failure& reason) override;
  /// The protocol's logPrefix(), or "Connection".
  std::string logPrefix() const override;

  /// Bytes queued and not yet sent.
  std::size_t bufferedBytes() const noexcept { return out_.size() - outHead_; }

 protected:
  /// Queues a duplicate of `fd` for SCM_RIGHTS (UNIX connections).
  void queueFileDescriptor(int fd);

 private:
  void startReading();
  void stopReading() noexcept;
  void startWriting();
  void stopWriting() noexcept;
  void queue(std::string_view data);
  void afterQueue();
  void fail(const Failure& reason);
  std::optional<Failure> readEof();
  std::optional<Failure> finishConnecting();
  std::optional<Failure> drained();
  long sendQueued();
  long receive(char* buffer, std::size_t size);

  ReactorBase& reactor_;
  detail::UniqueFd fd_;
  int family_;
  std::shared_ptr<Connector> connector_;
  std::shared_ptr<IProtocol> protocol_;
  IHalfCloseableProtocol* halfClose_ = nullptr;
  IFileDescriptorReceiver* fdReceiver_ = nullptr;
  std::shared_ptr<Connection> self_;  // while connected
  std::shared_ptr<IProducer> producer_;
  std::string out_;           // queued bytes from outHead_ on
  std::size_t outHead_ = 0;   // bytes of out_ already sent
  std::vector<int> sendFds_;  // descriptors waiting for a byte to carry them
  Address host_;
  Address peer_;
  bool connecting_ = false;
  bool connected_ = false;
  bool disconnecting_ = false;
  bool aborted_ = false;
  bool lost_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool readPaused_ = false;
  bool readClosed_ = false;
  bool writeShutdownWanted_ = false;
  bool writeClosed_ = false;
  bool streaming_ = false;
  bool producerPaused_ = false;
};

/// A UNIX stream connection: a Connection that can also pass descriptors. Thread: reactor.
class UNIXConnection final : public Connection, public IUNIXTransport {
 public:
  using Connection::Connection;
  /// See IUNIXTransport::sendFileDescriptor().
  void sendFileDescriptor(int fd) override { queueFileDescriptor(fd); }
};

/// A Connection or UNIXConnection for `family`. Thread: reactor.
std::shared_ptr<Connection> makeConnection(ReactorBase& reactor, detail::UniqueFd fd, int family,
                                           std::shared_ptr<Connector> connector = nullptr);

}  // namespace stream
}  // namespace coil
