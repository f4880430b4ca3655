#pragma once
/// @file DeferredTesting: Twisted trial's successResultOf / failureResultOf / assertNoResult for
/// coil Deferreds.
///
/// successResultOf() and failureResultOf() *consume* the result, as trial's do (they add a
/// callback that returns None): they add one step through the given view that moves the value
/// (or the failure) out, so afterwards the chain carries void and `d` is a stale view — add
/// further callbacks through the returned Deferred<void> of your own addBoth, or not at all. A
/// consumed failure is never reported as "Unhandled error in Deferred". The given view must be
/// the chain's current one (the Deferred returned by the last addCallback), else the helper
/// throws DeferredTypeError like any other stale use.

#include <coil/core/Deferred.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/Result.hpp>

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace coil::test {

namespace detail {

/// Takes the current result of `d` (adding a step that moves it out) if it has one now;
/// otherwise adds nothing and returns nullopt.
template <class T>
std::optional<Result<T>> takeResult(Deferred<T>& d) {
  if (!d.hasResult()) return std::nullopt;
  std::optional<Result<T>> out;
  d.addBoth([&out](Result<T> r) { out.emplace(std::move(r)); });
  return out;
}

/// "Type: message" of a result, for diagnostics.
template <class T>
std::string describe(const Result<T>& r) {
  return r.ok() ? std::string("a success") : "a failure (" + r.failure().describe() + ")";
}

}  // namespace detail

/// The value `d` has succeeded with; fails the test case if `d` has no result yet or failed.
/// Consumes the result (the chain then carries void). For Deferred<void> it returns nothing.
template <class T>
T successResultOf(Deferred<T>& d) {
  std::optional<Result<T>> r = detail::takeResult(d);
  BOOST_REQUIRE_MESSAGE(r.has_value(), "successResultOf: the Deferred has no result yet");
  BOOST_REQUIRE_MESSAGE(r->ok(),
                        "successResultOf: expected a success, got " + detail::describe(*r));
  if constexpr (!std::is_void_v<T>) return std::move(*r).value();
}

/// successResultOf() for a temporary (`successResultOf(d.addCallback(...))`).
template <class T>
T successResultOf(Deferred<T>&& d) {
  return successResultOf(d);
}

/// The failure `d` has failed with; fails the test case if `d` has no result yet or succeeded.
/// With E..., the failure must also check() as one of them. Consumes the failure, so it is not
/// logged as unhandled.
template <class... E, class T>
Failure failureResultOf(Deferred<T>& d) {
  std::optional<Result<T>> r = detail::takeResult(d);
  BOOST_REQUIRE_MESSAGE(r.has_value(), "failureResultOf: the Deferred has no result yet");
  BOOST_REQUIRE_MESSAGE(!r->ok(), "failureResultOf: expected a failure, got a success");
  Failure f = r->failure();
  if constexpr (sizeof...(E) > 0) {
    BOOST_REQUIRE_MESSAGE(f.check<E...>().has_value(),
                          "failureResultOf: unexpected failure " + f.describe());
  }
  return f;
}

/// failureResultOf() for a temporary.
template <class... E, class T>
Failure failureResultOf(Deferred<T>&& d) {
  return failureResultOf<E...>(d);
}

/// Fails the test case if a callback added to `d` now would run at once (trial's
/// assertNoResult). Adds nothing to the chain.
template <class T>
void assertNoResult(const Deferred<T>& d) {
  BOOST_REQUIRE_MESSAGE(!d.hasResult(), "assertNoResult: the Deferred has a result");
}

}  // namespace coil::test
