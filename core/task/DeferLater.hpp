#pragma once
/// @file DeferLater: a Deferred that fires after a delay with the result of a call (Twisted's
/// task.deferLater).

#include <coil/core/Deferred.hpp>
#include <coil/core/IReactorTime.hpp>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace coil {

namespace detail {

/// Schedules `d.callback()` after `delay` on `clock` and makes cancelling `d` cancel that call.
/// Returns `d`. The clock holds `d` until the call runs, so dropping the returned Deferred does
/// not stop the call (as in Twisted, where the reactor holds it).
inline Deferred<void> deferLaterTimer(IReactorTime& clock, double delay) {
  auto timer = std::make_shared<DelayedCallPtr>();
  Deferred<void> d([timer](Deferred<void>&) {
    if (*timer && (*timer)->active()) (*timer)->cancel();
  });
  *timer = clock.callLater(delay, [d]() mutable { d.callback(); });
  return d;
}

}  // namespace detail

namespace task {

/// A Deferred<void> that fires `delay` seconds from now on `clock`. Cancelling it before then
/// cancels the scheduled call and fails it with CancelledError. A negative or NaN delay throws
/// (from callLater). Thread: the clock's (reactor).
inline Deferred<void> deferLater(IReactorTime& clock, double delay) {
  return detail::deferLaterTimer(clock, delay);
}

/// Calls `f(args...)` (arguments copied now) `delay` seconds from now on `clock` and returns a
/// Deferred of its result: a value fires it, a thrown exception fails it, a returned
/// `Deferred<U>` (or `Result<U>`) is chained, so the result is a `Deferred<U>`. Cancelling it
/// before the delay has passed cancels the call (f never runs) and fails it with
/// CancelledError; cancelling it while f's Deferred is pending cancels that one. A negative or
/// NaN delay throws (from callLater). Thread: the clock's (reactor).
// clang-format off
template <class F, class... A>
  requires(std::is_invocable_v<std::decay_t<F>&, std::decay_t<A>&...>)
auto deferLater(IReactorTime& clock, double delay, F&& f, A&&... args) {
  // clang-format on
  return detail::deferLaterTimer(clock, delay)
      .addCallback([f = std::forward<F>(f), ... args = std::forward<A>(args)]() mutable {
        return std::invoke(f, args...);
      });
}

}  // namespace task

}  // namespace coil
