// DelayedCall: state checks of a scheduled call; rescheduling is delegated to its TimerQueue.
// Tests: test/core/task/ClockTest.cpp, test/core/task/TimerQueueTest.cpp
#include <coil/core/DelayedCall.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace coil {

DelayedCall::DelayedCall(Private, detail::TimerQueue* queue, std::function<void()> f, double time,
                         std::uint64_t seq)
    : func_(std::move(f)),
      queue_(queue),
      time_(time),
      seq_(seq),
      entryTime_(time),
      entrySeq_(seq) {}

DelayedCall::~DelayedCall() = default;

void DelayedCall::checkActive() const {
  if (cancelled_) throw error::AlreadyCancelled();
  if (called_) throw error::AlreadyCalled();
}

void DelayedCall::cancel() {
  checkActive();
  cancelled_ = true;
  // Destroy the function (and what it captured) only after the queue is consistent: its
  // destructors may schedule or cancel other calls.
  std::function<void()> released = std::move(func_);
  func_ = nullptr;
  if (detail::TimerQueue* queue = std::exchange(queue_, nullptr)) queue->cancelled(*this);
}

void DelayedCall::delay(double secondsLater) {
  checkActive();
  double time = time_ + secondsLater;
  if (std::isnan(time))
    throw std::invalid_argument("DelayedCall.delay(" + detail::formatSeconds(secondsLater) +
                                ") from time " + detail::formatSeconds(time_) +
                                ": the new time would be NaN");
  if (queue_)
    queue_->reschedule(*this, time);
  else
    time_ = time;
}

void DelayedCall::reset(double secondsFromNow) {
  checkActive();
  if (!queue_) return;  // unreachable: an active call always has its queue
  double now = queue_->now();
  double time = now + secondsFromNow;
  if (std::isnan(time))
    throw std::invalid_argument("DelayedCall.reset(" + detail::formatSeconds(secondsFromNow) +
                                ") at time " + detail::formatSeconds(now) +
                                ": the new time would be NaN");
  queue_->reschedule(*this, time);
}

}  // namespace coil
