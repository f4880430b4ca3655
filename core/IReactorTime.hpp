#pragma once
/// @file IReactorTime: time and scheduling, implemented by reactors and by task::Clock.

#include <coil/core/DelayedFunction.hpp>
#include <coil/core/IDelayedCall.hpp>

#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

namespace coil {

/// Time and scheduling (Twisted's IReactorTime). Everything that schedules takes an
/// IReactorTime&, so task::Clock can drive it in tests. Thread: reactor.
class IReactorTime {
 public:
  virtual ~IReactorTime() = default;

  /// The current time in seconds. Reactors use a monotonic clock; Clock starts at 0.
  virtual double seconds() const = 0;

  /// Runs `f` (any callable taking no arguments, move-only ones included) once, `delay` seconds
  /// from now. A negative or NaN delay, or an empty `f`, throws std::invalid_argument. Calls due
  /// at the same time run in the order they were scheduled.
  virtual DelayedCallPtr callLater(double delay, DelayedFunction f) = 0;

  /// Every pending (not cancelled, not yet run) call.
  virtual std::vector<DelayedCallPtr> getDelayedCalls() const = 0;

  /// callLater() with arguments bound (copied) now; `f(args...)` runs with those copies.
  template <class F, class A0, class... A>
  requires(std::is_invocable_v<std::decay_t<F>&, std::decay_t<A0>&, std::decay_t<A>&...>)
      DelayedCallPtr callLater(double delay, F&& f, A0&& a0, A&&... args) {
    return callLater(delay,
                     [f = std::forward<F>(f), a0 = std::forward<A0>(a0),
                      ... args = std::forward<A>(args)]() mutable { std::invoke(f, a0, args...); });
  }
};

}  // namespace coil
