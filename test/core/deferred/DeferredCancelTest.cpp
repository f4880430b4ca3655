// Tests for Deferred::cancel() and addTimeout() (Twisted's canceller and addTimeout tests).
#include "DeferredTestSupport.hpp"

#include <coil/core/task/Clock.hpp>

#include <memory>
#include <optional>

using coil::CancelledError;
using coil::task::Clock;

namespace {

/// What the callbacks of DeferredCancellerTests record.
struct Recorder {
  std::optional<std::string> callbackResult;
  std::optional<Failure> errbackResult;
  int cancellerCalls = 0;

  /// Adds the recording callback/errback pair to `d`.
  void watch(Deferred<std::string>& d) {
    d.addCallbacks([this](std::string s) { callbackResult = s; },
                   [this](Failure f) { errbackResult = f; });
  }
  void watch(Deferred<void>& d) {
    d.addCallbacks([this] { callbackResult = "<void>"; }, [this](Failure f) { errbackResult = f; });
  }
  template <class E>
  bool erredWith() const {
    return errbackResult && errbackResult->check<E>().has_value();
  }
};

/// _overrideFunc of Twisted's tests: any result becomes "OVERRIDDEN".
Result<std::string> overrideFunc(Result<std::string>, double) {
  return std::string("OVERRIDDEN");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DeferredCancel)

COIL_TEST_CASE(noCancellerErrbacksWithCancelledError) {
  Recorder r;
  Deferred<void> d;
  r.watch(d);
  d.cancel();
  BOOST_TEST(r.erredWith<CancelledError>());
  BOOST_TEST(!r.callbackResult);
}

COIL_TEST_CASE(noCancellerSwallowsOneLaterCallback) {
  // test_raisesAfterCancelAndCallback
  Recorder r;
  Deferred<void> d;
  r.watch(d);
  d.cancel();
  d.callback();  // swallowed
  BOOST_TEST(!r.callbackResult);
  BOOST_CHECK_THROW(d.callback(), AlreadyCalledError);
  BOOST_CHECK_THROW(d.errback(std::runtime_error("late")), AlreadyCalledError);
}

COIL_TEST_CASE(noCancellerSwallowsOneLaterErrback) {
  // test_raisesAfterCancelAndErrback
  Recorder r;
  Deferred<void> d;
  r.watch(d);
  d.cancel();
  d.errback(std::runtime_error("swallowed"));
  BOOST_TEST(r.erredWith<CancelledError>());
  BOOST_CHECK_THROW(d.callback(), AlreadyCalledError);
  BOOST_CHECK_THROW(d.errback(std::runtime_error("late")), AlreadyCalledError);
}

COIL_TEST_CASE(noCancellerCancelAfterCancelAndCallbackDoesNothing) {
  // test_noCancellerMultipleCancelsAfterCancelAndCallback
  Recorder r;
  Deferred<void> d;
  r.watch(d);
  d.cancel();
  Failure current = *r.errbackResult;
  d.callback();
  d.cancel();
  BOOST_TEST((r.errbackResult->exception() == current.exception()));
}

COIL_TEST_CASE(noCancellerCancelAfterCancelAndErrbackDoesNothing) {
  // test_noCancellerMultipleCancelsAfterCancelAndErrback
  Recorder r;
  Deferred<void> d;
  r.watch(d);
  d.cancel();
  BOOST_TEST(r.erredWith<CancelledError>());
  Failure current = *r.errbackResult;
  d.errback(GenericError());
  BOOST_TEST(r.erredWith<CancelledError>());
  d.cancel();
  BOOST_TEST((r.errbackResult->exception() == current.exception()));
}

COIL_TEST_CASE(noCancellerRepeatedCancelIsHarmless) {
  // test_noCancellerMultipleCancel
  Recorder r;
  Deferred<void> d;
  r.watch(d);
  d.cancel();
  Failure current = *r.errbackResult;
  d.cancel();
  d.cancel();
  BOOST_TEST((r.errbackResult->exception() == current.exception()));
}

COIL_TEST_CASE(cancellerIsCalledOnceForRepeatedCancels) {
  // test_cancellerMultipleCancel
  Recorder r;
  Deferred<void> d([&](Deferred<void>&) { ++r.cancellerCalls; });
  r.watch(d);
  d.cancel();
  BOOST_TEST(r.erredWith<CancelledError>());
  Failure current = *r.errbackResult;
  d.cancel();
  BOOST_TEST((r.errbackResult->exception() == current.exception()));
  BOOST_TEST(r.cancellerCalls == 1);
}

COIL_TEST_CASE(cancellerThatDoesNotFireLeadsToCancelledErrorAndNoSwallowing) {
  // test_simpleCanceller
  Recorder r;
  Deferred<void> d([&](Deferred<void>&) { ++r.cancellerCalls; });
  r.watch(d);
  d.cancel();
  BOOST_TEST(r.cancellerCalls == 1);
  BOOST_TEST(r.erredWith<CancelledError>());
  BOOST_CHECK_THROW(d.callback(), AlreadyCalledError);
  BOOST_CHECK_THROW(d.errback(std::runtime_error("late")), AlreadyCalledError);
}

COIL_TEST_CASE(cancellerReceivesTheCancelledDeferred) {
  // test_cancellerArg
  std::optional<Deferred<void>> given;
  Deferred<void> d([&](Deferred<void>& self) { given = self; });
  d.addErrback([](Failure) {});
  d.cancel();
  BOOST_REQUIRE(given.has_value());
  BOOST_TEST((*given == d));
}

COIL_TEST_CASE(cancelAfterCallbackIsANoOp) {
  // test_cancelAfterCallback
  Recorder r;
  Deferred<std::string> d([&](Deferred<std::string>& self) {
    ++r.cancellerCalls;
    self.errback(GenericError());
  });
  r.watch(d);
  d.callback("biff!");
  d.cancel();
  BOOST_TEST(r.cancellerCalls == 0);
  BOOST_TEST(!r.errbackResult);
  BOOST_TEST(*r.callbackResult == "biff!");
}

COIL_TEST_CASE(cancelAfterErrbackIsANoOp) {
  // test_cancelAfterErrback
  Recorder r;
  Deferred<void> d([&](Deferred<void>& self) {
    ++r.cancellerCalls;
    self.errback(GenericError());
  });
  r.watch(d);
  d.errback(std::logic_error("first"));
  d.cancel();
  BOOST_TEST(r.cancellerCalls == 0);
  BOOST_TEST(r.erredWith<std::logic_error>());
  BOOST_TEST(!r.callbackResult);
}

COIL_TEST_CASE(cancellerThatErrbacksDecidesTheFailure) {
  // test_cancellerThatErrbacks
  Recorder r;
  Deferred<void> d([&](Deferred<void>& self) {
    ++r.cancellerCalls;
    self.errback(GenericError());
  });
  r.watch(d);
  d.cancel();
  BOOST_TEST(r.cancellerCalls == 1);
  BOOST_TEST(r.erredWith<GenericError>());
  BOOST_TEST(!r.erredWith<CancelledError>());
}

COIL_TEST_CASE(cancellerThatCallbacksGivesASuccess) {
  // test_cancellerThatCallbacks
  Recorder r;
  Deferred<std::string> d([&](Deferred<std::string>& self) {
    ++r.cancellerCalls;
    self.callback("hello!");
  });
  r.watch(d);
  d.cancel();
  BOOST_TEST(r.cancellerCalls == 1);
  BOOST_TEST(*r.callbackResult == "hello!");
  BOOST_TEST(!r.errbackResult);
}

COIL_TEST_CASE(cancelWhileWaitingCancelsTheInnerDeferred) {
  // test_cancelNestedDeferred
  Recorder r;
  bool outerCancellerCalled = false;
  Deferred<void> b([&](Deferred<void>&) { ++r.cancellerCalls; });
  Deferred<void> a([&](Deferred<void>&) { outerCancellerCalled = true; });
  a.callback();
  a.addCallback([b] { return b; });
  a.cancel();
  r.watch(a);
  BOOST_TEST(r.cancellerCalls == 1);
  BOOST_TEST(!outerCancellerCalled);
  BOOST_TEST(r.erredWith<CancelledError>());
  BOOST_TEST(b.called());  // b's CancelledError went to a: b itself now carries void
  successResultOf(b);
}

COIL_TEST_CASE(cancelReachesAnInnerDeferredThatOnlyTheWaiterHolds) {
  // test_cancelNestedDeferred with an anonymous inner Deferred: the waiting Deferred keeps it
  // alive while the waiter itself is referenced, so cancel() can still reach its canceller.
  int innerCancels = 0;
  Deferred<void> a;
  a.addCallback([&] { return Deferred<void>([&](Deferred<void>&) { ++innerCancels; }); });
  a.callback();
  assertNoResult(a);
  a.cancel();
  BOOST_TEST(innerCancels == 1);
  failureResultOf<CancelledError>(a);
}

COIL_TEST_CASE(droppingTheWaiterFreesAnInnerDeferredThatOnlyItHolds) {
  // Once nothing but the inner Deferred refers to the waiter, nobody can cancel or fire the
  // pair: both are freed (no reference cycle is left behind).
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  LogCapture capture;
  {
    Deferred<void> a;
    a.addCallback([token] { return Deferred<void>([token](Deferred<void>&) {}); });
    token.reset();
    a.callback();
    BOOST_TEST(!watch.expired());  // the inner Deferred (and its canceller) is alive
  }
  BOOST_TEST(watch.expired());
  BOOST_TEST(capture.entries.empty());
}

COIL_TEST_CASE(cancelWhileWaitingOnAWaitingDeferredReachesTheInnermost) {
  Deferred<int> innermost;
  Deferred<void> middle;
  auto middleNext = middle.addCallback([innermost] { return innermost; });
  Deferred<void> outer;
  auto outerNext = outer.addCallback([middleNext] { return middleNext; });
  middle.callback();
  outer.callback();
  outer.cancel();
  failureResultOf<CancelledError>(outerNext);
  BOOST_TEST(innermost.called());
  innermost.callback(1);  // no canceller: its producer's one late callback is swallowed
  BOOST_CHECK_THROW(innermost.callback(1), AlreadyCalledError);
}

COIL_TEST_CASE(cancelWithAResultWhilePausedDoesNothing) {
  int cancellerCalls = 0;
  Deferred<int> d([&](Deferred<int>&) { ++cancellerCalls; });
  d.callback(5);
  d.pause();
  d.cancel();
  BOOST_TEST(cancellerCalls == 0);
  d.unpause();
  BOOST_TEST(successResultOf(d) == 5);
}

COIL_TEST_CASE(cancelFromInsideARunningCallbackDoesNothing) {
  Deferred<int> d;
  auto next = d.addCallback([&](int v) {
    d.cancel();
    return v + 1;
  });
  d.callback(1);
  BOOST_TEST(successResultOf(next) == 2);
}

/// Gives a Deferred a canceller that holds the Deferred itself (canceller -> holder -> d ->
/// canceller) and a token, lets `fire` act on it, drops it, and says whether the token was freed.
template <class Fire>
bool cancellerCycleIsFreed(Fire fire) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  {
    auto holder = std::make_shared<std::optional<Deferred<void>>>();
    Deferred<void> d([holder, token](Deferred<void>&) {});
    *holder = d;
    token.reset();
    fire(d);
  }
  return watch.expired();
}

COIL_TEST_CASE(cancellerIsReleasedOnCallback) {
  // test_canceller_circular_reference_callback: a canceller holding its own Deferred must not
  // keep it (and itself) alive once the Deferred has fired.
  BOOST_TEST(cancellerCycleIsFreed([](Deferred<void>& d) { d.callback(); }));
}

COIL_TEST_CASE(cancellerIsReleasedOnErrback) {
  // test_canceller_circular_reference_errback
  BOOST_TEST(cancellerCycleIsFreed([](Deferred<void>& d) {
    d.errback(std::runtime_error("The test demands failures."));
    failureResultOf(d);
  }));
}

COIL_TEST_CASE(cancellerIsReleasedWhenWaitingOnAnotherDeferred) {
  // test_canceller_circular_reference_non_final
  BOOST_TEST(cancellerCycleIsFreed([](Deferred<void>& d) {
    d.addCallback([] { return Deferred<void>(); });
    d.callback();
  }));
}

COIL_TEST_CASE(cancellerThatThrowsPropagatesAndLeavesTheDeferredUnfired) {
  Deferred<void> d([](Deferred<void>&) { throw std::logic_error("canceller failed"); });
  BOOST_CHECK_THROW(d.cancel(), std::logic_error);
  BOOST_TEST(!d.called());
  d.callback();  // still usable
  successResultOf(d);
}

COIL_TEST_CASE(unhandledCancellationIsLogged) {
  LogCapture capture;
  {
    Deferred<int> d;
    d.cancel();
  }
  BOOST_TEST(capture.count("Unhandled error in Deferred") == 1u);
  BOOST_TEST(capture.count("CancelledError") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- addTimeout -------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(DeferredTimeout)

COIL_TEST_CASE(timeoutIsChainable) {
  // test_timeoutChainable
  Clock clock;
  Deferred<void> d;
  auto done = d.addTimeout(5, clock).addCallback([] { return std::string("done"); });
  d.callback();
  BOOST_TEST(successResultOf(done) == "done");
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(successBeforeTimeoutCancelsTheTimer) {
  // test_successResultBeforeTimeout
  Clock clock;
  Deferred<std::string> d;
  d.addTimeout(10, clock);
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  Deferred<void> innerDeferred;
  std::optional<std::string> dCallbacked;
  d.addCallback([&](std::string results) {
    dCallbacked = results;
    return innerDeferred;
  });
  d.callback("results");
  BOOST_TEST(*dCallbacked == "results");
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(15);
  assertNoResult(innerDeferred);
  BOOST_TEST(!innerDeferred.called());
}

COIL_TEST_CASE(successBeforeTimeoutWithCustomConverter) {
  // test_successResultBeforeTimeoutCustom
  Clock clock;
  Deferred<std::string> d;
  d.addTimeout(10, clock, overrideFunc);
  Deferred<void> innerDeferred;
  std::optional<std::string> dCallbacked;
  d.addCallback([&](std::string results) {
    dCallbacked = results;
    return innerDeferred;
  });
  d.callback("results");
  BOOST_TEST(*dCallbacked == "results");
  clock.advance(15);
  assertNoResult(innerDeferred);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(failureBeforeTimeoutCancelsTheTimer) {
  // test_failureBeforeTimeout
  Clock clock;
  Deferred<void> d;
  d.addTimeout(10, clock);
  Deferred<void> innerDeferred;
  std::optional<Failure> dErrbacked;
  Failure error(std::invalid_argument("fail"));
  d.addErrback([&](Failure f) {
    dErrbacked = f;
    return innerDeferred;
  });
  d.errback(error);
  BOOST_REQUIRE(dErrbacked.has_value());
  BOOST_TEST((dErrbacked->exception() == error.exception()));
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(15);
  assertNoResult(innerDeferred);
}

COIL_TEST_CASE(failureBeforeTimeoutWithCustomConverter) {
  // test_failureBeforeTimeoutCustom
  Clock clock;
  Deferred<std::string> d;
  d.addTimeout(10, clock, overrideFunc);
  Deferred<std::string> innerDeferred;
  std::optional<Failure> dErrbacked;
  Failure error(std::invalid_argument("fail"));
  d.addErrback([&](Failure f) {
    dErrbacked = f;
    return innerDeferred;
  });
  d.errback(error);
  BOOST_REQUIRE(dErrbacked.has_value());
  BOOST_TEST((dErrbacked->exception() == error.exception()));
  clock.advance(15);
  assertNoResult(innerDeferred);
}

COIL_TEST_CASE(timedOutGivesDeferTimeoutError) {
  // test_timedOut: defer.TimeoutError, not error.TimeoutError.
  Clock clock;
  Deferred<void> d;
  d.addTimeout(10, clock);
  assertNoResult(d);
  clock.advance(9.5);
  assertNoResult(d);
  clock.advance(5.5);
  Failure f = failureResultOf<coil::TimeoutError>(d);
  BOOST_TEST(!f.check<coil::error::TimeoutError>().has_value());
  BOOST_TEST(!f.check<CancelledError>().has_value());
  BOOST_TEST(f.getErrorMessage().find("10 seconds") != std::string::npos);
}

COIL_TEST_CASE(timedOutWithCustomConverter) {
  // test_timedOutCustom
  Clock clock;
  Deferred<std::string> d;
  d.addTimeout(10, clock, overrideFunc);
  assertNoResult(d);
  clock.advance(15);
  BOOST_TEST(successResultOf(d) == "OVERRIDDEN");
}

COIL_TEST_CASE(converterReceivesTheResultAndTheTimeout) {
  Clock clock;
  Deferred<int> d;
  std::optional<double> given;
  bool sawCancelled = false;
  d.addTimeout(2.5, clock, [&](Result<int> r, double timeout) -> Result<int> {
    given = timeout;
    sawCancelled = !r.ok() && r.failure().check<CancelledError>().has_value();
    return 7;
  });
  clock.advance(2.5);
  BOOST_TEST(*given == 2.5);
  BOOST_TEST(sawCancelled);
  BOOST_TEST(successResultOf(d) == 7);
}

COIL_TEST_CASE(timedOutCancellerThatCallbacksGivesItsValue) {
  // test_timedOutProvidedCancelSuccess
  Clock clock;
  Deferred<std::string> d([](Deferred<std::string>& c) { c.callback("I was cancelled!"); });
  d.addTimeout(10, clock);
  assertNoResult(d);
  clock.advance(15);
  BOOST_TEST(successResultOf(d) == "I was cancelled!");
}

COIL_TEST_CASE(timedOutCancellerThatErrbacksGivesItsFailure) {
  // test_timedOutProvidedCancelFailure
  Clock clock;
  Failure error(std::invalid_argument("what!"));
  Deferred<void> d([error](Deferred<void>& c) { c.errback(error); });
  d.addTimeout(10, clock);
  assertNoResult(d);
  clock.advance(15);
  Failure f = failureResultOf<std::invalid_argument>(d);
  BOOST_TEST((f.exception() == error.exception()));
}

COIL_TEST_CASE(manualCancelBeforeTimeoutKeepsCancelledError) {
  // test_cancelBeforeTimeout
  Clock clock;
  Deferred<void> d;
  d.addTimeout(10, clock);
  Deferred<void> innerDeferred;
  std::optional<Failure> dCanceled;
  d.addErrback([&](Failure f) {
    dCanceled = f;
    return innerDeferred;
  });
  d.cancel();
  BOOST_REQUIRE(dCanceled.has_value());
  BOOST_TEST(dCanceled->check<CancelledError>().has_value());
  BOOST_TEST(!dCanceled->check<coil::TimeoutError>().has_value());
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(15);
  assertNoResult(innerDeferred);
}

COIL_TEST_CASE(manualCancelBeforeTimeoutSkipsTheCustomConverter) {
  // test_cancelBeforeTimeoutCustom
  Clock clock;
  Deferred<std::string> d;
  d.addTimeout(10, clock, overrideFunc);
  Deferred<std::string> innerDeferred;
  std::optional<Failure> dCanceled;
  d.addErrback([&](Failure f) {
    dCanceled = f;
    return innerDeferred;
  });
  d.cancel();
  BOOST_REQUIRE(dCanceled.has_value());
  BOOST_TEST(dCanceled->check<CancelledError>().has_value());
  clock.advance(15);
  assertNoResult(innerDeferred);
}

COIL_TEST_CASE(customConverterHandlesACancellerFailure) {
  // test_providedCancelCalledBeforeTimeoutCustom
  Clock clock;
  Deferred<std::string> d(
      [](Deferred<std::string>& c) { c.errback(std::invalid_argument("what!")); });
  d.addTimeout(10, clock, overrideFunc);
  assertNoResult(d);
  clock.advance(15);
  BOOST_TEST(successResultOf(d) == "OVERRIDDEN");
}

COIL_TEST_CASE(errbackAddedBeforeTimeoutSeesCancelledError) {
  // test_errbackAddedBeforeTimeout
  Clock clock;
  Deferred<void> d;
  std::optional<Failure> dErrbacked;
  d.addErrback([&](Failure f) {
    dErrbacked = f;
    return f;
  });
  d.addTimeout(10, clock);
  clock.advance(15);
  BOOST_REQUIRE(dErrbacked.has_value());
  BOOST_TEST(dErrbacked->check<CancelledError>().has_value());
  failureResultOf<coil::TimeoutError>(d);
}

COIL_TEST_CASE(errbackAddedBeforeTimeoutMaySuppressTheCancellation) {
  // test_errbackAddedBeforeTimeoutSuppressesCancellation
  Clock clock;
  Deferred<void> d;
  std::optional<Failure> dErrbacked;
  d.addErrback([&](Failure f) {
    dErrbacked = f;
    f.trap<CancelledError>();
  });
  d.addTimeout(10, clock);
  clock.advance(15);
  BOOST_REQUIRE(dErrbacked.has_value());
  BOOST_TEST(dErrbacked->check<CancelledError>().has_value());
  successResultOf(d);
}

COIL_TEST_CASE(errbackAddedBeforeTimeoutWithCustomConverter) {
  // test_errbackAddedBeforeTimeoutCustom
  Clock clock;
  Deferred<std::string> d;
  std::optional<Failure> dErrbacked;
  d.addErrback([&](Failure f) {
    dErrbacked = f;
    return f;
  });
  d.addTimeout(10, clock, overrideFunc);
  clock.advance(15);
  BOOST_REQUIRE(dErrbacked.has_value());
  BOOST_TEST(dErrbacked->check<CancelledError>().has_value());
  BOOST_TEST(successResultOf(d) == "OVERRIDDEN");
}

COIL_TEST_CASE(errbackAddedBeforeTimeoutSuppressingStillRunsTheCustomConverter) {
  // test_errbackAddedBeforeTimeoutSuppressesCancellationCustom
  Clock clock;
  Deferred<std::string> d;
  std::optional<Failure> dErrbacked;
  d.addErrback([&](Failure f) {
    dErrbacked = f;
    return std::string("suppressed");
  });
  d.addTimeout(10, clock, overrideFunc);
  clock.advance(15);
  BOOST_REQUIRE(dErrbacked.has_value());
  BOOST_TEST(successResultOf(d) == "OVERRIDDEN");
}

COIL_TEST_CASE(callbackAddedBeforeTimeoutRunsWhenTheCancellerCallbacks) {
  // test_callbackAddedToCancelerBeforeTimeout
  Clock clock;
  Deferred<std::string> d([](Deferred<std::string>& c) { c.callback("success"); });
  std::optional<std::string> dCallbacked;
  d.addCallback([&](std::string v) {
    dCallbacked = v;
    return v;
  });
  d.addTimeout(10, clock);
  clock.advance(15);
  BOOST_TEST(*dCallbacked == "success");
  BOOST_TEST(successResultOf(d) == "success");
}

COIL_TEST_CASE(callbackAddedBeforeTimeoutRunsAndTheCustomConverterToo) {
  // test_callbackAddedToCancelerBeforeTimeoutCustom
  Clock clock;
  Deferred<std::string> d([](Deferred<std::string>& c) { c.callback("success"); });
  std::optional<std::string> dCallbacked;
  d.addCallback([&](std::string v) {
    dCallbacked = v;
    return v;
  });
  d.addTimeout(10, clock, overrideFunc);
  clock.advance(15);
  BOOST_TEST(*dCallbacked == "success");
  BOOST_TEST(successResultOf(d) == "OVERRIDDEN");
}

COIL_TEST_CASE(timeoutWhileWaitingOnAnInnerDeferredCancelsIt) {
  Clock clock;
  Deferred<void> d;
  Deferred<int> inner;
  auto next = d.addCallback([inner] { return inner; }).addTimeout(3, clock);
  d.callback();
  clock.advance(3);
  failureResultOf<coil::TimeoutError>(next);
  BOOST_TEST(inner.called());
}

COIL_TEST_CASE(timeoutOnAnAlreadyFiredDeferredLeavesNoTimer) {
  Clock clock;
  Deferred<int> d = coil::succeed(4);
  auto next = d.addTimeout(1, clock);
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(2);
  BOOST_TEST(successResultOf(next) == 4);
}

COIL_TEST_CASE(timeoutCoversOnlyCallbacksAddedBeforeIt) {
  // A callback added after addTimeout() may take as long as it likes.
  Clock clock;
  Deferred<int> d;
  Deferred<int> slow;
  auto next = d.addTimeout(5, clock).addCallback([slow](int) { return slow; });
  d.callback(1);
  clock.advance(100);
  assertNoResult(next);
  BOOST_TEST(!slow.called());
  slow.callback(2);
  BOOST_TEST(successResultOf(next) == 2);
}

COIL_TEST_CASE(timeoutOfADroppedWaitingDeferredStillCancelsTheInner) {
  // Nothing but the inner Deferred's continuation refers to `d` once it is dropped; the timer
  // still reaches it, and through it the inner Deferred.
  Clock clock;
  Deferred<int> inner;  // kept by its producer (the test)
  std::optional<std::string> outcome;
  {
    Deferred<void> d;
    d.addCallback([inner] { return inner; }).addTimeout(3, clock).addBoth([&](Result<int> r) {
      outcome = r.ok() ? "ok" : r.failure().typeName();
    });
    d.callback();
  }
  BOOST_TEST(!outcome);
  clock.advance(3);
  BOOST_TEST(inner.called());
  BOOST_REQUIRE(outcome.has_value());
  BOOST_TEST(*outcome == "coil::TimeoutError");
}

COIL_TEST_CASE(droppedDeferredLetsTheTimerFireHarmlessly) {
  LogCapture capture;
  Clock clock;
  {
    Deferred<void> d;
    d.addTimeout(1, clock);
  }
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  clock.advance(1);
  BOOST_TEST(clock.getDelayedCalls().empty());
  BOOST_TEST(capture.entries.empty());
}

BOOST_AUTO_TEST_SUITE_END()
