// TimerQueue: DelayedCalls in a small near heap fed by a bucketed wheel and a far heap, behind
// task::Clock and the reactors (the wheel's own code is in TimerWheel.cpp).
// Tests: test/core/task/TimerQueueTest.cpp, test/core/task/TimerWheelTest.cpp,
// test/core/task/ClockTest.cpp
#include <coil/core/detail/TimerQueue.hpp>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace coil::detail {

namespace {

// Heap indices from which popTop() prefetches: the levels above stay in the caches.
constexpr std::size_t kPrefetchFrom = 1024;

// Entries of a heap's or slot's first storage (the first kRoot unused).
constexpr std::size_t kInitialCapacity = 64;

}  // namespace

std::string formatSeconds(double seconds) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, seconds);
  return std::string(buffer, result.ptr);
}

void checkSeconds(std::string_view who, std::string_view what, double value) {
  if (value >= 0) return;
  std::string message(who);
  message += ": ";
  message += what;
  message += " must be a non-negative number of seconds, got ";
  message += formatSeconds(value);
  throw std::invalid_argument(message);
}

TimerQueue::TimerQueue(std::function<double()> seconds) : seconds_(std::move(seconds)) {
  if (!seconds_) throw std::invalid_argument("TimerQueue: an empty seconds() function");
}

TimerQueue::~TimerQueue() {
  detachAll();
}

void TimerQueue::detachAll() noexcept {
  // Functions released here may schedule more calls from their destructors: repeat until empty.
  while (heapSize() != 0) {
    Heap near;
    Heap far;
    near.swap(near_);
    far.swap(far_);
    std::unique_ptr<Heap[]> slots = std::move(slots_);
    std::vector<SideEntry> sides = std::move(side_);
    side_.clear();
    std::fill(std::begin(slotWords_), std::end(slotWords_), 0);
    slotSummary_ = 0;
    wheelSize_ = 0;
    live_ = 0;
    stale_ = 0;
    laterCount_ = 0;
    auto forEach = [&](auto&& f) {
      for (std::size_t i = kRoot; i < near.size(); ++i) f(near[i].call);
      for (std::size_t i = kRoot; i < far.size(); ++i) f(far[i].call);
      if (slots)
        for (std::size_t s = 0; s < kWheelSlots; ++s)
          for (std::size_t i = kRoot; i < slots[s].size(); ++i) f(slots[s][i].call);
      for (SideEntry& e : sides) f(e.call);
    };
    // First make every pending call inactive, so that nothing reaches this queue through them...
    forEach([](DelayedCall* c) {
      if (c->active()) c->state_ = DelayedCall::State::cancelled;
    });
    // ...then release their functions (the entries' references keep the calls alive)...
    forEach([](DelayedCall* c) { c->func_.reset(); });
    // ...and the references, with the queue consistent (and empty).
    forEach([](DelayedCall* c) { unref(c); });
  }
}

DelayedCallPtr TimerQueue::schedule(double time, DelayedFunction&& f) {
  if (std::isnan(time)) throw std::invalid_argument("TimerQueue.schedule: NaN time");
  if (!f) throw std::invalid_argument("TimerQueue.schedule: an empty function");
  const std::int64_t bucket = bucketOf(time);
  // With nothing near, the cursor may go anywhere: put the window at the clock, where calls come.
  if ((bucket <= cursor_ || bucket > cursor_ + kWindow) && frontEmpty())
    cursor_ = bucketOf(seconds_());
  // Make room first (may throw): nothing has changed yet.
  Heap* heap;
  Heap* slot = nullptr;
  if (bucket <= cursor_) {
    heap = &near_;
    if (near_.size() == near_.capacity()) grow(near_);
  } else if (bucket <= cursor_ + kWindow) {
    slot = &slotFor(bucket);
    heap = nullptr;
  } else {
    heap = &far_;
    reserveFar(laterCount_ + 1);
  }
  DelayedCall* call = DelayedCall::create(this, std::move(f), time, nextSeq_++);
  call->addRef();  // the entry's
  if (slot) {
    slot->push_back(Entry{time, call});  // cannot reallocate (reserved)
    markSlot(slotIndex(bucket));
    ++wheelSize_;
    setSlotPos(*call, slot->size() - 1);
  } else {
    pushNew(*heap, Entry{time, call});
  }
  ++live_;
  return DelayedCallPtr(call);
}

void TimerQueue::reserveFar(std::size_t spare) {
  while (far_.size() < kRoot || far_.capacity() - far_.size() < spare) grow(far_);
}

std::optional<double> TimerQueue::nextTime() {
  if (idle()) return std::nullopt;
  bool inFar;
  const Entry* main = settleMain(inFar);
  const SideEntry* side = side_.empty() ? nullptr : settleSide();
  if (main && side) return std::min(main->time, side->time);
  if (main) return main->time;
  if (side) return side->time;
  return std::nullopt;
}

TimerQueue::DueCall TimerQueue::popDue(double now, std::uint64_t before) {
  if (idle()) return {};
  if (far_.size() > kRoot && frontEmpty()) catchUp(bucketOf(now));
  bool inFar;
  const Entry* main = settleMain(inFar);
  const SideEntry* side = side_.empty() ? nullptr : settleSide();
  DelayedCall* call;
  if (side && (!main || sideLess(*side, SideEntry{main->time, main->call->mainSeq_, nullptr}))) {
    if (!(side->time <= now) || side->seq >= before) return {};
    call = side->call;
    popSide();
  } else if (main) {
    if (!(main->time <= now) || main->call->mainSeq_ >= before) return {};
    call = main->call;
    if (inFar) {
      popTop(far_);
    } else {
      popTop(near_);
      // The calls that surface next are wanted soon: start loading them while this one runs
      // (the new root, and its smallest child, which will follow it).
      const std::size_t n = near_.size();
      if (n > kRoot) {
        const Entry* h = near_.data();
        prefetchCall(h[kRoot].call);
        std::size_t best = kRoot + 1;
        if (best < n) {
          for (std::size_t c = best + 1; c < n && c <= kRoot + kArity; ++c)
            if (h[c].time < h[best].time) best = c;
          prefetchCall(h[best].call);
        }
      }
    }
  } else {
    return {};
  }
  --live_;
  call->state_ = DelayedCall::State::called;
  return DueCall(call);  // takes the entry's reference
}

template <class F>
void TimerQueue::forEachMainEntry(F&& f) const {
  for (std::size_t i = kRoot; i < near_.size(); ++i) f(near_[i]);
  if (slotSummary_ != 0)
    for (std::size_t s = 0; s < kWheelSlots; ++s)
      for (std::size_t i = kRoot; i < slots_[s].size(); ++i) f(slots_[s][i]);
  for (std::size_t i = kRoot; i < far_.size(); ++i) f(far_[i]);
}

std::vector<DelayedCallPtr> TimerQueue::pending() const {
  std::vector<DelayedCall*> calls;
  calls.reserve(live_);
  forEachMainEntry([&calls](const Entry& e) {
    DelayedCall* c = e.call;
    if (c->state_ == DelayedCall::State::main || c->state_ == DelayedCall::State::mainLater)
      calls.push_back(c);
  });
  for (const SideEntry& e : side_)
    if (e.call->state_ == DelayedCall::State::side && e.seq == e.call->seq_)
      calls.push_back(e.call);
  std::sort(calls.begin(), calls.end(), [](const DelayedCall* a, const DelayedCall* b) {
    return a->time_ < b->time_ || (a->time_ == b->time_ && a->seq_ < b->seq_);
  });
  std::vector<DelayedCallPtr> out;
  out.reserve(calls.size());
  for (DelayedCall* c : calls) out.emplace_back(c);
  return out;
}

void TimerQueue::cancelled(DelayedCall& call) noexcept {
  assert(call.active());
  if (call.state_ == DelayedCall::State::mainLater) --laterCount_;
  const bool unlinked = call.state_ == DelayedCall::State::main && unlinkFromWheel(call);
  call.state_ = DelayedCall::State::cancelled;
  --live_;
  if (unlinked) return;  // no stale entry left behind
  ++stale_;
  maybeCompact();
}

void TimerQueue::reschedule(DelayedCall& call, double time) {
  assert(call.active());
  std::uint64_t seq = nextSeq_;
  if (call.state_ == DelayedCall::State::side) {
    // A fresh side entry (pushed first: if that throws, nothing changed); the old one goes stale.
    pushSide(time, seq, call);
    ++stale_;
  } else if (time < call.time_) {
    // Earlier (than the call, so perhaps than its main entry, whose time is <= time_): a side
    // entry, and the main one goes stale.
    pushSide(time, seq, call);
    if (call.state_ == DelayedCall::State::mainLater) --laterCount_;
    if (call.state_ != DelayedCall::State::main || !unlinkFromWheel(call)) ++stale_;
    call.state_ = DelayedCall::State::side;
  } else if (call.state_ == DelayedCall::State::main) {
    // Later (or equal: the new sequence number sorts after the entry's) only updates the call;
    // its entry, whose key stays <= the call's, is re-keyed when it surfaces: never early. Its
    // entry may then have to move to the far heap: make room for that now (may throw: first).
    reserveFar(laterCount_ + 1);
    ++laterCount_;
    call.state_ = DelayedCall::State::mainLater;
  }
  ++nextSeq_;
  call.time_ = time;
  call.seq_ = seq;
  maybeCompact();
}

void TimerQueue::pushSide(double time, std::uint64_t seq, DelayedCall& call) {
  side_.push_back(SideEntry{time, seq, &call});
  std::push_heap(side_.begin(), side_.end(),
                 [](const SideEntry& a, const SideEntry& b) { return sideLess(b, a); });
  call.addRef();
}

void TimerQueue::popSide() noexcept {
  std::pop_heap(side_.begin(), side_.end(),
                [](const SideEntry& a, const SideEntry& b) { return sideLess(b, a); });
  side_.pop_back();
}

void TimerQueue::rekey(DelayedCall& call) noexcept {
  assert(call.state_ == DelayedCall::State::mainLater);
  call.mainSeq_ = call.seq_;
  call.state_ = DelayedCall::State::main;
  --laterCount_;
}

const TimerQueue::Entry* TimerQueue::settleMain(bool& inFar) noexcept {
  for (;;) {
    const Entry* near = settleNear();
    const Entry* far = far_.size() > kRoot ? settleFar() : nullptr;
    if (!near && slotSummary_ != 0) {
      // Every wheel entry is later than the near ones: only now is the next slot needed.
      const std::int64_t first = firstSlotBucket();
      if (!far || bucketOf(far->time) >= first) {
        loadSlot(first);
        continue;
      }
    }
    inFar = far && (!near || less(*far, *near));
    return inFar ? far : near;
  }
}

const TimerQueue::Entry* TimerQueue::settleNear() noexcept {
  while (near_.size() > kRoot) {
    Entry& top = near_[kRoot];
    DelayedCall* call = top.call;
    switch (call->state_) {
      case DelayedCall::State::main:
        return &top;
      case DelayedCall::State::mainLater:
        rekey(*call);
        if (bucketOf(call->time_) <= cursor_) {  // the key only grows: sink
          top.time = call->time_;
          siftDown(near_, kRoot);
        } else {  // past the cursor: to its slot or the far heap
          popTop(near_);
          place(Entry{call->time_, call});
        }
        break;
      default:  // cancelled, or moved to the side heap: stale
        popTop(near_);
        --stale_;
        unref(call);  // runs no user code: a stale call's function is gone or held elsewhere
        break;
    }
  }
  return nullptr;
}

const TimerQueue::Entry* TimerQueue::settleFar() noexcept {
  while (far_.size() > kRoot) {
    Entry& top = far_[kRoot];
    DelayedCall* call = top.call;
    switch (call->state_) {
      case DelayedCall::State::main:
        return &top;
      case DelayedCall::State::mainLater:  // the far heap takes any time: re-key and sink
        rekey(*call);
        top.time = call->time_;
        siftDown(far_, kRoot);
        break;
      default:
        popTop(far_);
        --stale_;
        unref(call);
        break;
    }
  }
  return nullptr;
}

const TimerQueue::SideEntry* TimerQueue::settleSide() noexcept {
  while (!side_.empty()) {
    const SideEntry& top = side_.front();
    DelayedCall* call = top.call;
    if (call->state_ == DelayedCall::State::side && top.seq == call->seq_) return &top;
    popSide();
    --stale_;
    unref(call);
  }
  return nullptr;
}

std::size_t TimerQueue::filter(Entry* h, std::size_t begin, std::size_t end, std::int64_t rekeyUpTo,
                               bool inSlot) noexcept {
  // Dropping a stale entry runs no user code: its call was cancelled (function already released)
  // or moved to the side heap (still referenced from there).
  constexpr std::size_t kAhead = 16;  // the calls are scattered: load them ahead of use
  std::size_t kept = begin;
  for (std::size_t i = begin; i < end; ++i) {
    if (i + kAhead < end) __builtin_prefetch(h[i + kAhead].call);
    Entry e = h[i];
    DelayedCall* call = e.call;
    if (call->state_ == DelayedCall::State::mainLater) {
      // Re-key it while we are here, if it may stay where it is.
      if (bucketOf(call->time_) <= rekeyUpTo) {
        rekey(*call);
        e.time = call->time_;
      }
    } else if (call->state_ != DelayedCall::State::main) {
      unref(call);
      continue;
    }
    if (inSlot) setSlotPos(*call, kept);
    h[kept++] = e;
  }
  return kept;
}

void TimerQueue::compact() noexcept {
  if (near_.size() > kRoot) {
    near_.resize(filter(near_.data(), kRoot, near_.size(), cursor_, false));
    heapify(near_);
  }
  for (std::size_t word = 0; word < kSlotWords; ++word) {
    for (std::uint64_t bits = slotWords_[word]; bits != 0; bits &= bits - 1) {
      const std::size_t index = word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
      Heap& slot = slots_[index];
      const std::int64_t bucket =
          cursor_ + 1 + static_cast<std::int64_t>((index - slotIndex(cursor_ + 1)) & kSlotMask);
      const std::size_t kept = filter(slot.data(), kRoot, slot.size(), bucket, true);
      wheelSize_ -= slot.size() - kept;
      slot.resize(kept);
      if (kept == kRoot) unmarkSlot(index);
    }
  }
  if (far_.size() > kRoot) {
    far_.resize(filter(far_.data(), kRoot, far_.size(), kMaxBucket, false));
    heapify(far_);
  }
  std::size_t sideKept = 0;
  for (SideEntry& e : side_) {
    if (e.call->state_ == DelayedCall::State::side && e.seq == e.call->seq_)
      side_[sideKept++] = e;
    else
      unref(e.call);
  }
  side_.resize(sideKept);
  std::make_heap(side_.begin(), side_.end(),
                 [](const SideEntry& a, const SideEntry& b) { return sideLess(b, a); });
  stale_ = 0;
}

// 4-ary heap primitives, on the near and far heaps alike.

void TimerQueue::grow(Heap& h) {
  // Double; once past a large page, fill whole large pages.
  std::size_t capacity = std::max(h.capacity() * 2, kInitialCapacity);
  if (capacity * sizeof(Entry) >= kLargePage)
    capacity =
        (capacity * sizeof(Entry) + kLargePage - 1) / kLargePage * kLargePage / sizeof(Entry);
  h.reserve(capacity);
  if (h.size() < kRoot) h.resize(kRoot);
}

void TimerQueue::pushNew(Heap& h, const Entry& e) noexcept {
  // Sift up by time alone: a new call's sequence number is the largest, so it goes after equal
  // times.
  std::size_t i = h.size();
  h.push_back(e);  // cannot reallocate (reserved)
  Entry* a = h.data();
  while (i > kRoot) {
    std::size_t parent = (i - kRoot - 1) / kArity + kRoot;
    if (!(e.time < a[parent].time)) break;
    a[i] = a[parent];
    i = parent;
  }
  a[i] = e;
}

void TimerQueue::popTop(Heap& heap) noexcept {
  // Floyd's pop: walk the hole down to a leaf along the smaller children (the last entry nearly
  // always belongs near the bottom), then let the last entry rise from there.
  assert(heap.size() > kRoot);
  const Entry last = heap.back();
  heap.pop_back();
  const std::size_t n = heap.size();
  if (n == kRoot) return;
  Entry* h = heap.data();
  std::size_t i = kRoot;
  for (;;) {
    std::size_t first = kArity * (i - kRoot) + kRoot + 1;
    if (first >= n) break;
    // The walk is a chain of cache misses near the bottom of a big heap: load the four groups
    // one of which the next step reads while this step compares.
    std::size_t grand = kArity * (first - kRoot) + kRoot + 1;
    if (grand < n && grand >= kPrefetchFrom)
      for (std::size_t k = 0; k < kArity; ++k) __builtin_prefetch(h + grand + k * kArity);
    std::size_t best = first;
    if (first + kArity <= n) {
      if (less(h[first + 1], h[best])) best = first + 1;
      if (less(h[first + 2], h[best])) best = first + 2;
      if (less(h[first + 3], h[best])) best = first + 3;
    } else {
      for (std::size_t c = first + 1; c < n; ++c)
        if (less(h[c], h[best])) best = c;
    }
    h[i] = h[best];
    i = best;
  }
  h[i] = last;
  siftUp(heap, i);
}

void TimerQueue::siftUp(Heap& heap, std::size_t i) noexcept {
  Entry* h = heap.data();
  const Entry moving = h[i];
  while (i > kRoot) {
    std::size_t parent = (i - kRoot - 1) / kArity + kRoot;
    if (!less(moving, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = moving;
}

void TimerQueue::siftDown(Heap& heap, std::size_t i) noexcept {
  Entry* h = heap.data();
  const std::size_t n = heap.size();
  const Entry moving = h[i];
  for (;;) {
    std::size_t first = kArity * (i - kRoot) + kRoot + 1;
    if (first >= n) break;
    std::size_t end = std::min(first + kArity, n);
    std::size_t best = first;
    for (std::size_t c = first + 1; c < end; ++c)
      if (less(h[c], h[best])) best = c;
    if (!less(h[best], moving)) break;
    h[i] = h[best];
    i = best;
  }
  h[i] = moving;
}

void TimerQueue::heapify(Heap& heap) noexcept {
  const std::size_t n = heap.size();
  if (n > kRoot + 1)
    for (std::size_t i = (n - 1 - kRoot - 1) / kArity + kRoot + 1; i-- > kRoot;) siftDown(heap, i);
}

}  // namespace coil::detail
