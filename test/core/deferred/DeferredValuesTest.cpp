// Tests for coil::Deferred value types, helpers, unhandled-error logging and Result.
#include "DeferredTestSupport.hpp"

#include <array>
#include <memory>
#include <optional>
#include <utility>

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
