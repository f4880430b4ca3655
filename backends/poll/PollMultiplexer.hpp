#pragma once
/// @file PollMultiplexer: poll(2) over a dense pollfd array (Twisted's pollreactor).

#include <coil/core/Multiplexer.hpp>

#include <poll.h>

#include <vector>

namespace coil {

/// Readiness through poll(2). Keeps a dense pollfd array and a table from descriptor number to
/// slot, so update() is O(1) (removal swaps the last slot in). Owns no descriptor.
/// Thread: reactor.
class PollMultiplexer final : public Multiplexer {
 public:
  /// An empty interest set. Thread: any.
  PollMultiplexer() = default;

  /// "poll". Thread: any.
  std::string_view name() const override { return "poll"; }
  /// Regular files are supported (always ready). Thread: any.
  unsigned features() const override { return feature::kRegularFiles; }
  /// Adds, changes or swap-removes the descriptor's slot; never fails for fd >= 0.
  /// Thread: reactor.
  std::error_code update(int fd, std::uint8_t oldMask, std::uint8_t newMask) override;
  /// poll(2); POLLNVAL (descriptor closed while watched) is reported as io::kError.
  /// Thread: reactor.
  std::error_code wait(std::optional<double> timeout, ReadyList& ready) override;

  /// Number of watched descriptors. Thread: reactor.
  std::size_t size() const noexcept { return fds_.size(); }

 private:
  static constexpr int kNoSlot = -1;
  std::vector<pollfd> fds_;
  std::vector<int> index_;  // descriptor number -> slot in fds_, or kNoSlot
};

}  // namespace coil
