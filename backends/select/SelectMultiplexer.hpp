#pragma once
/// @file SelectMultiplexer: select(2) over incrementally maintained fd_sets (Twisted's
/// selectreactor).

#include <coil/core/Multiplexer.hpp>

#include <sys/select.h>

#include <system_error>

namespace coil {

/// Readiness through select(2). The fd_sets and the highest descriptor are kept up to date by
/// update(); wait() copies them. Descriptors >= FD_SETSIZE are refused with fdTooLarge(), never
/// written past the set. Owns no descriptor. Thread: reactor.
class SelectMultiplexer final : public Multiplexer {
 public:
  /// An empty interest set. Thread: any.
  SelectMultiplexer();

  /// The error update() returns for a descriptor >= FD_SETSIZE; compares equal to
  /// std::errc::invalid_argument and its message says why and what to use instead. Thread: any.
  static std::error_code fdTooLarge() noexcept;

  /// "select". Thread: any.
  std::string_view name() const override { return "select"; }
  /// Regular files are supported (always ready). Thread: any.
  unsigned features() const override { return feature::kRegularFiles; }
  /// Sets or clears the descriptor's bits; fd >= FD_SETSIZE -> fdTooLarge(). Thread: reactor.
  std::error_code update(int fd, std::uint8_t oldMask, std::uint8_t newMask) override;
  /// select(2). When a watched descriptor was closed (EBADF), the closed ones are reported as
  /// io::kError instead of failing the whole wait. Thread: reactor.
  std::error_code wait(std::optional<double> timeout, ReadyList& ready) override;

  /// The highest watched descriptor, or -1. Thread: reactor.
  int maxFd() const noexcept { return maxFd_; }

 private:
  std::uint8_t maskOf(int fd) const;
  void reportClosed(ReadyList& ready) const;

  fd_set read_;
  fd_set write_;
  int maxFd_ = -1;
};

}  // namespace coil
