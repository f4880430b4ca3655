// EpollMultiplexer: level-triggered epoll(7) behind the Multiplexer seam.
// Tests: test/backends/MultiplexerTest.cpp
#include <coil/backends/epoll/EpollMultiplexer.hpp>

#include <coil/backends/detail/Syscall.hpp>

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace coil {

using detail::lastError;
using detail::toMilliseconds;

namespace {

constexpr std::size_t kInitialEvents = 64;
constexpr std::size_t kMaxEvents = 1 << 16;

std::uint32_t toEpoll(std::uint8_t mask) {
  std::uint32_t events = 0;
  if (mask & io::kRead) events |= EPOLLIN;
  if (mask & io::kWrite) events |= EPOLLOUT;
  return events;
}

std::uint8_t fromEpoll(std::uint32_t events) {
  std::uint8_t mask = 0;
  if (events & (EPOLLIN | EPOLLPRI)) mask |= io::kRead;
  if (events & EPOLLOUT) mask |= io::kWrite;
  if (events & EPOLLERR) mask |= io::kError;
  if (events & (EPOLLHUP | EPOLLRDHUP)) mask |= io::kHangup;
  return mask;
}

int ctl(int epollFd, int op, int fd, std::uint8_t mask) {
  epoll_event ev{};
  ev.events = toEpoll(mask);
  ev.data.fd = fd;
  return ::epoll_ctl(epollFd, op, fd, &ev);
}

}  // namespace

EpollMultiplexer::EpollMultiplexer() : events_(kInitialEvents) {
  epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epollFd_ < 0) throw std::system_error(lastError(), "epoll_create1");
}

EpollMultiplexer::~EpollMultiplexer() {
  if (epollFd_ >= 0) ::close(epollFd_);
}

unsigned EpollMultiplexer::features() const {
  return feature::kEdgeTriggered | feature::kConstantTime;
}

std::error_code EpollMultiplexer::update(int fd, std::uint8_t oldMask, std::uint8_t newMask) {
  oldMask &= io::kRead | io::kWrite;
  newMask &= io::kRead | io::kWrite;
  if (newMask == 0) {
    if (ctl(epollFd_, EPOLL_CTL_DEL, fd, 0) == 0) return {};
    // The kernel drops a descriptor from the set when its last copy is closed: already gone.
    if (errno == ENOENT || errno == EBADF) return {};
    return lastError();
  }
  int op = oldMask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (ctl(epollFd_, op, fd, newMask) == 0) return {};
  // Repair a stale view: a closed-and-reused number (ENOENT) or a registration that outlived a
  // close through a duplicate (EEXIST).
  if (op == EPOLL_CTL_MOD && errno == ENOENT) {
    if (ctl(epollFd_, EPOLL_CTL_ADD, fd, newMask) == 0) return {};
  } else if (op == EPOLL_CTL_ADD && errno == EEXIST) {
    if (ctl(epollFd_, EPOLL_CTL_MOD, fd, newMask) == 0) return {};
  }
  return lastError();
}

std::error_code EpollMultiplexer::wait(std::optional<double> timeout, ReadyList& ready) {
  int n = ::epoll_wait(epollFd_, events_.data(), static_cast<int>(events_.size()),
                       toMilliseconds(timeout));
  if (n < 0) return errno == EINTR ? std::error_code() : lastError();
  for (int i = 0; i < n; ++i) {
    ready.push_back({events_[i].data.fd, fromEpoll(events_[i].events)});
  }
  // A full buffer may have left ready descriptors for the next wait: make room for more.
  if (static_cast<std::size_t>(n) == events_.size() && events_.size() < kMaxEvents) {
    events_.resize(events_.size() * 2);
  }
  return {};
}

std::error_code EpollMultiplexer::afterFork(
    const std::vector<std::pair<int, std::uint8_t>>& interest) {
  // The inherited descriptor shares its interest set with the parent: any epoll_ctl through it
  // would change the parent's registrations. Start over with a private one.
  int fresh = ::epoll_create1(EPOLL_CLOEXEC);
  if (fresh < 0) return lastError();
  if (epollFd_ >= 0) ::close(epollFd_);
  epollFd_ = fresh;
  std::error_code first;
  for (const auto& [fd, mask] : interest) {
    if (mask == 0) continue;
    if (ctl(epollFd_, EPOLL_CTL_ADD, fd, mask) != 0 && !first) first = lastError();
  }
  return first;
}

}  // namespace coil
