#pragma once
/// @file IReactorTime: time and scheduling, implemented by reactors and by task::Clock.

#include <coil/core/IDelayedCall.hpp>

#include <functional>
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

  /// Runs `f` once, `delay` seconds from now. A negative or NaN delay throws
  /// std::invalid_argument. Calls due at the same time run in the order they were scheduled.
  virtual DelayedCallPtr callLater(double delay, std::function<void()> f) = 0;

  /// Every pending (not cancelled, not yet run) call.
  virtual std::vector<DelayedCallPtr> getDelayedCalls() const = 0;

  /// callLater() with arguments bound (copied) now.
  template <class F, class A0, class... A>
  DelayedCallPtr callLater(double delay, F&& f, A0&& a0, A&&... args) {
    return callLater(
        delay, std::function<void()>(
                   std::bind(std::forward<F>(f), std::forward<A0>(a0), std::forward<A>(args)...)));
  }
};

}  // namespace coil
