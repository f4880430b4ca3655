#pragma once
/// @file Syscall: small helpers the readiness multiplexers and PosixReactor share (private to
/// backends/).

#include <cerrno>
#include <climits>
#include <cmath>
#include <optional>
#include <system_error>

namespace coil::detail {

/// errno as a std::error_code (system category). Thread: any.
inline std::error_code lastError() noexcept {
  return {errno, std::system_category()};
}

/// A wait timeout in seconds as the milliseconds poll(2)/epoll_wait(2) take: -1 for none (wait
/// forever), 0 for zero or less, otherwise rounded up (a 0.1 ms timeout must not spin) and
/// capped at INT_MAX. Thread: any.
inline int toMilliseconds(std::optional<double> timeout) noexcept {
  if (!timeout) return -1;
  if (!(*timeout > 0)) return 0;
  double ms = std::ceil(*timeout * 1000.0);
  return ms >= static_cast<double>(INT_MAX) ? INT_MAX : static_cast<int>(ms);
}

}  // namespace coil::detail
