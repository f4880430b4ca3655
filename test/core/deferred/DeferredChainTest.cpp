// Tests for coil::Deferred chaining (callbacks returning Deferreds) and constant-stack depth.
#include "DeferredTestSupport.hpp"

#include <array>
#include <memory>
#include <optional>
#include <utility>

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
