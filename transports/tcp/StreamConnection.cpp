// StreamConnection: the connected stream transport shared by TCP and UNIX stream sockets.
// Tests: test/transports/stream/*
#include <coil/transports/tcp/StreamConnection.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/IFileDescriptorReceiver.hpp>
#include <coil/core/IHalfCloseableProtocol.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/tcp/StreamConnector.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace coil::stream {

namespace {

constexpr std::string_view kSystem = "coil.stream";
// A buffer that grew past this is released once drained (a multi-megabyte write must not pin
// its memory for the connection's lifetime).
constexpr std::size_t kKeepCapacity = 1024 * 1024;
constexpr std::size_t kMaxIov = 64;
constexpr std::size_t kMaxFdsPerRead = 16;

// 256 KiB: one recv() takes a whole 256 KiB message where 64 KiB took four readable events;
// on loopback that is ~2x the MB/s of 64 KiB (tools/bench/echo). One buffer per thread.
std::atomic<std::size_t> gReadBufferSize{256 * 1024};

// One receive buffer per thread, shared by every connection the thread's reactor reads.
struct ReadBuffer {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
  char* get() {
    std::size_t wanted = gReadBufferSize.load(std::memory_order_relaxed);
    if (size != wanted) {
      data = std::make_unique<char[]>(wanted);
      size = wanted;
    }
    return data.get();
  }
};
thread_local ReadBuffer tReadBuffer;

}  // namespace

std::size_t readBufferSize() noexcept {
  return gReadBufferSize.load(std::memory_order_relaxed);
}

void setReadBufferSize(std::size_t bytes) noexcept {
  gReadBufferSize.store(std::max<std::size_t>(bytes, 64 * 1024), std::memory_order_relaxed);
}

std::shared_ptr<Connection> makeConnection(ReactorBase& reactor, detail::UniqueFd fd, int family,
                                           std::shared_ptr<Connector> connector) {
  if (family == AF_UNIX) {
    return std::make_shared<UNIXConnection>(reactor, std::move(fd), family, std::move(connector));
  }
  return std::make_shared<Connection>(reactor, std::move(fd), family, std::move(connector));
}

Connection::Connection(ReactorBase& reactor, detail::UniqueFd fd, int family,
                       std::shared_ptr<Connector> connector)
    : reactor_(reactor), fd_(std::move(fd)), family_(family), connector_(std::move(connector)) {}

Connection::~Connection() {
  for (int fd : sendFds_) ::close(fd);
}

// ---- starting ---------------------------------------------------------------------------------

void Connection::start(std::shared_ptr<IProtocol> protocol) {
  const char* type = family_ == AF_UNIX ? "UNIX" : "TCP";
  host_ = detail::localAddress(fd_.get(), type);
  peer_ = detail::peerAddress(fd_.get(), type);
  protocol_ = std::move(protocol);
  halfClose_ = dynamic_cast<IHalfCloseableProtocol*>(protocol_.get());
  fdReceiver_ = dynamic_cast<IFileDescriptorReceiver*>(protocol_.get());
  connected_ = true;
  try {
    startReading();
  } catch (...) {
    reading_ = false;
    connected_ = false;
    lost_ = true;
    protocol_.reset();
    fd_.reset();
    throw;
  }
  self_ = shared_from_this();
  try {
    protocol_->makeConnection(*this);
  } catch (...) {
    log::currentException("Unhandled error in makeConnection of " + logPrefix(), kSystem);
    fail(Failure::current());
  }
}

void Connection::startConnecting() {
  connecting_ = true;
  startWriting();
}

void Connection::cancelConnecting() noexcept {
  stopWriting();
  connecting_ = false;
  lost_ = true;
  connector_.reset();
  fd_.reset();
}

// ---- interest -----------------------------------------------------------------------------------

void Connection::startReading() {
  if (reading_) return;
  reading_ = true;
  reactor_.addReader(shared_from_this());
}

void Connection::stopReading() noexcept {
  if (!reading_) return;
  reading_ = false;
  reactor_.removeReader(this);
}

void Connection::startWriting() {
  if (writing_) return;
  writing_ = true;
  reactor_.addWriter(shared_from_this());
}

void Connection::stopWriting() noexcept {
  if (!writing_) return;
  writing_ = false;
  reactor_.removeWriter(this);
}

// Loses the connection now, outside the reactor's own disconnect path.
void Connection::fail(const Failure& reason) {
  stopReading();
  stopWriting();
  connectionLost(reason);
}

// ---- writing ----------------------------------------------------------------------------------

void Connection::write(std::string_view data) {
  if (!connected_ || aborted_ || writeShutdownWanted_ || data.empty()) return;
  if (outHead_ == out_.size() && sendFds_.empty()) {
    ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(data.size())) {
      if (producer_ && !streaming_) startWriting();  // a pull producer is asked again once drained
      return;
    }
    // A hard error is reported by doWrite(), which meets it again.
    if (n > 0) data.remove_prefix(static_cast<std::size_t>(n));
  }
  queue(data);
  afterQueue();
}

void Connection::writeSequence(std::span<const std::string_view> data) {
  if (!connected_ || aborted_ || writeShutdownWanted_) return;
  std::size_t skip = 0;  // bytes already sent
  if (outHead_ == out_.size() && sendFds_.empty() && data.size() > 1 && data.size() <= kMaxIov) {
    iovec iov[kMaxIov];
    std::size_t total = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
      iov[i].iov_base = const_cast<char*>(data[i].data());
      iov[i].iov_len = data[i].size();
      total += data[i].size();
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = data.size();
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(total)) return;
    if (n > 0) skip = static_cast<std::size_t>(n);
  } else if (data.size() <= 1) {
    if (!data.empty()) write(data.front());
    return;
  }
  bool queued = false;
  for (std::string_view piece : data) {
    if (skip >= piece.size()) {
      skip -= piece.size();
      continue;
    }
    piece.remove_prefix(skip);
    skip = 0;
    if (!piece.empty()) {
      queue(piece);
      queued = true;
    }
  }
  if (queued) afterQueue();
}

void Connection::queue(std::string_view data) {
  if (outHead_ == out_.size()) {
    out_.clear();
    outHead_ = 0;
  }
  out_.append(data);
}

void Connection::afterQueue() {
  startWriting();
  if (producer_ && streaming_ && !producerPaused_ && bufferedBytes() > kHighWaterMark) {
    producerPaused_ = true;
    producer_->pauseProducing();
  }
}

void Connection::queueFileDescriptor(int fd) {
  std::error_code ec;
  detail::UniqueFd copy = detail::duplicateFd(fd, ec);
  if (ec) throw std::system_error(ec, "sendFileDescriptor: cannot duplicate descriptor");
  if (!connected_ || aborted_ || writeShutdownWanted_) return;
  sendFds_.push_back(copy.release());
  if (bufferedBytes() > 0) startWriting();
}

long Connection::sendQueued() {
  const char* head = out_.data() + outHead_;
  std::size_t size = bufferedBytes();
  if (sendFds_.empty()) return ::send(fd_.get(), head, size, MSG_NOSIGNAL);
  // One byte carries one descriptor, so the receiver sees each before the byte after it.
  iovec iov{const_cast<char*>(head), 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &sendFds_.front(), sizeof(int));
  ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
  if (n > 0) {
    ::close(sendFds_.front());
    sendFds_.erase(sendFds_.begin());
  }
  return n;
}

std::optional<Failure> Connection::doWrite() {
  if (connecting_) return finishConnecting();
  if (aborted_ || lost_) return std::nullopt;
  if (bufferedBytes() > 0) {
    long n = sendQueued();
    if (n < 0) {
      std::error_code ec = detail::lastSocketError();
      if (detail::isTransient(ec)) return std::nullopt;
      return detail::lostFailure(ec);
    }
    outHead_ += static_cast<std::size_t>(n);
    if (bufferedBytes() > 0) return std::nullopt;
    outHead_ = 0;
    out_.clear();
    if (out_.capacity() > kKeepCapacity) out_.shrink_to_fit();
  }
  return drained();
}

// The buffer is empty: feed the producer, or finish a pending close or half-close.
std::optional<Failure> Connection::drained() {
  stopWriting();
  if (producer_ && (!streaming_ || producerPaused_)) {
    producerPaused_ = false;
    try {
      producer_->resumeProducing();
    } catch (...) {
      log::currentException("Unhandled error in resumeProducing of " + logPrefix(), kSystem);
      return Failure::current();
    }
    return std::nullopt;
  }
  if (disconnecting_) {
    if (producer_) return std::nullopt;  // unregisterProducer() resumes the close
    if (!sendFds_.empty()) return Failure(error::FileDescriptorOverrun());
    return Failure(error::ConnectionDone());
  }
  if (writeShutdownWanted_ && !writeClosed_) {
    writeClosed_ = true;
    ::shutdown(fd_.get(), SHUT_WR);  // ENOTCONN: the peer already closed; stay silent
    if (halfClose_) {
      try {
        halfClose_->writeConnectionLost();
      } catch (...) {
        log::currentException("Unhandled error in writeConnectionLost of " + logPrefix(), kSystem);
        return Failure::current();
      }
    }
  }
  return std::nullopt;
}

// ---- reading ----------------------------------------------------------------------------------

long Connection::receive(char* buffer, std::size_t size) {
  if (family_ != AF_UNIX) return ::recv(fd_.get(), buffer, size, 0);
  iovec iov{buffer, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerRead)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  IFileDescriptorReceiver* receiver = fdReceiver_;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      if (receiver && !aborted_ && !lost_) {
        receiver->fileDescriptorReceived(fd);  // exceptions: doRead() reports them
      } else {
        ::close(fd);
        if (!receiver) {
          log::warn(kSystem, logPrefix() +
                                 ": received a file descriptor but the protocol is not an "
                                 "IFileDescriptorReceiver; closed it");
        }
      }
    }
  }
  return n;
}

std::optional<Failure> Connection::doRead() {
  if (aborted_ || lost_ || !reading_) return std::nullopt;
  char* buffer = tReadBuffer.get();
  long n;
  try {
    n = receive(buffer, tReadBuffer.size);
    if (n > 0) {
      protocol_->dataReceived(std::string_view(buffer, static_cast<std::size_t>(n)));
      return std::nullopt;
    }
  } catch (...) {
    log::currentException("Unhandled error in dataReceived of " + logPrefix(), kSystem);
    return Failure::current();
  }
  if (n == 0) return readEof();
  std::error_code ec = detail::lastSocketError();
  if (detail::isTransient(ec)) return std::nullopt;
  return detail::lostFailure(ec);
}

std::optional<Failure> Connection::readEof() {
  readClosed_ = true;
  stopReading();
  if (!halfClose_ || disconnecting_) return Failure(error::ConnectionDone());
  try {
    halfClose_->readConnectionLost();
  } catch (...) {
    log::currentException("Unhandled error in readConnectionLost of " + logPrefix(), kSystem);
    return Failure::current();
  }
  return std::nullopt;
}

// ---- connecting (clients) -------------------------------------------------------------------

std::optional<Failure> Connection::finishConnecting() {
  if (std::error_code ec = detail::pendingError(fd_.get())) return detail::connectFailure(ec);
  connecting_ = false;
  stopWriting();
  auto keep = shared_from_this();
  const char* type = family_ == AF_UNIX ? "UNIX" : "TCP";
  bool refused = false;
  std::shared_ptr<IProtocol> protocol;
  try {
    protocol = connector_->connected(detail::peerAddress(fd_.get(), type), refused);
  } catch (...) {
    log::currentException("Unhandled error in buildProtocol of " + logPrefix(), kSystem);
    protocol = std::make_shared<Protocol>();
    start(std::move(protocol));
    fail(Failure::current());
    return std::nullopt;
  }
  try {
    start(std::move(protocol));
  } catch (...) {
    if (auto connector = std::move(connector_)) connector->connectionLost(Failure::current());
    return std::nullopt;
  }
  if (refused) loseConnection();
  return std::nullopt;
}

// ---- closing ----------------------------------------------------------------------------------

void Connection::loseConnection() {
  if (!connected_ || disconnecting_) return;
  if (writeClosed_) {
    // Nothing more can be written: close at once (Twisted does it synchronously too).
    disconnecting_ = true;
    fail(Failure(error::ConnectionDone()));
    return;
  }
  disconnecting_ = true;
  startWriting();  // first: the entry never empties, so the change stays one batched update
  stopReading();
}

void Connection::abortConnection() {
  if (!connected_ || aborted_ || lost_) return;
  aborted_ = true;
  disconnecting_ = true;
  stopReading();
  stopWriting();
  linger hard{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  reactor_.callLater(0, [self = shared_from_this()] {
    self->connectionLost(Failure(error::ConnectionAborted()));
  });
}

void Connection::loseWriteConnection() {
  if (!connected_ || disconnecting_ || writeShutdownWanted_) return;
  writeShutdownWanted_ = true;
  startWriting();
}

void Connection::connectionLost(const Failure& reason) {
  if (lost_) return;
  lost_ = true;
  auto keep = std::move(self_);
  stopReading();
  stopWriting();
  if (connecting_) {
    connecting_ = false;
    // The reactor reports a broken socket as a bare ConnectionLost: ask the socket why.
    std::error_code ec = detail::pendingError(fd_.get());
    fd_.reset();
    auto connector = std::move(connector_);
    if (reason.check<error::ConnectError>()) {
      connector->connectionFailed(reason);
    } else if (ec) {
      connector->connectionFailed(detail::connectFailure(ec));
    } else {
      connector->connectionFailed(Failure(error::ConnectError(reason.getErrorMessage())));
    }
    return;
  }
  connected_ = false;
  disconnecting_ = true;
  fd_.reset();
  for (int fd : sendFds_) ::close(fd);
  sendFds_.clear();
  out_ = std::string();
  outHead_ = 0;
  if (auto producer = std::move(producer_)) {
    log::callLogged("Unhandled error in stopProducing", kSystem,
                    [&] { producer->stopProducing(); });
  }
  if (auto protocol = std::move(protocol_)) {
    halfClose_ = nullptr;
    fdReceiver_ = nullptr;
    log::callLogged("Unhandled error in connectionLost", kSystem,
                    [&] { protocol->connectionLost(reason); });
  }
  if (auto connector = std::move(connector_)) connector->connectionLost(reason);
}

std::string Connection::logPrefix() const {
  if (protocol_) {
    try {
      return protocol_->logPrefix();
    } catch (...) {
    }
  }
  return "Connection";
}

// ---- producers and options ----------------------------------------------------------------

void Connection::pauseProducing() {
  readPaused_ = true;
  stopReading();
}

void Connection::resumeProducing() {
  readPaused_ = false;
  if (connected_ && !disconnecting_ && !readClosed_) startReading();
}

void Connection::registerProducer(std::shared_ptr<IProducer> producer, bool streaming) {
  if (!producer) throw std::invalid_argument("registerProducer: null producer");
  if (producer_) {
    throw std::logic_error("Cannot register producer: another producer is already registered");
  }
  if (!connected_ || lost_) {
    producer->stopProducing();
    return;
  }
  producer_ = std::move(producer);
  streaming_ = streaming;
  producerPaused_ = false;
  if (!streaming) {
    std::shared_ptr<IProducer> pinned = producer_;
    pinned->resumeProducing();
  }
}

void Connection::unregisterProducer() {
  if (!producer_) return;
  producer_.reset();
  producerPaused_ = false;
  if (disconnecting_ && connected_ && !aborted_ && !lost_) startWriting();
}

bool Connection::getTcpNoDelay() const {
  if (family_ == AF_UNIX) return false;
  return detail::getIntOption(fd_.get(), IPPROTO_TCP, TCP_NODELAY) != 0;
}

void Connection::setTcpNoDelay(bool enabled) {
  if (family_ == AF_UNIX) return;
  detail::setIntOption(fd_.get(), IPPROTO_TCP, TCP_NODELAY, enabled ? 1 : 0);
}

bool Connection::getTcpKeepAlive() const {
  return detail::getIntOption(fd_.get(), SOL_SOCKET, SO_KEEPALIVE) != 0;
}

void Connection::setTcpKeepAlive(bool enabled) {
  detail::setIntOption(fd_.get(), SOL_SOCKET, SO_KEEPALIVE, enabled ? 1 : 0);
}

}  // namespace coil::stream
