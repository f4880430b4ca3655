// SelectMultiplexer: select(2) behind the Multiplexer seam.
// Tests: test/backends/MultiplexerTest.cpp
#include <coil/backends/select/SelectMultiplexer.hpp>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace coil {

namespace {

class SelectCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coil.select"; }
  std::string message(int) const override {
    return "file descriptor >= FD_SETSIZE (" + std::to_string(FD_SETSIZE) +
           "): select cannot watch it; use the poll or epoll backend";
  }
  std::error_condition default_error_condition(int) const noexcept override {
    return std::make_error_condition(std::errc::invalid_argument);
  }
};

timeval toTimeval(double seconds) {
  if (!(seconds > 0)) return timeval{0, 0};
  seconds = std::min(seconds, 1e8);  // far beyond any reactor timeout; keeps tv_sec sane
  double whole = std::floor(seconds);
  auto micros = static_cast<suseconds_t>(std::ceil((seconds - whole) * 1e6));
  timeval tv{static_cast<time_t>(whole), micros};
  if (tv.tv_usec >= 1000000) {
    tv.tv_sec += 1;
    tv.tv_usec -= 1000000;
  }
  return tv;
}

}  // namespace

SelectMultiplexer::SelectMultiplexer() {
  FD_ZERO(&read_);
  FD_ZERO(&write_);
}

std::error_code SelectMultiplexer::fdTooLarge() noexcept {
  static const SelectCategory category;
  return {1, category};
}

std::uint8_t SelectMultiplexer::maskOf(int fd) const {
  std::uint8_t mask = 0;
  if (FD_ISSET(fd, &read_)) mask |= io::kRead;
  if (FD_ISSET(fd, &write_)) mask |= io::kWrite;
  return mask;
}

std::error_code SelectMultiplexer::update(int fd, std::uint8_t, std::uint8_t newMask) {
  if (fd < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  if (fd >= FD_SETSIZE) return fdTooLarge();
  if (newMask & io::kRead) {
    FD_SET(fd, &read_);
  } else {
    FD_CLR(fd, &read_);
  }
  if (newMask & io::kWrite) {
    FD_SET(fd, &write_);
  } else {
    FD_CLR(fd, &write_);
  }
  if (maskOf(fd) != 0) {
    if (fd > maxFd_) maxFd_ = fd;
  } else if (fd == maxFd_) {
    while (maxFd_ >= 0 && maskOf(maxFd_) == 0) --maxFd_;
  }
  return {};
}

std::error_code SelectMultiplexer::wait(std::optional<double> timeout, ReadyList& ready) {
  fd_set readable = read_;
  fd_set writable = write_;
  timeval tv{};
  if (timeout) tv = toTimeval(*timeout);
  int n = ::select(maxFd_ + 1, &readable, &writable, nullptr, timeout ? &tv : nullptr);
  if (n < 0) {
    if (errno == EINTR) return {};
    if (errno == EBADF) {
      reportClosed(ready);
      return {};
    }
    return {errno, std::system_category()};
  }
  static_assert(FD_SETSIZE % 64 == 0 && sizeof(fd_set) * 8 == FD_SETSIZE);
  // Descriptors 64k..64k+63 live in bytes 8k..8k+7 of an fd_set whatever its word size and
  // byte order: chunks with nothing set in either set are skipped eight bytes at a time.
  const auto* r = reinterpret_cast<const unsigned char*>(&readable);
  const auto* w = reinterpret_cast<const unsigned char*>(&writable);
  for (int base = 0; base <= maxFd_ && n > 0; base += 64) {
    std::uint64_t rc, wc;
    std::memcpy(&rc, r + base / 8, sizeof rc);
    std::memcpy(&wc, w + base / 8, sizeof wc);
    if ((rc | wc) == 0) continue;
    const int last = std::min(base + 63, maxFd_);
    for (int fd = base; fd <= last && n > 0; ++fd) {
      std::uint8_t mask = 0;
      if (FD_ISSET(fd, &readable)) mask |= io::kRead;
      if (FD_ISSET(fd, &writable)) mask |= io::kWrite;
      if (mask == 0) continue;
      n -= (mask & io::kRead ? 1 : 0) + (mask & io::kWrite ? 1 : 0);
      ready.push_back({fd, mask});
    }
  }
  return {};
}

// select() fails as a whole when one watched descriptor is closed (Twisted's
// _preenDescriptors): find those and report them, so the reactor can drop them.
void SelectMultiplexer::reportClosed(ReadyList& ready) const {
  for (int fd = 0; fd <= maxFd_; ++fd) {
    if (maskOf(fd) == 0) continue;
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) ready.push_back({fd, io::kError});
  }
}

}  // namespace coil
