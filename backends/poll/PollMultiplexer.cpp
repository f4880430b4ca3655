// PollMultiplexer: poll(2) behind the Multiplexer seam.
// Tests: test/backends/MultiplexerTest.cpp
#include <coil/backends/poll/PollMultiplexer.hpp>

#include <coil/backends/detail/Syscall.hpp>

#include <cerrno>

namespace coil {

namespace {

short toPoll(std::uint8_t mask) {
  short events = 0;
  if (mask & io::kRead) events |= POLLIN;
  if (mask & io::kWrite) events |= POLLOUT;
  return events;
}

std::uint8_t fromPoll(short revents) {
  std::uint8_t mask = 0;
  if (revents & (POLLIN | POLLPRI)) mask |= io::kRead;
  if (revents & POLLOUT) mask |= io::kWrite;
  if (revents & (POLLERR | POLLNVAL)) mask |= io::kError;
  if (revents & POLLHUP) mask |= io::kHangup;
  return mask;
}

}  // namespace

std::error_code PollMultiplexer::update(int fd, std::uint8_t, std::uint8_t newMask) {
  if (fd < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  newMask &= io::kRead | io::kWrite;
  const auto at = static_cast<std::size_t>(fd);
  const int slot = at < index_.size() ? index_[at] : kNoSlot;
  if (newMask == 0) {
    if (slot == kNoSlot) return {};
    index_[at] = kNoSlot;
    if (static_cast<std::size_t>(slot) != fds_.size() - 1) {
      fds_[slot] = fds_.back();
      index_[fds_[slot].fd] = slot;
    }
    fds_.pop_back();
    return {};
  }
  if (slot != kNoSlot) {
    fds_[slot].events = toPoll(newMask);
    return {};
  }
  if (at >= index_.size()) index_.resize(at + 1, kNoSlot);
  index_[at] = static_cast<int>(fds_.size());
  fds_.push_back(pollfd{fd, toPoll(newMask), 0});
  return {};
}

std::error_code PollMultiplexer::wait(std::optional<double> timeout, ReadyList& ready) {
  int n = ::poll(fds_.data(), static_cast<nfds_t>(fds_.size()), detail::toMilliseconds(timeout));
  if (n < 0) return errno == EINTR ? std::error_code() : detail::lastError();
  for (const pollfd* p = fds_.data(); n > 0; ++p) {  // n > 0 ends it within fds_
    if (p->revents == 0) continue;
    --n;
    ready.push_back({p->fd, fromPoll(p->revents)});
  }
  return {};
}

}  // namespace coil
