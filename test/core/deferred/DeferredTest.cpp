// Tests for coil::Deferred chain semantics (ports of Twisted's test_defer.DeferredTests and more).
#include "DeferredTestSupport.hpp"

#include <array>
#include <memory>
#include <optional>
#include <utility>

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
