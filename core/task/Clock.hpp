#pragma once
/// @file Clock: a deterministic IReactorTime for tests (Twisted's task.Clock).

#include <coil/core/IReactorTime.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <functional>
#include <vector>

namespace coil::task {

/// Simulated time: seconds() starts at 0.0 and moves only through advance() and pump(), which
/// run the calls that become due. Lets anything that takes an IReactorTime& be tested without
/// sleeping. Thread: the test's (one thread).
class Clock : public IReactorTime {
 public:
  /// A clock at time 0.0 with nothing scheduled.
  Clock();
  /// Pending calls become cancelled (inactive) and release their functions.
  ~Clock() override;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  /// The simulated time: 0.0 plus everything advanced so far.
  double seconds() const override { return now_; }

  /// Runs `f` once at seconds() + `delay`. A negative or NaN delay, or an empty `f`, throws
  /// std::invalid_argument. Calls due at the same time run in the order they were scheduled.
  DelayedCallPtr callLater(double delay, DelayedFunction f) override;
  using IReactorTime::callLater;

  /// Every pending call, in the order they will run.
  std::vector<DelayedCallPtr> getDelayedCalls() const override;

  /// Moves time forward by `amount` seconds, then runs, in (time, FIFO) order, every call due at
  /// the new time, including calls scheduled by those calls at or before it (a callLater(0) made
  /// by a call runs in the same advance). An exception escaping a call is logged (system
  /// "coil.task") and the remaining calls still run. A negative or NaN amount throws
  /// std::invalid_argument.
  void advance(double amount);

  /// advance() by each amount in turn.
  void pump(const std::vector<double>& timings);

 private:
  double now_ = 0.0;
  detail::TimerQueue queue_;
};

}  // namespace coil::task
