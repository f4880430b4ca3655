// deferLater behaviour, ported from Twisted's test_task.DeferLaterTests, plus chaining and
// cancellation details.
// Tests: core/task/DeferLater.hpp
#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/task/Clock.hpp>
#include <coil/core/task/DeferLater.hpp>
#include <test/support/Testing.hpp>

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
  TestException() : std::runtime_error("test exception") {}
};

/// What a Deferred<T> delivered, observed through addBoth.
template <class T>
struct Outcome {
  bool fired = false;
  std::optional<T> value;
  std::optional<Failure> failure;
};

template <class T>
std::shared_ptr<Outcome<T>> watch(Deferred<T> d) {
  auto out = std::make_shared<Outcome<T>>();
  // addCallbacks rather than addBoth: GCC 12 -O2 warns (maybe-uninitialized) on a moved
  // Result<std::string> inside Deferred's BothStep.
  d.addCallbacks(
      [out](T v) {
        out->fired = true;
        out->value = std::move(v);
      },
      [out](Failure f) {
        out->fired = true;
        out->failure = std::move(f);
      });
  return out;
}

std::shared_ptr<Outcome<bool>> watch(Deferred<void> d) {
  auto out = std::make_shared<Outcome<bool>>();
  d.addBoth([out](Result<void> r) {
    out->fired = true;
    if (r.ok()) {
      out->value = true;
    } else {
      out->failure = r.failure();
    }
  });
  return out;
}

template <class E>
bool isA(const Failure& f) {
  return f.value<E>() != nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DeferLaterTests)

COIL_TEST_CASE(callback) {
  // test_callback: called after the delay with its arguments; fires with its result.
  Clock clock;
  std::vector<std::pair<std::string, int>> calls;
  auto d = task::deferLater(
      clock, 3,
      [&](const std::string& foo, int bar) {
        calls.emplace_back(foo, bar);
        return std::string("flag");
      },
      "foo", 42);
  static_assert(std::is_same_v<decltype(d), Deferred<std::string>>);
  auto out = watch(d);
  clock.advance(2);
  BOOST_TEST(calls.empty());
  BOOST_TEST(!out->fired);
  clock.advance(1);
  BOOST_REQUIRE(calls.size() == 1u);
  BOOST_TEST(calls[0].first == "foo");
  BOOST_TEST(calls[0].second == 42);
  BOOST_TEST((out->value == std::string("flag")));
}

COIL_TEST_CASE(argumentsAreCopiedAtCallTime) {
  Clock clock;
  std::string arg = "before";
  auto d = task::deferLater(
      clock, 1, [](const std::string& s) { return s; }, arg);
  arg = "after";
  auto out = watch(d);
  clock.advance(1);
  BOOST_TEST((out->value == std::string("before")));
}

COIL_TEST_CASE(errback) {
  // test_errback: an exception from the callable fails the Deferred.
  Clock clock;
  auto out = watch(task::deferLater(clock, 1, []() -> int { throw TestException(); }));
  clock.advance(1);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<TestException>(*out->failure));
}

COIL_TEST_CASE(cancel) {
  // test_cancel: the call never happens, no call is left, CancelledError.
  Clock clock;
  bool called = false;
  auto d = task::deferLater(clock, 1, [&] { called = true; });
  auto out = watch(d);
  d.cancel();
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<coil::CancelledError>(*out->failure));
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(2);
  BOOST_TEST(!called);
}

COIL_TEST_CASE(noCallback) {
  // test_noCallback: without a callable it fires with nothing (None).
  Clock clock;
  auto d = task::deferLater(clock, 2.0);
  static_assert(std::is_same_v<decltype(d), Deferred<void>>);
  auto out = watch(d);
  BOOST_TEST(!out->fired);
  clock.advance(1.9);
  BOOST_TEST(!out->fired);
  clock.advance(0.1);
  BOOST_TEST((out->value == true));
}

COIL_TEST_CASE(cancelWithoutCallback) {
  Clock clock;
  auto d = task::deferLater(clock, 2.0);
  auto out = watch(d);
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  d.cancel();
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<coil::CancelledError>(*out->failure));
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(deferredResultIsChained) {
  // A callable returning Deferred<U> makes a Deferred<U> that fires when that one does.
  Clock clock;
  Deferred<int> inner;
  auto d = task::deferLater(clock, 1, [&] { return inner; });
  static_assert(std::is_same_v<decltype(d), Deferred<int>>);
  auto out = watch(d);
  clock.advance(1);
  BOOST_TEST(!out->fired);
  inner.callback(5);
  BOOST_TEST((out->value == 5));
}

COIL_TEST_CASE(cancelWhileChainedDeferredPendingCancelsIt) {
  Clock clock;
  bool innerCancelled = false;
  Deferred<int> inner([&](Deferred<int>&) { innerCancelled = true; });
  auto d = task::deferLater(clock, 1, [&] { return inner; });
  auto out = watch(d);
  clock.advance(1);
  d.cancel();
  BOOST_TEST(innerCancelled);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<coil::CancelledError>(*out->failure));
}

COIL_TEST_CASE(cancelAfterFiringDoesNothing) {
  Clock clock;
  auto d = task::deferLater(clock, 1, [] { return 3; });
  clock.advance(1);
  d.cancel();
  auto out = watch(d);
  BOOST_TEST((out->value == 3));
}

COIL_TEST_CASE(failedResultFails) {
  Clock clock;
  auto d = task::deferLater(clock, 0, []() -> Result<int> { return Failure(TestException()); });
  static_assert(std::is_same_v<decltype(d), Deferred<int>>);
  auto out = watch(d);
  BOOST_TEST(!out->fired);  // not even a zero delay runs inside deferLater()
  clock.advance(0);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<TestException>(*out->failure));
}

COIL_TEST_CASE(droppedDeferredStillCalls) {
  // The clock holds the Deferred until the call runs, as the reactor does in Twisted.
  Clock clock;
  int calls = 0;
  task::deferLater(clock, 1, [&] { ++calls; });
  clock.advance(1);
  BOOST_TEST(calls == 1);
}

COIL_TEST_CASE(negativeDelayThrows) {
  Clock clock;
  BOOST_CHECK_THROW(task::deferLater(clock, -1), std::invalid_argument);
  BOOST_CHECK_THROW(task::deferLater(clock, -1, [] {}), std::invalid_argument);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(awaitableFromACoroutine) {
  Clock clock;
  std::vector<double> stamps;
  auto body = [&]() -> Deferred<int> {
    stamps.push_back(clock.seconds());
    int v = co_await task::deferLater(clock, 2, [] { return 20; });
    stamps.push_back(clock.seconds());
    co_await task::deferLater(clock, 1);
    stamps.push_back(clock.seconds());
    co_return v + 1;
  };
  auto out = watch(body());
  clock.pump({1, 1, 1});
  BOOST_TEST(stamps == (std::vector<double>{0, 2, 3}));
  BOOST_TEST((out->value == 21));
}

BOOST_AUTO_TEST_SUITE_END()
