#pragma once
/// @file TimerQueueFixture: a detail::TimerQueue with a settable "now" that records which calls
/// ran, shared by TimerQueueTest and TimerWheelTest.

#include <coil/core/DelayedCall.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <test/support/Testing.hpp>

#include <vector>

namespace coil::test {

/// A queue with a settable "now" (for reset() and the window), recording which calls ran.
struct TimerQueueFixture {
  /// The queue's current time.
  double now = 0.0;
  /// The queue under test.
  detail::TimerQueue queue{[this] { return now; }};
  /// The ids of the calls that ran, in order.
  std::vector<int> ran;

  /// Schedules a call recording `id` at absolute `time`.
  DelayedCallPtr at(double time, int id) {
    return queue.schedule(time, [this, id] { ran.push_back(id); });
  }

  /// Pops and runs every call due at `t` (checking that none is early); returns how many ran.
  /// Checks the queue's invariants throughout.
  int runUntil(double t) {
    now = t;
    int n = 0;
    while (auto due = queue.popDue(now)) {
      BOOST_TEST_REQUIRE(due.call()->getTime() <= now);
      due.run();
      ++n;
      if (queue.heapSize() < 2000 || n % 1024 == 0) check();  // O(n): keep big runs linear
    }
    check();
    return n;
  }

  /// Fails the test if the queue's structures are inconsistent.
  void check() const {
    const char* violation = queue.invariantViolation();
    BOOST_TEST_REQUIRE(!violation, (violation ? violation : ""));
  }

  /// Where the queue's entries are (near, wheel, far, side).
  detail::TimerQueue::Layout layout() const { return queue.layout(); }
};

}  // namespace coil::test
