// LoopingCall behaviour, ported from Twisted's test_task.LoopTests and ReactorLoopTests, plus
// coil's lifetime, restart and cancellation rules.
// Tests: core/task/LoopingCall.cpp
#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/task/Clock.hpp>
#include <coil/core/task/LoopingCall.hpp>
#include <test/support/Testing.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace task = coil::task;
using coil::Deferred;
using coil::Failure;
using coil::Result;
using task::Clock;

namespace {

class TestException : public std::runtime_error {
 public:
  explicit TestException(const std::string& what) : std::runtime_error(what) {}
};

/// What a start() Deferred delivered, observed through addBoth.
struct Outcome {
  bool fired = false;
  task::LoopingCall* value = nullptr;
  std::optional<Failure> failure;
};

std::shared_ptr<Outcome> watch(Deferred<task::LoopingCall*> d) {
  auto out = std::make_shared<Outcome>();
  d.addBoth([out](Result<task::LoopingCall*> r) {
    out->fired = true;
    if (r.ok()) {
      out->value = r.value();
    } else {
      out->failure = r.failure();
    }
  });
  return out;
}

/// True when `f` carries an E (or something derived from it).
template <class E>
bool isA(const Failure& f) {
  return f.value<E>() != nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(LoopingCallTests)

COIL_TEST_CASE(callbackTimeSkips) {
  // test_callbackTimeSkips: time passing inside f skips the ticks that are not in the future.
  Clock clock;
  std::vector<double> times;
  double callDuration = 2;
  task::LoopingCall call(clock, [&] {
    times.push_back(clock.seconds());
    clock.advance(callDuration);
  });
  call.start(0.5);
  BOOST_TEST(times == std::vector<double>{0});
  BOOST_TEST(clock.seconds() == 2.0);
  clock.advance(0);  // a tick at 2 is the present, not the future: skipped
  BOOST_TEST(times == std::vector<double>{0});
  callDuration = 1;
  clock.advance(0.5);
  BOOST_TEST(times == (std::vector<double>{0, 2.5}));
  BOOST_TEST(clock.seconds() == 3.5);
  clock.advance(0);
  BOOST_TEST(times == (std::vector<double>{0, 2.5}));
  callDuration = 0;
  clock.advance(0.5);
  BOOST_TEST(times == (std::vector<double>{0, 2.5, 4}));
  BOOST_TEST(clock.seconds() == 4.0);
  call.stop();
}

COIL_TEST_CASE(reactorTimeSkips) {
  // test_reactorTimeSkips
  Clock clock;
  std::vector<double> times;
  task::LoopingCall call(clock, [&] { times.push_back(clock.seconds()); });
  call.start(0.5);
  BOOST_TEST(times == std::vector<double>{0});
  clock.advance(2);
  BOOST_TEST(times == (std::vector<double>{0, 2}));
  clock.advance(1);
  BOOST_TEST(times == (std::vector<double>{0, 2, 3}));
  clock.advance(0);
  BOOST_TEST(times == (std::vector<double>{0, 2, 3}));
  call.stop();
}

COIL_TEST_CASE(missedTicksAreSkippedOnTheGrid) {
  // Calls land on start + k·interval: a late wake-up does not shift the grid.
  Clock clock;
  std::vector<double> times;
  task::LoopingCall call(clock, [&] { times.push_back(clock.seconds()); });
  call.start(1, false);
  BOOST_REQUIRE(clock.getDelayedCalls().size() == 1);
  BOOST_TEST(clock.getDelayedCalls()[0]->getTime() == 1.0);
  clock.advance(3.5);  // ticks at 2 and 3 are missed
  BOOST_TEST(times == std::vector<double>{3.5});
  BOOST_REQUIRE(clock.getDelayedCalls().size() == 1);
  BOOST_TEST(clock.getDelayedCalls()[0]->getTime() == 4.0);
  clock.advance(0.5);
  BOOST_TEST(times == (std::vector<double>{3.5, 4}));
  BOOST_TEST(clock.getDelayedCalls()[0]->getTime() == 5.0);
  call.stop();
}

COIL_TEST_CASE(reactorTimeCountSkips) {
  // test_reactorTimeCountSkips
  Clock clock;
  std::vector<std::pair<double, task::LoopingCall::Count>> times;
  auto call = task::LoopingCall::withCount(
      clock, [&](task::LoopingCall::Count n) { times.emplace_back(clock.seconds(), n); });
  const double interval = 0.5;
  const double delay = 0.01;
  call.start(interval);
  BOOST_REQUIRE(times.size() == 1);
  BOOST_TEST(times[0].second == 1);
  clock.advance(interval + delay);
  BOOST_REQUIRE(times.size() == 2);
  BOOST_TEST(times[1].first == interval + delay);
  BOOST_TEST(times[1].second == 1);
  clock.advance(3 * interval + delay);
  BOOST_REQUIRE(times.size() == 3);
  BOOST_TEST(times[2].first == 4 * interval + 2 * delay);
  BOOST_TEST(times[2].second == 3);
  clock.advance(0);
  BOOST_TEST(times.size() == 3u);
  call.stop();
}

COIL_TEST_CASE(countLengthyIntervalCounts) {
  // test_countLengthyIntervalCounts: only whole expected ticks count.
  Clock clock;
  std::vector<task::LoopingCall::Count> counts;
  auto call =
      task::LoopingCall::withCount(clock, [&](task::LoopingCall::Count n) { counts.push_back(n); });
  const double interval = 0.5;
  call.start(interval);
  clock.advance(interval + 0.01);
  clock.advance(interval * 1.75);
  clock.advance(interval * 0.25);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1, 1, 1}));
  call.stop();
}

COIL_TEST_CASE(withCountFloatingPointBoundary) {
  // test_withCountFloatingPointBoundary: never 0, and the counts sum to the elapsed ticks.
  Clock clock;
  std::vector<task::LoopingCall::Count> counts;
  auto call =
      task::LoopingCall::withCount(clock, [&](task::LoopingCall::Count n) { counts.push_back(n); });
  const int count = 10;
  const double timespan = 1.0;
  const double interval = timespan / count;
  call.start(interval, false);
  double sum = 0;
  for (int i = 0; i < count; ++i) {
    clock.advance(interval);
    sum += interval;
  }
  double epsilon = timespan - sum;
  BOOST_TEST(std::abs(epsilon) > 0.0);  // the case is only interesting with an inexact sum
  clock.advance(epsilon);
  BOOST_TEST(clock.seconds() >= timespan);
  task::LoopingCall::Count total = 0;
  for (auto n : counts) {
    BOOST_TEST(n != 0);
    total += n;
  }
  BOOST_TEST(total == count);
  call.stop();
}

COIL_TEST_CASE(withCountIntervalZero) {
  // test_withCountIntervalZero: the count is always 1, and stop() inside fires start's Deferred.
  Clock clock;
  std::vector<task::LoopingCall::Count> counts;
  std::optional<task::LoopingCall> loop;
  loop.emplace(task::LoopingCall::withCount(clock, [&](task::LoopingCall::Count n) {
    counts.push_back(n);
    if (counts.size() > 4) loop->stop();
  }));
  auto out = watch(loop->start(0, false));
  clock.advance(0);
  BOOST_TEST(out->fired);
  BOOST_TEST(out->value == &*loop);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1, 1, 1, 1}));
}

COIL_TEST_CASE(withCountIntervalZeroDelay) {
  // test_withCountIntervalZeroDelay
  Clock clock;
  Deferred<void> deferred;
  std::vector<task::LoopingCall::Count> counts;
  std::optional<task::LoopingCall> loop;
  loop.emplace(task::LoopingCall::withCount(
      clock, [&](task::LoopingCall::Count n) -> std::optional<Deferred<void>> {
        counts.push_back(n);
        if (counts.size() == 2) return deferred;
        if (counts.size() > 4) loop->stop();
        return std::nullopt;
      }));
  loop->start(0, false);
  clock.advance(0);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1}));
  clock.advance(2);
  BOOST_TEST(counts.size() == 2u);
  deferred.callback();
  clock.advance(0);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1, 1, 1, 1}));
  BOOST_TEST(!loop->running());
}

COIL_TEST_CASE(withCountIntervalZeroDelayThenNonZeroInterval) {
  // test_withCountIntervalZeroDelayThenNonZeroInterval
  Clock clock;
  Deferred<void> deferred;
  std::vector<task::LoopingCall::Count> counts;
  auto loop = task::LoopingCall::withCount(
      clock, [&](task::LoopingCall::Count n) -> std::optional<Deferred<void>> {
        counts.push_back(n);
        if (counts.size() == 2) return deferred;
        return std::nullopt;
      });
  loop.start(0, false);
  clock.advance(10);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1}));
  loop.setInterval(2);
  BOOST_TEST(loop.interval() == 2.0);
  deferred.callback();
  clock.advance(7);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1, 3}));
  clock.advance(2);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1, 3, 1}));
  clock.advance(4);
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 1, 3, 1, 2}));
  loop.stop();
}

COIL_TEST_CASE(basicFunction) {
  // testBasicFunction: arguments are passed; stop() fires start's Deferred with the loop.
  Clock clock;
  std::vector<std::string> calls;
  task::LoopingCall lc(
      clock, [&](const std::string& a, const std::string& b) { calls.push_back(a + b); }, "a",
      std::string("b"));
  auto out = watch(lc.start(0.1));
  clock.pump({0.05, 0.1, 0.1});
  BOOST_TEST(calls == (std::vector<std::string>{"ab", "ab", "ab"}));
  BOOST_TEST(!out->fired);
  lc.stop();
  BOOST_TEST(out->fired);
  BOOST_TEST(out->value == &lc);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(delayedStart) {
  // testDelayedStart
  Clock clock;
  int ran = 0;
  task::LoopingCall lc(clock, [&] { ++ran; });
  auto out = watch(lc.start(0.1, false));
  BOOST_TEST(ran == 0);
  clock.pump({0.05, 0.1, 0.1});
  BOOST_TEST(ran == 2);
  lc.stop();
  BOOST_TEST(out->value == &lc);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(badDelay) {
  // testBadDelay: a negative (or NaN) interval is a ValueError; nothing starts.
  Clock clock;
  task::LoopingCall lc(clock, [] {});
  BOOST_CHECK_THROW(lc.start(-1), std::invalid_argument);
  BOOST_CHECK_THROW(lc.start(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  BOOST_TEST(!lc.running());
  BOOST_TEST(clock.getDelayedCalls().empty());
  BOOST_CHECK_THROW(lc.setInterval(-0.5), std::invalid_argument);
}

COIL_TEST_CASE(stopAtOnce) {
  // testStopAtOnce: interval 0, stopped before the first call.
  Clock clock;
  int ran = 0;
  task::LoopingCall lc(clock, [&] { ++ran; });
  auto out = watch(lc.start(0, false));
  lc.stop();
  clock.advance(0);
  BOOST_TEST(ran == 0);
  BOOST_TEST(out->value == &lc);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(stoppingBeforeDelayedStart) {
  // testStoppingBeforeDelayedStart
  Clock clock;
  int ran = 0;
  task::LoopingCall lc(clock, [&] { ++ran; });
  lc.start(10, false);
  lc.stop();
  clock.advance(20);
  BOOST_TEST(ran == 0);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(resetRestartsTheInterval) {
  // test_reset
  Clock clock;
  int ran = 0;
  task::LoopingCall lc(clock, [&] { ++ran; });
  lc.start(2, false);
  clock.advance(1);
  lc.reset();
  BOOST_TEST(lc.starttime() == 1.0);
  clock.advance(1);
  BOOST_TEST(ran == 0);
  clock.advance(1);
  BOOST_TEST(ran == 1);
  BOOST_TEST(clock.getDelayedCalls()[0]->getTime() == 5.0);  // the grid moved with reset()
  lc.stop();
}

COIL_TEST_CASE(stateAssertions) {
  // Twisted's AssertionErrors: start while running, stop/reset while stopped.
  Clock clock;
  task::LoopingCall lc(clock, [] {});
  BOOST_CHECK_THROW(lc.stop(), std::logic_error);
  BOOST_CHECK_THROW(lc.reset(), std::logic_error);
  lc.start(1);
  BOOST_TEST(lc.running());
  BOOST_CHECK_THROW(lc.start(1), std::logic_error);
  BOOST_TEST(lc.running());
  lc.stop();
  BOOST_TEST(!lc.running());
  BOOST_CHECK_THROW(lc.stop(), coil::LogicError);
}

COIL_TEST_CASE(failure) {
  // testFailure: f raising fails start's Deferred, with running already cleared.
  Clock clock;
  std::optional<task::LoopingCall> lc;
  lc.emplace(
      clock, [](const std::string& x) { throw TestException(x); }, "bar");
  bool runningWhenFired = true;
  auto d = lc->start(0.1);
  d.addErrback([&](Failure f) -> task::LoopingCall* {
    runningWhenFired = lc->running();
    throw TestException(f.getErrorMessage());
  });
  auto out = watch(d);
  BOOST_TEST(out->fired);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<TestException>(*out->failure));
  BOOST_TEST(out->failure->getErrorMessage() == "bar");
  BOOST_TEST(!runningWhenFired);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(failAndStop) {
  // testFailAndStop: stop() inside f, then raising, still fails the Deferred.
  Clock clock;
  std::optional<task::LoopingCall> lc;
  lc.emplace(clock, [&] {
    lc->stop();
    throw TestException("bar");
  });
  auto out = watch(lc->start(0.1));
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<TestException>(*out->failure));
  BOOST_TEST(!lc->running());
}

COIL_TEST_CASE(everyIteration) {
  // testEveryIteration: interval 0 runs again on each callLater(0).
  Clock clock;
  int ran = 0;
  std::optional<task::LoopingCall> lc;
  lc.emplace(clock, [&] {
    ++ran;
    if (ran > 5) lc->stop();
  });
  auto out = watch(lc->start(0));
  BOOST_TEST(ran == 1);
  BOOST_REQUIRE(clock.getDelayedCalls().size() == 1);
  BOOST_TEST(clock.getDelayedCalls()[0]->getTime() == 0.0);  // callLater(0)
  clock.advance(0);
  BOOST_TEST(ran == 6);
  BOOST_TEST(out->value == &*lc);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(waitDeferred) {
  // testWaitDeferred: no rescheduling before f's Deferred fires.
  Clock clock;
  int calls = 0;
  std::optional<task::LoopingCall> lc;
  lc.emplace(clock, [&] {
    ++calls;
    Deferred<void> d;
    d.addCallback([&] { lc->stop(); });
    clock.callLater(1, [d]() mutable { d.callback(); });
    return d;
  });
  auto out = watch(lc->start(0.2));
  clock.pump({0.2, 0.8});
  BOOST_TEST(calls == 1);
  BOOST_TEST(out->value == &*lc);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(failurePropagation) {
  // testFailurePropagation: f's Deferred failing fails start's Deferred.
  Clock clock;
  task::LoopingCall lc(clock, [&] {
    Deferred<int> d;
    clock.callLater(0.3, [d]() mutable { d.errback(TestException("later")); });
    return d;
  });
  auto out = watch(lc.start(1));
  BOOST_TEST(!out->fired);
  clock.pump({0.3});
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<TestException>(*out->failure));
  BOOST_TEST(!lc.running());
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(deferredWithCount) {
  // test_deferredWithCount: ticks missed while f's Deferred pends are counted.
  Clock clock;
  Deferred<void> d;
  std::vector<task::LoopingCall::Count> counts;
  auto lc = task::LoopingCall::withCount(clock, [&](task::LoopingCall::Count n) {
    counts.push_back(n);
    return counts.size() == 1 ? d : coil::succeed();
  });
  lc.start(0.2, false);
  BOOST_TEST(counts.empty());
  clock.pump({0.2, 0.4});
  BOOST_TEST(counts.size() == 1u);
  d.callback();
  clock.pump({0.2});
  BOOST_TEST(counts == (std::vector<task::LoopingCall::Count>{1, 3}));
  lc.stop();
}

COIL_TEST_CASE(stopWhileDeferredPending) {
  // stop() while f's Deferred pends: start's Deferred fires when that one fires, not before.
  Clock clock;
  Deferred<void> pending;
  int calls = 0;
  task::LoopingCall lc(clock, [&] {
    ++calls;
    return pending;
  });
  auto out = watch(lc.start(1));
  lc.stop();
  BOOST_TEST(!lc.running());
  BOOST_TEST(!out->fired);
  clock.advance(5);
  BOOST_TEST(calls == 1);
  pending.callback();
  BOOST_TEST(out->fired);
  BOOST_TEST(out->value == &lc);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(startAgainAfterStop) {
  // A stopped loop restarts with a fresh Deferred and a fresh grid.
  Clock clock;
  std::vector<double> times;
  task::LoopingCall lc(clock, [&] { times.push_back(clock.seconds()); });
  auto first = watch(lc.start(1));
  clock.advance(1.5);
  lc.stop();
  BOOST_TEST(first->value == &lc);
  auto second = watch(lc.start(2));
  BOOST_TEST(lc.running());
  BOOST_TEST(lc.interval() == 2.0);
  clock.advance(2);
  BOOST_TEST(times == (std::vector<double>{0, 1.5, 1.5, 3.5}));
  BOOST_TEST(!second->fired);
  lc.stop();
  BOOST_TEST(second->value == &lc);
}

COIL_TEST_CASE(restartWhileOldDeferredPending) {
  // twisted#2998: stop(), start() again, then the old run's Deferred fires. The old start
  // Deferred fires; the new run is not doubled by a second schedule.
  Clock clock;
  std::vector<Deferred<void>> pending;
  std::vector<double> times;
  task::LoopingCall lc(clock, [&]() -> std::optional<Deferred<void>> {
    times.push_back(clock.seconds());
    if (pending.empty()) {
      pending.emplace_back();
      return pending.back();
    }
    return std::nullopt;
  });
  auto first = watch(lc.start(1));
  lc.stop();
  auto second = watch(lc.start(1));
  BOOST_TEST(times == (std::vector<double>{0, 0}));
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  pending[0].callback();
  BOOST_TEST(first->value == &lc);
  BOOST_TEST(!second->fired);
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);  // still one loop
  clock.advance(1);
  BOOST_TEST(times == (std::vector<double>{0, 0, 1}));
  lc.stop();
  BOOST_TEST(second->value == &lc);
}

COIL_TEST_CASE(cancelStartDeferredStopsTheLoop) {
  // Cancelling start()'s Deferred stops the loop and fails it with CancelledError.
  Clock clock;
  int ran = 0;
  task::LoopingCall lc(clock, [&] { ++ran; });
  auto d = lc.start(1);
  auto out = watch(d);
  d.cancel();
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<coil::CancelledError>(*out->failure));
  BOOST_TEST(!lc.running());
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(5);
  BOOST_TEST(ran == 1);
  lc.start(1);  // restartable
  BOOST_TEST(ran == 2);
  lc.stop();
}

COIL_TEST_CASE(cancelStartDeferredCancelsPendingDeferred) {
  Clock clock;
  bool innerCancelled = false;
  task::LoopingCall lc(
      clock, [&] { return Deferred<int>([&](Deferred<int>&) { innerCancelled = true; }); });
  auto d = lc.start(1);
  auto out = watch(d);
  d.cancel();
  BOOST_TEST(innerCancelled);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<coil::CancelledError>(*out->failure));
  BOOST_TEST(!lc.running());
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(destroyCancelsTheScheduledCall) {
  Clock clock;
  int ran = 0;
  std::optional<std::shared_ptr<Outcome>> out;
  {
    task::LoopingCall lc(clock, [&] { ++ran; });
    out = watch(lc.start(1));
    BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  }
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(3);
  BOOST_TEST(ran == 1);
  BOOST_TEST(!(*out)->fired);  // never fired with a dangling pointer
}

COIL_TEST_CASE(destroyedInsideItsOwnCall) {
  // f may destroy its LoopingCall; nothing touches it afterwards and nothing is rescheduled.
  Clock clock;
  int ran = 0;
  auto lc = std::make_unique<std::optional<task::LoopingCall>>();
  lc->emplace(clock, [&] {
    if (++ran == 2) lc->reset();
  });
  (*lc)->start(1);
  clock.advance(1);
  BOOST_TEST(ran == 2);
  BOOST_TEST(!lc->has_value());
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(5);
  BOOST_TEST(ran == 2);
}

COIL_TEST_CASE(lateDeferredAfterDestructionIsIgnored) {
  Clock clock;
  Deferred<void> pending;
  std::shared_ptr<Outcome> out;
  {
    task::LoopingCall lc(clock, [&] { return pending; });
    out = watch(lc.start(1));
  }
  pending.callback();  // must not reach the destroyed loop
  BOOST_TEST(!out->fired);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(moveKeepsTheLoopAndUpdatesTheAddress) {
  Clock clock;
  int ran = 0;
  task::LoopingCall a(clock, [&] { ++ran; });
  auto out = watch(a.start(1));
  task::LoopingCall b(std::move(a));
  clock.advance(1);
  BOOST_TEST(ran == 2);
  BOOST_TEST(b.running());
  std::vector<task::LoopingCall> loops;
  loops.push_back(std::move(b));
  loops.back().stop();
  BOOST_TEST(out->value == &loops.back());
}

COIL_TEST_CASE(moveAssignStopsTheOverwrittenLoop) {
  Clock clock;
  int first = 0;
  int second = 0;
  task::LoopingCall a(clock, [&] { ++first; });
  task::LoopingCall b(clock, [&] { ++second; });
  a.start(1);
  b.start(1);
  a = std::move(b);
  clock.advance(1);
  BOOST_TEST(first == 1);
  BOOST_TEST(second == 2);
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  a.stop();
}

COIL_TEST_CASE(bodyResultKinds) {
  // A failed Result stops the loop; a nullopt optional<Deferred> counts as done at once; other
  // return values are ignored.
  Clock clock;
  int ran = 0;
  task::LoopingCall failing(clock, [&]() -> Result<int> {
    if (++ran == 2) return Failure(TestException("result"));
    return 7;
  });
  auto out = watch(failing.start(1));
  BOOST_TEST(failing.running());
  clock.advance(1);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(out->failure->getErrorMessage() == "result");
  BOOST_TEST(!failing.running());

  int other = 0;
  task::LoopingCall ignoring(clock, [&] { return ++other; });
  ignoring.start(1);
  clock.advance(1);
  BOOST_TEST(other == 2);
  ignoring.stop();
}

COIL_TEST_CASE(coroutineBody) {
  // A coroutine body runs to its first co_await; the loop waits for it to finish.
  Clock clock;
  Deferred<void> gate;
  std::vector<std::string> log;
  task::LoopingCall lc(clock, [&]() -> Deferred<void> {
    log.push_back("begin");
    co_await gate;
    log.push_back("end");
  });
  lc.start(1);
  clock.advance(3);
  BOOST_TEST(log == std::vector<std::string>{"begin"});
  gate.callback();
  BOOST_TEST(log == (std::vector<std::string>{"begin", "end"}));
  BOOST_TEST(clock.getDelayedCalls()[0]->getTime() == 4.0);
  lc.stop();
}

COIL_TEST_CASE(clockAccessor) {
  Clock clock;
  task::LoopingCall lc(clock, [] {});
  BOOST_TEST(&lc.clock() == &clock);
  BOOST_TEST(lc.interval() == 0.0);
  BOOST_TEST(!lc.running());
}

BOOST_AUTO_TEST_SUITE_END()
