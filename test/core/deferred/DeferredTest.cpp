// Tests for coil::Deferred chain semantics (ports of Twisted's test_defer.DeferredTests and more).
#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/Result.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/Testing.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using coil::AlreadyCalledError;
using coil::Deferred;
using coil::DeferredTypeError;
using coil::Failure;
using coil::Result;
using coil::test::assertNoResult;
using coil::test::failureResultOf;
using coil::test::LogCapture;
using coil::test::successResultOf;

namespace {

struct GenericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Strings = std::vector<std::string>;

/// The address of this function's frame: equal values mean equal stack depth of the caller.
[[gnu::noinline]] std::uintptr_t frameAddress() {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

/// Counts live instances, to prove values are neither leaked nor destroyed twice.
struct Counted {
  static inline int live = 0;
  int v;
  explicit Counted(int value) : v(value) { ++live; }
  Counted(const Counted& o) : v(o.v) { ++live; }
  Counted(Counted&& o) noexcept : v(o.v) { ++live; }
  Counted& operator=(const Counted&) = default;
  ~Counted() { --live; }
};

}  // namespace

// ---- callbacks and errbacks -------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(DeferredCallbacks)

COIL_TEST_CASE(callbackReceivesTheValue) {
  Deferred<std::string> d;
  std::optional<std::string> seen;
  bool errbackRan = false;
  d.addCallbacks([&](std::string s) { seen = s; }, [&](Failure) { errbackRan = true; });
  BOOST_TEST(!seen);
  d.callback("hello");
  BOOST_TEST(*seen == "hello");
  BOOST_TEST(!errbackRan);
  BOOST_TEST(d.called());
}

COIL_TEST_CASE(twoCallbacksRunInOrderEachSeeingThePreviousResult) {
  Deferred<std::string> d;
  Strings log;
  auto last = d.addCallback([&](std::string s) {
                 log.push_back("first " + s);
                 return s + "!";
               }).addCallback([&](std::string s) {
    log.push_back("second " + s);
    return s.size();
  });
  d.callback("hello");
  BOOST_TEST(log == (Strings{"first hello", "second hello!"}), boost::test_tools::per_element());
  BOOST_TEST(successResultOf(last) == 6u);
}

COIL_TEST_CASE(missingErrbackPassesTheFailureThrough) {
  // test_addCallbacksNoneErrback: a callback-only step is skipped by a failure.
  Deferred<int> d;
  bool callbackRan = false;
  auto next = d.addCallback([&](int v) {
    callbackRan = true;
    return v;
  });
  Failure error(GenericError("oopsie"));
  d.errback(error);
  Failure seen = failureResultOf<GenericError>(next);
  BOOST_TEST(!callbackRan);
  BOOST_TEST((seen.exception() == error.exception()));  // the very same exception object
}

COIL_TEST_CASE(missingCallbackPassesTheValueThrough) {
  Deferred<int> d;
  bool errbackRan = false;
  auto next = d.addErrback([&](Failure) {
    errbackRan = true;
    return -1;
  });
  d.callback(5);
  BOOST_TEST(successResultOf(next) == 5);
  BOOST_TEST(!errbackRan);
}

COIL_TEST_CASE(addBothSeesSuccessAndFailure) {
  Strings log;
  auto record = [&](Result<int> r) {
    log.push_back(r.ok() ? "ok " + std::to_string(r.value())
                         : "failed " + r.failure().getErrorMessage());
    return r;
  };
  Deferred<int> good;
  auto g = good.addBoth(record);
  good.callback(3);
  Deferred<int> bad;
  auto b = bad.addBoth(record);
  bad.errback(GenericError("no"));
  BOOST_TEST(log == (Strings{"ok 3", "failed no"}), boost::test_tools::per_element());
  BOOST_TEST(successResultOf(g) == 3);
  failureResultOf<GenericError>(b);
}

COIL_TEST_CASE(throwingCallbackSwitchesToErrbacks) {
  // testCallbackErrors, first half.
  Deferred<int> d;
  bool skipped = true;
  std::optional<std::string> caught;
  d.addCallback([](int) -> int { throw std::domain_error("division by zero"); })
      .addCallback([&](int v) {
        skipped = false;
        return v;
      })
      .addErrback([&](Failure f) {
        BOOST_TEST(f.check<std::domain_error>().has_value());
        caught = f.getErrorMessage();
        return 0;
      });
  d.callback(1);
  BOOST_TEST(skipped);
  BOOST_TEST(*caught == "division by zero");
}

COIL_TEST_CASE(callbackReturningAFailureResultSwitchesToErrbacks) {
  // testCallbackErrors second half, test_callbackMaybeReturnsFailure.
  bool shouldFail = false;
  Failure rte(std::runtime_error("rte"));
  auto maybeFail = [&](int v) -> Result<int> {
    if (shouldFail) return rte;
    return v + 1;
  };
  Deferred<int> d;
  d.callback(6);
  BOOST_TEST(successResultOf(d.addCallback(maybeFail)) == 7);

  shouldFail = true;
  Deferred<int> d2;
  d2.callback(6);
  Failure f = failureResultOf<std::runtime_error>(d2.addCallback(maybeFail).addCallback(maybeFail));
  BOOST_TEST((f.exception() == rte.exception()));
}

COIL_TEST_CASE(errbackRecoveringSwitchesBackToCallbacks) {
  Deferred<int> d;
  auto next = d.addErrback([](Failure f) {
                 f.trap<GenericError>();
                 return 42;
               }).addCallback([](int v) { return v + 1; });
  d.errback(GenericError("recoverable"));
  BOOST_TEST(successResultOf(next) == 43);
}

COIL_TEST_CASE(errbackReturningAFailureStaysOnTheErrbackPath) {
  Deferred<int> d;
  bool callbackRan = false;
  Failure replacement(std::logic_error("replaced"));
  auto next = d.addErrback([&](Failure) { return replacement; }).addCallback([&](int v) {
    callbackRan = true;
    return v;
  });
  d.errback(GenericError("original"));
  Failure f = failureResultOf<std::logic_error>(next);
  BOOST_TEST((f.exception() == replacement.exception()));
  BOOST_TEST(!callbackRan);
}

COIL_TEST_CASE(errbackRethrowingKeepsTheOriginalException) {
  Deferred<int> d;
  Failure original(coil::error::ConnectionLost("gone"));
  auto next = d.addErrback([](Failure f) -> int {
                 f.trap<coil::error::ConnectionDone>();  // no match: rethrows the original
                 return 0;
               }).addErrback([](Failure f) -> int { f.raise(); });
  d.errback(original);
  Failure f = failureResultOf<coil::error::ConnectionLost>(next);
  BOOST_TEST((f.exception() == original.exception()));
}

COIL_TEST_CASE(addCallbacksRunsExactlyOneSideOfAPosition) {
  // A callback's exception goes to the *next* errback, not the one beside it.
  int besideErrback = 0;
  Deferred<int> d;
  auto next = d.addCallbacks([](int) -> int { throw GenericError("cb"); },
                             [&](Failure) {
                               ++besideErrback;
                               return 0;
                             });
  d.callback(1);
  failureResultOf<GenericError>(next);
  BOOST_TEST(besideErrback == 0);

  // An errback's recovery goes to the next callback, not the one beside it.
  int besideCallback = 0;
  Deferred<int> e;
  auto recovered = e.addCallbacks(
      [&](int v) {
        ++besideCallback;
        return v;
      },
      [](Failure) { return 9; });
  e.errback(GenericError("eb"));
  BOOST_TEST(successResultOf(recovered) == 9);
  BOOST_TEST(besideCallback == 0);
}

COIL_TEST_CASE(chainChangesTypeAlongTheWay) {
  Deferred<int> d;
  Deferred<std::string> asText = d.addCallback([](int v) { return std::to_string(v); });
  Deferred<std::string> guarded = asText.addErrback([](Failure) { return std::string("none"); });
  Deferred<std::size_t> length = guarded.addCallback([](const std::string& s) { return s.size(); });
  Deferred<void> done = length.addCallback([](std::size_t) {});
  Deferred<bool> flag = done.addCallback([] { return true; });
  d.callback(12345);
  BOOST_TEST(successResultOf(flag));
}

COIL_TEST_CASE(staleTypedViewIsRejected) {
  Deferred<int> d;
  auto text = d.addCallback([](int v) { return std::to_string(v); });
  BOOST_CHECK_THROW(d.addCallback([](int v) { return v; }), DeferredTypeError);
  BOOST_CHECK_THROW(d.addErrback([](Failure f) -> int { f.raise(); }), DeferredTypeError);
  BOOST_CHECK_THROW(d.addBoth([](Result<int> r) { return r; }), DeferredTypeError);
  d.callback(5);  // the rejected steps were not added
  BOOST_TEST(successResultOf(text) == "5");
}

COIL_TEST_CASE(callbackThroughAViewOfAnotherTypeIsRejected) {
  Deferred<int> d;
  auto text = d.addCallback([](int v) { return std::to_string(v); });
  BOOST_CHECK_THROW(text.callback("x"), DeferredTypeError);
  BOOST_TEST(!d.called());
  // A later view of the input type may fire the chain: it is the same chain.
  auto sameType = text.addCallback([](const std::string& s) { return static_cast<int>(s.size()); });
  sameType.callback(7);
  BOOST_TEST(successResultOf(sameType) == 1);  // "7" has one character
  BOOST_CHECK_THROW(d.callback(1), AlreadyCalledError);
}

COIL_TEST_CASE(addingToAFiredDeferredRunsAtOnce) {
  // testImmediateSuccess
  Deferred<std::string> d = coil::succeed(std::string("success"));
  std::optional<std::string> seen;
  d.addCallback([&](std::string s) { seen = s; });
  BOOST_TEST(*seen == "success");
}

COIL_TEST_CASE(succeedMatchesAManualCallback) {
  Deferred<int> manual;
  manual.callback(3);
  Deferred<int> helper = coil::succeed(3);
  BOOST_TEST(manual.called() == helper.called());
  BOOST_TEST(manual.hasResult() == helper.hasResult());
  BOOST_TEST(manual.paused() == helper.paused());
  BOOST_TEST(successResultOf(manual) == successResultOf(helper));
  BOOST_TEST(!(manual == helper));
}

COIL_TEST_CASE(failHelperGivesAFailedDeferred) {
  // testImmediateFailure
  Deferred<void> d = coil::fail(GenericError("fail"));
  BOOST_TEST(d.called());
  Failure f = failureResultOf<GenericError>(d);
  BOOST_TEST(f.getErrorMessage() == "fail");
  Failure given(std::logic_error("given"));
  Deferred<int> typed = coil::fail<int>(given);
  BOOST_TEST((failureResultOf(typed).exception() == given.exception()));
}

COIL_TEST_CASE(pausedFailureWaitsForUnpause) {
  // testPausedFailure
  Deferred<void> d = coil::fail(GenericError("fail"));
  d.pause();
  std::optional<std::string> seen;
  d.addErrback([&](Failure f) { seen = f.getErrorMessage(); });
  BOOST_TEST(!seen);
  BOOST_TEST(!d.hasResult());
  d.unpause();
  BOOST_TEST(*seen == "fail");
}

COIL_TEST_CASE(unpauseBeforeCallbackRunsNothing) {
  // testUnpauseBeforeCallback
  Deferred<int> d;
  d.pause();
  int calls = 0;
  d.addCallback([&](int) { ++calls; });
  d.unpause();
  BOOST_TEST(calls == 0);
  BOOST_TEST(!d.paused());
  d.callback(1);
  BOOST_TEST(calls == 1);
}

COIL_TEST_CASE(pauseIsCounted) {
  Deferred<int> d;
  int calls = 0;
  d.addCallback([&](int) { ++calls; });
  d.pause();
  d.pause();
  d.callback(1);
  BOOST_TEST(d.paused());
  d.unpause();
  BOOST_TEST(calls == 0);
  BOOST_TEST(d.paused());
  d.unpause();
  BOOST_TEST(calls == 1);
  BOOST_TEST(!d.paused());
  d.unpause();  // an unmatched unpause is harmless
  BOOST_TEST(!d.paused());
  d.pause();  // and does not leave credit behind
  BOOST_TEST(d.paused());
  d.unpause();
}

COIL_TEST_CASE(callbacksAddedWhilePausedRunInOrderOnUnpause) {
  Deferred<int> d;
  d.callback(1);
  d.pause();
  Strings log;
  auto a = d.addCallback([&](int v) {
    log.push_back("a");
    return v + 1;
  });
  auto b = a.addCallback([&](int v) {
    log.push_back("b");
    return v * 10;
  });
  BOOST_TEST(log.empty());
  d.unpause();
  BOOST_TEST(log == (Strings{"a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(successResultOf(b) == 20);
}

COIL_TEST_CASE(callbackAddedByARunningCallbackGoesToTheEnd) {
  // test_reentrantRunCallbacks
  Deferred<void> d;
  std::vector<int> called;
  d.addCallback([&] {
     called.push_back(1);
     d.addCallback([&] { called.push_back(3); });
   }).addCallback([&] { called.push_back(2); });
  // The view the first callback adds through is `d`, typed void; the chain stays void.
  d.callback();
  BOOST_TEST(called == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
}

COIL_TEST_CASE(callbackAddedByARunningCallbackRunsOnlyAfterItReturns) {
  // test_nonReentrantCallbacks
  Deferred<void> d;
  std::vector<int> called;
  d.addCallback([&] {
    called.push_back(1);
    d.addCallback([&] { called.push_back(2); });
    BOOST_TEST(called == std::vector<int>{1}, boost::test_tools::per_element());
    BOOST_TEST(!d.hasResult());  // running: a step added now does not run at once
  });
  d.callback();
  BOOST_TEST(called == (std::vector<int>{1, 2}), boost::test_tools::per_element());
}

COIL_TEST_CASE(exceptionFromACallbackAddedByACallbackReachesTheNextErrback) {
  // test_reentrantRunCallbacksWithFailure
  Deferred<void> d;
  d.addCallback(
      [&] { d.addCallback([]() { throw std::runtime_error("callback raised exception"); }); });
  d.callback();
  Failure f = failureResultOf<std::runtime_error>(d);
  BOOST_TEST(f.getErrorMessage() == "callback raised exception");
}

COIL_TEST_CASE(callbackTwiceRaisesAlreadyCalled) {
  Deferred<std::string> d;
  d.addCallbacks([](std::string) {}, [](Failure) {});
  d.callback("hello");
  BOOST_CHECK_THROW(d.callback("twice"), AlreadyCalledError);
}

COIL_TEST_CASE(errbackAfterCallbackRaisesAlreadyCalled) {
  Deferred<std::string> d;
  d.addCallbacks([](std::string) {}, [](Failure) {});
  d.callback("hello");
  BOOST_CHECK_THROW(d.errback(std::runtime_error("late")), AlreadyCalledError);
}

COIL_TEST_CASE(errbackTwiceRaisesAlreadyCalled) {
  Deferred<std::string> d;
  d.addCallbacks([](std::string) {}, [](Failure) {});
  d.errback(std::runtime_error("first"));
  BOOST_CHECK_THROW(d.errback(std::runtime_error("second")), AlreadyCalledError);
}

COIL_TEST_CASE(callbackAfterErrbackRaisesAlreadyCalled) {
  Deferred<std::string> d;
  d.addCallbacks([](std::string) {}, [](Failure) {});
  d.errback(std::runtime_error("first"));
  BOOST_CHECK_THROW(d.callback("late"), AlreadyCalledError);
}

COIL_TEST_CASE(callbackFromInsideItsOwnChainRaisesAlreadyCalled) {
  Deferred<int> d;
  bool raised = false;
  d.addCallback([&](int) {
    try {
      d.callback(2);
    } catch (const AlreadyCalledError&) {
      raised = true;
    }
  });
  d.callback(1);
  BOOST_TEST(raised);
}

COIL_TEST_CASE(errbackWithoutArgumentsUsesTheCurrentException) {
  // test_errbackWithNoArgs
  Deferred<void> d;
  const void* thrown = nullptr;
  try {
    throw GenericError("Bang");
  } catch (const GenericError& e) {
    thrown = &e;
    d.errback();
  }
  Failure f = failureResultOf<GenericError>(d);
  BOOST_TEST(f.value<GenericError>() == thrown);
  BOOST_TEST(f.getErrorMessage() == "Bang");
}

COIL_TEST_CASE(errbackWithABaseReferenceKeepsTheDynamicType) {
  Deferred<void> d;
  try {
    throw coil::error::ConnectionDone();
  } catch (const std::exception& e) {
    d.errback(e);  // would slice to std::exception if copied
  }
  Failure f = failureResultOf<coil::error::ConnectionDone>(d);
  BOOST_TEST(f.getErrorMessage() == "Connection was closed cleanly.");
}

COIL_TEST_CASE(copiesShareOneChain) {
  Deferred<int> d;
  Deferred<int> copy = d;
  BOOST_TEST((copy == d));
  int seen = 0;
  copy.addCallback([&](int v) { seen = v; });
  d.callback(4);
  BOOST_TEST(seen == 4);
  BOOST_TEST(copy.called());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Deferreds returned from callbacks --------------------------------------------------------

BOOST_AUTO_TEST_SUITE(DeferredChaining)

COIL_TEST_CASE(callbackReturningAnUnfiredDeferredPausesTheChain) {
  // test_callbackReturnsDeferred
  Deferred<int> d1;
  Deferred<int> d2;
  d2.pause();
  std::optional<int> seen;
  d1.addCallback([d2](int) { return d2; }).addCallback([&](int v) { seen = v; });
  d1.callback(1);
  BOOST_TEST(!seen);
  BOOST_TEST(d1.paused());
  d2.callback(2);
  BOOST_TEST(!seen);
  d2.unpause();
  BOOST_REQUIRE(seen.has_value());
  BOOST_TEST(*seen == 2);
  BOOST_TEST(!d1.paused());
}

COIL_TEST_CASE(errbackReturningADeferredPausesTheChain) {
  // test_errbackReturnsDeferred
  Deferred<std::string> d;
  Deferred<std::string> d2;
  Strings values;
  d.addErrback([d2](Failure) { return d2; }).addCallback([&](std::string s) {
    values.push_back(s);
  });
  d.errback(std::invalid_argument("bad"));
  assertNoResult(d);
  BOOST_TEST(values.empty());
  d2.callback("result");
  BOOST_TEST(values == Strings{"result"}, boost::test_tools::per_element());
}

COIL_TEST_CASE(returningAPausedDeferredWithAResultWaitsForItsUnpause) {
  // test_chainedPausedDeferredWithResult
  Deferred<int> paused;
  paused.callback(42);
  paused.pause();
  Deferred<void> chained;
  auto next = chained.addCallback([paused] { return paused; });
  chained.callback();
  std::vector<int> result;
  next.addCallback([&](int v) { result.push_back(v); });
  BOOST_TEST(result.empty());
  paused.unpause();
  BOOST_TEST(result == std::vector<int>{42}, boost::test_tools::per_element());
}

COIL_TEST_CASE(pausedWaiterDoesNotStopTheInnerChain) {
  // test_pausedDeferredChained
  Deferred<void> first;
  Deferred<void> second;
  first.addCallback([second] { return second; });
  first.callback();
  first.pause();
  second.callback();
  bool ran = false;
  second.addCallback([&] { ran = true; });
  BOOST_TEST(ran);
  BOOST_TEST(first.paused());
  BOOST_TEST(!first.hasResult());
  first.unpause();
  BOOST_TEST(first.hasResult());
}

COIL_TEST_CASE(unpauseDoesNotReleaseTheWaitOnAnInnerDeferred) {
  // The chain's own pause while waiting is not the user's: a stray unpause() must neither run
  // the next callback without a result nor upset the count when the inner Deferred fires.
  Deferred<int> outer;
  Deferred<int> inner;
  std::vector<int> seen;
  outer.addCallback([inner](int) { return inner; }).addCallback([&](int v) { seen.push_back(v); });
  outer.callback(0);
  outer.unpause();
  BOOST_TEST(seen.empty());
  BOOST_TEST(outer.paused());
  inner.callback(5);
  BOOST_TEST(seen == std::vector<int>{5}, boost::test_tools::per_element());
  BOOST_TEST(!outer.paused());
  BOOST_TEST(outer.hasResult());
}

COIL_TEST_CASE(innerCallbacksPreserved) {
  // test_innerCallbacksPreserved / test_nestedAsynchronousChainedDeferreds
  Strings results;
  int failures = 0;
  Deferred<std::string> inner;
  auto cb = [&](std::string result) {
    results.push_back("start-of-cb " + result);
    Deferred<std::string> d = coil::succeed(std::string("inner"));
    return d
        .addCallback([&](std::string) {
          results.push_back("firstCallback inner");
          return inner;
        })
        .addCallback([&](std::string r) {
          results.push_back("secondCallback " + r);
          return r + r;
        })
        .addErrback([&](Failure) {
          ++failures;
          return std::string();
        });
  };
  Deferred<std::string> outer = coil::succeed(std::string("outer"));
  auto next = outer.addCallback(cb);
  BOOST_TEST(results == (Strings{"start-of-cb outer", "firstCallback inner"}),
             boost::test_tools::per_element());
  inner.callback("orange");
  next.addCallback([&](std::string r) { results.push_back(r); });
  BOOST_TEST(failures == 0);
  BOOST_TEST(results == (Strings{"start-of-cb outer", "firstCallback inner",
                                 "secondCallback orange", "orangeorange"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(nestedChainWithExtraCallbacksOnTheInnerDeferred) {
  // test_nestedAsynchronousChainedDeferredsWithExtraCallbacks
  Strings results;
  Deferred<std::string> inner;
  auto cb = [&](std::string result) {
    results.push_back("start-of-cb " + result);
    Deferred<std::string> d = coil::succeed(std::string("inner"));
    return d
        .addCallback([&](std::string r) {
          results.push_back("firstCallback " + r);
          return inner.addCallback([](std::string s) { return Strings{s}; });
        })
        .addCallback([&](Strings r) {
          results.push_back("secondCallback " + r.at(0));
          r.push_back(r.at(0));
          return r;
        });
  };
  Deferred<std::string> outer = coil::succeed(std::string("outer"));
  auto next = outer.addCallback(cb).addCallback(
      [&](Strings r) { results.push_back(r.at(0) + "," + r.at(1)); });
  BOOST_TEST(results == (Strings{"start-of-cb outer", "firstCallback inner"}),
             boost::test_tools::per_element());
  inner.callback("withers");
  BOOST_TEST(results == (Strings{"start-of-cb outer", "firstCallback inner",
                                 "secondCallback withers", "withers,withers"}),
             boost::test_tools::per_element());
  successResultOf(next);
}

COIL_TEST_CASE(callbackOrderPreservedAcrossAWait) {
  // test_callbackOrderPreserved: a callback added after one that returned a Deferred runs after
  // that Deferred's own callbacks.
  Strings results;
  Deferred<std::string> a;
  auto cb = [&](std::string result) {
    results.push_back("cb " + result);
    Deferred<void> d;
    auto returner =
        d.addCallback([&] {
           results.push_back("firstCallback");
           return a.addCallback([](std::string s) { return Strings{s}; });
         }).addCallback([&](Strings r) { results.push_back("secondCallback " + r.at(0)); });
    d.callback();
    return returner;
  };
  Deferred<std::string> outer;
  outer.addCallback(cb).addCallback([&] { results.push_back("final"); });
  outer.callback("outer");
  BOOST_TEST(results == (Strings{"cb outer", "firstCallback"}), boost::test_tools::per_element());
  a.callback("withers");
  BOOST_TEST(results == (Strings{"cb outer", "firstCallback", "secondCallback withers", "final"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(returningAFiredDeferredTakesItsResultAndLeavesItVoid) {
  // test_synchronousImplicitChain: the returned Deferred's result moves over; its own chain then
  // carries void (Twisted's None), so its old typed view is stale.
  Deferred<int> first = coil::succeed(7);
  Deferred<void> second;
  auto next = second.addCallback([first] { return first; });
  second.callback();
  BOOST_TEST(successResultOf(next) == 7);
  BOOST_TEST(first.hasResult());
  BOOST_CHECK_THROW(first.addCallback([](int v) { return v; }), DeferredTypeError);
}

COIL_TEST_CASE(returningAnUnfiredDeferredTakesItsResultWhenItFires) {
  // test_asynchronousImplicitChain
  Deferred<int> first;
  Deferred<void> second;
  auto next = second.addCallback([first] { return first; });
  second.callback();
  std::vector<int> secondResult;
  next.addCallback([&](int v) { secondResult.push_back(v); });
  BOOST_TEST(secondResult.empty());
  BOOST_TEST(!first.hasResult());
  first.callback(11);
  BOOST_TEST(secondResult == std::vector<int>{11}, boost::test_tools::per_element());
  BOOST_TEST(first.hasResult());
  BOOST_CHECK_THROW(first.addCallback([](int v) { return v; }), DeferredTypeError);
}

COIL_TEST_CASE(returningAFailedDeferredTakesItsFailure) {
  // test_synchronousImplicitErrorChain
  LogCapture capture;
  {
    Deferred<void> first = coil::fail(std::runtime_error("First Deferred's Failure"));
    Deferred<void> second;
    second.addCallback([first] { return first; });
    second.callback();
    bool firstRan = false;
    first.addCallback([&] { firstRan = true; });  // first now carries void, not the failure
    BOOST_TEST(firstRan);
    failureResultOf<std::runtime_error>(second);
  }
  BOOST_TEST(capture.count("Unhandled error") == 0u);
}

COIL_TEST_CASE(returningALaterFailingDeferredTakesItsFailure) {
  // test_asynchronousImplicitErrorChain
  LogCapture capture;
  {
    Deferred<void> first;
    Deferred<void> second;
    second.addCallback([first] { return first; });
    second.callback();
    std::vector<Failure> secondError;
    second.addErrback([&](Failure f) { secondError.push_back(f); });
    int firstResult = 0;
    first.addCallback([&] { ++firstResult; });  // runs after the continuation: sees void
    int secondResult = 0;
    second.addCallback([&] { ++secondResult; });
    BOOST_TEST(firstResult == 0);
    first.errback(std::runtime_error("First Deferred's Failure"));
    BOOST_REQUIRE_EQUAL(secondError.size(), 1u);
    BOOST_TEST(secondError[0].check<std::runtime_error>().has_value());
    BOOST_TEST(firstResult == 1);
    BOOST_TEST(secondResult == 1);
  }
  BOOST_TEST(capture.count("Unhandled error") == 0u);
}

COIL_TEST_CASE(chainingIsTransitive) {
  // test_doubleAsynchronousImplicitChaining
  Deferred<int> first;
  Deferred<void> second;
  auto secondNext = second.addCallback([first] { return first; });
  Deferred<void> third;
  auto thirdNext = third.addCallback([secondNext] { return secondNext; });
  std::vector<int> thirdResult;
  thirdNext.addCallback([&](int v) { thirdResult.push_back(v); });
  second.callback();
  third.callback();
  BOOST_TEST(thirdResult.empty());
  first.callback(99);
  BOOST_TEST(thirdResult == std::vector<int>{99}, boost::test_tools::per_element());
}

COIL_TEST_CASE(callbacksOnTheMiddleDeferredRunAfterTheLastFires) {
  // test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled
  Deferred<void> first;
  Deferred<void> second;
  Deferred<void> third;
  first.addCallback([second] { return second; });
  second.addCallback([third] { return third; });
  second.callback();
  first.callback();
  third.callback();
  int results = 0;
  second.addCallback([&] { ++results; });
  BOOST_TEST(results == 1);
  BOOST_TEST(first.hasResult());
}

COIL_TEST_CASE(returningTheSameDeferredFailsTheChain) {
  // test_circularChainException: Twisted warns (and hangs); coil fails the step.
  Deferred<int> d;
  auto next = d.addCallback([&d](int) { return d; });
  d.callback(1);
  failureResultOf<DeferredTypeError>(next);
}

COIL_TEST_CASE(returningAStaleViewFailsTheStep) {
  // The returned view's type no longer matches its chain: taking its value would be a type
  // confusion, so the step fails with DeferredTypeError instead.
  Deferred<int> inner;
  auto innerText = inner.addCallback([](int v) { return std::to_string(v); });
  Deferred<void> outer;
  auto next = outer.addCallback([inner] { return inner; });
  outer.callback();
  failureResultOf<DeferredTypeError>(next);
  inner.callback(3);  // the inner chain is unaffected
  BOOST_TEST(successResultOf(innerText) == "3");
}

COIL_TEST_CASE(chainDeferredPassesTheResultOn) {
  Deferred<int> a;
  Deferred<int> b;
  std::optional<int> seen;
  a.addCallback([&](int v) { seen = v; });
  Deferred<void> rest = b.chainDeferred(a);
  b.callback(5);
  BOOST_TEST(*seen == 5);
  successResultOf(rest);  // b's chain carries nothing after chainDeferred
}

COIL_TEST_CASE(chainDeferredPassesTheFailureOnAndOnlyTheTargetLogsIt) {
  LogCapture capture;
  {
    Deferred<int> a;
    Deferred<int> b;
    b.chainDeferred(a);
    b.errback(GenericError("chained"));
    failureResultOf<GenericError>(a);
  }
  BOOST_TEST(capture.count("Unhandled error") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- depth: stack and destruction -------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(DeferredDepth)

namespace {

enum class FireOrder { topFirst, deepestFirst, lastFirst };

/// Twisted's test_boundedStackDepth: top -> inners[0] -> ... -> inners[n-1] -> last, each
/// callback returning the next Deferred. Fires them in `order` and returns the frame address at
/// which a callback on top runs.
std::uintptr_t chainDepth(std::size_t howMany, FireOrder order) {
  std::vector<std::uintptr_t> stack;
  Deferred<void> top;
  std::vector<Deferred<void>> inners(howMany);
  Deferred<void> last;
  top.addCallback([d = inners[0]] { return d; }).addCallback([&] {
    stack.push_back(frameAddress());
  });
  for (std::size_t i = 0; i + 1 < howMany; ++i) {
    inners[i].addCallback([d = inners[i + 1]] { return d; });
  }
  inners[howMany - 1].addCallback([last] { return last; });
  switch (order) {
    case FireOrder::topFirst:
      top.callback();
      for (auto& d : inners) d.callback();
      break;
    case FireOrder::deepestFirst:
      for (auto it = inners.rbegin(); it != inners.rend(); ++it) it->callback();
      top.callback();
      break;
    case FireOrder::lastFirst:
      last.callback();
      for (auto it = inners.rbegin(); it != inners.rend(); ++it) it->callback();
      top.callback();
      BOOST_REQUIRE_EQUAL(stack.size(), 1u);
      return stack[0];
  }
  BOOST_TEST(stack.empty());
  last.callback();
  BOOST_REQUIRE_EQUAL(stack.size(), 1u);
  std::size_t fired = 0;
  for (auto& d : inners) fired += d.hasResult() ? 1 : 0;
  BOOST_TEST(fired == howMany);
  return stack[0];
}

}  // namespace

COIL_TEST_CASE(boundedStackDepthFiringTopFirst) {
  BOOST_TEST(chainDepth(1, FireOrder::topFirst) == chainDepth(100000, FireOrder::topFirst));
}

COIL_TEST_CASE(boundedStackDepthFiringDeepestFirst) {
  BOOST_TEST(chainDepth(1, FireOrder::deepestFirst) == chainDepth(100000, FireOrder::deepestFirst));
}

COIL_TEST_CASE(boundedStackDepthWhenEveryReturnedDeferredHasFired) {
  BOOST_TEST(chainDepth(1, FireOrder::lastFirst) == chainDepth(100000, FireOrder::lastFirst));
}

COIL_TEST_CASE(droppingALongWaitingChainDoesNotRecurse) {
  // Each Deferred waits on the next, which holds it through its continuation: releasing the
  // innermost releases all 100,000. A probe in the innermost's and in the outermost's pending
  // callbacks records the stack depth at which each is destroyed: it must be the same.
  struct Probe {
    std::vector<std::uintptr_t>* depths;
    explicit Probe(std::vector<std::uintptr_t>* d) : depths(d) {}
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
    ~Probe() { depths->push_back(frameAddress()); }
  };
  std::vector<std::uintptr_t> depths;
  auto outerProbe = std::make_shared<Probe>(&depths);
  auto innerProbe = std::make_shared<Probe>(&depths);
  {
    std::vector<Deferred<void>> ds(100000);
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) {
      ds[i].addCallback([next = ds[i + 1]] { return next; });
    }
    ds[0].addCallback([outerProbe] {});  // runs only once the whole chain has fired
    ds.back().addCallback([innerProbe] {});
    outerProbe.reset();
    innerProbe.reset();
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) ds[i].callback();
    BOOST_TEST(depths.empty());
  }  // the innermost, unfired, goes last and takes the whole chain with it
  BOOST_REQUIRE_EQUAL(depths.size(), 2u);
  BOOST_TEST(depths[0] == depths[1]);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- value types -------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(DeferredValues)

COIL_TEST_CASE(moveOnlyValuesFlowThroughCallbacksAndAddBoth) {
  Deferred<std::unique_ptr<int>> d;
  auto next = d.addCallback([](std::unique_ptr<int> p) {
                 *p += 1;
                 return p;
               })
                  .addBoth([](Result<std::unique_ptr<int>> r) { return r; })
                  .addCallback([](std::unique_ptr<int> p) { return *p; });
  d.callback(std::make_unique<int>(41));
  BOOST_TEST(successResultOf(next) == 42);
}

COIL_TEST_CASE(moveOnlyValuesFlowThroughReturnedDeferredsAndErrbacks) {
  Deferred<void> outer;
  Deferred<std::unique_ptr<int>> inner;
  auto next = outer.addCallback([inner] { return inner; })
                  .addCallback([](std::unique_ptr<int>) -> std::unique_ptr<int> {
                    throw GenericError("drop it");
                  })
                  .addErrback([](Failure) { return std::make_unique<int>(7); });
  outer.callback();
  inner.callback(std::make_unique<int>(5));
  std::unique_ptr<int> p = successResultOf(next);
  BOOST_TEST(*p == 7);
}

COIL_TEST_CASE(deferredVoid) {
  Deferred<void> d;
  int calls = 0;
  auto next = d.addCallback([&] { ++calls; })
                  .addBoth([&](Result<void> r) {
                    BOOST_TEST(r.ok());
                    ++calls;
                    return r;
                  })
                  .addCallback([&] { return calls; });
  d.callback();
  BOOST_TEST(successResultOf(next) == 2);
  BOOST_CHECK_THROW(d.callback(), AlreadyCalledError);

  Deferred<void> failed;
  auto recovered = failed.addErrback([](Failure f) { f.trap<GenericError>(); });
  failed.errback(GenericError("void failure"));
  successResultOf(recovered);
}

COIL_TEST_CASE(largeAndThrowingMoveValuesAreStored) {
  // Values over the inline size, or without a nothrow move, live on the heap; they must still
  // arrive intact.
  struct ThrowingMove {
    std::string s;
    explicit ThrowingMove(std::string v) : s(std::move(v)) {}
    ThrowingMove(const ThrowingMove&) = default;
    ThrowingMove(ThrowingMove&& o) noexcept(false) : s(std::move(o.s)) {}
  };
  Deferred<std::array<int, 64>> big;
  auto sum = big.addCallback([](const std::array<int, 64>& a) {
    int total = 0;
    for (int v : a) total += v;
    return total;
  });
  std::array<int, 64> values{};
  for (int i = 0; i < 64; ++i) values[static_cast<std::size_t>(i)] = i;
  big.callback(values);
  BOOST_TEST(successResultOf(sum) == 2016);

  Deferred<ThrowingMove> odd;
  auto text = odd.addCallback([](ThrowingMove m) { return m.s; });
  odd.callback(ThrowingMove("kept"));
  BOOST_TEST(successResultOf(text) == "kept");
}

COIL_TEST_CASE(valuesAreDestroyedExactlyOnce) {
  Counted::live = 0;
  {
    Deferred<Counted> a;
    Deferred<Counted> inner;
    auto end =
        a.addCallback([](Counted c) { return Counted(c.v + 1); })
            .addCallback([inner](const Counted&) { return inner; })
            .addBoth([](Result<Counted> r) { return r; })
            .addCallback([](Counted c) -> Counted { throw GenericError(std::to_string(c.v)); })
            .addErrback([](Failure) { return Counted(100); });
    a.callback(Counted(1));
    inner.callback(Counted(50));
    Deferred<Counted> unfired;  // never fired: holds nothing
    Deferred<Counted> dropped;
    dropped.callback(Counted(3));  // fired, never consumed
    BOOST_TEST(successResultOf(end).v == 100);
  }
  BOOST_TEST(Counted::live == 0);
}

COIL_TEST_CASE(callbackMayTakeTheValueByReference) {
  Deferred<std::string> d;
  auto next = d.addCallback([](std::string& s) {
    s += " world";
    return s;  // a copy: the slot is reused only after the result is built
  });
  d.callback("hello");
  BOOST_TEST(successResultOf(next) == "hello world");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- succeed / fail / maybeDeferred -----------------------------------------------------------

BOOST_AUTO_TEST_SUITE(DeferredHelpers)

COIL_TEST_CASE(maybeDeferredWrapsASynchronousValue) {
  // test_maybeDeferredSync, test_maybeDeferredSyncWithArgs
  Deferred<int> d = coil::maybeDeferred([](int x) { return x + 5; }, 10);
  BOOST_TEST(successResultOf(d) == 15);
}

COIL_TEST_CASE(maybeDeferredWrapsAVoidFunction) {
  bool ran = false;
  Deferred<void> d = coil::maybeDeferred([&] { ran = true; });
  BOOST_TEST(ran);
  successResultOf(d);
}

COIL_TEST_CASE(maybeDeferredCatchesAnException) {
  // test_maybeDeferredSyncException
  Deferred<int> d = coil::maybeDeferred(
      []() -> int { throw std::invalid_argument("that value is unacceptable"); });
  Failure f = failureResultOf<std::invalid_argument>(d);
  BOOST_TEST(f.getErrorMessage() == "that value is unacceptable");
}

COIL_TEST_CASE(maybeDeferredUnpacksAResult) {
  // test_maybeDeferredSyncFailure: a returned failure becomes fail().
  Failure expected(std::domain_error("10 + 5"));
  Deferred<int> bad = coil::maybeDeferred([&]() -> Result<int> { return expected; });
  BOOST_TEST((failureResultOf(bad).exception() == expected.exception()));
  Deferred<int> good = coil::maybeDeferred([]() -> Result<int> { return 3; });
  BOOST_TEST(successResultOf(good) == 3);
  Deferred<void> none = coil::maybeDeferred([]() { return Result<void>(); });
  successResultOf(none);
}

COIL_TEST_CASE(maybeDeferredPassesADeferredThrough) {
  // test_maybeDeferredAsync, test_maybeDeferredAsyncError
  Deferred<std::string> d1;
  Deferred<std::string> d2 = coil::maybeDeferred([d1] { return d1; });
  BOOST_TEST((d1 == d2));
  d1.callback("Success");
  BOOST_TEST(successResultOf(d2) == "Success");

  Deferred<void> e1;
  Deferred<void> e2 = coil::maybeDeferred([e1] { return e1; });
  e1.errback(std::runtime_error("async"));
  failureResultOf<std::runtime_error>(e2);
}

COIL_TEST_CASE(maybeDeferredCatchesAnExceptionFromADeferredFunction) {
  Deferred<int> d = coil::maybeDeferred([]() -> Deferred<int> { throw GenericError("before"); });
  failureResultOf<GenericError>(d);
}

COIL_TEST_CASE(succeedVoidAndStrings) {
  Deferred<void> v = coil::succeed();
  BOOST_TEST(v.hasResult());
  successResultOf(v);
  Deferred<std::string> s = coil::succeed(std::string("text"));
  BOOST_TEST(successResultOf(s) == "text");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- "Unhandled error in Deferred" ------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(DeferredUnhandledError)

COIL_TEST_CASE(loggedWithTypeAndMessageWhenTheLastHandleGoes) {
  LogCapture capture;
  {
    Deferred<int> d;
    Deferred<int> copy = d;
    d.errback(GenericError("kaboom"));
    { Deferred<int> moved = std::move(d); }
    BOOST_TEST(capture.entries.empty());  // `copy` still refers to the chain
  }
  BOOST_REQUIRE_EQUAL(capture.entries.size(), 1u);
  const auto& e = capture.entries[0];
  BOOST_TEST(e.level == coil::log::Level::error);
  BOOST_TEST(e.system == "coil.deferred");
  BOOST_TEST(e.message == "Unhandled error in Deferred:");
  BOOST_TEST(e.failure.find("GenericError: kaboom") != std::string::npos);
}

COIL_TEST_CASE(loggedForAFailureRaisedInACallback) {
  // test_errorLog
  LogCapture capture;
  {
    Deferred<int> d;
    d.addCallback([](int) -> int { throw std::domain_error("division by zero"); });
    d.callback(1);
  }
  BOOST_REQUIRE_EQUAL(capture.entries.size(), 1u);
  BOOST_TEST(capture.entries[0].failure == "std::domain_error: division by zero");
}

COIL_TEST_CASE(notLoggedWhenTheFailureWasHandled) {
  LogCapture capture;
  {
    Deferred<int> d;
    d.addErrback([](Failure) { return 0; });
    d.errback(GenericError("handled"));
    Deferred<void> e = coil::fail(GenericError("handled too"));
    e.addBoth([](Result<void>) {});
  }
  BOOST_TEST(capture.entries.empty());
}

COIL_TEST_CASE(notLoggedForAFailureTakenFromAReturnedDeferred) {
  // test_chainedErrorCleanup: the inner Deferred's failure moves to the outer one.
  LogCapture capture;
  {
    Deferred<void> d;
    d.addCallback([] { return coil::fail(std::runtime_error("zoop")); });
    d.callback();
    std::vector<Failure> errors;
    d.addErrback([&](Failure f) { errors.push_back(f); });
    BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  }
  BOOST_TEST(capture.entries.empty());
}

COIL_TEST_CASE(notLoggedWhenAnErrbackChainsToAnotherDeferred) {
  // test_errorClearedByChaining
  LogCapture capture;
  {
    Deferred<void> bad = coil::fail(std::runtime_error("oh no"));
    Deferred<void> good;
    bad.addErrback([good](Failure) { return good; });
  }
  BOOST_TEST(capture.entries.empty());
}

COIL_TEST_CASE(loggedOnceWhenTheWaitingDeferredDoesNotHandleIt) {
  LogCapture capture;
  {
    Deferred<void> outer;
    Deferred<void> inner;
    outer.addCallback([inner] { return inner; });
    outer.callback();
    inner.errback(GenericError("passed on"));
  }
  BOOST_REQUIRE_EQUAL(capture.entries.size(), 1u);
  BOOST_TEST(capture.count("passed on") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Result -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(ResultValue)

COIL_TEST_CASE(successGivesItsValue) {
  Result<int> ok(3);
  BOOST_TEST(ok.ok());
  BOOST_TEST(static_cast<bool>(ok));
  BOOST_TEST(ok.value() == 3);
  const Result<int>& constRef = ok;
  BOOST_TEST(constRef.value() == 3);
  ok.value() = 4;
  BOOST_TEST(std::move(ok).value() == 4);
  Result<void> v;
  BOOST_TEST(v.ok());
  BOOST_CHECK_NO_THROW(v.value());
}

COIL_TEST_CASE(failureRaisesFromValue) {
  Failure f(GenericError("bad"));
  Result<int> bad(f);
  BOOST_TEST(!bad.ok());
  BOOST_TEST(!static_cast<bool>(bad));
  BOOST_TEST((bad.failure().exception() == f.exception()));
  BOOST_CHECK_THROW(bad.value(), GenericError);
  const Result<int>& constRef = bad;
  BOOST_CHECK_THROW(constRef.value(), GenericError);
  BOOST_CHECK_THROW(std::move(bad).value(), GenericError);
  Result<void> voidBad(f);
  BOOST_TEST(!voidBad.ok());
  BOOST_CHECK_THROW(voidBad.value(), GenericError);
}

BOOST_AUTO_TEST_SUITE_END()
