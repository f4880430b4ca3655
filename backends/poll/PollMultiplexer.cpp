// PollMultiplexer: poll(2) behind the Multiplexer seam.
// Tests: test/backends/MultiplexerTest.cpp
#include <coil/backends/poll/PollMultiplexer.hpp>

#include <cerrno>
#include <climits>
#include <cmath>

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

// Milliseconds for poll: rounded up (a 0.1 ms timeout must not spin), capped at INT_MAX.
int toMilliseconds(std::optional<double> timeout) {
  if (!timeout) return -1;
  if (!(*timeout > 0)) return 0;
  double ms = std::ceil(*timeout * 1000.0);
  return ms >= static_cast<double>(INT_MAX) ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

std::error_code PollMultiplexer::update(int fd, std::uint8_t, std::uint8_t newMask) {
  if (fd < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  newMask &= io::kRead | io::kWrite;
  auto it = index_.find(fd);
  if (newMask == 0) {
    if (it == index_.end()) return {};
    std::size_t slot = it->second;
    index_.erase(it);
    if (slot != fds_.size() - 1) {
      fds_[slot] = fds_.back();
      index_[fds_[slot].fd] = slot;
    }
    fds_.pop_back();
    return {};
  }
  if (it != index_.end()) {
    fds_[it->second].events = toPoll(newMask);
    return {};
  }
  index_.emplace(fd, fds_.size());
  fds_.push_back(pollfd{fd, toPoll(newMask), 0});
  return {};
}

std::error_code PollMultiplexer::wait(std::optional<double> timeout, ReadyList& ready) {
  int n = ::poll(fds_.data(), static_cast<nfds_t>(fds_.size()), toMilliseconds(timeout));
  if (n < 0) {
    return errno == EINTR ? std::error_code() : std::error_code(errno, std::system_category());
  }
  for (std::size_t i = 0; i < fds_.size() && n > 0; ++i) {
    if (fds_[i].revents == 0) continue;
    --n;
    ready.push_back({fds_[i].fd, fromPoll(fds_[i].revents)});
  }
  return {};
}

}  // namespace coil
