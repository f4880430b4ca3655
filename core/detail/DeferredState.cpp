// DeferredState: Twisted's _runCallbacks, iterative over chains of Deferreds, written once.
// Tests: test/core/deferred/DeferredTest.cpp
#include <coil/core/detail/DeferredState.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>

namespace coil::detail {

namespace {

/// The Deferreds being run by one runCallbacks() call: the one it started with, and those whose
/// results arrived through continuations. Short stacks stay inline.
class ChainStack {
 public:
  bool empty() const noexcept { return size_ == 0; }
  DeferredState& back() noexcept { return *at(size_ - 1); }
  void push(StateRef s) {
    if (size_ < kInline) {
      inline_[size_] = std::move(s);
    } else {
      more_.push_back(std::move(s));
    }
    ++size_;
  }
  void pop() noexcept {
    --size_;
    if (size_ < kInline) {
      inline_[size_] = StateRef();
    } else {
      more_.pop_back();
    }
  }

 private:
  static constexpr std::size_t kInline = 4;
  StateRef& at(std::size_t i) noexcept { return i < kInline ? inline_[i] : more_[i - kInline]; }
  StateRef inline_[kInline];
  std::vector<StateRef> more_;
  std::size_t size_ = 0;
};

// Disposal runs user destructors (captured state, coroutine frames), which may release the last
// reference to further Deferreds: a chain of 100,000 Deferreds each waiting on the next would
// recurse once per link. So a disposal that starts while another is running on this thread is
// queued (intrusively, no allocation) and run by the outermost one, iteratively.
thread_local bool tDisposing = false;
thread_local DeferredState* tPendingDisposals = nullptr;

}  // namespace

DeferredState* DeferredState::create(const void* tag) {
  return new DeferredState(tag);
}

void DeferredState::dispose() noexcept {
  ++weak_;  // keep the memory while user destructors run; released below
  if (tDisposing) {
    nextDisposal_ = tPendingDisposals;
    tPendingDisposals = this;
    return;
  }
  tDisposing = true;
  DeferredState* s = this;
  while (s != nullptr) {
    s->destroyContents();
    DeferredState* done = s;
    s = tPendingDisposals;
    if (s != nullptr) tPendingDisposals = s->nextDisposal_;
    done->releaseWeak();
  }
  tDisposing = false;
}

void DeferredState::destroyContents() noexcept {
  if (kind_ == SlotKind::kFailure && failure_) {
    log::failure("Unhandled error in Deferred:", *failure_, "coil.deferred");
  }
  steps_.clear();
  value_.reset();
  failure_.reset();
  returned_ = StateRef();
  chainHold_ = StateRef();
  awaitHold_ = StateRef();
  chainedTo_.reset();
  awaiting_.reset();
  releaseCanceller();
}

void DeferredState::holdWaitTargets() noexcept {
  if (kind_ == SlotKind::kWaiting && !chainHold_) chainHold_ = chainedTo_.lock();
  if (suspendedOnAwait_ && !awaitHold_) awaitHold_ = awaiting_.lock();
}

void DeferredState::dropWaitHolds() noexcept {
  // Releasing a target may free it, the back references with it, and then this Deferred: touch
  // no member after the locals go.
  StateRef chain = std::move(chainHold_);
  StateRef await = std::move(awaitHold_);
}

void DeferredState::endChainWait() noexcept {
  --backRefs_;
  chainedTo_.reset();
  StateRef hold = std::move(chainHold_);
}

void DeferredState::beginAwait(DeferredState* awaited) noexcept {
  awaiting_ = WeakStateRef(awaited);
  suspendedOnAwait_ = true;
  ++backRefs_;
  if (strong_ > backRefs_) awaitHold_ = StateRef(awaited);
}

void DeferredState::endAwait() noexcept {
  if (!suspendedOnAwait_) return;
  suspendedOnAwait_ = false;
  --backRefs_;
  awaiting_.reset();
  StateRef hold = std::move(awaitHold_);
}

void DeferredState::releaseCanceller() noexcept {
  // Twisted drops the canceller once the Deferred is called, which breaks the common cycle of a
  // canceller that captures its own Deferred. Moved out first: its destructor may run user code.
  canceller_ = nullptr;
  ValueBox dead = std::move(cancellerFn_);
}

void DeferredState::checkCurrentType(const void* tag) const {
  if (tag != currentType_) {
    throw DeferredTypeError(
        "the chain's current result type differs from the view's; use the Deferred returned by "
        "the last addCallback");
  }
}

void DeferredState::addStep(Step step) {
  steps_.push(std::move(step));
  stepAdded();
}

bool DeferredState::prepareCallback(const void* tag) {
  if (tag != inputType_) {
    throw DeferredTypeError("callback() through a view whose type is not the chain's input type");
  }
  if (called_) {
    if (suppressAlreadyCalled_) {
      suppressAlreadyCalled_ = false;
      return false;
    }
    throw AlreadyCalledError();
  }
  return true;
}

void DeferredState::fireValue() {
  called_ = true;
  kind_ = SlotKind::kValue;
  releaseCanceller();
  runCallbacks();
}

void DeferredState::fireFailure(Failure f) {
  if (called_) {
    if (suppressAlreadyCalled_) {
      suppressAlreadyCalled_ = false;
      return;
    }
    throw AlreadyCalledError();
  }
  called_ = true;
  setFailure(std::move(f));
  releaseCanceller();
  runCallbacks();
}

void DeferredState::unpause() {
  if (paused_ == 0) return;
  if (--paused_ == 0 && called_) runCallbacks();
}

void DeferredState::cancel() {
  StateRef keep(this);
  if (!called_) {
    if (coroutine_) {
      // The coroutine owns its result: cancelling what it awaits throws CancelledError into it,
      // and it decides (Twisted's inlineCallbacks cancellation).
      if (StateRef awaited = awaiting_.lock()) {
        awaited->cancel();
        return;
      }
    }
    if (canceller_) {
      // Taken out before the call: the canceller usually fires this Deferred, which releases
      // the canceller, and it must not be destroyed while it runs.
      Canceller fn = std::exchange(canceller_, nullptr);
      ValueBox storage = std::move(cancellerFn_);
      fn(storage, *this);
    } else {
      suppressAlreadyCalled_ = true;
    }
    if (!called_) fireFailure(Failure(CancelledError()));
  } else if (kind_ == SlotKind::kWaiting) {
    if (StateRef inner = chainedTo_.lock()) inner->cancel();
  }
}

std::optional<Failure> DeferredState::takeResult(ValueBox& out) {
  std::optional<Failure> f;
  if (kind_ == SlotKind::kFailure) {
    f = std::move(failure_);
    failure_.reset();
  } else {
    out = std::move(value_);
  }
  value_.emplace<Unit>();
  kind_ = SlotKind::kValue;
  return f;
}

std::optional<Failure> DeferredState::consumeResult(ValueBox& out) {
  currentType_ = typeTag<void>();
  return takeResult(out);
}

void DeferredState::passResultTo(DeferredState& waiter) {
  // Twisted: chainee.result = current.result; current.result = None.
  // The chain's type is left alone: steps added after the continuation set it.
  if (std::optional<Failure> f = takeResult(waiter.value_)) {
    waiter.setFailure(std::move(*f));
  } else {
    waiter.setValueKind();
  }
}

// A step returned a Deferred B (in returned_). Take B's result if it has a final one and return
// true; otherwise pause this Deferred until B's chain completes and return false.
bool DeferredState::takeReturned() {
  StateRef inner = std::move(returned_);
  if (inner.get() == this) {
    setFailure(Failure(DeferredTypeError("a callback returned the Deferred it belongs to")));
    return true;
  }
  if (inner->hasFinalResult()) {
    inner->passResultTo(*this);
    inner->currentType_ = typeTag<void>();
    return true;
  }
  Step continuation;
  continuation.fn.emplace<StateRef>(this);
  inner->steps_.push(std::move(continuation));
  inner->currentType_ = typeTag<void>();
  kind_ = SlotKind::kWaiting;  // a pause of its own, ended only by the continuation
  chainedTo_ = WeakStateRef(inner.get());
  ++backRefs_;  // the continuation
  if (strong_ > backRefs_) chainHold_ = std::move(inner);
  return false;
}

void DeferredState::runCallbacks() {
  if (running_) return;
  ChainStack chain;
  chain.push(StateRef(this));
  while (!chain.empty()) {
    DeferredState& current = chain.back();
    if (current.paused_ != 0 || current.kind_ == SlotKind::kWaiting || current.running_) {
      chain.pop();
      continue;
    }
    bool finished = true;
    while (!current.steps_.empty()) {
      if (Step* front = current.steps_.frontIfInline(); front && front->invoke) {
        // Common case: run the step where it is stored, no move in or out.
        current.running_ = true;
        front->invoke(front->fn, current);  // typed steps catch everything
        current.running_ = false;
        current.steps_.popFront();
        if (current.kind_ == SlotKind::kReturned && !current.takeReturned()) break;
        continue;
      }
      Step step = current.steps_.pop();
      if (step.invoke == nullptr) {
        // A Deferred waits on this one: hand it our result and run it next.
        StateRef waiter = step.fn.take<StateRef>();
        current.passResultTo(*waiter);  // ends the waiter's kWaiting
        waiter->endChainWait();
        chain.push(std::move(waiter));
        finished = false;
        break;
      }
      current.running_ = true;
      step.invoke(step.fn, current);  // typed steps catch everything
      current.running_ = false;
      if (current.kind_ == SlotKind::kReturned && !current.takeReturned()) break;
    }
    if (finished) chain.pop();
  }
}

}  // namespace coil::detail
