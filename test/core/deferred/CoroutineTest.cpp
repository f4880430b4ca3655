// Tests for coroutines returning coil::Deferred (ports of Twisted's inlineCallbacks tests).
#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/Testing.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using coil::CancelledError;
using coil::Deferred;
using coil::DeferredTypeError;
using coil::Failure;
using coil::test::assertNoResult;
using coil::test::failureResultOf;
using coil::test::LogCapture;
using coil::test::successResultOf;

namespace {

using Strings = std::vector<std::string>;

struct TerminalException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[gnu::noinline]] std::uintptr_t frameAddress() {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

/// Sets a flag when destroyed: proves a coroutine frame's locals were destroyed.
struct Guard {
  bool* destroyed;
  explicit Guard(bool* flag) : destroyed(flag) {}
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  ~Guard() { *destroyed = true; }
};

Deferred<std::string> getValueViaDeferred(std::string v) {
  return coil::succeed(std::move(v));
}

Deferred<void> getDivisionFailure(const std::string& message) {
  return coil::fail(std::domain_error(message));
}

// testBasics
Deferred<std::string> genBasics() {
  std::string x = co_await getValueViaDeferred("hi");
  BOOST_TEST(x == "hi");
  bool caught = false;
  try {
    co_await getDivisionFailure("OMG");
  } catch (const std::domain_error& e) {
    caught = true;
    BOOST_TEST(std::string(e.what()) == "OMG");
  }
  BOOST_TEST(caught);
  co_return "WOOSH";
}

// testProducesException
Deferred<int> genProduceException() {
  std::string hi = co_await getValueViaDeferred("hi");
  if (!hi.empty()) throw std::domain_error("division by zero");
  co_return 0;
}

// testNothing
Deferred<void> genNothing() {
  co_return;
}

// testHandledTerminalFailure
Deferred<void> genHandledTerminalFailure() {
  try {
    co_await coil::fail(TerminalException("Handled Terminal Failure"));
  } catch (const TerminalException&) {
  }
}

// testHandledTerminalAsyncFailure
Deferred<void> genHandledTerminalAsyncFailure(Deferred<void> d) {
  try {
    co_await std::move(d);
  } catch (const TerminalException&) {
  }
}

Deferred<int> addOneLater(Deferred<int> d, int* stage) {
  *stage = 1;
  int v = co_await std::move(d);
  *stage = 2;
  co_return v + 1;
}

Deferred<int> throwAfterAwait(Deferred<int> d) {
  int v = co_await std::move(d);
  if (v > 0) throw TerminalException("after " + std::to_string(v));
  co_return v;
}

Deferred<int> syncLoop(int count, std::vector<std::uintptr_t>* depths) {
  int total = 0;
  for (int i = 0; i < count; ++i) {
    total += co_await coil::succeed(1);
    if (i == 0 || i == count - 1) depths->push_back(frameAddress());
  }
  co_return total;
}

Deferred<std::unique_ptr<int>> moveOnly(Deferred<std::unique_ptr<int>> d) {
  std::unique_ptr<int> p = co_await std::move(d);
  *p *= 2;
  co_return std::move(p);
}

Deferred<int> derefLater(Deferred<std::unique_ptr<int>> d) {
  std::unique_ptr<int> p = co_await moveOnly(std::move(d));
  co_return *p;
}

Deferred<void> voidCoroutine(Deferred<void> d, int* steps) {
  ++*steps;
  co_await std::move(d);
  ++*steps;
}

Deferred<int> awaitVoid(Deferred<void> d, int* steps) {
  co_await voidCoroutine(std::move(d), steps);
  co_return *steps;
}

Deferred<std::string> awaitStaleView(Deferred<int> stale) {
  try {
    co_await stale;
  } catch (const DeferredTypeError&) {
    co_return "rejected";
  }
  co_return "accepted";
}

Deferred<int> guardedWait(Deferred<int> d, bool* destroyed) {
  Guard guard(destroyed);
  co_return co_await std::move(d);
}

Deferred<int> waitForever(bool* destroyed) {
  Guard guard(destroyed);
  co_return co_await Deferred<int>();
}

Deferred<int> resumeThenWaitForever(Deferred<int> d, bool* destroyed) {
  Guard guard(destroyed);
  int v = co_await std::move(d);
  co_return v + co_await Deferred<int>();
}

Deferred<int> catchCancelAndReturn(Deferred<int> d) {
  try {
    co_return co_await std::move(d);
  } catch (const CancelledError&) {
    co_return -1;
  }
}

/// The generators of StackedInlineCallbacksTests, with their recordings.
struct Stacked {
  struct Pending {
    Deferred<int> d;
    std::optional<int> value;  // nullopt: errback with MyException
  };
  struct MyException : std::runtime_error {
    MyException() : std::runtime_error("my exception") {}
  };

  Strings expectations;
  std::vector<Pending> pending;

  void note(const std::string& what, int x) {
    expectations.push_back(what + " " + std::to_string(x));
  }

  void runCallbacksOnDeferreds() {
    for (std::size_t i = 0; i < pending.size(); ++i) {  // grows while it runs
      Pending p = pending[i];
      if (p.value) {
        p.d.callback(*p.value);
      } else {
        p.d.errback(MyException());
      }
    }
  }

  Deferred<int> f1(int x) {
    note("f1 enter", x);
    Deferred<int> d;
    pending.push_back({d, x});
    x = co_await std::move(d);
    x += 1;
    note("f1 exit", x);
    co_return x;
  }
  Deferred<int> f2(int x) {
    note("f2 enter", x);
    x = co_await f1(x);
    x += 2;
    note("f2 exit", x);
    co_return x;
  }
  Deferred<int> f3(int x) {
    note("f3 enter", x);
    x = co_await f2(x);
    x += 4;
    note("f3 exit", x);
    co_return x;
  }
  Deferred<int> f2Multi(int x) {
    note("f2 enter", x);
    x = co_await f1(x);
    x = co_await f1(x);
    x = co_await f1(x);
    x += 2;
    note("f2 exit", x);
    co_return x;
  }
  Deferred<int> f3Multi(int x) {
    note("f3 enter", x);
    x = co_await f2Multi(x);
    x = co_await f2Multi(x);
    x = co_await f2Multi(x);
    x += 4;
    note("f3 exit", x);
    co_return x;
  }
  Deferred<int> f1Sync(int x) {
    note("f1 enter", x);
    x = co_await coil::succeed(x);
    x += 1;
    note("f1 exit", x);
    co_return x;
  }
  int f2Plain(int x) {
    note("f2 enter", x);
    x += 2;
    note("f2 exit", x);
    return x;
  }
  Deferred<int> f3Intermediate(int x, bool sync) {
    note("f3 enter", x);
    Deferred<int> d = sync ? f1Sync(x) : f1(x);
    x = co_await d.addCallback([this](int v) { return f2Plain(v); });
    x += 4;
    note("f3 exit", x);
    co_return x;
  }
  Deferred<int> f3IntermediateSecond(int x) {
    note("f3 enter", x);
    x = co_await f1(x);
    Deferred<int> d = f1(x);
    x = co_await d.addCallback([this](int v) { return f2Plain(v); });
    x += 4;
    note("f3 exit", x);
    co_return x;
  }
  Deferred<int> f2Fails(int x) {
    note("f2 enter", x);
    Deferred<int> d;
    pending.push_back({d, std::nullopt});
    x = co_await std::move(d);
    note("f2 exit", x);  // not reached
    co_return x;
  }
  Deferred<int> f3CatchesFirst(int x) {
    note("f3 enter", x);
    bool raised = false;
    try {
      x = co_await f2Fails(x);
    } catch (const MyException&) {
      raised = true;
    }
    BOOST_TEST(raised);
    x += 4;
    note("f3 exit", x);
    co_return x;
  }
  Deferred<int> f3CatchesSecond(int x) {
    note("f3 enter", x);
    x = co_await f1(x);
    bool raised = false;
    try {
      x = co_await f2Fails(x);
    } catch (const MyException&) {
      raised = true;
    }
    BOOST_TEST(raised);
    x += 4;
    note("f3 exit", x);
    co_return x;
  }
};

// ---- CancellationTests: G is `sample`, D its Deferred, C the Deferred it awaits ---------------

enum class Stack { notStacked, stacked, stackedOnSecondDeferred };

struct UntranslatedError : std::runtime_error {
  UntranslatedError() : std::runtime_error("untranslated") {}
};
struct TranslatedError : std::runtime_error {
  TranslatedError() : std::runtime_error("translated") {}
};
struct DontFail : std::runtime_error {
  explicit DontFail(int actual) : std::runtime_error("don't fail"), actualValue(actual) {}
  int actualValue;
};

using ChildFactory = std::function<Deferred<int>()>;

Deferred<int> stackedCoroutine(ChildFactory getChild) {
  co_return co_await getChild();
}

Deferred<int> sample(Stack stack, ChildFactory getChild, std::optional<Deferred<int>> first) {
  int x = 0;
  try {
    if (stack == Stack::notStacked) {
      x = co_await getChild();
    } else {
      if (first) co_await std::move(*first);
      x = co_await stackedCoroutine(getChild);
    }
  } catch (const UntranslatedError&) {
    throw TranslatedError();
  } catch (const DontFail& df) {
    x = df.actualValue - 2;
  }
  co_return x + 1;
}

/// Runs `sample` (with a first Deferred to pass when the stack type asks for one) and fires that
/// first Deferred, so the coroutine is suspended on C when the caller cancels D.
Deferred<int> startSample(Stack stack, ChildFactory getChild) {
  const bool stacked = stack == Stack::stackedOnSecondDeferred;
  Deferred<int> first;
  Deferred<int> d = sample(stack, std::move(getChild),
                           stacked ? std::optional<Deferred<int>>(first) : std::nullopt);
  if (stacked) first.callback(1);
  return d;
}

void cascadeCancellingOnCancel(Stack stack) {
  std::optional<bool> childCancelled;
  auto getChild = [&] {
    Deferred<int> d;
    return d.addErrback([&](Failure f) {
      childCancelled = f.check<CancelledError>().has_value();
      return f;
    });
  };
  Deferred<int> d = startSample(stack, getChild);
  d.addErrback([](Failure) { return 0; });
  d.cancel();
  BOOST_TEST((childCancelled && *childCancelled), "no cascade cancelling occurs");
}

void errbackCancelledErrorOnCancel(Stack stack) {
  Deferred<int> d = startSample(stack, [] { return Deferred<int>(); });
  d.cancel();
  failureResultOf<CancelledError>(d);
}

void errorToErrorTranslation(Stack stack) {
  Deferred<int> a([](Deferred<int>& it) { it.errback(UntranslatedError()); });
  Deferred<int> d = startSample(stack, [a] { return a; });
  d.cancel();
  failureResultOf<TranslatedError>(d);
}

void errorToSuccessTranslation(Stack stack) {
  Deferred<int> a([](Deferred<int>& it) { it.errback(DontFail(4321)); });
  Deferred<int> d = startSample(stack, [a] { return a; });
  std::vector<int> results;
  auto rest = d.addCallback([&](int v) { results.push_back(v); });
  d.cancel();
  BOOST_TEST(results == std::vector<int>{4320}, boost::test_tools::per_element());
}

void asynchronousCancellation(Stack stack) {
  Deferred<int> moreDeferred;
  auto deferMe = [moreDeferred] {
    Deferred<int> d;
    return d.addErrback([moreDeferred](Failure f) {
      f.trap<CancelledError>();
      return moreDeferred;
    });
  };
  Deferred<int> d = startSample(stack, deferMe);
  d.cancel();
  assertNoResult(d);
  moreDeferred.callback(6543);
  BOOST_TEST(successResultOf(d) == 6544);
}

}  // namespace

// ---- basics ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(Coroutine)

COIL_TEST_CASE(awaitsValuesAndCatchesFailures) {
  BOOST_TEST(successResultOf(genBasics()) == "WOOSH");
}

COIL_TEST_CASE(anEscapingExceptionFailsTheDeferred) {
  Failure f = failureResultOf<std::domain_error>(genProduceException());
  BOOST_TEST(f.getErrorMessage() == "division by zero");
}

COIL_TEST_CASE(aCoroutineThatNeverAwaitsSucceeds) {
  Deferred<void> d = genNothing();
  BOOST_TEST(d.hasResult());
  successResultOf(d);
}

COIL_TEST_CASE(handledFailureOfAFiredDeferred) {
  successResultOf(genHandledTerminalFailure());
}

COIL_TEST_CASE(handledFailureOfALaterFailingDeferred) {
  Deferred<void> d;
  Deferred<void> result = genHandledTerminalAsyncFailure(d);
  assertNoResult(result);
  d.errback(TerminalException("Handled Terminal Failure"));
  successResultOf(result);
}

COIL_TEST_CASE(awaitingALaterFiredDeferredResumesInsideCallback) {
  Deferred<int> source;
  int stage = 0;
  Deferred<int> result = addOneLater(source, &stage);
  BOOST_TEST(stage == 1);  // ran eagerly up to the co_await
  assertNoResult(result);
  source.callback(41);
  BOOST_TEST(stage == 2);  // resumed synchronously by callback()
  BOOST_TEST(successResultOf(result) == 42);
}

COIL_TEST_CASE(anExceptionAfterResumingFailsTheDeferred) {
  Deferred<int> source;
  Deferred<int> result = throwAfterAwait(source);
  source.callback(3);
  Failure f = failureResultOf<TerminalException>(result);
  BOOST_TEST(f.getErrorMessage() == "after 3");
}

COIL_TEST_CASE(synchronousResultsDoNotGrowTheStack) {
  // testStackUsage with 100,000 already-fired Deferreds.
  std::vector<std::uintptr_t> depths;
  Deferred<int> d = syncLoop(100000, &depths);
  BOOST_TEST(successResultOf(d) == 100000);
  BOOST_REQUIRE_EQUAL(depths.size(), 2u);
  BOOST_TEST(depths[0] == depths[1]);
}

COIL_TEST_CASE(awaitingAFailedDeferredConsumesItsFailure) {
  LogCapture capture;
  {
    Deferred<void> failed = coil::fail(TerminalException("consumed"));
    successResultOf(genHandledTerminalAsyncFailure(failed));
    BOOST_TEST(failed.hasResult());
  }
  {
    Deferred<void> later;
    Deferred<void> result = genHandledTerminalAsyncFailure(later);
    later.errback(TerminalException("consumed later"));
    successResultOf(result);
  }
  BOOST_TEST(capture.entries.empty());
}

COIL_TEST_CASE(anAwaitedDeferredCarriesVoidAfterwards) {
  Deferred<int> source;
  int stage = 0;
  Deferred<int> result = addOneLater(source, &stage);
  source.callback(1);
  BOOST_CHECK_THROW(source.addCallback([](int v) { return v; }), DeferredTypeError);
  BOOST_TEST(successResultOf(result) == 2);
}

COIL_TEST_CASE(moveOnlyValuesThroughCoAwaitAndCoReturn) {
  Deferred<std::unique_ptr<int>> source;
  Deferred<int> result = derefLater(source);
  assertNoResult(result);
  source.callback(std::make_unique<int>(21));
  BOOST_TEST(successResultOf(result) == 42);
}

COIL_TEST_CASE(voidCoroutinesAwaitAndAreAwaited) {
  Deferred<void> source;
  int steps = 0;
  Deferred<int> result = awaitVoid(source, &steps);
  BOOST_TEST(steps == 1);
  source.callback();
  BOOST_TEST(successResultOf(result) == 2);
}

COIL_TEST_CASE(coAwaitThroughAStaleViewThrowsInsideTheCoroutine) {
  Deferred<int> d;
  auto text = d.addCallback([](int v) { return std::to_string(v); });
  BOOST_TEST(successResultOf(awaitStaleView(d)) == "rejected");
  d.callback(1);  // the chain itself is untouched
  BOOST_TEST(successResultOf(text) == "1");
}

COIL_TEST_CASE(theCoroutinesDeferredTakesCallbacksLikeAnyOther) {
  Deferred<int> source;
  int stage = 0;
  auto text = addOneLater(source, &stage).addCallback([](int v) { return std::to_string(v); });
  source.callback(9);
  BOOST_TEST(successResultOf(text) == "10");
}

COIL_TEST_CASE(aDroppedCoroutineDeferredStillRunsToCompletion) {
  // Fire and forget: the awaited Deferred's producer keeps the coroutine alive.
  Deferred<int> source;
  int stage = 0;
  std::optional<int> seen;
  addOneLater(source, &stage).addCallback([&](int v) { seen = v; });
  source.callback(1);
  BOOST_TEST(stage == 2);
  BOOST_TEST(*seen == 2);
}

COIL_TEST_CASE(frameIsDestroyedWhenTheAwaitedDeferredIsFreedUnfired) {
  bool destroyed = false;
  std::optional<Deferred<int>> source(std::in_place);
  Deferred<int> result = guardedWait(*source, &destroyed);
  BOOST_TEST(!destroyed);
  result = Deferred<int>();  // nobody can cancel it now...
  BOOST_TEST(!destroyed);    // ...but the source may still fire
  source.reset();            // and now nobody can
  BOOST_TEST(destroyed);
}

COIL_TEST_CASE(anUnreachableCoroutineIsDestroyedAtOnce) {
  // Awaiting a Deferred nobody else holds, from a coroutine whose Deferred is dropped: nothing
  // can ever resume it, so its frame goes (and its locals are destroyed).
  bool destroyed = false;
  waitForever(&destroyed);
  BOOST_TEST(destroyed);
}

COIL_TEST_CASE(aForgottenCoroutineAwaitingAnUnreachableDeferredIsDestroyed) {
  // The coroutine's Deferred is dropped at once; once resumed, it awaits a Deferred nothing else
  // holds. Nothing can resume it again, so the frame is destroyed while it suspends.
  bool destroyed = false;
  Deferred<int> source;
  resumeThenWaitForever(source, &destroyed);
  BOOST_TEST(!destroyed);
  source.callback(1);
  BOOST_TEST(destroyed);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- stacked coroutines (StackedInlineCallbacksTests) ----------------------------------------

BOOST_AUTO_TEST_SUITE(CoroutineStacked)

COIL_TEST_CASE(nonCalledDeferredSingleAwait) {
  Stacked s;
  Deferred<int> res = s.f3(1);
  s.runCallbacksOnDeferreds();
  BOOST_TEST(successResultOf(res) == 8);
  BOOST_TEST(s.expectations == (Strings{"f3 enter 1", "f2 enter 1", "f1 enter 1", "f1 exit 2",
                                        "f2 exit 4", "f3 exit 8"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(nonCalledDeferredMultipleAwaits) {
  Stacked s;
  Deferred<int> res = s.f3Multi(1);
  s.runCallbacksOnDeferreds();
  BOOST_TEST(successResultOf(res) == 20);
  BOOST_TEST(s.expectations ==
                 (Strings{"f3 enter 1",  "f2 enter 1", "f1 enter 1",  "f1 exit 2",   "f1 enter 2",
                          "f1 exit 3",   "f1 enter 3", "f1 exit 4",   "f2 exit 6",   "f2 enter 6",
                          "f1 enter 6",  "f1 exit 7",  "f1 enter 7",  "f1 exit 8",   "f1 enter 8",
                          "f1 exit 9",   "f2 exit 11", "f2 enter 11", "f1 enter 11", "f1 exit 12",
                          "f1 enter 12", "f1 exit 13", "f1 enter 13", "f1 exit 14",  "f2 exit 16",
                          "f3 exit 20"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(intermediateCallbacksWithoutWaiting) {
  Stacked s;
  BOOST_TEST(successResultOf(s.f3Intermediate(1, true)) == 8);
  BOOST_TEST(s.expectations == (Strings{"f3 enter 1", "f1 enter 1", "f1 exit 2", "f2 enter 2",
                                        "f2 exit 4", "f3 exit 8"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(intermediateCallbacksWaitingOnTheFirstAwait) {
  Stacked s;
  Deferred<int> res = s.f3Intermediate(1, false);
  s.runCallbacksOnDeferreds();
  BOOST_TEST(successResultOf(res) == 8);
  BOOST_TEST(s.expectations == (Strings{"f3 enter 1", "f1 enter 1", "f1 exit 2", "f2 enter 2",
                                        "f2 exit 4", "f3 exit 8"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(intermediateCallbacksWaitingOnTheSecondAwait) {
  Stacked s;
  Deferred<int> res = s.f3IntermediateSecond(1);
  s.runCallbacksOnDeferreds();
  BOOST_TEST(successResultOf(res) == 9);
  BOOST_TEST(s.expectations == (Strings{"f3 enter 1", "f1 enter 1", "f1 exit 2", "f1 enter 2",
                                        "f1 exit 3", "f2 enter 3", "f2 exit 5", "f3 exit 9"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(failureOfTheFirstAwaitedCoroutineIsCaught) {
  Stacked s;
  Deferred<int> res = s.f3CatchesFirst(1);
  s.runCallbacksOnDeferreds();
  BOOST_TEST(successResultOf(res) == 5);
  BOOST_TEST(s.expectations == (Strings{"f3 enter 1", "f2 enter 1", "f3 exit 5"}),
             boost::test_tools::per_element());
}

COIL_TEST_CASE(failureOfTheSecondAwaitedCoroutineIsCaught) {
  Stacked s;
  Deferred<int> res = s.f3CatchesSecond(1);
  s.runCallbacksOnDeferreds();
  BOOST_TEST(successResultOf(res) == 6);
  BOOST_TEST(s.expectations ==
                 (Strings{"f3 enter 1", "f1 enter 1", "f1 exit 2", "f2 enter 2", "f3 exit 6"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- cancellation (CancellationTests) --------------------------------------------------------

BOOST_AUTO_TEST_SUITE(CoroutineCancel)

COIL_TEST_CASE(cascadeCancellingNotStacked) {
  cascadeCancellingOnCancel(Stack::notStacked);
}
COIL_TEST_CASE(cascadeCancellingStacked) {
  cascadeCancellingOnCancel(Stack::stacked);
}
COIL_TEST_CASE(cascadeCancellingStackedOnSecondDeferred) {
  cascadeCancellingOnCancel(Stack::stackedOnSecondDeferred);
}

COIL_TEST_CASE(errbackCancelledErrorNotStacked) {
  errbackCancelledErrorOnCancel(Stack::notStacked);
}
COIL_TEST_CASE(errbackCancelledErrorStacked) {
  errbackCancelledErrorOnCancel(Stack::stacked);
}
COIL_TEST_CASE(errbackCancelledErrorStackedOnSecondDeferred) {
  errbackCancelledErrorOnCancel(Stack::stackedOnSecondDeferred);
}

COIL_TEST_CASE(errorToErrorTranslationNotStacked) {
  errorToErrorTranslation(Stack::notStacked);
}
COIL_TEST_CASE(errorToErrorTranslationStacked) {
  errorToErrorTranslation(Stack::stacked);
}
COIL_TEST_CASE(errorToErrorTranslationStackedOnSecondDeferred) {
  errorToErrorTranslation(Stack::stackedOnSecondDeferred);
}

COIL_TEST_CASE(errorToSuccessTranslationNotStacked) {
  errorToSuccessTranslation(Stack::notStacked);
}
COIL_TEST_CASE(errorToSuccessTranslationStacked) {
  errorToSuccessTranslation(Stack::stacked);
}
COIL_TEST_CASE(errorToSuccessTranslationStackedOnSecondDeferred) {
  errorToSuccessTranslation(Stack::stackedOnSecondDeferred);
}

COIL_TEST_CASE(asynchronousCancellationNotStacked) {
  asynchronousCancellation(Stack::notStacked);
}
COIL_TEST_CASE(asynchronousCancellationStacked) {
  asynchronousCancellation(Stack::stacked);
}
COIL_TEST_CASE(asynchronousCancellationStackedOnSecondDeferred) {
  asynchronousCancellation(Stack::stackedOnSecondDeferred);
}

COIL_TEST_CASE(cancelledErrorCaughtThenCancelledAgain) {
  // test_inlineCallbacksCancelCaptured
  std::vector<int> canceller1Calls;
  std::vector<int> canceller2Calls;
  Deferred<int> d1([&](Deferred<int>&) { canceller1Calls.push_back(1); });
  Deferred<int> d2([&](Deferred<int>&) { canceller2Calls.push_back(2); });
  auto testFunc = [](Deferred<int> first, Deferred<int> second) -> Deferred<void> {
    try {
      co_await std::move(first);
    } catch (const std::exception&) {
    }
    co_await std::move(second);
  };
  Deferred<void> funcD = testFunc(d1, d2);
  assertNoResult(d1);
  assertNoResult(d2);
  assertNoResult(funcD);
  BOOST_TEST(canceller1Calls.empty());
  funcD.cancel();
  BOOST_TEST(canceller1Calls.size() == 1u);
  BOOST_TEST(canceller2Calls.empty());
  assertNoResult(funcD);
  funcD.cancel();
  failureResultOf<CancelledError>(funcD);
  BOOST_TEST(canceller2Calls.size() == 1u);
}

COIL_TEST_CASE(cancelledCoroutineMayReturnAValue) {
  Deferred<int> inner;
  Deferred<int> outer = catchCancelAndReturn(inner);
  outer.cancel();
  BOOST_TEST(successResultOf(outer) == -1);
  BOOST_TEST(inner.called());
}

COIL_TEST_CASE(cancelDestroysTheFrame) {
  bool destroyed = false;
  Deferred<int> inner;
  Deferred<int> outer = guardedWait(inner, &destroyed);
  BOOST_TEST(!destroyed);
  outer.cancel();
  BOOST_TEST(destroyed);
  failureResultOf<CancelledError>(outer);
}

COIL_TEST_CASE(cancelReachesAnAwaitedDeferredNobodyElseHolds) {
  // `co_await Deferred<int>()`: only the coroutine's Deferred keeps it, and cancelling that
  // Deferred still throws CancelledError into the coroutine.
  bool destroyed = false;
  Deferred<int> outer = waitForever(&destroyed);
  BOOST_TEST(!destroyed);
  assertNoResult(outer);
  outer.cancel();
  BOOST_TEST(destroyed);
  failureResultOf<CancelledError>(outer);
}

COIL_TEST_CASE(cancelAfterTheCoroutineFinishedIsANoOp) {
  Deferred<int> inner;
  int stage = 0;
  Deferred<int> outer = addOneLater(inner, &stage);
  inner.callback(1);
  outer.cancel();
  BOOST_TEST(successResultOf(outer) == 2);
}

COIL_TEST_CASE(cancellingTheOuterCancelsTheAwaitedCoroutineChain) {
  // Three levels: cancelling the outermost reaches the innermost awaited Deferred.
  std::optional<bool> childCancelled;
  auto getChild = [&] {
    Deferred<int> d;
    return d.addErrback([&](Failure f) {
      childCancelled = f.check<CancelledError>().has_value();
      return f;
    });
  };
  auto level2 = [getChild]() { return stackedCoroutine(getChild); };
  Deferred<int> outer = stackedCoroutine(level2);
  outer.cancel();
  BOOST_TEST((childCancelled && *childCancelled));
  failureResultOf<CancelledError>(outer);
}

BOOST_AUTO_TEST_SUITE_END()
