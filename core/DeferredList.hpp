#pragma once
/// @file DeferredList: Twisted's DeferredList, gatherResults and race, statically typed.
///
/// Typing choices (Twisted's `defer.DeferredList(ds, fireOnOneCallback, fireOnOneErrback,
/// consumeErrors)` changes the *shape* of its result with one flag, so coil makes that flag a
/// compile-time choice and keeps the other two as run-time options):
///
///  - `DeferredList(ds)` / `DeferredList(ds, {.fireOnOneErrback = b, .consumeErrors = c})` is a
///    `Deferred<std::vector<Result<T>>>`: one `Result<T>` per input, in input order — Twisted's
///    `[(success, result), ...]` with `r.ok()` as `success` and `r.value()` / `r.failure()` as
///    `result`. An empty list fires at once with an empty vector.
///  - `DeferredList(ds, fireOnOneCallback, {...})` (the tag `coil::fireOnOneCallback`) is a
///    `Deferred<FirstResult<T>>`: the first success as `result` + `index` (Twisted's
///    `(result, index)`), or — when every input failed and fireOnOneErrback is off — every
///    failure in input order (Twisted then fires with the whole list, which holds only
///    failures). An empty list never fires, as in Twisted.
///  - fireOnOneErrback: the first failure fires the list with `Failure(FirstError(failure,
///    index))`; the inputs' own chains are not affected by it.
///  - `DeferredList<T>` derives from that `Deferred<...>` and adds no state, so it converts
///    (slices) to it freely; `addCallback` etc. work on it directly, like Twisted's subclass.
///
/// What the inputs carry afterwards (the list hooks one addBoth step onto each input when it is
/// constructed; already-fired inputs are recorded at once):
///  - T copyable (or void) and consumeErrors off: the value is copied into the list and the input
///    goes on with the same value or failure, so old `Deferred<T>` views stay usable, as in
///    Twisted.
///  - otherwise the input's chain becomes `void` (Twisted's "result becomes None"): a move-only
///    value is moved into the list, and with consumeErrors a failure becomes a handled void
///    success, so it is never logged as unhandled; without consumeErrors it passes on.
///
/// cancel() on an unfired list calls cancel() on every input still alive (one that already fired
/// ignores it; exceptions thrown by cancellers are logged, not propagated). Usually the inputs then
/// fire (with CancelledError), so the list fires with their results, exactly as in Twisted; if some
/// input ignores its cancellation, the list fails with CancelledError instead of hanging (Twisted
/// would leave it unfired). The list holds its inputs weakly and the inputs hold the list strongly,
/// so callbacks added to a list run even if its handle was dropped, and nothing leaks; the price is
/// that an input nobody else holds (which nobody could ever fire) is freed, not cancelled — its
/// canceller does not run (Twisted's list would keep it alive). Pass each input once, through
/// its chain's current view (a stale view throws DeferredTypeError from the constructor).
///
/// `gatherResults(ds)` is `DeferredList(ds, {.fireOnOneErrback = true})` unwrapped to a
/// `Deferred<std::vector<T>>` (a `Deferred<void>` for void inputs); a failure arrives as
/// FirstError. `race(ds)` is a `Deferred<std::pair<std::size_t, T>>` (index, value) —
/// `Deferred<std::size_t>` for void inputs — of the first success; all inputs fail ->
/// FailureGroup; the inputs' chains become void (Twisted's callbacks return None). Thread: reactor.

#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/Result.hpp>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace coil {

/// DeferredList's flags that do not change the type of its result.
struct DeferredListOptions {
  /// Fire with Failure(FirstError(failure, index)) as soon as one input fails.
  bool fireOnOneErrback = false;
  /// Inputs continue with a handled (void) result instead of their failure.
  bool consumeErrors = false;
};

/// Tag type of `fireOnOneCallback`.
struct FireOnOneCallback {
  /// Only `coil::fireOnOneCallback` is meant to exist.
  explicit constexpr FireOnOneCallback() = default;
};

/// Pass as DeferredList's second argument for Twisted's `fireOnOneCallback=True`.
inline constexpr FireOnOneCallback fireOnOneCallback{};

/// Tag type of the default DeferredList shape (every input's result, in order).
struct AllResults {
  /// Not meant to be passed; it is DeferredList's default template argument.
  explicit constexpr AllResults() = default;
};

/// What a `DeferredList(ds, fireOnOneCallback)` fires with.
template <class T>
struct FirstResult {
  /// True for Twisted's `(result, index)`; false when every input failed (then `failures` holds
  /// one failure per input, so it is never empty).
  bool succeeded() const noexcept { return failures.empty(); }
  /// The first success's value (engaged when succeeded()).
  std::optional<T> result;
  /// The input that produced `result`.
  std::size_t index = 0;
  /// When every input failed: their failures, in input order.
  std::vector<Failure> failures;
};

/// What a `DeferredList(ds, fireOnOneCallback)` over Deferred<void> fires with.
template <>
struct FirstResult<void> {
  /// True when an input succeeded; false when every input failed.
  bool succeeded() const noexcept { return failures.empty(); }
  /// The first input that succeeded.
  std::size_t index = 0;
  /// When every input failed: their failures, in input order.
  std::vector<Failure> failures;
};

namespace detail {

/// The value type of a DeferredList of the given shape.
template <class T, class Shape>
struct DeferredListValue {
  /// One Result per input.
  using type = std::vector<Result<T>>;
};
/// fireOnOneCallback shape.
template <class T>
struct DeferredListValue<T, FireOnOneCallback> {
  /// The first success (or every failure).
  using type = FirstResult<T>;
};

/// Weak references to the chains behind `ds`.
template <class T>
std::vector<WeakStateRef> weakRefs(const std::vector<Deferred<T>>& ds) {
  std::vector<WeakStateRef> out;
  out.reserve(ds.size());
  for (const auto& d : ds) out.emplace_back(DeferredAccess::state(d).get());
  return out;
}

/// Cancels every input still alive except number `skip`; logs (never propagates) what a
/// canceller throws. Defined in DeferredList.cpp.
void cancelEach(std::vector<WeakStateRef> inputs, std::size_t skip = static_cast<std::size_t>(-1));

/// The canceller of a DeferredList's or race()'s Deferred: cancels the inputs.
struct CancelInputs {
  /// The inputs, held weakly (they hold the list strongly).
  std::vector<WeakStateRef> inputs;
  /// Called by Deferred::cancel() while the list is unfired.
  template <class D>
  void operator()(D&) const {
    cancelEach(inputs);
  }
};

/// A DeferredList's progress, shared by the steps hooked onto its inputs.
template <class T, class Shape>
class DeferredListCore {
 public:
  /// The list's value type.
  using Value = typename DeferredListValue<T, Shape>::type;

  /// Tracks `n` inputs for `out`.
  DeferredListCore(Deferred<Value> out, std::size_t n, bool fireOnOneErrback)
      : out_(std::move(out)), results_(n), count_(n), fireOnOneErrback_(fireOnOneErrback) {}

  /// Twisted's _cbDeferred: input `index` fired with `r`.
  void record(std::size_t index, Result<T> r) {
    ++finished_;
    if (!out_) return;
    if (out_->called()) {  // fired by fireOnOne*, or by hand
      drop();
      return;
    }
    if (r.ok()) {
      if constexpr (std::is_same_v<Shape, FireOnOneCallback>) {
        FirstResult<T> v;
        v.index = index;
        if constexpr (!std::is_void_v<T>) v.result.emplace(std::move(r).value());
        fire(std::move(v));
        return;
      }
    } else if (fireOnOneErrback_) {
      Failure f(FirstError(r.failure(), index));
      Deferred<Value> out = drop();
      out.errback(std::move(f));
      return;
    }
    results_[index].emplace(std::move(r));
    if (finished_ == count_) fire(collect());
  }

 private:
  Value collect() {
    Value v;
    if constexpr (std::is_same_v<Shape, FireOnOneCallback>) {
      for (auto& r : results_) v.failures.push_back(r->failure());
    } else {
      v.reserve(count_);
      for (auto& r : results_) v.push_back(std::move(*r));
    }
    return v;
  }

  Deferred<Value> drop() {
    Deferred<Value> out = std::move(*out_);
    out_.reset();
    results_.clear();
    return out;
  }

  void fire(Value v) { drop().callback(std::move(v)); }

  std::optional<Deferred<Value>> out_;
  std::vector<std::optional<Result<T>>> results_;
  std::size_t count_;
  std::size_t finished_ = 0;
  bool fireOnOneErrback_;
};

/// Hooks DeferredList's step onto input `d` (see the file comment for what `d` carries next).
template <class T, class Core>
void hookInput(Deferred<T>& d, std::size_t index, const std::shared_ptr<Core>& core,
               bool consumeErrors) {
  if constexpr (std::is_void_v<T>) {
    d.addBoth([core, index, consumeErrors](Result<void> r) -> Result<void> {
      core->record(index, r);
      if (!r.ok() && consumeErrors) return Result<void>();
      return r;
    });
  } else {
    if constexpr (std::is_copy_constructible_v<T>) {
      if (!consumeErrors) {
        d.addBoth([core, index](Result<T> r) -> Result<T> {
          core->record(index, r);
          return r;
        });
        return;
      }
    }
    d.addBoth([core, index, consumeErrors](Result<T> r) -> Result<void> {
      std::optional<Failure> passOn;
      if (!r.ok() && !consumeErrors) passOn = r.failure();
      core->record(index, std::move(r));
      if (passOn) return *passOn;
      return Result<void>();
    });
  }
}

}  // namespace detail

/// Twisted's DeferredList: a Deferred that fires with the results of several Deferreds (see the
/// file comment for the typed shapes). `Shape` is AllResults or FireOnOneCallback, chosen by the
/// constructor used. Thread: reactor.
template <class T, class Shape = AllResults>
class DeferredList : public Deferred<typename detail::DeferredListValue<T, Shape>::type> {
 public:
  /// The Deferred this list is.
  using Base = Deferred<typename detail::DeferredListValue<T, Shape>::type>;

  /// Twisted's `DeferredList(ds, fireOnOneErrback=..., consumeErrors=...)`: fires with one
  /// Result per input, in input order, once every input has fired (or with FirstError).
  explicit DeferredList(std::vector<Deferred<T>> ds,
                        DeferredListOptions options = {}) requires std::is_same_v<Shape, AllResults>
      : Base(detail::CancelInputs{detail::weakRefs(ds)}) {
    start(ds, options);
  }

  /// Twisted's `DeferredList(ds, fireOnOneCallback=True, ...)`: fires with the first success.
  DeferredList(std::vector<Deferred<T>> ds, FireOnOneCallback,
               DeferredListOptions options = {}) requires std::is_same_v<Shape, FireOnOneCallback>
      : Base(detail::CancelInputs{detail::weakRefs(ds)}) {
    start(ds, options);
  }

 private:
  void start(std::vector<Deferred<T>>& ds, DeferredListOptions options) {
    if (ds.empty()) {
      if constexpr (std::is_same_v<Shape, AllResults>) this->callback({});
      return;
    }
    auto core = std::make_shared<detail::DeferredListCore<T, Shape>>(
        static_cast<Base&>(*this), ds.size(), options.fireOnOneErrback);
    for (std::size_t i = 0; i < ds.size(); ++i)
      detail::hookInput(ds[i], i, core, options.consumeErrors);
  }
};

/// Deduces DeferredList<T> from a vector of Deferred<T>.
template <class T>
DeferredList(std::vector<Deferred<T>>) -> DeferredList<T>;
/// Deduces DeferredList<T> from a vector of Deferred<T> and options.
template <class T>
DeferredList(std::vector<Deferred<T>>, DeferredListOptions) -> DeferredList<T>;
/// Deduces DeferredList<T> from `{d1, d2, ...}`.
template <class T>
DeferredList(std::initializer_list<Deferred<T>>) -> DeferredList<T>;
/// Deduces DeferredList<T> from `{d1, d2, ...}` and options.
template <class T>
DeferredList(std::initializer_list<Deferred<T>>, DeferredListOptions) -> DeferredList<T>;
/// Deduces the fireOnOneCallback shape.
template <class T>
DeferredList(std::vector<Deferred<T>>, FireOnOneCallback) -> DeferredList<T, FireOnOneCallback>;
/// Deduces the fireOnOneCallback shape, with options.
template <class T>
DeferredList(std::vector<Deferred<T>>, FireOnOneCallback, DeferredListOptions)
    -> DeferredList<T, FireOnOneCallback>;
/// Deduces the fireOnOneCallback shape from `{d1, d2, ...}`.
template <class T>
DeferredList(std::initializer_list<Deferred<T>>, FireOnOneCallback)
    -> DeferredList<T, FireOnOneCallback>;
/// Deduces the fireOnOneCallback shape from `{d1, d2, ...}`, with options.
template <class T>
DeferredList(std::initializer_list<Deferred<T>>, FireOnOneCallback, DeferredListOptions)
    -> DeferredList<T, FireOnOneCallback>;

/// What gatherResults() over Deferred<T> gives: std::vector<T>, or void for void inputs.
template <class T>
using GatherResultsT = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;

/// Twisted's gatherResults: every input's value in input order, or the first failure wrapped
/// in FirstError (with `subFailure` and `index`). Cancelling it cancels every input.
template <class T>
Deferred<GatherResultsT<T>> gatherResults(std::vector<Deferred<T>> ds, bool consumeErrors = false) {
  DeferredList<T> list(std::move(ds), {.fireOnOneErrback = true, .consumeErrors = consumeErrors});
  if constexpr (std::is_void_v<T>) {
    return list.addCallback([](std::vector<Result<void>>&&) {});
  } else {
    return list.addCallback([](std::vector<Result<T>>&& results) {
      std::vector<T> values;
      values.reserve(results.size());
      for (auto& r : results) values.push_back(std::move(r).value());
      return values;
    });
  }
}

/// gatherResults over `{d1, d2, ...}`.
template <class T>
Deferred<GatherResultsT<T>> gatherResults(std::initializer_list<Deferred<T>> ds,
                                          bool consumeErrors = false) {
  return gatherResults(std::vector<Deferred<T>>(ds), consumeErrors);
}

namespace detail {

/// race()'s value: (index, value), or just the index for void inputs.
template <class T>
struct RaceValue {
  /// (index, value).
  using type = std::pair<std::size_t, T>;
};
/// Void inputs: the index.
template <>
struct RaceValue<void> {
  /// The index.
  using type = std::size_t;
};

/// race()'s progress, shared by the steps hooked onto its inputs.
template <class T>
class RaceCore {
 public:
  /// race()'s value type.
  using Value = typename RaceValue<T>::type;

  /// Tracks `inputs` for `out`.
  RaceCore(Deferred<Value> out, std::vector<WeakStateRef> inputs)
      : out_(std::move(out)), inputs_(std::move(inputs)), failures_(inputs_.size()) {}

  /// Input `index` succeeded: the first success wins and the others are cancelled.
  template <class... V>
  void succeeded(std::size_t index, V&&... value) {
    if (won_) return;
    won_ = true;
    cancelEach(inputs_, index);
    if (!out_ || out_->called()) return;
    Deferred<Value> out = take();
    if constexpr (std::is_void_v<T>) {
      out.callback(index);
    } else {
      out.callback(Value(index, std::forward<V>(value)...));
    }
  }

  /// Input `index` failed; when every input has, race() fails with FailureGroup.
  void failed(std::size_t index, Failure f) {
    failures_[index].emplace(std::move(f));
    if (++failed_ != failures_.size() || !out_ || out_->called()) return;
    std::vector<Failure> all;
    all.reserve(failures_.size());
    for (auto& x : failures_) all.push_back(std::move(*x));
    take().errback(FailureGroup(std::move(all)));
  }

 private:
  Deferred<Value> take() {
    Deferred<Value> out = std::move(*out_);
    out_.reset();
    return out;
  }

  std::optional<Deferred<Value>> out_;
  std::vector<WeakStateRef> inputs_;
  std::vector<std::optional<Failure>> failures_;
  std::size_t failed_ = 0;
  bool won_ = false;
};

}  // namespace detail

/// What race() over Deferred<T> fires with: (index, value), or the index for void inputs.
template <class T>
using RaceResultT = typename detail::RaceValue<T>::type;

/// Twisted's race: fires with the index and value of the first input to succeed and cancels the
/// others (exceptions from their cancellers are logged); when every input fails, fails with
/// FailureGroup (failures in input order). Cancelling it cancels every input. The inputs' chains
/// become void. An empty list never fires, as in Twisted.
template <class T>
Deferred<RaceResultT<T>> race(std::vector<Deferred<T>> ds) {
  using Value = RaceResultT<T>;
  std::vector<detail::WeakStateRef> inputs = detail::weakRefs(ds);
  Deferred<Value> out(detail::CancelInputs{inputs});
  auto core = std::make_shared<detail::RaceCore<T>>(out, std::move(inputs));
  for (std::size_t i = 0; i < ds.size(); ++i) {
    auto onFailure = [core, i](Failure f) { core->failed(i, std::move(f)); };
    if constexpr (std::is_void_v<T>) {
      ds[i].addCallbacks([core, i] { core->succeeded(i); }, onFailure);
    } else {
      ds[i].addCallbacks([core, i](T&& v) { core->succeeded(i, std::move(v)); }, onFailure);
    }
  }
  return out;
}

/// race over `{d1, d2, ...}`.
template <class T>
Deferred<RaceResultT<T>> race(std::initializer_list<Deferred<T>> ds) {
  return race(std::vector<Deferred<T>>(ds));
}

}  // namespace coil
