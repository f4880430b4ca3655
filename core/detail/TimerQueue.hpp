#pragma once
/// @file TimerQueue: the scheduler of DelayedCalls shared by task::Clock and the reactors.

#include <coil/core/DelayedCall.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coil::detail {

/// `seconds` in the shortest form that reads back exactly ("0.1", "-1", "inf", "nan").
std::string formatSeconds(double seconds);

/// Throws std::invalid_argument "<who>: <what> must be a non-negative number of seconds, got
/// <value>" unless `value` is >= 0 (NaN fails).
void checkSeconds(std::string_view who, std::string_view what, double value);

/// checkSeconds(who, "delay", delay): the check of every callLater().
inline void checkDelay(std::string_view who, double delay) {
  checkSeconds(who, "delay", delay);
}

/// Pending DelayedCalls ordered by (time, scheduling order): equal times run FIFO.
///
/// A 4-ary min-heap of small entries (time, sequence number, shared_ptr to the call). Deletion is
/// lazy: cancel() and moving a call earlier leave a stale entry behind (skipped when it surfaces;
/// the heap is compacted once more than 50 entries, and at least a quarter of it, are stale);
/// moving a call later only updates the call, whose entry is re-keyed when it surfaces.
/// schedule() is O(log n), cancel() O(1) amortised, popDue() O(log n) amortised; the only
/// allocation per call is its shared_ptr block, recycled through a per-thread free list. Not
/// copyable or movable (calls point back at their queue). Thread: the owner's.
class TimerQueue {
 public:
  /// A popDue() result: the call, already detached and marked called, and its function, which the
  /// scheduler must invoke at once. Both are empty when nothing was due.
  struct DueCall {
    /// The call (null when nothing was due).
    std::shared_ptr<DelayedCall> call;
    /// The call's function, moved out of it.
    std::function<void()> func;
    /// True when a call was due.
    explicit operator bool() const noexcept { return call != nullptr; }
  };

  /// popDue()'s default `before`: no limit on the scheduling order.
  static constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

  /// A queue whose calls measure reset() from `seconds()` (the owner's current time).
  explicit TimerQueue(std::function<double()> seconds);
  /// Detaches every pending call: they become cancelled (inactive) and release their functions.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Schedules `f` at absolute `time` (may be past or +infinity). NaN time or an empty `f` throw
  /// std::invalid_argument.
  std::shared_ptr<DelayedCall> schedule(double time, std::function<void()> f);

  /// The time of the earliest pending call, or nullopt when none is pending. Not const: it drops
  /// stale entries and re-keys moved calls that reach the top.
  std::optional<double> nextTime();

  /// Removes and returns the earliest pending call whose time is <= `now` and which was scheduled
  /// (or last rescheduled) before mark() returned `before`; an empty DueCall if there is none (or
  /// the earliest pending call is newer than `before`). The call is marked called.
  DueCall popDue(double now, std::uint64_t before = kNoLimit);

  /// A token for popDue(now, before): calls scheduled or rescheduled after this are held back
  /// (the reactor's "calls made during this pass run on the next pass").
  std::uint64_t mark() const noexcept { return nextSeq_; }

  /// Every pending call, in the order they would run.
  std::vector<DelayedCallPtr> pending() const;

  /// Number of pending calls.
  std::size_t size() const noexcept { return live_; }

  /// True when no call is pending.
  bool empty() const noexcept { return live_ == 0; }

  /// Number of heap entries, stale ones included (diagnostics and tests).
  std::size_t heapSize() const noexcept { return heap_.size(); }

  /// Number of stale heap entries awaiting removal (diagnostics and tests).
  std::size_t staleCount() const noexcept { return stale_; }

 private:
  friend class coil::DelayedCall;

  struct Entry {
    double time;
    std::uint64_t seq;
    std::shared_ptr<DelayedCall> call;
  };

  static bool less(const Entry& a, const Entry& b) noexcept {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }

  // Called by DelayedCall (which has already checked that it is active).
  void cancelled(DelayedCall& call);
  void reschedule(DelayedCall& call, double time);
  double now() const { return seconds_(); }

  void push(Entry entry);
  void popTop();
  void siftUp(std::size_t i) noexcept;
  void siftDown(std::size_t i) noexcept;
  const Entry* settleTop();
  void maybeCompact() noexcept;
  void compact() noexcept;
  void detachAll() noexcept;

  std::function<double()> seconds_;
  std::vector<Entry> heap_;
  std::uint64_t nextSeq_ = 1;  // 0 means "no entry" in DelayedCall::entrySeq_
  std::size_t live_ = 0;
  std::size_t stale_ = 0;
};

}  // namespace coil::detail
