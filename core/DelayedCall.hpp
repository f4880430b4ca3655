#pragma once
/// @file DelayedCall: the concrete scheduled call (Twisted's base.DelayedCall) that
/// detail::TimerQueue hands out for callLater().

#include <coil/core/IDelayedCall.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace coil {

namespace detail {
class TimerQueue;
}  // namespace detail

/// A call scheduled on a detail::TimerQueue (Twisted's DelayedCall). Created only by
/// TimerQueue::schedule(). While pending it belongs to its queue; cancel(), reset() and delay()
/// reschedule it there. Once it has run, been cancelled, or its queue has been destroyed it is
/// inactive for good and its function (with everything the function captured) is released.
/// Thread: the thread of the scheduler that created it (reactor).
class DelayedCall final : public IDelayedCall, public std::enable_shared_from_this<DelayedCall> {
  struct Private {
    explicit Private() = default;
  };

 public:
  /// For TimerQueue only (the key type is private): a call of `f` at `time` with order `seq`.
  DelayedCall(Private, detail::TimerQueue* queue, std::function<void()> f, double time,
              std::uint64_t seq);
  /// Destroys the call (and its function, if it still holds one).
  ~DelayedCall() override;
  DelayedCall(const DelayedCall&) = delete;
  DelayedCall& operator=(const DelayedCall&) = delete;

  /// When the call will run, in its scheduler's seconds() time base.
  double getTime() const override { return time_; }

  /// Cancels the call and releases its function. Throws error::AlreadyCancelled if it was
  /// cancelled, error::AlreadyCalled if it has run (or is running).
  void cancel() override;

  /// Moves the call by `secondsLater` (negative: earlier). NaN, or a sum that is NaN, throws
  /// std::invalid_argument. Same state errors as cancel().
  void delay(double secondsLater) override;

  /// Reschedules the call to run `secondsFromNow` after the scheduler's current time (negative:
  /// due at once). NaN throws std::invalid_argument. Same state errors as cancel().
  void reset(double secondsFromNow) override;

  /// True until the call has run (or started running) or been cancelled.
  bool active() const override { return !called_ && !cancelled_; }

  /// True once the call has been cancelled (also when its scheduler was destroyed first).
  bool cancelled() const noexcept { return cancelled_; }

  /// True once the scheduler has started to invoke the call (set just before invocation).
  bool called() const noexcept { return called_; }

 private:
  friend class detail::TimerQueue;

  /// Throws error::AlreadyCancelled / error::AlreadyCalled unless active().
  void checkActive() const;

  std::function<void()> func_;
  detail::TimerQueue* queue_;  // owning queue while pending; null once inactive
  double time_;                // when it runs (its true key, with seq_)
  std::uint64_t seq_;          // FIFO order among equal times; renewed by every reschedule
  double entryTime_;           // key of its authoritative heap entry (<= the true key)
  std::uint64_t entrySeq_;     // id of that entry; 0 when it has none
  bool called_ = false;
  bool cancelled_ = false;
};

}  // namespace coil
