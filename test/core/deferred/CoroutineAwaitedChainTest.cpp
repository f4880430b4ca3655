// A coroutine awaiting a Deferred: the awaited chain's type while the coroutine is suspended.
// Tests: core/Deferred.hpp (coroutine support), core/detail/DeferredState.cpp
#include <coil/core/Deferred.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/Testing.hpp>

#include <string>
#include <utility>

using coil::Deferred;
using coil::test::successResultOf;

BOOST_AUTO_TEST_SUITE(CoroutineAwaitedChain)

namespace {
Deferred<int> awaitAndAddOne(Deferred<int> d) {
  co_return co_await std::move(d) + 1;
}
}  // namespace

// The awaited chain carries void after the coroutine's step; callbacks added meanwhile through
// that void view keep the type they give the chain when the coroutine resumes.
COIL_TEST_CASE(callbacksAddedWhileSuspendedKeepTheirType) {
  Deferred<int> inner;
  Deferred<int> outer = awaitAndAddOne(inner);
  Deferred<void> afterAwait =
      coil::detail::DeferredAccess::view<void>(coil::detail::DeferredAccess::state(inner));
  Deferred<std::string> later = afterAwait.addCallback([] { return std::string("after"); });
  inner.callback(41);
  BOOST_TEST(successResultOf(outer) == 42);
  std::string seen;
  BOOST_CHECK_NO_THROW(later.addCallback([&](std::string s) { seen = s; }));
  BOOST_TEST(seen == "after");
}

BOOST_AUTO_TEST_SUITE_END()
