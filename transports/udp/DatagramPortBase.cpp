// The shared life and read path of datagram ports (Twisted's udp.Port/unix.DatagramPort doRead,
// stopListening, connectionLost).
// Tests: test/transports/datagram/*.cpp
#include <coil/transports/udp/DatagramPortBase.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/udp/DatagramAddress.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace coil::detail {

namespace {
constexpr std::string_view kSystem = "coil.datagram";
// Receive buffers per port: about 64 KiB of datagrams per recvmmsg().
constexpr std::size_t kBatchBytes = 64 * 1024;

// Sets a flag for a scope and clears it however the scope ends.
class ScopedFlag {
 public:
  ScopedFlag(bool& flag, bool value) : flag_(flag) { flag_ = value; }
  ~ScopedFlag() { flag_ = false; }
  ScopedFlag(const ScopedFlag&) = delete;
  ScopedFlag& operator=(const ScopedFlag&) = delete;

 private:
  bool& flag_;
};
}  // namespace

DatagramPortBase::DatagramPortBase(ReactorBase& reactor,
                                   std::shared_ptr<AbstractDatagramProtocol> protocol,
                                   std::size_t maxPacketSize, const char* addressType)
    : reactor_(&reactor),
      protocol_(std::move(protocol)),
      maxPacketSize_(maxPacketSize),
      addressType_(addressType) {
  if (!protocol_) throw std::invalid_argument("datagram port: protocol is null");
  if (maxPacketSize_ == 0) throw std::invalid_argument("datagram port: maxPacketSize is 0");
}

DatagramPortBase::~DatagramPortBase() {
  if (closeCall_ && closeCall_->active()) closeCall_->cancel();
}

std::string DatagramPortBase::logPrefix() const {
  return protocol_->logPrefix();
}

void DatagramPortBase::prepareBuffers() {
  if (!buffer_.empty()) return;
  batch_ = std::max<std::size_t>(1, std::min(kBatch, kBatchBytes / maxPacketSize_));
  buffer_.resize(batch_ * maxPacketSize_);
  headers_.resize(batch_);
  iovecs_.resize(batch_);
  names_.resize(batch_);
  for (std::size_t i = 0; i < batch_; ++i) {
    iovecs_[i] = {buffer_.data() + i * maxPacketSize_, maxPacketSize_};
    headers_[i] = {};
    headers_[i].msg_hdr.msg_iov = &iovecs_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
    headers_[i].msg_hdr.msg_name = &names_[i];
  }
  if (!batchWrites_) return;
  writeBytes_.resize(kWriteBatch * kMaxQueuedDatagram);
  writeHeaders_.resize(kWriteBatch);
  writeIovecs_.resize(kWriteBatch);
  writeNames_.resize(kWriteBatch);
  for (std::size_t i = 0; i < kWriteBatch; ++i) {
    writeIovecs_[i] = {writeBytes_.data() + i * kMaxQueuedDatagram, 0};
    writeHeaders_[i] = {};
    writeHeaders_[i].msg_hdr.msg_iov = &writeIovecs_[i];
    writeHeaders_[i].msg_hdr.msg_iovlen = 1;
  }
}

void DatagramPortBase::startListening() {
  if (listening_) throw LogicError("datagram port: already listening");
  if (closeCall_) {  // stopped but not closed yet: finish closing first
    closeCall_->cancel();
    closeCall_.reset();
    closeNow();
  }
  fd_ = adopted_ ? std::move(adopted_) : openSocket();
  prepareBuffers();
  fromValid_ = false;
  try {
    socketOpened();
    protocol_->makeConnection(*this);
  } catch (...) {
    if (protocol_->transport() == this) protocol_->doStop();
    fd_.reset();
    throw;
  }
  started_ = true;
  listening_ = true;
  reactor_->addReader(shared_from_this());
}

Deferred<void> DatagramPortBase::stopListening() {
  if (!listening_ && !closeCall_) return succeed();
  flushWrites();  // what was written before the stop goes out first
  Deferred<void> done;
  closing_.push_back(done);
  if (listening_) {
    listening_ = false;
    reactor_->removeReader(this);
    // Held strongly, as Twisted's bound method: the port closes even if nobody else holds it.
    closeCall_ = reactor_->callLater(0, [held = shared_from_this()] {
      std::shared_ptr<DatagramPortBase> self = held;  // resetting closeCall_ frees this closure
      self->closeCall_.reset();
      self->closeNow();
    });
  }
  return done;
}

void DatagramPortBase::connectionLost(const Failure& reason) {
  // The reactor drops a reader that reports an error without data (ConnectionDone). For a
  // datagram socket that error is a pending ICMP report (ECONNREFUSED on a connected socket),
  // not the end of anything: take it, tell the protocol, and keep reading.
  if (listening_ && fd_ && reason.check<error::ConnectionDone>()) {
    if (std::error_code pending = pendingError(fd_.get())) {
      if (pending.value() == ECONNREFUSED)
        log::callLogged("Unhandled error in connectionRefused", kSystem, [this] { readRefused(); });
      else
        log::warn(kSystem, logPrefix() + ": socket error ignored: " + pending.message());
      if (listening_ && fd_) {
        reactor_->addReader(shared_from_this());
        return;
      }
    }
  }
  listening_ = false;
  if (closeCall_) {
    closeCall_->cancel();
    closeCall_.reset();
  }
  closeNow();
}

void DatagramPortBase::closeNow() {
  if (fd_) {
    flushWrites();
    fd_.reset();
    socketClosed();
  }
  if (started_) {
    started_ = false;
    log::callLogged("Unhandled error stopping a datagram protocol", kSystem,
                    [this] { protocol_->doStop(); });
  }
  std::vector<Deferred<void>> waiters = std::move(closing_);
  closing_.clear();
  for (Deferred<void>& d : waiters) d.callback();
}

void DatagramPortBase::noteSender(const sockaddr_storage& name, socklen_t length) {
  if (fromValid_ && length == fromSock_.length &&
      std::memcmp(&name, &fromSock_.storage, length) == 0)
    return;
  assignSender(from_, name, length, addressType_);
  std::memcpy(&fromSock_.storage, &name, length);
  fromSock_.length = length;
  fromValid_ = true;
}

const SockAddr* DatagramPortBase::cachedSender(const Address& addr) const noexcept {
  if (!fromValid_ || fromSock_.length == 0) return nullptr;
  if (&addr == &from_ || addr == from_) return &fromSock_;
  return nullptr;
}

// One recvmmsg() and the deliveries; false when the socket is drained, stopped or failed.
bool DatagramPortBase::readBatch(std::size_t& budgetUsed, std::optional<Failure>& failure) {
  for (std::size_t i = 0; i < batch_; ++i) headers_[i].msg_hdr.msg_namelen = sizeof(names_[i]);
  int n =
      ::recvmmsg(fd_.get(), headers_.data(), static_cast<unsigned>(batch_), MSG_DONTWAIT, nullptr);
  if (n < 0) {
    std::error_code ec = lastSocketError();
    if (ec.value() == EINTR) return true;
    if (isTransient(ec)) return false;
    if (ec.value() == ECONNREFUSED) {
      log::callLogged("Unhandled error in connectionRefused", kSystem, [this] { readRefused(); });
      return false;
    }
    failure = lostFailure(ec);
    return false;
  }
  {
    // Writes made while more than one datagram is delivered may be queued (see the header).
    ScopedFlag collecting(collecting_, batchWrites_ && n > 1);
    for (int i = 0; i < n && listening_ && fd_; ++i) {
      const msghdr& h = headers_[static_cast<std::size_t>(i)].msg_hdr;
      std::size_t length =
          std::min<std::size_t>(headers_[static_cast<std::size_t>(i)].msg_len, maxPacketSize_);
      noteSender(names_[static_cast<std::size_t>(i)], h.msg_namelen);
      try {
        deliver(std::string_view(static_cast<const char*>(h.msg_iov->iov_base), length), from_);
      } catch (...) {
        log::currentException("Unhandled error in datagramReceived", kSystem);
      }
      budgetUsed += length;
    }
  }
  flushWrites();
  // Fewer datagrams than asked for: the queue is empty (readiness is level-triggered).
  return listening_ && fd_ && static_cast<std::size_t>(n) == batch_;
}

std::optional<Failure> DatagramPortBase::doRead() {
  std::optional<Failure> failure;
  std::size_t used = 0;
  while (readBatch(used, failure) && used < maxThroughput_) {
  }
  return failure;
}

bool DatagramPortBase::queueWrite(std::string_view data, const SockAddr* to) {
  if (!collecting_ || flushing_ || data.size() > kMaxQueuedDatagram || !fd_) return false;
  std::size_t i = queued_;
  if (!data.empty()) std::memcpy(writeIovecs_[i].iov_base, data.data(), data.size());
  writeIovecs_[i].iov_len = data.size();
  msghdr& h = writeHeaders_[i].msg_hdr;
  if (to != nullptr) {
    std::memcpy(&writeNames_[i], &to->storage, to->length);
    h.msg_name = &writeNames_[i];
    h.msg_namelen = to->length;
  } else {
    h.msg_name = nullptr;
    h.msg_namelen = 0;
  }
  queued_ = i + 1;
  if (queued_ == kWriteBatch) flushWrites();
  return true;
}

void DatagramPortBase::flushWrites() {
  if (flushing_) return;  // a log observer wrote from inside the flush: that write goes at once
  std::size_t count = queued_;
  queued_ = 0;
  if (count == 0 || !fd_) return;
  std::size_t refusals = 0;
  {
    ScopedFlag flushing(flushing_, true);
    refusals = sendQueued(count);
  }
  // After the sends: the protocol may write again (queueing into the emptied batch).
  for (; refusals > 0; --refusals)
    log::callLogged("Unhandled error in connectionRefused", kSystem, [this] { writeRefused(); });
}

std::size_t DatagramPortBase::sendQueued(std::size_t count) {
  std::size_t refusals = 0;
  for (std::size_t i = 0; i < count;) {
    int n =
        ::sendmmsg(fd_.get(), &writeHeaders_[i], static_cast<unsigned>(count - i), MSG_NOSIGNAL);
    if (n >= 0) {  // n datagrams went; the next call starts at the one that failed, if any
      i += std::max<std::size_t>(static_cast<std::size_t>(n), 1);
      continue;
    }
    std::error_code ec = lastSocketError();  // the error of datagram i
    if (ec.value() == EINTR) continue;
    if (ec.value() == ECONNREFUSED) {
      // To the connected peer: connectionRefused(); unconnected: ignored, as write() does.
      if (writeHeaders_[i].msg_hdr.msg_name == nullptr) ++refusals;
    } else if (!isTransient(ec)) {  // EAGAIN/ENOBUFS: dropped, as send() does
      logWriteError(i, ec);
    }
    ++i;
  }
  return refusals;
}

void DatagramPortBase::logWriteError(std::size_t index, std::error_code ec) {
  const msghdr& h = writeHeaders_[index].msg_hdr;
  const char* type = addressType_ != nullptr ? addressType_ : "UNIX";
  std::string why = "Unhandled error in a batched datagram write to ";
  if (h.msg_name != nullptr) {
    SockAddr to;
    std::memcpy(&to.storage, h.msg_name, h.msg_namelen);
    to.length = h.msg_namelen;
    why += toString(toAddress(to, type));
  } else {
    why += toString(peerAddress(fd_.get(), type));  // the connected peer
  }
  std::size_t size = writeIovecs_[index].iov_len;
  log::callLogged(why, kSystem, [&] {
    if (ec.value() == EMSGSIZE)
      throw error::MessageLengthError(std::to_string(size) + " bytes", ec);
    throw Error("send failed", ec);
  });
}

bool DatagramPortBase::send(std::string_view data, const SockAddr* to) {
  flushWrites();  // the order on the wire is the order of the writes
  if (!fd_) throw LogicError("datagram port: write on a closed port");
  for (;;) {
    ssize_t n =
        to ? ::sendto(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL, to->get(), to->length)
           : ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) return false;
    std::error_code ec = lastSocketError();
    switch (ec.value()) {
      case EINTR:
        continue;
      case EMSGSIZE:
        throw error::MessageLengthError(std::to_string(data.size()) + " bytes", ec);
      case ECONNREFUSED:
        return true;
      default:
        if (isTransient(ec)) return false;  // the kernel's queue is full: dropped
        throw Error("send failed", ec);
    }
  }
}

}  // namespace coil::detail
