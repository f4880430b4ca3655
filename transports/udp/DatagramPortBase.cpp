// The shared life and read path of datagram ports (Twisted's udp.Port/unix.DatagramPort doRead,
// stopListening, connectionLost).
// Tests: test/transports/datagram/*.cpp
#include <coil/transports/udp/DatagramPortBase.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/udp/DatagramAddress.hpp>

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace coil::detail {

namespace {
constexpr std::string_view kSystem = "coil.datagram";
// Reading again after a short batch (doRead()): the score's ceiling, and how many short batches
// pass between tries while the score is 0.
constexpr int kMaxRereadScore = 8;
constexpr unsigned kRereadProbe = 64;
// Reads of one datagram in a row that found one before the port asks for many again.
constexpr std::size_t kMaxSingleReads = 2;
// Events whose first read found one datagram, in a row, before events start with a read of one;
// and how often such an event starts with a read of many instead.
constexpr unsigned kSingleStreak = 8;
constexpr unsigned kSingleProbe = 16;

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

// The receive side of recvmmsg() and recvfrom(): headers, socket-address slots and a buffer,
// laid out for the slot size of the port that reads. Every header's msg_namelen is the size of
// its slot between reads. A read of one datagram (recvfrom()) uses only the buffer and the name
// kept next to the bookkeeping: for an IPv4 sender, one cache line besides the buffer's (an
// IPv6 name reaches into the second).
class alignas(64) ReadArea {
  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_ = 0;
  std::size_t slot_ = 0;
  std::size_t ready_ = 0;  // iovecs_[0, ready_) point into bytes_ at slot_ apart

 public:
  static constexpr std::size_t kMax = DatagramPortBase::kMaxBatch;

  bool busy = false;            // a read's datagrams are being delivered from it
  sockaddr_storage singleName;  // the sender of a read of one (single())

  ReadArea() {
    for (std::size_t i = 0; i < kMax; ++i) {
      headers_[i] = {};
      headers_[i].msg_hdr.msg_iov = &iovecs_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
      headers_[i].msg_hdr.msg_name = &names_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
  }
  ReadArea(const ReadArea&) = delete;
  ReadArea& operator=(const ReadArea&) = delete;

  // The first `count` headers (at most kMax), each with a buffer of `slot` bytes.
  mmsghdr* prepare(std::size_t slot, std::size_t count) {
    if (slot != slot_ || count > ready_) {
      reserve(slot * count);
      if (slot != slot_) ready_ = 0;
      slot_ = slot;
      std::size_t fit = std::min(kMax, capacity_ / slot);
      for (std::size_t i = ready_; i < fit; ++i) iovecs_[i] = {bytes_.get() + i * slot, slot};
      ready_ = fit;
    }
    return headers_;
  }

  // The buffer for one datagram of up to `slot` bytes.
  char* single(std::size_t slot) {
    reserve(slot);
    return bytes_.get();
  }

  // Restores msg_namelen of the first `count` headers after a read.
  void reset(std::size_t count) noexcept {
    for (std::size_t i = 0; i < count; ++i)
      headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }

  const sockaddr_storage& name(std::size_t i) const noexcept { return names_[i]; }

 private:
  // Makes the buffer hold at least `bytes` (and kBatchBytes).
  void reserve(std::size_t bytes) {
    if (bytes <= capacity_) return;
    capacity_ = std::max(bytes, DatagramPortBase::kBatchBytes);
    bytes_.reset();  // the old buffer goes before the new one is made
    bytes_ = std::make_unique_for_overwrite<char[]>(capacity_);
    ready_ = 0;
  }

  mmsghdr headers_[kMax];
  iovec iovecs_[kMax];
  sockaddr_storage names_[kMax];
};

// One per thread, made on its first read.
thread_local std::unique_ptr<ReadArea> tReadArea;

ReadArea& threadReadArea() {
  if (!tReadArea) tReadArea = std::make_unique<ReadArea>();
  return *tReadArea;
}

// Marks a ReadArea busy while the `count` datagrams of a read are delivered, then restores
// their headers, however the delivery ends.
class BusyArea {
 public:
  BusyArea(ReadArea& area, std::size_t count) : area_(area), count_(count) { area_.busy = true; }
  ~BusyArea() {
    area_.reset(count_);
    area_.busy = false;
  }
  BusyArea(const BusyArea&) = delete;
  BusyArea& operator=(const BusyArea&) = delete;

 private:
  ReadArea& area_;
  std::size_t count_;
};

// Copies a socket address of `length` bytes; IP addresses as one fixed-size copy.
void copyName(sockaddr_storage& to, const sockaddr_storage& from, socklen_t length) noexcept {
  if (length <= sizeof(sockaddr_in6))
    std::memcpy(&to, &from, sizeof(sockaddr_in6));
  else
    std::memcpy(&to, &from, length);
}

}  // namespace

DatagramPortBase::DatagramPortBase(ReactorBase& reactor,
                                   std::shared_ptr<AbstractDatagramProtocol> protocol,
                                   std::size_t maxPacketSize, const char* addressType)
    : maxPacketSize_(maxPacketSize),
      reactor_(&reactor),
      protocol_(std::move(protocol)),
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

void DatagramPortBase::startListening() {
  if (listening_) throw LogicError("datagram port: already listening");
  if (closeCall_) {  // stopped but not closed yet: finish closing first
    closeCall_->cancel();
    closeCall_.reset();
    closeNow();
  }
  fd_ = adopted_ ? std::move(adopted_) : openSocket();
  from_ = nullptr;
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

void DatagramPortBase::newSender(const sockaddr_storage& name, socklen_t length) {
  // A second sender (or any, once there were two) of an IP port: its Address is kept.
  if (addressType_ != nullptr && length <= SenderCache::kMaxKey && (senders_ || from_)) {
    if (!senders_) senders_ = std::make_unique<SenderCache>(addressType_);
    from_ = &senders_->find(name, length);
  } else {
    from_ = nullptr;  // until lastSender_ is whole again
    assignSender(lastSender_, name, length, addressType_);
    from_ = &lastSender_;
  }
  copyName(fromSock_.storage, name, length);
  fromSock_.length = length;
}

// How many datagrams the next recvmmsg() asks for: what the buffer holds and what is left of
// the budget allows, at least one.
std::size_t DatagramPortBase::batchSize(std::size_t budgetUsed) const noexcept {
  std::size_t left = budgetUsed < maxThroughput_ ? maxThroughput_ - budgetUsed : 0;
  std::size_t count = std::min(left, kBatchBytes) / maxPacketSize_;
  return std::clamp<std::size_t>(count, 1, kMaxBatch);
}

// One recvmmsg() and the deliveries: kFull when it returned as many datagrams as asked for,
// kShort when fewer (the socket was empty then), kEmpty when none (EAGAIN), kStop when the port
// stopped or failed.
DatagramPortBase::Batch DatagramPortBase::readBatch(std::size_t wanted, std::size_t& budgetUsed,
                                                    std::size_t& got,
                                                    std::optional<Failure>& failure) {
  got = 0;
  std::unique_ptr<ReadArea> own;  // a nested read while the thread's area is delivering
  ReadArea* area = &threadReadArea();
  if (area->busy) {
    own = std::make_unique<ReadArea>();
    area = own.get();
  }
  if (wanted == 1) {  // recvfrom() copies no headers in: cheaper than recvmmsg() for one
    char* buffer = area->single(maxPacketSize_);
    socklen_t nameLength = sizeof area->singleName;
    ssize_t length = ::recvfrom(fd_.get(), buffer, maxPacketSize_, MSG_DONTWAIT,
                                reinterpret_cast<sockaddr*>(&area->singleName), &nameLength);
    if (length < 0) return readFailed(failure);
    got = 1;
    BusyArea busy(*area, 0);
    if (listening_)
      deliverRead(buffer, static_cast<std::size_t>(length), area->singleName, nameLength,
                  budgetUsed);
  } else {
    mmsghdr* headers = area->prepare(maxPacketSize_, wanted);
    int n = ::recvmmsg(fd_.get(), headers, static_cast<unsigned>(wanted), MSG_DONTWAIT, nullptr);
    if (n < 0) return readFailed(failure);
    got = static_cast<std::size_t>(n);
    BusyArea busy(*area, got);
    // Writes made while more than one datagram is delivered may be queued (see the header).
    ScopedFlag collecting(collecting_, batchWrites_ && got > 1);
    for (std::size_t i = 0; i < got && listening_ && fd_; ++i) {
      const msghdr& h = headers[i].msg_hdr;
      deliverRead(static_cast<const char*>(h.msg_iov->iov_base), headers[i].msg_len, area->name(i),
                  h.msg_namelen, budgetUsed);
    }
  }
  flushWrites();
  if (!listening_ || !fd_) return Batch::kStop;
  return got == wanted ? Batch::kFull : Batch::kShort;
}

// Delivers one datagram that was read: `length` bytes of `data` (at most maxPacketSize()) from
// the sender `name`, and counts them against the event's budget.
void DatagramPortBase::deliverRead(const char* data, std::size_t length,
                                   const sockaddr_storage& name, socklen_t nameLength,
                                   std::size_t& budgetUsed) {
  length = std::min(length, maxPacketSize_);
  noteSender(name, nameLength);
  try {
    deliver(std::string_view(data, length), *from_);
  } catch (...) {
    log::currentException("Unhandled error in datagramReceived", kSystem);
  }
  budgetUsed += length;
}

// A read failed (errno): EINTR counts as a full batch (read again), EAGAIN as an empty one.
DatagramPortBase::Batch DatagramPortBase::readFailed(std::optional<Failure>& failure) {
  std::error_code ec = lastSocketError();
  if (ec.value() == EINTR) return Batch::kFull;
  if (isTransient(ec)) return Batch::kEmpty;
  if (ec.value() == ECONNREFUSED) {
    log::callLogged("Unhandled error in connectionRefused", kSystem, [this] { readRefused(); });
    return Batch::kStop;
  }
  failure = lostFailure(ec);
  return Batch::kStop;
}

// Reads until the socket is drained or the budget is spent. A batch of fewer datagrams than
// asked for means the socket was empty when read; but the deliveries since (and the replies
// they sent) may have brought more, as when a peer on this host answers at once. Reading again
// then saves an epoll round trip; reading an empty socket costs a system call. So the port
// reads again after a short batch while that found datagrams at least once in three tries
// lately (a find scores 2, an empty read -1), and otherwise tries once every kRereadProbe short
// batches. An empty socket ends the event (readiness is level-triggered: whatever arrives later
// is reported again).
//
// A read again after a batch of one asks for one datagram (recvfrom(): a recvmmsg() of more
// pays for an empty try after the first, and most such reads find none or one), and so does a
// read after one of those that found one, up to kMaxSingleReads in a row. A read of one that
// finds one counts as short (more may wait).
//
// The first read of an event asks for as many as the budget allows, so datagrams that queued
// up are delivered as one batch; except while the last kSingleStreak events' first reads found
// exactly one datagram each (a peer that waits for each reply). Then a recvmmsg() would find one
// and pay for a failed receive after it, so the event starts with recvfrom() instead, and every
// kSingleProbe-th event still starts with a recvmmsg() to see whether datagrams queue up again.
std::optional<Failure> DatagramPortBase::doRead() {
  std::optional<Failure> failure;
  std::size_t used = 0;
  bool single = startSingle();  // the next read asks for one datagram
  bool first = !single;         // the next read is an event's first that asks for many
  std::size_t singles = 0;      // reads of one datagram that found one, this event
  bool again = false;           // this read is a read-again after a short batch
  for (;;) {
    std::size_t most = batchSize(used);
    bool guessed = single && singles < kMaxSingleReads && most > 1;
    std::size_t got = 0;
    Batch batch = readBatch(guessed ? 1 : most, used, got, failure);
    if (first) {
      first = false;
      if (got == 1)
        singleEvents_ = std::min(singleEvents_ + 1, kSingleStreak);
      else if (got > 1)
        singleEvents_ = 0;
    }
    if (again) {
      if (got == 0)
        rereadScore_ = std::max(rereadScore_ - 1, 0);
      else
        rereadScore_ = std::min(rereadScore_ + 2, kMaxRereadScore);
    }
    if (batch == Batch::kEmpty || batch == Batch::kStop || used >= maxThroughput_) break;
    if (guessed && batch == Batch::kFull) {
      ++singles;
      batch = Batch::kShort;
    }
    single = got == 1;
    again = batch == Batch::kShort;
    if (again && !tryReadAgain()) break;
  }
  return failure;
}

bool DatagramPortBase::startSingle() noexcept {
  if (singleEvents_ < kSingleStreak) return false;
  if (++sinceSingleProbe_ < kSingleProbe) return true;
  sinceSingleProbe_ = 0;
  return false;
}

bool DatagramPortBase::tryReadAgain() noexcept {
  if (rereadScore_ > 0) return true;
  if (++shortSinceProbe_ < kRereadProbe) return false;
  shortSinceProbe_ = 0;
  return true;
}

// The queued writes: kWriteBatch slots of kMaxQueuedDatagram bytes, with their headers.
struct DatagramPortBase::WriteBatch {
  WriteBatch() {
    for (std::size_t i = 0; i < kWriteBatch; ++i) {
      iovecs[i] = {bytes + i * kMaxQueuedDatagram, 0};
      headers[i] = {};
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
  }
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  mmsghdr headers[kWriteBatch];
  iovec iovecs[kWriteBatch];
  sockaddr_storage names[kWriteBatch];
  char bytes[kWriteBatch * kMaxQueuedDatagram];
};

void DatagramPortBase::queue(std::string_view data, const SockAddr* to) {
  if (!writes_) writes_ = std::make_unique<WriteBatch>();  // the port's first queued write
  WriteBatch& w = *writes_;
  std::size_t i = queued_;
  if (!data.empty()) std::memcpy(w.iovecs[i].iov_base, data.data(), data.size());
  w.iovecs[i].iov_len = data.size();
  msghdr& h = w.headers[i].msg_hdr;
  if (to != nullptr) {
    copyName(w.names[i], to->storage, to->length);
    h.msg_name = &w.names[i];
    h.msg_namelen = to->length;
  } else {
    h.msg_name = nullptr;
    h.msg_namelen = 0;
  }
  queued_ = i + 1;
  if (queued_ == kWriteBatch) flushWrites();
}

void DatagramPortBase::flushQueue() {
  std::size_t count = queued_;
  queued_ = 0;
  if (!fd_) return;
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
        ::sendmmsg(fd_.get(), &writes_->headers[i], static_cast<unsigned>(count - i), MSG_NOSIGNAL);
    if (n >= 0) {  // n datagrams went; the next call starts at the one that failed, if any
      i += std::max<std::size_t>(static_cast<std::size_t>(n), 1);
      continue;
    }
    std::error_code ec = lastSocketError();  // the error of datagram i
    if (ec.value() == EINTR) continue;
    if (ec.value() == ECONNREFUSED) {
      // To the connected peer: connectionRefused(); unconnected: ignored, as write() does.
      if (writes_->headers[i].msg_hdr.msg_name == nullptr) ++refusals;
    } else if (!isTransient(ec)) {  // EAGAIN/ENOBUFS: dropped, as send() does
      logWriteError(i, ec);
    }
    ++i;
  }
  return refusals;
}

void DatagramPortBase::logWriteError(std::size_t index, std::error_code ec) {
  const msghdr& h = writes_->headers[index].msg_hdr;
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
  std::size_t size = writes_->iovecs[index].iov_len;
  log::callLogged(why, kSystem, [&] {
    if (ec.value() == EMSGSIZE)
      throw error::MessageLengthError(std::to_string(size) + " bytes", ec);
    throw Error("send failed", ec);
  });
}

namespace {
// One send of `data` on `fd` to `to` (null: the connected peer); the system call's result.
ssize_t sendOnce(int fd, std::string_view data, const SockAddr* to) noexcept {
  return to ? ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, to->get(), to->length)
            : ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
}
}  // namespace

bool DatagramPortBase::send(std::string_view data, const SockAddr* to) {
  flushWrites();  // the order on the wire is the order of the writes
  int fd = fd_.get();
  if (fd >= 0 && sendOnce(fd, data, to) >= 0) return false;
  return sendFailed(data, to);
}

// send() could not send (or the port is closed): the errors as send() documents them.
bool DatagramPortBase::sendFailed(std::string_view data, const SockAddr* to) {
  if (!fd_) throw LogicError("datagram port: write on a closed port");
  for (bool retry = false;; retry = true) {
    if (retry && sendOnce(fd_.get(), data, to) >= 0) return false;
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
