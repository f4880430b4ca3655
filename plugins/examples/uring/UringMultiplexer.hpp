#pragma once
/// @file UringMultiplexer: a readiness Multiplexer over io_uring poll requests (the "uring"
/// backend, shipped as the example plugin coil_uring.so).
///
/// Each watched descriptor has one one-shot IORING_OP_POLL_ADD in flight. A completion is
/// reported once and the poll is re-armed before the next wait; a one-shot poll armed on a
/// descriptor that is still ready completes at once, so readiness is level-triggered like
/// poll/epoll (multishot poll is edge-triggered — it fires on wake-ups, not on state — and
/// would break PosixReactor's level-triggered contract, so it is not used). An interest change
/// cancels the armed poll with IORING_OP_POLL_REMOVE and arms a new one; every poll carries a
/// generation number in its user_data, so completions of cancelled polls are ignored.

#include <coil/core/Multiplexer.hpp>

#include <liburing.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace coil::uring {

/// Why io_uring cannot be used here (e.g. "io_uring_queue_init: Operation not permitted"), or
/// nullopt when it can. Thread: any.
std::optional<std::string> probe();

/// The io_uring poll multiplexer. Thread: reactor.
class UringMultiplexer final : public Multiplexer {
 public:
  /// Sets up a ring; throws std::system_error when io_uring_queue_init fails. Thread: any.
  explicit UringMultiplexer(unsigned entries = 256);
  /// Tears the ring down (pending polls die with it). Thread: reactor.
  ~UringMultiplexer() override;
  UringMultiplexer(const UringMultiplexer&) = delete;
  UringMultiplexer& operator=(const UringMultiplexer&) = delete;

  /// "uring". Thread: any.
  std::string_view name() const override { return "uring"; }
  /// feature::kConstantTime | feature::kRegularFiles. Thread: any.
  unsigned features() const override;
  /// Cancels the armed poll of `fd` (if any) and queues one for `newMask` (armed at the next
  /// wait). EBADF when `fd` is not open. Thread: reactor.
  std::error_code update(int fd, std::uint8_t oldMask, std::uint8_t newMask) override;
  /// Arms queued polls, submits, waits up to `timeout` for a completion and reports them.
  /// EBADF after a failed afterFork(). Thread: reactor.
  std::error_code wait(std::optional<double> timeout, ReadyList& ready) override;
  /// Re-creates the ring in a forked child and re-arms `interest`. Thread: reactor (child).
  std::error_code afterFork(const std::vector<std::pair<int, std::uint8_t>>& interest) override;

 private:
  struct Slot {
    std::uint8_t mask = 0;         // wanted io:: bits
    std::uint32_t generation = 0;  // of the current poll request
    bool armed = false;            // a poll with `generation` is in flight
  };

  struct io_uring_sqe* nextSqe();
  void arm(int fd, Slot& slot);
  void reap(ReadyList& ready);

  struct io_uring ring_ {};
  unsigned entries_;
  bool live_ = false;  // ring_ is set up (false only after a failed afterFork)
  std::unordered_map<int, Slot> slots_;
  std::vector<int> pending_;  // descriptors to (re-)arm before the next wait
  std::uint32_t nextGeneration_ = 1;
};

}  // namespace coil::uring
