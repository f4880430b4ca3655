#pragma once
/// @file DeferredState: the untyped chain behind every Deferred<T> view (private to core).
///
/// One DeferredState is one Twisted Deferred: a result slot (value, failure or "waiting on another
/// Deferred"), a FIFO of steps, pause count, flags and an optional canceller. Typed views
/// (Deferred<T>) add steps that know their argument type; the loop that runs them lives in
/// DeferredState.cpp and is written once. Reference counts are plain integers: Deferreds belong
/// to one thread (the reactor's), like everything else registered with a reactor.

#include <coil/core/Failure.hpp>
#include <coil/core/detail/ValueBox.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace coil::detail {

class DeferredState;

/// Intrusive strong reference to a DeferredState (non-atomic).
class StateRef {
 public:
  /// Null.
  StateRef() noexcept = default;
  /// Adopts one strong count already taken on `s`.
  static StateRef adopt(DeferredState* s) noexcept {
    StateRef r;
    r.p_ = s;
    return r;
  }
  /// Takes a new strong count on `s` (may be null).
  explicit StateRef(DeferredState* s) noexcept;
  /// Shares.
  StateRef(const StateRef& o) noexcept : StateRef(o.p_) {}
  /// Moves.
  StateRef(StateRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  /// Shares.
  StateRef& operator=(const StateRef& o) noexcept {
    StateRef(o).swap(*this);
    return *this;
  }
  /// Moves.
  StateRef& operator=(StateRef&& o) noexcept {
    StateRef(std::move(o)).swap(*this);
    return *this;
  }
  /// Releases the count.
  ~StateRef();
  /// Swaps.
  void swap(StateRef& o) noexcept { std::swap(p_, o.p_); }
  /// The state.
  DeferredState* get() const noexcept { return p_; }
  /// The state.
  DeferredState* operator->() const noexcept { return p_; }
  /// The state.
  DeferredState& operator*() const noexcept { return *p_; }
  /// Non-null.
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// Identity.
  friend bool operator==(const StateRef& a, const StateRef& b) noexcept { return a.p_ == b.p_; }

 private:
  DeferredState* p_ = nullptr;
};

/// Intrusive weak reference to a DeferredState.
class WeakStateRef {
 public:
  /// Null.
  WeakStateRef() noexcept = default;
  /// Observes `s` (may be null).
  explicit WeakStateRef(DeferredState* s) noexcept;
  /// Shares.
  WeakStateRef(const WeakStateRef& o) noexcept : WeakStateRef(o.p_) {}
  /// Moves.
  WeakStateRef(WeakStateRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  /// Shares.
  WeakStateRef& operator=(WeakStateRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  /// Releases.
  ~WeakStateRef();
  /// A strong reference, or null when the state is gone.
  StateRef lock() const noexcept;
  /// Forgets the state.
  void reset() noexcept { WeakStateRef().swap(*this); }
  /// Swaps.
  void swap(WeakStateRef& o) noexcept { std::swap(p_, o.p_); }

 private:
  DeferredState* p_ = nullptr;
};

/// One entry of a chain: a typed callback/errback pair, or a continuation that hands the result
/// to a Deferred waiting on this one.
struct Step {
  /// Runs the step against `state`'s current result. Null for a continuation.
  void (*invoke)(ValueBox& fn, DeferredState& state) = nullptr;
  /// The callable (or, for a continuation, the StateRef of the waiting Deferred).
  ValueBox fn;
};

/// A FIFO of steps with the first kInline stored inside the Deferred (no allocation for short
/// chains). Steps are consumed from the front; the queue empties itself when all have run.
class StepQueue {
 public:
  /// Steps stored without allocating.
  static constexpr std::size_t kInline = 4;
  /// True when no unconsumed step is left.
  bool empty() const noexcept { return head_ == size_; }
  /// Appends a step.
  void push(Step step) { emplaceBack() = std::move(step); }
  /// Appends an empty step (invoke == nullptr) for the caller to fill in place.
  Step& emplaceBack() {
    Step* step = size_ < kInline ? &inline_[size_] : &overflow_.emplace_back();
    step->invoke = nullptr;
    ++size_;
    return *step;
  }
  /// Removes the step emplaceBack() just returned (filling it failed).
  void dropBack() noexcept {
    --size_;
    if (size_ < kInline) {
      inline_[size_].fn.reset();
    } else {
      overflow_.pop_back();
    }
  }
  /// The first unconsumed step when it is stored inline (its address is stable while steps are
  /// appended, so it may run in place); nullptr when it lives in the overflow vector.
  Step* frontIfInline() noexcept { return head_ < kInline ? &inline_[head_] : nullptr; }
  /// Destroys the first unconsumed step in place.
  void popFront() noexcept {
    std::size_t i = head_++;
    (i < kInline ? inline_[i] : overflow_[i - kInline]).fn.reset();
    if (head_ == size_) clear();
  }
  /// Removes and returns the first unconsumed step.
  Step pop() noexcept {
    std::size_t i = head_++;
    Step out = std::move(i < kInline ? inline_[i] : overflow_[i - kInline]);
    if (head_ == size_) clear();
    return out;
  }
  /// Destroys every step.
  void clear() noexcept {
    for (std::size_t i = 0; i < kInline && i < size_; ++i) inline_[i].fn.reset();
    overflow_.clear();
    head_ = size_ = 0;
  }

 private:
  Step inline_[kInline];
  std::vector<Step> overflow_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

/// What the result slot holds.
enum class SlotKind : std::uint8_t {
  kEmpty,     ///< not fired yet
  kValue,     ///< a value (Unit for void)
  kFailure,   ///< a Failure
  kReturned,  ///< a step just returned a Deferred; the run loop decides what to do with it
  kWaiting,   ///< paused, waiting for the Deferred in chainedTo
};

/// The untyped Deferred. Thread: the owning (reactor) thread only.
class DeferredState {
 public:
  /// A canceller: called with the state being cancelled.
  using Canceller = void (*)(ValueBox& fn, DeferredState& state);

  /// A fresh, unfired Deferred whose input and current type are `tag`; count 1 (adopt it).
  static DeferredState* create(const void* tag);

  DeferredState(const DeferredState&) = delete;
  DeferredState& operator=(const DeferredState&) = delete;

  // ---- reference counting
  //
  // While this Deferred waits on another one X (a callback returned X, or its coroutine is
  // suspended on X), X holds `backRefs_` strong references back to it (the continuation, or the
  // coroutine frame). As long as anything *else* refers to this Deferred, it holds X strongly too
  // (chainHold_ / awaitHold_), so that cancel() can reach X even when nobody else keeps X
  // (Twisted's `current.result = B` / inlineCallbacks' `waitingOn`). When only X's back references
  // remain, the hold is dropped: nobody can cancel this Deferred any more, so X lives only as long
  // as its producer keeps it, and a forgotten X frees the whole waiting chain instead of leaking a
  // cycle.

  /// +1 strong.
  void retain() noexcept {
    if (++strong_ == backRefs_ + 1 && backRefs_ != 0) holdWaitTargets();
  }
  /// -1 strong; disposes at zero.
  void release() noexcept {
    if (--strong_ == 0) {
      dispose();
    } else if (strong_ == backRefs_) {
      dropWaitHolds();
    }
  }
  /// +1 weak.
  void retainWeak() noexcept { ++weak_; }
  /// -1 weak; frees the memory when both counts are zero.
  void releaseWeak() noexcept {
    if (--weak_ == 0 && strong_ == 0) delete this;
  }
  /// True once the last strong reference is gone.
  bool expired() const noexcept { return strong_ == 0; }

  // ---- building the chain
  /// Appends an empty step to fill in place; finish with stepAdded() or cancelNewStep().
  Step& newStep() { return steps_.emplaceBack(); }
  /// Undoes newStep() when filling the step threw.
  void cancelNewStep() noexcept { steps_.dropBack(); }
  /// Runs the step newStep() added at once if the Deferred has a result and is not paused.
  void stepAdded() {
    if (called_) runCallbacks();
  }
  /// Appends a step; runs it at once if the Deferred has a result and is not paused.
  void addStep(Step step);
  /// Checks that a view of type `tag` may add a step (throws DeferredTypeError otherwise).
  void checkCurrentType(const void* tag) const;
  /// Sets the type the chain carries after the steps added so far.
  void setCurrentType(const void* tag) noexcept { currentType_ = tag; }
  /// Sets the canceller (one callable, stored inline when small).
  void setCanceller(Canceller fn, ValueBox storage) {
    canceller_ = fn;
    cancellerFn_ = std::move(storage);
  }

  // ---- firing
  /// callback() through a view of type `tag`: stores a V built from `args` and runs the chain.
  /// Throws AlreadyCalledError if already fired, except the one call swallowed after a cancel.
  template <class V, class... A>
  void fireWith(const void* tag, A&&... args) {
    if (prepareCallback(tag)) {
      value_.emplace<V>(std::forward<A>(args)...);
      fireValue();
    }
  }
  /// Fires the chain with a failure (checks AlreadyCalled, honours the swallow-one rule).
  void fireFailure(Failure f);
  /// pause(): counted.
  void pause() noexcept { ++paused_; }
  /// unpause(): counted; runs the chain when the count reaches zero and a result is present.
  /// Never releases the wait on an inner Deferred (that pause is not counted here), and an
  /// unpause() without a matching pause() does nothing.
  void unpause();
  /// cancel(), with Twisted's rules.
  void cancel();

  // ---- inspection
  /// True once callback/errback was called (including "waiting on another Deferred").
  bool called() const noexcept { return called_; }
  /// Pause count: pause() calls not yet undone, plus one while waiting on another Deferred.
  unsigned pausedCount() const noexcept {
    return paused_ + (kind_ == SlotKind::kWaiting ? 1u : 0u);
  }
  /// What the result slot holds.
  SlotKind kind() const noexcept { return kind_; }
  /// The failure, when kind() is kFailure.
  Failure& failure() noexcept { return *failure_; }
  /// True when the Deferred has a final result that a new step would see at once.
  bool hasFinalResult() const noexcept {
    // kWaiting is excluded by the kind test: waiting on another Deferred is a pause of its own.
    return called_ && paused_ == 0 && !running_ &&
           (kind_ == SlotKind::kValue || kind_ == SlotKind::kFailure) && steps_.empty();
  }
  /// Takes the final result away (value into `out` or the failure), leaving Unit behind and
  /// turning the chain's type into void, as Twisted sets a consumed Deferred's result to None.
  /// Returns the failure if there was one.
  std::optional<Failure> consumeResult(ValueBox& out);

  // ---- used by typed steps while running
  /// Takes the current result away as consumeResult() does, but leaves the chain's type alone:
  /// for a step that already set the type when it was added (steps added after it may have
  /// changed it since).
  std::optional<Failure> takeResult(ValueBox& out);
  /// The value slot, for a step to read and to fill before setValueKind().
  ValueBox& valueSlot() noexcept { return value_; }
  /// Marks the slot as holding the value a step emplaced into valueSlot().
  void setValueKind() noexcept {
    failure_.reset();
    kind_ = SlotKind::kValue;
  }
  /// Stores a failure result.
  void setFailure(Failure f) {
    value_.reset();
    failure_.emplace(std::move(f));
    kind_ = SlotKind::kFailure;
  }
  /// Stores "a step returned this Deferred".
  void setReturned(StateRef other) {
    value_.reset();
    returned_ = std::move(other);
    kind_ = SlotKind::kReturned;
  }

  // ---- coroutine support
  /// Marks this Deferred as a coroutine's: cancel() cancels what it awaits instead of failing it.
  void setCoroutine() noexcept { coroutine_ = true; }
  /// The coroutine is about to suspend on `awaited`, whose resuming step owns the frame (which
  /// holds one reference to this Deferred).
  void beginAwait(DeferredState* awaited) noexcept;
  /// The coroutine no longer waits (it was resumed, or its frame is being destroyed).
  void endAwait() noexcept;

 private:
  explicit DeferredState(const void* tag) noexcept : inputType_(tag), currentType_(tag) {}
  ~DeferredState() = default;
  bool prepareCallback(const void* tag);
  void fireValue();
  void dispose() noexcept;
  void destroyContents() noexcept;
  void releaseCanceller() noexcept;
  void holdWaitTargets() noexcept;
  void dropWaitHolds() noexcept;
  void endChainWait() noexcept;
  void runCallbacks();
  bool takeReturned();
  void passResultTo(DeferredState& waiter);

  std::uint32_t strong_ = 1;
  std::uint32_t weak_ = 0;
  unsigned paused_ = 0;  // pause() calls only; waiting on another Deferred is kind_ == kWaiting
  SlotKind kind_ = SlotKind::kEmpty;
  bool called_ = false;
  bool running_ = false;
  bool suppressAlreadyCalled_ = false;
  bool coroutine_ = false;
  bool suspendedOnAwait_ = false;
  std::uint32_t backRefs_ = 0;  // strong references held back to this by what it waits on
  const void* inputType_;
  const void* currentType_;

  ValueBox value_;
  std::optional<Failure> failure_;
  StateRef returned_;
  WeakStateRef chainedTo_;  // the Deferred this one waits on (kWaiting)
  WeakStateRef awaiting_;   // the Deferred this coroutine is suspended on
  StateRef chainHold_;      // chainedTo_, held while others refer to this Deferred
  StateRef awaitHold_;      // awaiting_, held while others refer to this Deferred

  StepQueue steps_;

  Canceller canceller_ = nullptr;
  ValueBox cancellerFn_;

  DeferredState* nextDisposal_ = nullptr;  // link in this thread's list of pending disposals
};

inline StateRef::StateRef(DeferredState* s) noexcept : p_(s) {
  if (p_) p_->retain();
}
inline StateRef::~StateRef() {
  if (p_) p_->release();
}
inline WeakStateRef::WeakStateRef(DeferredState* s) noexcept : p_(s) {
  if (p_) p_->retainWeak();
}
inline WeakStateRef::~WeakStateRef() {
  if (p_) p_->releaseWeak();
}
inline StateRef WeakStateRef::lock() const noexcept {
  return (p_ && !p_->expired()) ? StateRef(p_) : StateRef();
}

}  // namespace coil::detail
