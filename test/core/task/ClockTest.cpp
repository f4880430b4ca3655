// Tests for coil::task::Clock and DelayedCall (Twisted's test_task.ClockTestCase, test_base).
#include <coil/core/DelayedCall.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/IReactorTime.hpp>
#include <coil/core/task/Clock.hpp>

#include <test/support/Testing.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using coil::DelayedCallPtr;
namespace task = coil::task;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// One (name, clock time) record.
struct Stamp {
  std::string name;
  double time;
  bool operator==(const Stamp&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Stamp& s) {
    return os << "(" << s.name << ", " << s.time << ")";
  }
};

/// Records (name, clock time) for each call, like Twisted's `logtime` helper.
struct TimeLog {
  task::Clock& clock;
  std::vector<Stamp> entries;

  std::function<void()> log(std::string name) {
    return [this, name] { entries.push_back({name, clock.seconds()}); };
  }
};

using Entries = std::vector<Stamp>;

bool mentions(const std::exception& e, const std::string& text) {
  return std::string(e.what()).find(text) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Clock)

COIL_TEST_CASE(providesIReactorTime) {
  static_assert(std::is_base_of_v<coil::IReactorTime, task::Clock>);
  task::Clock clock;
  coil::IReactorTime& time = clock;
  bool ran = false;
  time.callLater(1, [&] { ran = true; });
  clock.advance(1);
  BOOST_TEST(ran);
}

COIL_TEST_CASE(secondsStartsAtZero) {
  task::Clock clock;
  BOOST_TEST(clock.seconds() == 0.0);
}

COIL_TEST_CASE(callLaterReturnsAnActiveCallAtNowPlusDelay) {
  task::Clock clock;
  clock.advance(2);
  auto call = clock.callLater(1, [] {});
  BOOST_TEST(call->active());
  BOOST_TEST(call->getTime() == 3.0);
  coil::DelayedCall* concrete = coil::DelayedCall::from(call);
  BOOST_REQUIRE(concrete);
  BOOST_TEST(!concrete->called());
  BOOST_TEST(!concrete->cancelled());
}

COIL_TEST_CASE(advanceMovesTimeAndRunsOnlyDueCalls) {
  // testAdvance
  task::Clock clock;
  std::vector<int> events;
  auto call = clock.callLater(1, [&] { events.push_back(1); });
  clock.advance(0.5);
  BOOST_TEST(clock.seconds() == 0.5);
  BOOST_TEST(events.empty());
  BOOST_TEST(call->active());
  clock.advance(0.5);
  BOOST_TEST(clock.seconds() == 1.0);
  BOOST_TEST(events == std::vector<int>{1});
  BOOST_TEST(!call->active());
}

COIL_TEST_CASE(advanceSkipsCancelledCalls) {
  // testAdvanceCancel
  task::Clock clock;
  bool ran = false;
  auto call = clock.callLater(1, [&] { ran = true; });
  call->cancel();
  BOOST_TEST(!call->active());
  clock.advance(1);
  BOOST_TEST(!ran);
}

COIL_TEST_CASE(delayedCallCanBeDelayed) {
  // testCallLaterDelayed
  task::Clock clock;
  std::vector<int> events;
  auto call = clock.callLater(1, [&] { events.push_back(1); });
  call->delay(1);
  BOOST_TEST(call->getTime() == 2.0);
  clock.advance(1.5);
  BOOST_TEST(events.empty());
  clock.advance(1.0);
  BOOST_TEST(events == std::vector<int>{1});
}

COIL_TEST_CASE(delayNegativeMovesTheCallEarlier) {
  task::Clock clock;
  std::vector<int> events;
  clock.callLater(2, [&] { events.push_back(2); });
  auto call = clock.callLater(5, [&] { events.push_back(5); });
  call->delay(-4);
  BOOST_TEST(call->getTime() == 1.0);
  clock.advance(1);
  BOOST_TEST(events == std::vector<int>{5});
  clock.advance(1);
  BOOST_TEST(events == (std::vector<int>{5, 2}));
}

COIL_TEST_CASE(resetLaterPostponesTheCall) {
  // testCallLaterResetLater
  task::Clock clock;
  std::vector<int> events;
  auto call = clock.callLater(2, [&] { events.push_back(1); });
  clock.advance(1);
  call->reset(3);
  BOOST_TEST(call->getTime() == 4.0);
  clock.advance(2);
  BOOST_TEST(events.empty());
  clock.advance(1);
  BOOST_TEST(events == std::vector<int>{1});
}

COIL_TEST_CASE(resetSoonerBringsTheCallForward) {
  // testCallLaterResetSooner
  task::Clock clock;
  std::vector<int> events;
  auto call = clock.callLater(4, [&] { events.push_back(1); });
  call->reset(3);
  BOOST_TEST(call->getTime() == 3.0);
  clock.advance(3);
  BOOST_TEST(events == std::vector<int>{1});
}

COIL_TEST_CASE(resetToZeroRunsOnTheNextAdvance) {
  task::Clock clock;
  bool ran = false;
  auto call = clock.callLater(10, [&] { ran = true; });
  clock.advance(1);
  call->reset(0);
  BOOST_TEST(call->getTime() == 1.0);
  clock.advance(0);
  BOOST_TEST(ran);
}

COIL_TEST_CASE(getDelayedCallsListsOnlyPendingCalls) {
  // testGetDelayedCalls
  task::Clock clock;
  auto a = clock.callLater(1, [] {});
  auto b = clock.callLater(2, [] {});
  auto c = clock.callLater(3, [] {});
  auto calls = clock.getDelayedCalls();
  BOOST_TEST(calls.size() == 3u);
  BOOST_TEST((calls == std::vector<DelayedCallPtr>{a, b, c}));
  b->cancel();
  clock.advance(1);
  calls = clock.getDelayedCalls();
  BOOST_TEST((calls == std::vector<DelayedCallPtr>{c}));
}

COIL_TEST_CASE(getDelayedCallsIsEmptyInitially) {
  // testGetDelayedCallsEmpty
  task::Clock clock;
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(equalTimesRunInSchedulingOrder) {
  // test_callLaterOrdering
  task::Clock clock;
  std::vector<int> events;
  clock.callLater(10, [&] { events.push_back(1); });
  clock.callLater(1, [&] { events.push_back(2); });
  clock.callLater(10, [&] { events.push_back(3); });
  clock.callLater(1, [&] { events.push_back(4); });
  clock.callLater(10, [&] { events.push_back(5); });
  clock.advance(10);
  BOOST_TEST(events == (std::vector<int>{2, 4, 1, 3, 5}));
}

COIL_TEST_CASE(callLaterKeepsCallsOrdered) {
  // test_callLaterKeepsCallsOrdered
  task::Clock clock;
  TimeLog log{clock, {}};
  auto a = clock.callLater(1.0, log.log("a"));
  a->reset(3.0);
  clock.callLater(2.0, log.log("b"));
  clock.callLater(1.0, log.log("c"));
  clock.pump({1, 1, 1});
  BOOST_TEST(log.entries == (Entries{{"c", 1.0}, {"b", 2.0}, {"a", 3.0}}));
}

COIL_TEST_CASE(callLaterResetKeepsCallsOrdered) {
  // test_callLaterResetKeepsCallsOrdered
  task::Clock clock;
  TimeLog log{clock, {}};
  auto a = clock.callLater(1.0, log.log("a"));
  clock.callLater(2.0, log.log("b"));
  clock.callLater(1.0, log.log("c"));
  a->reset(3.0);
  clock.pump({1, 1, 1});
  BOOST_TEST(log.entries == (Entries{{"c", 1.0}, {"b", 2.0}, {"a", 3.0}}));
}

COIL_TEST_CASE(callLaterResetInsideCallKeepsCallsOrdered) {
  // test_callLaterResetInsideCallKeepsCallsOrdered
  task::Clock clock;
  TimeLog log{clock, {}};
  auto b = clock.callLater(2.0, log.log("b"));
  clock.callLater(1.0, [&] { b->reset(3.0); });
  clock.callLater(3.0, log.log("c"));
  clock.pump({1, 1, 1, 1});
  BOOST_TEST(log.entries == (Entries{{"c", 3.0}, {"b", 4.0}}));
}

COIL_TEST_CASE(callLaterZeroInsideACallRunsInTheSameAdvance) {
  // Twisted #5962 / #9819: Clock.advance runs calls scheduled at or before the new time. Calls
  // see the new time already, so only a zero delay lands inside this advance.
  task::Clock clock;
  TimeLog log{clock, {}};
  clock.callLater(1, [&] {
    log.entries.push_back({"first", clock.seconds()});
    clock.callLater(0, log.log("zero"));    // 2.0: after "two" (FIFO), same advance
    clock.callLater(0.5, log.log("half"));  // 2.5: next advance
  });
  clock.callLater(2, log.log("two"));
  clock.advance(2);
  BOOST_TEST(log.entries == (Entries{{"first", 2.0}, {"two", 2.0}, {"zero", 2.0}}));
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  clock.advance(0.5);
  BOOST_TEST(log.entries.back() == (Stamp{"half", 2.5}));
}

COIL_TEST_CASE(selfReschedulingChainRunsWithinOneAdvance) {
  task::Clock clock;
  int count = 0;
  std::function<void()> tick = [&] {
    if (++count < 100) clock.callLater(0, tick);
  };
  clock.callLater(0, tick);
  clock.advance(0);
  BOOST_TEST(count == 100);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(aCallMovedIntoThePastByAnotherRunsInTheSameAdvance) {
  task::Clock clock;
  TimeLog log{clock, {}};
  DelayedCallPtr far = clock.callLater(100, log.log("far"));
  clock.callLater(1, [&] { far->reset(-0.5); });
  clock.callLater(1, log.log("sibling"));
  clock.advance(1);
  BOOST_TEST(far->getTime() == 0.5);
  BOOST_TEST(log.entries == (Entries{{"far", 1.0}, {"sibling", 1.0}}));
}

COIL_TEST_CASE(pumpAdvancesByEachAmount) {
  task::Clock clock;
  TimeLog log{clock, {}};
  clock.callLater(1, log.log("a"));
  clock.callLater(3, log.log("b"));
  clock.callLater(3.5, log.log("c"));
  clock.pump({0.5, 0.5, 1, 1.5});
  BOOST_TEST(clock.seconds() == 3.5);
  BOOST_TEST(log.entries == (Entries{{"a", 1.0}, {"b", 3.5}, {"c", 3.5}}));
}

COIL_TEST_CASE(cancelTwiceRaisesAlreadyCancelled) {
  task::Clock clock;
  auto call = clock.callLater(1, [] {});
  call->cancel();
  BOOST_CHECK_EXCEPTION(call->cancel(), coil::error::AlreadyCancelled,
                        [](const auto& e) { return mentions(e, "already-cancelled"); });
  BOOST_CHECK_THROW(call->reset(1), coil::error::AlreadyCancelled);
  BOOST_CHECK_THROW(call->delay(1), coil::error::AlreadyCancelled);
  BOOST_TEST(!call->active());
}

COIL_TEST_CASE(cancelAfterRunRaisesAlreadyCalled) {
  task::Clock clock;
  auto call = clock.callLater(1, [] {});
  clock.advance(1);
  BOOST_CHECK_EXCEPTION(call->cancel(), coil::error::AlreadyCalled,
                        [](const auto& e) { return mentions(e, "already-called"); });
  BOOST_CHECK_THROW(call->reset(1), coil::error::AlreadyCalled);
  BOOST_CHECK_THROW(call->delay(1), coil::error::AlreadyCalled);
  BOOST_TEST(!call->active());
}

COIL_TEST_CASE(aRunningCallIsCalledAndInactive) {
  // `called` is set just before invocation.
  task::Clock clock;
  DelayedCallPtr self;
  bool activeInside = true, calledInside = false, threw = false;
  self = clock.callLater(1, [&] {
    activeInside = self->active();
    calledInside = coil::DelayedCall::from(self)->called();
    try {
      self->cancel();
    } catch (const coil::error::AlreadyCalled&) {
      threw = true;
    }
  });
  clock.advance(1);
  BOOST_TEST(!activeInside);
  BOOST_TEST(calledInside);
  BOOST_TEST(threw);
}

COIL_TEST_CASE(aCallCanCancelALaterCallOfTheSameAdvance) {
  task::Clock clock;
  std::vector<int> events;
  DelayedCallPtr second;
  clock.callLater(1, [&] {
    events.push_back(1);
    second->cancel();
  });
  second = clock.callLater(1, [&] { events.push_back(2); });
  clock.callLater(1, [&] { events.push_back(3); });
  clock.advance(1);
  BOOST_TEST(events == (std::vector<int>{1, 3}));
}

COIL_TEST_CASE(anExceptionInACallIsLoggedAndTheOthersStillRun) {
  coil::test::LogCapture capture;
  task::Clock clock;
  std::vector<int> events;
  clock.callLater(1, [&] { events.push_back(1); });
  clock.callLater(1, [] { throw std::runtime_error("boom in a timed call"); });
  clock.callLater(1, [] { throw 42; });
  clock.callLater(2, [&] { events.push_back(2); });
  BOOST_CHECK_NO_THROW(clock.advance(2));
  BOOST_TEST(events == (std::vector<int>{1, 2}));
  BOOST_TEST(capture.count("boom in a timed call") == 1u);
  BOOST_REQUIRE(capture.entries.size() == 2u);
  for (const auto& e : capture.entries) {
    BOOST_TEST((e.level == coil::log::Level::error));
    BOOST_TEST(e.system == "coil.task");
    BOOST_TEST(!e.failure.empty());
  }
  BOOST_TEST(capture.entries[0].failure.find("runtime_error") != std::string::npos);
}

COIL_TEST_CASE(negativeOrNanDelayIsRejected) {
  task::Clock clock;
  BOOST_CHECK_EXCEPTION(clock.callLater(-1, [] {}), std::invalid_argument, [](const auto& e) {
    return mentions(e, "callLater") && mentions(e, "-1");
  });
  BOOST_CHECK_EXCEPTION(clock.callLater(std::nan(""), [] {}), std::invalid_argument,
                        [](const auto& e) { return mentions(e, "nan"); });
  BOOST_CHECK_THROW(clock.callLater(-kInf, [] {}), std::invalid_argument);
  BOOST_CHECK_THROW(clock.callLater(1, std::function<void()>()), std::invalid_argument);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(negativeOrNanAdvanceIsRejected) {
  task::Clock clock;
  clock.advance(1);
  BOOST_CHECK_EXCEPTION(clock.advance(-0.5), std::invalid_argument,
                        [](const auto& e) { return mentions(e, "-0.5"); });
  BOOST_CHECK_THROW(clock.advance(std::nan("")), std::invalid_argument);
  BOOST_TEST(clock.seconds() == 1.0);
}

COIL_TEST_CASE(aCallAtTwoToThe128SecondsDoesNotBreakAdvance) {
  task::Clock clock;
  const double huge = std::ldexp(1.0, 128);
  std::vector<int> events;
  auto far = clock.callLater(huge, [&] { events.push_back(0); });
  clock.callLater(1, [&] { events.push_back(1); });
  clock.advance(1);
  clock.advance(1e6);
  BOOST_TEST(events == std::vector<int>{1});
  BOOST_TEST(far->active());
  BOOST_TEST(far->getTime() == 1.0 + huge);
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  clock.advance(huge);
  BOOST_TEST(events == (std::vector<int>{1, 0}));
}

COIL_TEST_CASE(anInfiniteDelayNeverRunsOnAFiniteAdvance) {
  task::Clock clock;
  bool ran = false;
  auto call = clock.callLater(kInf, [&] { ran = true; });
  clock.advance(std::numeric_limits<double>::max());
  BOOST_TEST(!ran);
  BOOST_TEST(call->active());
  call->cancel();
}

COIL_TEST_CASE(callLaterBindsArguments) {
  task::Clock clock;
  std::vector<int> got;
  auto add = [&got](int a, int b) { got.push_back(a + b); };
  int x = 2;
  clock.callLater(1, add, x, 3);
  x = 100;  // bound by copy at callLater time
  clock.advance(1);
  BOOST_TEST(got == std::vector<int>{5});
}

COIL_TEST_CASE(aCallReleasesItsCapturesOnceRunOrCancelled) {
  task::Clock clock;
  auto a = std::make_shared<int>(1);
  auto b = std::make_shared<int>(2);
  std::weak_ptr<int> wa = a, wb = b;
  auto ca = clock.callLater(1, [a] {});
  auto cb = clock.callLater(1, [b] {});
  a.reset();
  b.reset();
  cb->cancel();
  BOOST_TEST(wb.expired());
  BOOST_TEST(!wa.expired());
  clock.advance(1);
  BOOST_TEST(wa.expired());
}

COIL_TEST_CASE(destroyingTheClockDeactivatesItsCalls) {
  DelayedCallPtr call;
  {
    task::Clock clock;
    call = clock.callLater(1, [] {});
  }
  BOOST_TEST(!call->active());
  if (call->active()) call->cancel();  // Twisted's idiom stays safe
}

COIL_TEST_CASE(nestedAdvanceInsideACall) {
  task::Clock clock;
  TimeLog log{clock, {}};
  clock.callLater(1, [&] {
    log.entries.push_back({"outer", clock.seconds()});
    clock.advance(1);
  });
  clock.callLater(1.5, log.log("inner"));
  clock.callLater(3, log.log("after"));
  clock.advance(1);
  BOOST_TEST(clock.seconds() == 2.0);
  BOOST_TEST(log.entries == (Entries{{"outer", 1.0}, {"inner", 2.0}}));
  clock.advance(1);
  BOOST_TEST(log.entries.back() == (Stamp{"after", 3.0}));
}

COIL_TEST_CASE(manyTimersWithEverySecondCancelledFireInOrderAndNeverEarly) {
  task::Clock clock;
  std::mt19937 rng(2024);
  std::uniform_real_distribution<double> delay(0.0, 100.0);
  const int n = 20000;
  std::vector<DelayedCallPtr> calls;
  std::vector<double> due;    // getTime() of each call that ran, in run order
  std::vector<double> ranAt;  // clock time when it ran
  for (int i = 0; i < n; ++i) {
    double d = delay(rng);
    calls.push_back(clock.callLater(d, [&clock, &due, &ranAt, d] {
      due.push_back(d);
      ranAt.push_back(clock.seconds());
    }));
  }
  for (int i = 0; i < n; i += 2) calls[i]->cancel();
  BOOST_TEST(clock.getDelayedCalls().size() == static_cast<std::size_t>(n / 2));
  for (int step = 0; step < 1010; ++step) clock.advance(0.1);
  BOOST_TEST(due.size() == static_cast<std::size_t>(n / 2));
  BOOST_TEST(std::is_sorted(due.begin(), due.end()));
  bool early = false;
  for (std::size_t i = 0; i < due.size(); ++i) early |= ranAt[i] < due[i];
  BOOST_TEST(!early);
  // Each ran in the first advance that reached its time (no call is held back).
  bool late = false;
  for (std::size_t i = 0; i < due.size(); ++i) late |= ranAt[i] - due[i] > 0.1 + 1e-9;
  BOOST_TEST(!late);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

BOOST_AUTO_TEST_SUITE_END()
