#pragma once
/// @file LoopingCall: call a function repeatedly on a grid of intervals (Twisted's
/// task.LoopingCall), driven by any IReactorTime (a reactor, or task::Clock in tests).
///
/// Shape in coil:
///  - `LoopingCall(clock, f, args...)`: `f(args...)` may return void, a `Deferred<T>`, an
///    `std::optional<Deferred<T>>` (nullopt = finished at once), a `Result<T>` (a failure stops the
///    loop) or anything else (ignored). A Deferred defers rescheduling until it fires; its value is
///    ignored (consumed, as in Twisted), its failure stops the loop.
///  - `start(interval, now)` returns `Deferred<LoopingCall*>`: Twisted fires the start Deferred
///    with the LoopingCall itself; coil fires it with this object's address (kept current across
///    moves). It fires after stop(), or fails when f throws or its Deferred fails (running() is
///    already false then).
///  - Cancelling start()'s Deferred (coil's answer to twisted#6656) stops the loop, cancels the
///    scheduled call and the Deferred f returned (if one is pending); the start Deferred fails with
///    CancelledError.
///  - stop() while f's Deferred is pending does not cancel it (Twisted): start()'s Deferred fires
///    when it fires. start() again before it fires begins a new run; the late result then only
///    fires the old run's Deferred and does not reschedule (Twisted would run two loops, #2998).
///  - Destroying a LoopingCall cancels its scheduled call; start()'s Deferred is then never fired
///    and a pending Deferred from f is left alone (its result is ignored). Nothing runs inside the
///    destructor, and no callback can reach the destroyed object.

#include <coil/core/Deferred.hpp>
#include <coil/core/IReactorTime.hpp>
#include <coil/core/Result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace coil {

namespace detail {

/// True for std::optional<Deferred<U>>.
template <class T>
struct IsOptionalDeferred : std::false_type {};
template <class U>
struct IsOptionalDeferred<std::optional<Deferred<U>>> : std::true_type {};

/// A Deferred<void> view of `d` whose value is dropped (the chain's result becomes void).
template <class T>
Deferred<void> discardLoopValue(Deferred<T> d) {
  if constexpr (std::is_void_v<T>) {
    return d;
  } else {
    return d.addCallback([](auto&&...) {});
  }
}

/// Turns what a loop body returned into "finished now" (nullopt) or "wait on this Deferred";
/// a failed Result is thrown.
template <class R>
std::optional<Deferred<void>> toLoopResult(R&& r) {
  using D = std::remove_cvref_t<R>;
  if constexpr (IsDeferred<D>::value) {
    return discardLoopValue(std::forward<R>(r));
  } else if constexpr (IsOptionalDeferred<D>::value) {
    if (!r) return std::nullopt;
    return discardLoopValue(std::move(*r));
  } else if constexpr (IsResult<D>::value) {
    if (!r.ok()) r.failure().raise();
    return std::nullopt;
  } else {
    return std::nullopt;
  }
}

/// Calls `f(args...)` and normalises its result with toLoopResult().
template <class F, class... A>
std::optional<Deferred<void>> callLoopBody(F& f, A&... args) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&, A&...>>) {
    std::invoke(f, args...);
    return std::nullopt;
  } else {
    return toLoopResult(std::invoke(f, args...));
  }
}

}  // namespace detail

namespace task {

/// Calls a function every `interval` seconds of an IReactorTime (Twisted's task.LoopingCall).
/// Movable, not copyable; a moved-from LoopingCall may only be destroyed or assigned to. The
/// clock must outlive the LoopingCall.
/// Thread: the clock's (reactor).
class LoopingCall {
 public:
  /// The number of intervals passed to a withCount() function.
  using Count = std::int64_t;
  /// The type-erased loop body: nullopt when done at once, else a Deferred to wait on.
  using Body = std::function<std::optional<Deferred<void>>()>;
  /// The type-erased withCount() body.
  using CountBody = std::function<std::optional<Deferred<void>>(Count)>;

  /// A stopped loop that will call `f(args...)` (arguments copied now) on `clock`.
  // clang-format off
  template <class F, class... A>
    requires(std::is_invocable_v<std::decay_t<F>&, std::decay_t<A>&...>)
  LoopingCall(IReactorTime& clock, F&& f, A&&... args)
      // clang-format on
      : LoopingCall(clock,
                    Body([f = std::forward<F>(f), ... args = std::forward<A>(args)]() mutable {
                      return detail::callLoopBody(f, args...);
                    })) {}

  /// A stopped loop on `clock` running `body` (see Body).
  LoopingCall(IReactorTime& clock, Body body);

  /// A loop that calls `countCallable(n)` with the number of intervals elapsed since its last
  /// call (>= 1; always 1 for interval 0), skipping a tick when that number is 0. It may return
  /// what a plain body may (Twisted's LoopingCall.withCount).
  // clang-format off
  template <class F>
    requires(std::is_invocable_v<std::decay_t<F>&, Count>)
  static LoopingCall withCount(IReactorTime& clock, F&& countCallable) {
    // clang-format on
    return LoopingCall(clock, CountBody([f = std::forward<F>(countCallable)](Count n) mutable {
                         return detail::callLoopBody(f, n);
                       }));
  }

  /// Cancels the scheduled call; see the file comment for what happens to pending Deferreds.
  ~LoopingCall();
  /// Takes over `other`'s loop (start()'s Deferred then fires with the new address).
  LoopingCall(LoopingCall&& other) noexcept;
  /// Destroys this loop (as the destructor does) and takes over `other`'s.
  LoopingCall& operator=(LoopingCall&& other) noexcept;
  LoopingCall(const LoopingCall&) = delete;
  LoopingCall& operator=(const LoopingCall&) = delete;

  /// Starts calling the function every `interval` seconds, first at once when `now` (inside
  /// start()), else after one interval. Later calls land on the grid start + k·interval, at the
  /// first such time strictly in the future (missed ticks are skipped); interval 0 means
  /// callLater(0) after each call. Returns a Deferred fired with `this` after stop(), or failed
  /// with the function's failure. A negative or NaN interval throws std::invalid_argument;
  /// starting a running loop throws LogicError.
  Deferred<LoopingCall*> start(double interval, bool now = true);

  /// Stops the loop. If a call is scheduled it is cancelled and start()'s Deferred fires now;
  /// if the function's Deferred is pending, start()'s Deferred fires when that one fires.
  /// Throws LogicError when not running.
  void stop();

  /// Skips the scheduled call and restarts the interval grid from now (nothing happens while
  /// the function's Deferred is pending). Throws LogicError when not running.
  void reset();

  /// True from start() until stop() or a failure.
  bool running() const noexcept;

  /// The interval given to start() (0 before the first start()).
  double interval() const noexcept;

  /// Changes the interval; used from the next scheduling on (Twisted assigns `lc.interval`).
  /// A negative or NaN interval throws std::invalid_argument.
  void setInterval(double interval);

  /// The time of the last start() or reset() (Twisted's `starttime`; 0 before start()).
  double starttime() const noexcept;

  /// The clock the loop schedules on.
  IReactorTime& clock() const noexcept;

 private:
  struct State;

  LoopingCall(IReactorTime& clock, CountBody body);

  std::shared_ptr<State> state_;
};

}  // namespace task

}  // namespace coil
