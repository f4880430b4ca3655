#pragma once
/// @file Deferred: Twisted's Deferred with static types, and C++20 coroutines over it.
///
/// A `Deferred<T>` is a typed view of one chain of callbacks (see docs/deferred.md). Callbacks
/// take the chain's current value and return the next one, so `addCallback` returns a
/// `Deferred<U>` view of the *same* chain; errbacks take a Failure and recover with a value of
/// the current type (or rethrow). A callback that returns a `Deferred<U>` pauses the chain until
/// that one fires. Copies share the chain, as Python references do. Thread: reactor.

#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/IReactorTime.hpp>
#include <coil/core/Result.hpp>
#include <coil/core/detail/DeferredState.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace coil {

template <class T>
class Deferred;

namespace detail {

template <class T>
struct Promise;

/// True for Deferred<U>.
template <class T>
struct IsDeferred : std::false_type {};
template <class T>
struct IsDeferred<Deferred<T>> : std::true_type {};

/// True for Result<U>.
template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {};

/// The type a chain carries after a callback that returned R: Deferred<V> and Result<V> give V.
template <class R>
struct ChainType {
  using type = R;
};
template <class V>
struct ChainType<Deferred<V>> {
  using type = V;
};
template <class V>
struct ChainType<Result<V>> {
  using type = V;
};
/// ChainType<R>::type without cv-ref.
template <class R>
using ChainTypeT = typename ChainType<std::remove_cvref_t<R>>::type;

/// Calls a callback with the chain's value (nothing for void), moving it when f accepts an rvalue.
template <class T, class F>
decltype(auto) callWithValue(F& f, ValueBox& box) {
  if constexpr (std::is_void_v<T>) {
    return f();
  } else if constexpr (std::is_invocable_v<F&, T&&>) {
    return f(std::move(box.get<T>()));
  } else {
    return f(box.get<T>());
  }
}

/// What callback F returns on a Deferred<T>.
template <class T, class F>
using CallbackResultT = decltype(callWithValue<T>(std::declval<F&>(), std::declval<ValueBox&>()));

/// Stores a step's return value as the chain's new result.
template <class R>
void deliver(DeferredState& st, R&& r);

/// Runs `produce()` and stores its result (or the exception it throws) in `st`.
template <class F>
void deliverFrom(DeferredState& st, F&& produce) {
  using R = decltype(produce());
  if constexpr (std::is_void_v<R>) {
    produce();
    st.valueSlot().emplace<Unit>();
    st.setValueKind();
  } else {
    std::remove_cvref_t<R> r = produce();  // materialise before the slot is reused
    deliver(st, std::move(r));
  }
}

/// Placeholder for a missing callback or errback (the result passes through).
struct Pass {};

/// A callback/errback pair for a chain currently carrying T.
template <class T, class Cb, class Eb>
struct CallbackStep {
  [[no_unique_address]] Cb cb;
  [[no_unique_address]] Eb eb;

  static void invoke(ValueBox& fn, DeferredState& st) noexcept {
    auto& self = fn.get<CallbackStep>();
    try {
      if (st.kind() == SlotKind::kValue) {
        if constexpr (!std::is_same_v<Cb, Pass>) {
          deliverFrom(
              st, [&]() -> decltype(auto) { return callWithValue<T>(self.cb, st.valueSlot()); });
        }
      } else if constexpr (!std::is_same_v<Eb, Pass>) {
        Failure f = std::move(st.failure());
        deliverFrom(st, [&]() -> decltype(auto) { return self.eb(std::move(f)); });
      }
    } catch (...) {
      st.setFailure(Failure::current());
    }
  }
};

/// An addBoth() step: the callable receives a Result<T>.
template <class T, class F>
struct BothStep {
  F f;

  static void invoke(ValueBox& fn, DeferredState& st) noexcept {
    auto& self = fn.get<BothStep>();
    try {
      if (st.kind() == SlotKind::kValue) {
        if constexpr (std::is_void_v<T>) {
          deliverFrom(st, [&]() -> decltype(auto) { return self.f(Result<void>()); });
        } else {
          Result<T> r(std::move(st.valueSlot().get<T>()));
          deliverFrom(st, [&]() -> decltype(auto) { return self.f(std::move(r)); });
        }
      } else {
        Result<T> r(std::move(st.failure()));
        deliverFrom(st, [&]() -> decltype(auto) { return self.f(std::move(r)); });
      }
    } catch (...) {
      st.setFailure(Failure::current());
    }
  }
};

/// Friend access to a Deferred's state, for coil's own helpers.
struct DeferredAccess {
  /// The state behind a view.
  template <class T>
  static const StateRef& state(const Deferred<T>& d) noexcept {
    return d.s_;
  }
  /// A view of `s` typed T.
  template <class T>
  static Deferred<T> view(StateRef s) noexcept {
    return Deferred<T>(std::move(s));
  }
};

/// What `co_await deferred` creates.
template <class U>
class Awaiter;

}  // namespace detail

/// A typed view of one Twisted Deferred chain. Thread: reactor.
template <class T>
class Deferred {
  static_assert(!std::is_reference_v<T>, "Deferred<T&> is not supported; use a pointer");
  static_assert(!detail::IsDeferred<T>::value, "Deferred<Deferred<T>> flattens to Deferred<T>");
  static_assert(!std::is_same_v<T, Failure>, "a Failure is the error path, not a value");

 public:
  /// The type callbacks added through this view receive.
  using value_type = T;
  /// Makes a function returning Deferred<T> a coroutine that may co_await Deferreds.
  using promise_type = detail::Promise<T>;

  /// A new, unfired Deferred.
  Deferred() : s_(detail::StateRef::adopt(detail::DeferredState::create(detail::typeTag<T>()))) {}

  /// A new Deferred whose cancel() calls `canceller(*this)` first (Twisted's canceller).
  template <class C>
  requires(std::is_invocable_v<C&, Deferred<T>&>) explicit Deferred(C canceller) : Deferred() {
    detail::ValueBox box;
    box.emplace<C>(std::move(canceller));
    s_->setCanceller(&cancelThunk<C>, std::move(box));
  }

  /// Adds a callback: f(T) -> U, Deferred<U> or Result<U>; returns the Deferred<U> view.
  template <class F>
  auto addCallback(F&& f) {
    using U = detail::ChainTypeT<detail::CallbackResultT<T, std::decay_t<F>>>;
    return push<U>(detail::CallbackStep<T, std::decay_t<F>, detail::Pass>{std::forward<F>(f), {}});
  }

  /// Adds an errback: f(Failure) -> T (recover), Deferred<T>, Result<T>, or Failure (stay
  /// failed); rethrowing also stays failed. Returns this chain's Deferred<T> view.
  template <class F>
  Deferred<T> addErrback(F&& f) {
    checkErrback<T, std::decay_t<F>>();
    return push<T>(detail::CallbackStep<T, detail::Pass, std::decay_t<F>>{{}, std::forward<F>(f)});
  }

  /// Adds a callback and an errback at the same position; both must produce the same type.
  template <class F, class G>
  auto addCallbacks(F&& cb, G&& eb) {
    using U = detail::ChainTypeT<detail::CallbackResultT<T, std::decay_t<F>>>;
    checkErrback<U, std::decay_t<G>>();
    return push<U>(detail::CallbackStep<T, std::decay_t<F>, std::decay_t<G>>{std::forward<F>(cb),
                                                                             std::forward<G>(eb)});
  }

  /// Adds f(Result<T>) for both paths; returns the view of what f returns.
  template <class F>
  auto addBoth(F&& f) {
    using R = std::invoke_result_t<std::decay_t<F>&, Result<T>&&>;
    using U = std::conditional_t<std::is_same_v<std::remove_cvref_t<R>, Failure>, T,
                                 detail::ChainTypeT<R>>;
    return push<U>(detail::BothStep<T, std::decay_t<F>>{std::forward<F>(f)});
  }

  /// Fires the chain with a value. Throws AlreadyCalledError if already fired (except the one
  /// call swallowed after a canceller-less cancel()).
  void callback(std::conditional_t<std::is_void_v<T>, detail::Unit, T> value) requires(
      !std::is_void_v<T>) {
    s_->fireWith<T>(detail::typeTag<T>(), std::move(value));
  }

  /// Fires a Deferred<void>.
  void callback() requires std::is_void_v<T> { s_->fireWith<detail::Unit>(detail::typeTag<T>()); }

  /// Fires the chain with a failure.
  void errback(Failure f) { s_->fireFailure(std::move(f)); }

  /// Fires the chain with an exception object (`d.errback(ConnectionDone())`).
  template <class E>
  requires(!std::is_same_v<std::decay_t<E>, Failure>) void errback(E&& e) {
    errback(Failure(std::forward<E>(e)));
  }

  /// Fires the chain with the exception being handled (call inside a catch block).
  void errback() { errback(Failure::current()); }

  /// Makes `other` fire with this chain's result; this chain then carries nothing (void).
  Deferred<void> chainDeferred(Deferred<T> other) {
    if constexpr (std::is_void_v<T>) {
      return addCallbacks([other]() mutable { other.callback(); },
                          [other](Failure f) mutable { other.errback(std::move(f)); });
    } else {
      return addCallbacks([other](T v) mutable { other.callback(std::move(v)); },
                          [other](Failure f) mutable { other.errback(std::move(f)); });
    }
  }

  /// Stops running callbacks until unpause(); counted.
  void pause() noexcept { s_->pause(); }
  /// Undoes one pause(); runs pending callbacks when none remain.
  void unpause() { s_->unpause(); }

  /// Cancels: calls the canceller (if any) and errbacks CancelledError when the Deferred is still
  /// unfired (a coroutine's Deferred instead cancels what the coroutine awaits); cancels the
  /// inner Deferred when waiting on one; does nothing once it has a result.
  void cancel() { s_->cancel(); }

  /// Cancels the chain if no result arrives within `timeout` seconds of `clock`; the
  /// CancelledError becomes coil::TimeoutError (or whatever onTimeoutCancel returns). Covers only
  /// the callbacks added before it.
  Deferred<T> addTimeout(double timeout, IReactorTime& clock,
                         std::function<Result<T>(Result<T>, double)> onTimeoutCancel = {}) {
    auto timedOut = std::make_shared<bool>(false);
    detail::WeakStateRef weak(s_.get());
    DelayedCallPtr call = clock.callLater(timeout, [weak, timedOut] {
      if (detail::StateRef s = weak.lock()) {
        *timedOut = true;
        s->cancel();
      }
    });
    return addBoth([timedOut, timeout, convert = std::move(onTimeoutCancel)](Result<T> r) {
             if (*timedOut) {
               if (convert) return convert(std::move(r), timeout);
               if (!r.ok() && r.failure().template check<CancelledError>()) {
                 return Result<T>(Failure(TimeoutError(
                     "Deferred timed out after " + detail::formatSeconds(timeout) + " seconds")));
               }
             }
             return r;
           })
        .addBoth([call](Result<T> r) {
          if (call->active()) call->cancel();
          return r;
        });
  }

  /// True once callback() or errback() has been called.
  bool called() const noexcept { return s_->called(); }
  /// True while pause() calls outnumber unpause() calls (including waiting on another Deferred).
  bool paused() const noexcept { return s_->pausedCount() != 0; }
  /// True when a callback added now would run at once.
  bool hasResult() const noexcept { return s_->hasFinalResult(); }
  /// True when two views share one chain.
  friend bool operator==(const Deferred& a, const Deferred& b) noexcept { return a.s_ == b.s_; }

  /// Awaits the result from a coroutine; takes this view's reference along.
  detail::Awaiter<T> operator co_await() && noexcept { return detail::Awaiter<T>(std::move(s_)); }
  /// Awaits the result from a coroutine.
  detail::Awaiter<T> operator co_await() & noexcept { return detail::Awaiter<T>(s_); }

 private:
  template <class U>
  friend class Deferred;
  friend struct detail::DeferredAccess;
  template <class U>
  friend struct detail::Promise;

  explicit Deferred(detail::StateRef s) noexcept : s_(std::move(s)) {}

  template <class U, class Step>
  Deferred<U> push(Step&& stepFn) {
    using S = std::decay_t<Step>;
    s_->checkCurrentType(detail::typeTag<T>());
    detail::Step& step = s_->newStep();  // filled in place: no move of the callable
    try {
      step.fn.emplace<S>(std::forward<Step>(stepFn));
    } catch (...) {
      s_->cancelNewStep();
      throw;
    }
    step.invoke = &S::invoke;
    s_->setCurrentType(detail::typeTag<U>());
    s_->stepAdded();
    return Deferred<U>(s_);
  }

  template <class U, class G>
  static void checkErrback() {
    using E = std::remove_cvref_t<std::invoke_result_t<G&, Failure&&>>;
    static_assert(std::is_same_v<E, Failure> || std::is_same_v<detail::ChainTypeT<E>, U>,
                  "an errback must return the chain's current type (or Deferred/Result of it, or "
                  "a Failure)");
  }

  template <class C>
  static void cancelThunk(detail::ValueBox& fn, detail::DeferredState& st) {
    Deferred<T> view{detail::StateRef(&st)};
    fn.get<C>()(view);
  }

  detail::StateRef s_;
};

// ---- helpers (Twisted's defer module functions) ---------------------------------------------

/// An already-fired Deferred<T>.
template <class T>
Deferred<std::decay_t<T>> succeed(T&& value) {
  Deferred<std::decay_t<T>> d;
  d.callback(std::forward<T>(value));
  return d;
}

/// An already-fired Deferred<void>.
inline Deferred<void> succeed() {
  Deferred<void> d;
  d.callback();
  return d;
}

/// An already-failed Deferred<T>.
template <class T = void>
Deferred<T> fail(Failure f) {
  Deferred<T> d;
  d.errback(std::move(f));
  return d;
}

/// An already-failed Deferred<T>, from an exception object.
template <class T = void, class E>
requires(!std::is_same_v<std::decay_t<E>, Failure>) Deferred<T> fail(E&& e) {
  return fail<T>(Failure(std::forward<E>(e)));
}

/// Calls f(args...) and returns its result as a Deferred: a returned Deferred passes through, a
/// value becomes succeed(value), a Result becomes either, a thrown exception becomes fail().
template <class F, class... A>
auto maybeDeferred(F&& f, A&&... args) {
  using R = std::remove_cvref_t<std::invoke_result_t<F, A...>>;
  using U = detail::ChainTypeT<R>;
  try {
    if constexpr (detail::IsDeferred<R>::value) {
      return std::invoke(std::forward<F>(f), std::forward<A>(args)...);
    } else if constexpr (detail::IsResult<R>::value) {
      R r = std::invoke(std::forward<F>(f), std::forward<A>(args)...);
      if (!r.ok()) return fail<U>(r.failure());
      if constexpr (std::is_void_v<U>) {
        return succeed();
      } else {
        return succeed(std::move(r).value());
      }
    } else if constexpr (std::is_void_v<R>) {
      std::invoke(std::forward<F>(f), std::forward<A>(args)...);
      return succeed();
    } else {
      return succeed(std::invoke(std::forward<F>(f), std::forward<A>(args)...));
    }
  } catch (...) {
    return fail<U>(Failure::current());
  }
}

namespace detail {

template <class R>
void deliver(DeferredState& st, R&& r) {
  using D = std::remove_cvref_t<R>;
  if constexpr (IsDeferred<D>::value) {
    // The returned view must be current: its chain's value is what this chain continues with, so
    // a stale view (callbacks were added through it since) would hand over a value of another
    // type. Throwing here fails the step, like any callback that throws.
    const StateRef& inner = DeferredAccess::state(r);
    if (!inner) throw DeferredTypeError("a callback returned a moved-from Deferred");
    inner->checkCurrentType(typeTag<typename D::value_type>());
    st.setReturned(inner);
  } else if constexpr (IsResult<D>::value) {
    if (!r.ok()) {
      st.setFailure(r.failure());
    } else if constexpr (std::is_same_v<D, Result<void>>) {
      st.valueSlot().emplace<Unit>();
      st.setValueKind();
    } else {
      using V = ChainTypeT<D>;
      st.valueSlot().emplace<V>(std::move(r).value());
      st.setValueKind();
    }
  } else if constexpr (std::is_same_v<D, Failure>) {
    st.setFailure(std::forward<R>(r));
  } else {
    st.valueSlot().emplace<D>(std::forward<R>(r));
    st.setValueKind();
  }
}

// ---- coroutines -------------------------------------------------------------------------------

/// The part of a Deferred coroutine's promise that does not depend on T.
struct PromiseBase {
  /// Marks coil's promises, so an Awaiter can record what the coroutine waits on.
  static constexpr bool kCoilPromise = true;
  /// The coroutine's own Deferred.
  StateRef state;

  /// Runs eagerly, like inlineCallbacks.
  std::suspend_never initial_suspend() noexcept { return {}; }
  /// The frame frees itself once the Deferred has fired.
  std::suspend_never final_suspend() noexcept { return {}; }
  /// An escaping exception fails the Deferred.
  void unhandled_exception() noexcept;

  PromiseBase() = default;
  PromiseBase(const PromiseBase&) = delete;
  PromiseBase& operator=(const PromiseBase&) = delete;
  /// A frame destroyed while suspended (its awaited Deferred was freed unfired) stops waiting.
  ~PromiseBase() {
    if (state) state->endAwait();
  }

 protected:
  /// Creates the state for a new coroutine.
  void init(const void* tag) {
    state = StateRef::adopt(DeferredState::create(tag));
    state->setCoroutine();
  }
};

/// The promise of a coroutine returning Deferred<T>.
template <class T>
struct Promise : PromiseBase {
  /// The Deferred the caller gets.
  Deferred<T> get_return_object() {
    init(typeTag<T>());
    return Deferred<T>(state);
  }
  /// co_return value.
  template <class V = T>
  requires(std::is_convertible_v<V&&, T>) void return_value(V&& value) {
    if (state->called()) return;  // cancelled from inside while not awaiting: already failed
    state->fireWith<T>(typeTag<T>(), std::forward<V>(value));
  }
};

/// The promise of a coroutine returning Deferred<void>.
template <>
struct Promise<void> : PromiseBase {
  /// The Deferred the caller gets.
  Deferred<void> get_return_object() {
    init(typeTag<void>());
    return Deferred<void>(state);
  }
  /// co_return;
  void return_void() {
    if (state->called()) return;
    state->fireWith<Unit>(typeTag<void>());
  }
};

inline void PromiseBase::unhandled_exception() noexcept {
  Failure f = Failure::current();
  if (state->called()) return;
  state->fireFailure(std::move(f));
}

/// `co_await d`: ready at once when d has a final result (no suspension, no stack growth);
/// otherwise a step on d resumes the coroutine with d's value, or throws d's failure into it.
template <class U>
class Awaiter {
 public:
  /// Awaits the chain `s`.
  explicit Awaiter(StateRef s) noexcept : s_(std::move(s)) {}

  /// Takes d's result now if it has one.
  bool await_ready() {
    s_->checkCurrentType(typeTag<U>());
    if (!s_->hasFinalResult()) return false;
    failure_ = s_->consumeResult(value_);
    return true;
  }

  /// Adds the resuming step to d; the step owns the frame until it runs, so a Deferred dropped
  /// without firing frees the coroutine instead of leaking it.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if constexpr (requires { P::kCoilPromise; }) {
      owner_ = h.promise().state.get();
      owner_->beginAwait(s_.get());
    }
    StateRef target = std::move(s_);
    target->setCurrentType(typeTag<void>());
    Step step;
    step.invoke = &ResumeStep::invoke;
    step.fn.emplace<ResumeStep>(this, h);
    suspending_ = true;
    target->addStep(std::move(step));
    suspending_ = false;
    return !resumedEarly_;
  }

  /// d's value, or d's failure thrown.
  U await_resume() {
    if (owner_) owner_->endAwait();
    if (failure_) failure_->raise();
    if constexpr (!std::is_void_v<U>) return value_.take<U>();
  }

 private:
  struct ResumeStep {
    Awaiter* awaiter;
    std::coroutine_handle<> handle;

    ResumeStep(Awaiter* a, std::coroutine_handle<> h) noexcept : awaiter(a), handle(h) {}
    ResumeStep(ResumeStep&& o) noexcept
        : awaiter(o.awaiter), handle(std::exchange(o.handle, nullptr)) {}
    ResumeStep& operator=(ResumeStep&&) = delete;
    ~ResumeStep() {
      if (handle) handle.destroy();  // the awaited Deferred died unfired
    }

    static void invoke(ValueBox& fn, DeferredState& st) noexcept {
      auto& self = fn.get<ResumeStep>();
      std::coroutine_handle<> h = std::exchange(self.handle, nullptr);
      Awaiter* a = self.awaiter;
      // The chain's type became void when this step was added (await_suspend); callbacks added
      // after it through that void view have set it since, so it must not be reset here.
      a->failure_ = st.takeResult(a->value_);
      if (a->suspending_) {
        a->resumedEarly_ = true;  // await_suspend returns false and the coroutine goes on
        return;
      }
      h.resume();
    }
  };

  StateRef s_;
  ValueBox value_;
  std::optional<Failure> failure_;
  DeferredState* owner_ = nullptr;
  bool suspending_ = false;
  bool resumedEarly_ = false;
};

}  // namespace detail

}  // namespace coil
