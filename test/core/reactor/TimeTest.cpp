// Timed calls on the real loop (spec §1.3, §1.4): ordering, passes, cancel/reset, huge delays,
// timeout() clamping, exceptions. Ported from Twisted's test_base and test_internet TimeTests.
// Tests: core/ReactorBase.cpp
#include <coil/core/DelayedCall.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/ReactorBase.hpp>

#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using coil::DelayedCallPtr;
using coil::ReactorBase;
using coil::test::LogCapture;
using coil::test::runReactor;
namespace error = coil::error;

namespace {

using Order = std::vector<std::string>;

/// Reaches ReactorBase::timeout() (protected) through a pointer to member named in a subclass.
struct TimeoutAccess : ReactorBase {
  static std::optional<double> timeoutOf(ReactorBase& reactor) {
    return (reactor.*(&TimeoutAccess::timeout))();
  }
};

#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif

double elapsedSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ReactorTime, coil::test::ReactorTest)

COIL_TEST_CASE(secondsIsMonotonic) {
  double last = reactor->seconds();
  for (int i = 0; i < 100000; ++i) {
    double now = reactor->seconds();
    BOOST_REQUIRE(now >= last);
    last = now;
  }
}

COIL_TEST_CASE(callsNeverRunEarly) {
  struct Record {
    double scheduledAt, delay, getTime, ranAt;
  };
  std::vector<Record> records;
  for (double delay : {0.03, 0.0, 0.01, 0.02, 0.001, 0.015}) {
    double at = reactor->seconds();
    auto call = std::make_shared<DelayedCallPtr>();
    *call = reactor->callLater(delay, [&, at, delay, call] {
      records.push_back({at, delay, (*call)->getTime(), reactor->seconds()});
      if (records.size() == 6) reactor->stop();
    });
  }
  runReactor(*reactor);
  BOOST_REQUIRE(records.size() == 6u);
  for (const Record& r : records) {
    BOOST_TEST(r.ranAt >= r.getTime);
    BOOST_TEST(r.ranAt - r.scheduledAt >= r.delay - 1e-9);
  }
  for (std::size_t i = 1; i < records.size(); ++i)
    BOOST_TEST(records[i].getTime >= records[i - 1].getTime);  // ran in time order
}

COIL_TEST_CASE(equalTimesRunInSchedulingOrder) {
  // 1e300 absorbs the current time, so delay(-1e300) puts every call at exactly 0: equal
  // times, ordered by when they were (re)scheduled.
  Order order;
  std::vector<DelayedCallPtr> calls;
  for (const char* name : {"a", "b", "c", "d"})
    calls.push_back(reactor->callLater(1e300, [&, name] { order.push_back(name); }));
  for (int i : {1, 3, 0, 2}) calls[i]->delay(-1e300);
  for (const auto& call : calls) BOOST_TEST(call->getTime() == 0.0);
  reactor->iterate();
  BOOST_TEST(order == (Order{"b", "d", "a", "c"}));
}

COIL_TEST_CASE(callsScheduledTogetherRunFifo) {
  std::vector<int> order;
  reactor->callWhenRunning([&] {
    for (int i = 0; i < 100; ++i) reactor->callLater(0, [&, i] { order.push_back(i); });
    reactor->callLater(0, [&] { reactor->stop(); });
  });
  runReactor(*reactor);
  BOOST_REQUIRE(order.size() == 100u);
  for (int i = 0; i < 100; ++i) BOOST_TEST(order[i] == i);
}

COIL_TEST_CASE(callLaterZeroFromATimedCallRunsOnTheNextPass) {
  Order order;
  reactor->callLater(0, [&] {
    order.push_back("outer");
    reactor->callLater(0, [&] { order.push_back("inner"); });
  });
  reactor->iterate();
  BOOST_TEST(order == (Order{"outer"}));
  reactor->iterate();
  BOOST_TEST(order == (Order{"outer", "inner"}));
}

COIL_TEST_CASE(callLaterFromAThreadCallRunsInTheSamePass) {
  Order order;
  reactor->callFromThread([&] {
    order.push_back("thread call");
    reactor->callLater(0, [&] { order.push_back("timed"); });
  });
  reactor->iterate();
  BOOST_TEST(order == (Order{"thread call", "timed"}));
}

COIL_TEST_CASE(cancelledCallNeverRuns) {
  bool ran = false;
  DelayedCallPtr call = reactor->callLater(0, [&] { ran = true; });
  BOOST_TEST(call->active());
  call->cancel();
  BOOST_TEST(!call->active());
  BOOST_CHECK_THROW(call->cancel(), error::AlreadyCancelled);
  BOOST_CHECK_THROW(call->reset(1), error::AlreadyCancelled);
  reactor->iterate();
  BOOST_TEST(!ran);
  BOOST_TEST(reactor->getDelayedCalls().empty());
}

COIL_TEST_CASE(calledCallCannotBeCancelledOrReset) {
  DelayedCallPtr call = reactor->callLater(0, [] {});
  reactor->iterate();
  BOOST_TEST(!call->active());
  BOOST_CHECK_THROW(call->cancel(), error::AlreadyCalled);
  BOOST_CHECK_THROW(call->reset(0), error::AlreadyCalled);
  BOOST_CHECK_THROW(call->delay(1), error::AlreadyCalled);
}

COIL_TEST_CASE(resetAndDelayMoveCallsOnTheLoop) {
  Order order;
  DelayedCallPtr late = reactor->callLater(100, [&] { order.push_back("reset earlier"); });
  DelayedCallPtr early = reactor->callLater(0, [&] { order.push_back("delayed"); });
  reactor->callLater(0.005, [&] { order.push_back("fixed"); });
  late->reset(0.001);
  early->delay(0.01);
  BOOST_TEST(early->getTime() > late->getTime());
  reactor->callLater(0.02, [&] { reactor->stop(); });
  runReactor(*reactor);
  BOOST_TEST(order == (Order{"reset earlier", "fixed", "delayed"}));
}

COIL_TEST_CASE(getDelayedCallsListsPendingCalls) {
  auto a = reactor->callLater(10, [] {});
  auto b = reactor->callLater(20, [] {});
  auto c = reactor->callLater(30, [] {});
  BOOST_TEST(reactor->getDelayedCalls().size() == 3u);
  b->cancel();
  auto pending = reactor->getDelayedCalls();
  BOOST_TEST(pending.size() == 2u);
  for (const auto& call : pending) BOOST_TEST((call == a || call == c));
  BOOST_TEST(a->getTime() <= reactor->seconds() + 10);
  BOOST_TEST(a->getTime() >= reactor->seconds() + 9);
  a->cancel();
  c->cancel();
  BOOST_TEST(reactor->getDelayedCalls().empty());
}

COIL_TEST_CASE(invalidDelaysAreRejected) {
  BOOST_CHECK_THROW(reactor->callLater(-1, [] {}), std::invalid_argument);
  BOOST_CHECK_THROW(reactor->callLater(std::nan(""), [] {}), std::invalid_argument);
  BOOST_CHECK_THROW(reactor->callLater(1, std::function<void()>()), std::invalid_argument);
  BOOST_TEST(reactor->getDelayedCalls().empty());
}

COIL_TEST_CASE(callLaterBindsArguments) {
  int sum = 0;
  reactor->callLater(
      0, [&](int a, int b) { sum = a + b; }, 2, 40);
  reactor->iterate();
  BOOST_TEST(sum == 42);
}

COIL_TEST_CASE(aMillionPendingCallsScheduleAndCancelQuickly) {
  // ThreadSanitizer slows allocation-heavy code ~20x: a quarter of the calls there.
  constexpr int kCalls = kThreadSanitizer ? 250000 : 1000000;
  auto start = std::chrono::steady_clock::now();
  std::vector<DelayedCallPtr> calls;
  calls.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) calls.push_back(reactor->callLater(1000 + i * 1e-3, [] {}));
  BOOST_TEST(reactor->getDelayedCalls().size() == std::size_t(kCalls));
  for (auto& call : calls) call->cancel();
  BOOST_TEST(reactor->getDelayedCalls().empty());
  bool ran = false;
  reactor->callLater(0, [&] { ran = true; });
  reactor->iterate();
  BOOST_TEST(ran);
  BOOST_TEST(!TimeoutAccess::timeoutOf(*reactor).has_value());
  BOOST_TEST(elapsedSince(start) < 15.0);
}

COIL_TEST_CASE(aCallAtTwoToThe128SecondsDoesNotBreakTheLoop) {
  DelayedCallPtr huge = reactor->callLater(std::ldexp(1.0, 128), [] {});
  DelayedCallPtr forever = reactor->callLater(std::numeric_limits<double>::infinity(), [] {});
  int ticks = 0;
  reactor->callLater(0.001, [&] { ++ticks; });
  reactor->callLater(0.002, [&] {
    ++ticks;
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(ticks == 2);
  BOOST_TEST(huge->active());
  BOOST_TEST(forever->active());
  huge->cancel();
  forever->cancel();
}

COIL_TEST_CASE(timeoutIsClampedAndNulloptWhenIdle) {
  BOOST_TEST(!TimeoutAccess::timeoutOf(*reactor).has_value());

  DelayedCallPtr huge = reactor->callLater(std::ldexp(1.0, 128), [] {});
  BOOST_TEST(TimeoutAccess::timeoutOf(*reactor).value() == 2147483.0);

  DelayedCallPtr ten = reactor->callLater(10, [] {});
  double t = TimeoutAccess::timeoutOf(*reactor).value();
  BOOST_TEST(t > 0.0);
  BOOST_TEST(t <= 10.0);

  DelayedCallPtr past = reactor->callLater(0, [] {});
  past->delay(-100);  // due long ago
  BOOST_TEST(TimeoutAccess::timeoutOf(*reactor).value() == 0.0);
  past->cancel();

  // A pending thread call means "do not wait".
  bool ran = false;
  reactor->callFromThread([&] { ran = true; });
  BOOST_TEST(TimeoutAccess::timeoutOf(*reactor).value() == 0.0);
  reactor->iterate();
  BOOST_TEST(ran);
  BOOST_TEST(TimeoutAccess::timeoutOf(*reactor).value() > 0.0);

  huge->cancel();
  ten->cancel();
  BOOST_TEST(!TimeoutAccess::timeoutOf(*reactor).has_value());
}

COIL_TEST_CASE(exceptionInATimedCallIsLoggedAndTheLoopContinues) {
  LogCapture logs;
  Order order;
  reactor->callLater(0, [] { throw std::runtime_error("timed call failed"); });
  reactor->callLater(0, [&] { order.push_back("same pass"); });
  reactor->callLater(0.005, [&] {
    order.push_back("later pass");
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(order == (Order{"same pass", "later pass"}));
  BOOST_TEST(logs.count("Unhandled error in a delayed call") == 1u);
  BOOST_TEST(logs.count("timed call failed") == 1u);
}

COIL_TEST_CASE(nonStandardExceptionIsLoggedToo) {
  LogCapture logs;
  reactor->callLater(0, [] { throw 42; });
  reactor->callLater(0.001, [&] { reactor->stop(); });
  runReactor(*reactor);
  BOOST_TEST(logs.count("Unhandled error in a delayed call") == 1u);
}

COIL_TEST_CASE(callCancelledByAnEarlierCallOfTheSamePassDoesNotRun) {
  Order order;
  DelayedCallPtr second;
  reactor->callLater(0, [&] {
    order.push_back("first");
    second->cancel();
  });
  second = reactor->callLater(0, [&] { order.push_back("second"); });
  reactor->iterate();
  BOOST_TEST(order == (Order{"first"}));
}

BOOST_AUTO_TEST_SUITE_END()
