// DelayedCall: state checks of a scheduled call; rescheduling is delegated to its TimerQueue.
// Tests: test/core/task/ClockTest.cpp, test/core/task/TimerQueueTest.cpp
#include <coil/core/DelayedCall.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/detail/FreeListAllocator.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <cmath>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

namespace coil {

std::ostream& operator<<(std::ostream& os, const DelayedCallPtr& p) {
  return os << static_cast<const void*>(p.get());
}

DelayedCall* DelayedCall::create(detail::TimerQueue* queue, DelayedFunction&& f, double time,
                                 std::uint64_t seq) {
  // Timers die in firing order, not creation order: malloc's free path was a quarter of the
  // cost of a timer, so their blocks are recycled through a per-thread free list.
  void* block = detail::FreeListAllocator<DelayedCall>{}.allocate(1);
  return ::new (block) DelayedCall(queue, std::move(f), time, seq);
}

DelayedCall::DelayedCall(detail::TimerQueue* queue, DelayedFunction&& f, double time,
                         std::uint64_t seq) noexcept
    : mainSeq_(seq), func_(std::move(f)), queue_(queue), time_(time), seq_(seq) {}

DelayedCall::~DelayedCall() = default;

void DelayedCall::destroy() noexcept {
  this->~DelayedCall();
  detail::FreeListAllocator<DelayedCall>{}.deallocate(this, 1);
}

void DelayedCall::checkActive() const {
  if (state_ == State::cancelled) throw error::AlreadyCancelled();
  if (state_ == State::called) throw error::AlreadyCalled();
}

void DelayedCall::cancel() {
  checkActive();
  // Destroy the function (and what it captured) only after the queue is consistent: its
  // destructors may schedule or cancel other calls, or drop the last handle to this one.
  DelayedCallPtr keep(this);
  queue_->cancelled(*this);
  func_.reset();
}

void DelayedCall::delay(double secondsLater) {
  checkActive();
  double time = time_ + secondsLater;
  if (std::isnan(time))
    throw std::invalid_argument("DelayedCall.delay(" + detail::formatSeconds(secondsLater) +
                                ") from time " + detail::formatSeconds(time_) +
                                ": the new time would be NaN");
  queue_->reschedule(*this, time);
}

void DelayedCall::reset(double secondsFromNow) {
  checkActive();
  double now = queue_->now();
  double time = now + secondsFromNow;
  if (std::isnan(time))
    throw std::invalid_argument("DelayedCall.reset(" + detail::formatSeconds(secondsFromNow) +
                                ") at time " + detail::formatSeconds(now) +
                                ": the new time would be NaN");
  queue_->reschedule(*this, time);
}

}  // namespace coil
