#pragma once
/// @file DelayedCall: the concrete scheduled call (Twisted's base.DelayedCall) that
/// detail::TimerQueue hands out for callLater().

#include <coil/core/DelayedFunction.hpp>
#include <coil/core/IDelayedCall.hpp>

#include <cstdint>

namespace coil {

namespace detail {
class TimerQueue;
}  // namespace detail

/// A call scheduled on a detail::TimerQueue (Twisted's DelayedCall). Created only by
/// TimerQueue::schedule(). While pending it belongs to its queue (which holds a reference);
/// cancel(), reset() and delay() reschedule it there. Once it has run, been cancelled, or its
/// queue has been destroyed it is inactive for good and its function (with everything the
/// function captured) is released. Thread: the thread of the scheduler that created it (reactor).
class DelayedCall final : public IDelayedCall {
 public:
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
  bool active() const override { return state_ < State::called; }

  /// True once the call has been cancelled (also when its scheduler was destroyed first).
  bool cancelled() const noexcept { return state_ == State::cancelled; }

  /// True once the scheduler has started to invoke the call (set just before invocation).
  bool called() const noexcept { return state_ == State::called; }

  /// The DelayedCall behind a handle from a TimerQueue (null for null or another kind of call).
  static DelayedCall* from(const DelayedCallPtr& p) noexcept {
    return dynamic_cast<DelayedCall*>(p.get());
  }

 private:
  friend class detail::TimerQueue;

  // Where the call's authoritative entry is, or why it has none. Active states first.
  enum class State : std::uint8_t {
    main,       // the main entry (near or far heap, or wheel slot), keyed (time_, seq_)
    mainLater,  // the main entry, keyed before (time_, seq_): re-keyed when it surfaces
    side,       // the side heap entry keyed (time_, seq_)
    called,     // popped for invocation (or run)
    cancelled,  // cancelled, or detached by its queue's destruction
  };

  // slotPos_ when no slot position is known.
  static constexpr std::uint16_t kNoSlotPos = 0xffff;

  // A new call (from the per-thread free list) holding no reference yet.
  static DelayedCall* create(detail::TimerQueue* queue, DelayedFunction&& f, double time,
                             std::uint64_t seq);
  DelayedCall(detail::TimerQueue* queue, DelayedFunction&& f, double time,
              std::uint64_t seq) noexcept;
  ~DelayedCall() override;
  void destroy() noexcept override;

  /// Throws error::AlreadyCancelled / error::AlreadyCalled unless active().
  void checkActive() const;

  // Hot, and all in the first 64 bytes: what popping and running the call reads, namely the
  // base's count, state_, mainSeq_ and func_.
  State state_ = State::main;
  // Where the main entry sits in its wheel slot, if it is in one (a hint, checked before use;
  // fits the padding before mainSeq_, so it costs no space).
  std::uint16_t slotPos_ = kNoSlotPos;
  std::uint64_t mainSeq_;  // sequence part of the main entry's key; fixed while that entry is
                           // in a heap, except when re-keyed (at the top, or by compaction)
  DelayedFunction func_;
  // Cold.
  detail::TimerQueue* queue_;  // the owning queue; meaningful only while active()
  double time_;                // when it runs: its true key is (time_, seq_)
  std::uint64_t seq_;          // FIFO order among equal times; renewed by every reschedule
};

}  // namespace coil
