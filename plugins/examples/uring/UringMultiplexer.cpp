// UringMultiplexer: level-triggered readiness over one-shot io_uring poll requests.
// Tests: test/plugins/UringTest.cpp (multiplexer), test/plugins/LoaderTest.cpp (as a plugin)
#include <coil/plugins/examples/uring/UringMultiplexer.hpp>

#include <fcntl.h>
#include <poll.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>

namespace coil::uring {

namespace {

std::uint64_t userData(int fd, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
}

int fdOf(std::uint64_t data) {
  return static_cast<int>(static_cast<std::uint32_t>(data));
}

std::uint32_t generationOf(std::uint64_t data) {
  return static_cast<std::uint32_t>(data >> 32);
}

unsigned pollMask(std::uint8_t mask) {
  unsigned events = 0;
  if (mask & io::kRead) events |= POLLIN;
  if (mask & io::kWrite) events |= POLLOUT;
  return events;
}

std::uint8_t readyBits(unsigned revents) {
  std::uint8_t bits = 0;
  if (revents & (POLLIN | POLLPRI)) bits |= io::kRead;
  if (revents & POLLOUT) bits |= io::kWrite;
  if (revents & (POLLERR | POLLNVAL)) bits |= io::kError;
  if (revents & POLLHUP) bits |= io::kHangup;
  return bits;
}

std::error_code errnoCode(int negativeErrno) {
  return {-negativeErrno, std::system_category()};
}

}  // namespace

std::optional<std::string> probe() {
  struct io_uring ring {};
  if (int rc = io_uring_queue_init(2, &ring, 0); rc < 0)
    return "io_uring_queue_init: " + std::string(std::strerror(-rc));
  std::optional<std::string> reason;
  if (struct io_uring_probe* p = io_uring_get_probe_ring(&ring)) {
    if (!io_uring_opcode_supported(p, IORING_OP_POLL_ADD) ||
        !io_uring_opcode_supported(p, IORING_OP_POLL_REMOVE))
      reason = "the kernel's io_uring lacks IORING_OP_POLL_ADD/POLL_REMOVE";
    io_uring_free_probe(p);
  }
  io_uring_queue_exit(&ring);
  return reason;
}

UringMultiplexer::UringMultiplexer(unsigned entries) : entries_(entries) {
  if (int rc = io_uring_queue_init(entries_, &ring_, 0); rc < 0)
    throw std::system_error(errnoCode(rc), "io_uring_queue_init");
  live_ = true;
}

UringMultiplexer::~UringMultiplexer() {
  if (live_) io_uring_queue_exit(&ring_);
}

unsigned UringMultiplexer::features() const {
  return feature::kConstantTime | feature::kRegularFiles;
}

struct io_uring_sqe* UringMultiplexer::nextSqe() {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {  // submission queue full: hand what is queued to the kernel and retry
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void UringMultiplexer::arm(int fd, Slot& slot) {
  struct io_uring_sqe* sqe = nextSqe();
  if (!sqe) {  // still no room: try again before the next wait
    pending_.push_back(fd);
    return;
  }
  io_uring_prep_poll_add(sqe, fd, pollMask(slot.mask));
  io_uring_sqe_set_data64(sqe, userData(fd, slot.generation));
  slot.armed = true;
}

std::error_code UringMultiplexer::update(int fd, std::uint8_t oldMask, std::uint8_t newMask) {
  (void)oldMask;
  newMask &= io::kRead | io::kWrite;
  if (!live_) return std::make_error_code(std::errc::bad_file_descriptor);
  if (newMask != 0 && ::fcntl(fd, F_GETFD) < 0) return {errno, std::system_category()};
  auto it = slots_.find(fd);
  if (it != slots_.end() && it->second.armed) {
    // Cancel the armed poll; its -ECANCELED completion (or a late real one) carries the old
    // generation and is ignored. The removal's own completion has user_data 0: ignored too.
    if (struct io_uring_sqe* sqe = nextSqe()) {
      io_uring_prep_poll_remove(sqe, userData(fd, it->second.generation));
      io_uring_sqe_set_data64(sqe, 0);
    }
    it->second.armed = false;
  }
  if (newMask == 0) {
    if (it != slots_.end()) slots_.erase(it);
    return {};
  }
  Slot& slot = it != slots_.end() ? it->second : slots_[fd];
  slot.mask = newMask;
  slot.generation = nextGeneration_++;
  if (nextGeneration_ == 0 || nextGeneration_ == 0xffffffffu) nextGeneration_ = 1;
  pending_.push_back(fd);
  return {};
}

std::error_code UringMultiplexer::wait(std::optional<double> timeout, ReadyList& ready) {
  if (!live_) return std::make_error_code(std::errc::bad_file_descriptor);
  std::vector<int> toArm;
  toArm.swap(pending_);
  for (int fd : toArm) {
    auto it = slots_.find(fd);
    if (it != slots_.end() && !it->second.armed) arm(fd, it->second);
  }
  int rc = io_uring_submit(&ring_);
  if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) return errnoCode(rc);

  struct io_uring_cqe* cqe = nullptr;
  if (!timeout) {
    rc = io_uring_wait_cqe(&ring_, &cqe);
  } else if (*timeout <= 0) {
    rc = io_uring_peek_cqe(&ring_, &cqe);
  } else {
    double whole = 0;
    double fraction = std::modf(*timeout, &whole);
    struct __kernel_timespec ts {};
    ts.tv_sec = static_cast<long long>(whole);
    ts.tv_nsec = static_cast<long long>(fraction * 1e9);
    rc = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
  }
  // -ETIME: timed out; -EAGAIN: nothing to peek; -EINTR: a signal. None is an error.
  if (rc < 0 && rc != -ETIME && rc != -EAGAIN && rc != -EINTR) return errnoCode(rc);
  reap(ready);
  return {};
}

void UringMultiplexer::reap(ReadyList& ready) {
  unsigned head = 0;
  unsigned seen = 0;
  struct io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    std::uint64_t data = io_uring_cqe_get_data64(cqe);
    auto it = slots_.find(fdOf(data));
    if (data == 0 || it == slots_.end() || it->second.generation != generationOf(data) ||
        !it->second.armed)
      continue;  // a removal, a cancelled poll, or liburing's own timeout
    Slot& slot = it->second;
    slot.armed = false;
    pending_.push_back(it->first);  // re-arm before the next wait: level-triggered
    if (cqe->res == -ECANCELED) continue;
    std::uint8_t bits = cqe->res < 0 ? io::kError : readyBits(static_cast<unsigned>(cqe->res));
    if (bits) ready.push_back({it->first, bits});
  }
  io_uring_cq_advance(&ring_, seen);
}

std::error_code UringMultiplexer::afterFork(
    const std::vector<std::pair<int, std::uint8_t>>& interest) {
  // The child shares the parent's ring; give it its own and re-arm everything there.
  if (live_) io_uring_queue_exit(&ring_);
  live_ = false;
  ring_ = {};
  slots_.clear();
  pending_.clear();
  if (int rc = io_uring_queue_init(entries_, &ring_, 0); rc < 0) return errnoCode(rc);
  live_ = true;
  for (const auto& [fd, mask] : interest)
    if (std::error_code ec = update(fd, 0, mask)) return ec;
  return {};
}

}  // namespace coil::uring
