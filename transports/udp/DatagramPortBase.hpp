#pragma once
/// @file DatagramPortBase: the part every datagram port shares (UDP, multicast, UNIX datagram):
/// the socket's life as a listening port, a batched, bounded read path and batched replies.

#include <coil/core/Deferred.hpp>
#include <coil/core/IDatagramTransport.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/IListeningPort.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>
#include <coil/transports/udp/SenderCache.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace coil::detail {

/// A datagram socket registered as a reader: startListening() opens it (openSocket()), hands
/// it to the protocol (makeConnection → doStart) and starts reading; stopListening() stops
/// reading at once and closes on a later iteration (protocol.doStop(), then the Deferreds).
///
/// Reading takes up to kMaxBatch datagrams per recvmmsg(), and repeats until the socket is
/// drained or maxThroughput() bytes were delivered in this event, so one busy port cannot
/// starve the loop. A call asks for no more datagrams of maxPacketSize() than fit in what is
/// left of the event's budget (at least one) nor in kBatchBytes. A call that returned fewer
/// than asked found the socket empty; the port reads once more after it only while such reads
/// lately found datagrams (the replies just sent may have brought them), and that read asks for
/// one datagram (recvfrom()) when the last read found one. While the first reads of the last
/// few events found one datagram each (a peer that waits for each reply), events start with a
/// read of one instead, and now and then with a batch to see whether datagrams queue up again
/// (see doRead()). Readiness is
/// level-triggered, so whatever is left is reported again. The buffers are one set per thread,
/// shared by the thread's ports (a port reading while another's batch is delivered, from a
/// nested iteration, gets its own). Nothing is allocated per datagram: the sender's Address is
/// made once per sender (SenderCache) and reused while the same sender goes on.
///
/// Write batching (ports that call enableWriteBatching(): UDP, multicast). While the datagrams
/// of one recvmmsg() that returned more than one are being delivered, a subclass's write of at
/// most kMaxQueuedDatagram bytes to the datagram's sender (or to the connected peer) is checked
/// as usual, then copied into buffers the port makes on its first queued write (queueWrite()).
/// The queue leaves by one sendmmsg() when the batch's deliveries end, when kWriteBatch are
/// queued, and before anything that would pass it or change the socket: a write that is not
/// queued (bigger, or to another destination), connect() and socket options, stopListening(),
/// the close. So the order on the wire is the order of the write() calls, and a write outside
/// such a batch leaves before write() returns, as before.
///
/// The departure: a queued write's send error cannot be thrown from write(). At the flush,
/// EAGAIN/ENOBUFS drop the datagram (as write() does); ECONNREFUSED calls writeRefused() for a
/// write to the connected peer (connectionRefused()) and is ignored otherwise (as write()
/// does); any other error is logged with the destination, as an exception escaping
/// datagramReceived() would be. The flush then goes on with the next datagram. sendmmsg()
/// returns the errno of a call's first datagram only, so a pending ICMP refusal taken by a
/// later datagram of the call is lost: later refusals, or the next read, still reach
/// connectionRefused(), which may run fewer times than with one send() per write.
/// Thread: reactor.
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
  /// Writes queued for the read batch's sendmmsg() (see the class comment); 0 outside one.
  std::size_t pendingWrites() const noexcept { return queued_; }

  /// The largest datagram a write may queue. Bigger ones are sent at once, so that queueing
  /// never turns an EMSGSIZE that write() would throw into a log line. Linux fragments a UDP
  /// datagram rather than refuse it unless the socket was set to don't-fragment
  /// (IP_PMTUDISC_DO, IPV6_DONTFRAG); then the limit is the path MTU, which Linux never learns
  /// below 552 bytes for IPv4 (route.min_pmtu: 524 bytes of payload under a plain header) and
  /// IPv6 never below 1280 (1232). Only a don't-fragment socket with IP options or on a link
  /// whose MTU is under 540 bytes could refuse 512.
  static constexpr std::size_t kMaxQueuedDatagram = 512;
  /// How many writes one sendmmsg() takes at most.
  static constexpr std::size_t kWriteBatch = 32;
  /// How many datagrams one recvmmsg() takes at most.
  static constexpr std::size_t kMaxBatch = 64;
  /// The receive buffer per thread: a recvmmsg() asks for at most this many bytes (or for one
  /// datagram of maxPacketSize(), when that is bigger).
  static constexpr std::size_t kBatchBytes = 256 * 1024;

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
  /// A queued write to the connected peer reported ECONNREFUSED at the flush.
  virtual void writeRefused() {}
  /// Called after the socket is closed, before the protocol's doStop() (e.g. to unlink).
  virtual void socketClosed() {}

  /// Sends `data` with send() (`to` null) or sendto(), after the queued writes; EINTR is
  /// retried; EAGAIN/ENOBUFS drop the datagram; ECONNREFUSED returns true (the caller decides);
  /// EMSGSIZE throws error::MessageLengthError; others throw coil::Error. Throws
  /// coil::LogicError when closed.
  bool send(std::string_view data, const SockAddr* to);

  /// Lets write batching queue this port's writes (see the class comment); call it in the
  /// constructor.
  void enableWriteBatching() noexcept { batchWrites_ = true; }
  /// While a read batch of more than one datagram is delivered, copies `data` (at most
  /// kMaxQueuedDatagram bytes) for `to` (null: the connected peer) into the write batch and
  /// returns true; otherwise returns false and the caller sends with send(). The caller has
  /// checked the write; `to` must be an address the socket can reach (the sender's).
  bool queueWrite(std::string_view data, const SockAddr* to) {
    if (!collecting_ || flushing_ || data.size() > kMaxQueuedDatagram || !fd_) return false;
    queue(data, to);
    return true;
  }
  /// Sends the queued writes now (one sendmmsg() per kWriteBatch; errors as the class comment
  /// says). Call it before changing the socket.
  void flushWrites() {
    if (queued_ != 0 && !flushing_) flushQueue();  // a write from inside the flush goes at once
  }

  /// The cached socket address of `addr` when it is the last sender's address (the usual
  /// reply), else null.
  const SockAddr* cachedSender(const Address& addr) const noexcept {
    if (from_ == nullptr || fromSock_.length == 0) return nullptr;  // none, or unbound
    if (&addr == from_ || addr == *from_) return &fromSock_;
    return nullptr;
  }

  /// The reactor.
  ReactorBase& reactor() const noexcept { return *reactor_; }
  /// The protocol.
  AbstractDatagramProtocol& protocolBase() const noexcept { return *protocol_; }
  /// The socket (-1 when closed).
  int socketFd() const noexcept { return fd_.get(); }
  /// Adopts `fd` as the socket of the next startListening() (adoptDatagramPort()).
  void adoptSocket(UniqueFd fd) noexcept { adopted_ = std::move(fd); }

 private:
  void closeNow();
  struct WriteBatch;
  void noteSender(const sockaddr_storage& name, socklen_t length) {
    if (from_ == nullptr || length != fromSock_.length ||
        !sameName(name, fromSock_.storage, length))
      newSender(name, length);
  }
  // Whether socket addresses `a` and `b` of `length` bytes are the same (IP: fixed sizes).
  static bool sameName(const sockaddr_storage& a, const sockaddr_storage& b,
                       socklen_t length) noexcept {
    if (length == sizeof(sockaddr_in)) return std::memcmp(&a, &b, sizeof(sockaddr_in)) == 0;
    if (length == sizeof(sockaddr_in6)) return std::memcmp(&a, &b, sizeof(sockaddr_in6)) == 0;
    return std::memcmp(&a, &b, length) == 0;
  }
  void newSender(const sockaddr_storage& name, socklen_t length);
  void flushQueue();
  enum class Batch { kFull, kShort, kEmpty, kStop };
  Batch readBatch(std::size_t wanted, std::size_t& budgetUsed, std::size_t& got,
                  std::optional<Failure>& failure);
  void deliverRead(const char* data, std::size_t length, const sockaddr_storage& name,
                   socklen_t nameLength, std::size_t& budgetUsed);
  Batch readFailed(std::optional<Failure>& failure);
  bool tryReadAgain() noexcept;
  bool startSingle() noexcept;
  bool sendFailed(std::string_view data, const SockAddr* to);
  std::size_t batchSize(std::size_t budgetUsed) const noexcept;
  void queue(std::string_view data, const SockAddr* to);
  std::size_t sendQueued(std::size_t count);
  void logWriteError(std::size_t index, std::error_code ec);

  // What a datagram's read, delivery and reply use comes first, so that they touch few cache
  // lines of the port: after a sleep in the wait, each is a likely miss.
  UniqueFd fd_;
  bool listening_ = false;
  // The write batch (see the class comment): enabled, being filled, being sent.
  bool batchWrites_ = false;
  bool collecting_ = false;  // a read batch of more than one datagram is being delivered
  bool flushing_ = false;    // flushWrites() is sending the queue
  // Events whose first read of many found one datagram, in a row (up to a ceiling), and events
  // started with a read of one since the last that asked for many (see doRead()).
  unsigned singleEvents_ = 0;
  unsigned sinceSingleProbe_ = 0;
  // Reading again after a short batch (see doRead()): how often it found datagrams lately
  // (0 to kMaxRereadScore), and short batches since the last try while it did not.
  int rereadScore_ = 1;
  unsigned shortSinceProbe_ = 0;
  std::size_t maxPacketSize_;
  std::size_t maxThroughput_ = kDefaultMaxThroughput;
  std::size_t queued_ = 0;  // writes in the batch
  // The last sender: the Address given to deliver() (null until a datagram arrived) and its
  // socket address (for replies). The Address is lastSender_, or one of senders_ once a second
  // sender was seen (IP ports).
  const Address* from_ = nullptr;
  SockAddr fromSock_;

  ReactorBase* reactor_;
  std::shared_ptr<AbstractDatagramProtocol> protocol_;
  const char* addressType_;
  UniqueFd adopted_;
  bool started_ = false;  // the protocol was started and not yet stopped
  std::vector<Deferred<void>> closing_;
  DelayedCallPtr closeCall_;
  Address lastSender_;
  std::unique_ptr<SenderCache> senders_;
  // kWriteBatch slots of kMaxQueuedDatagram bytes each, made by the first queued write.
  std::unique_ptr<WriteBatch> writes_;
};

}  // namespace coil::detail
