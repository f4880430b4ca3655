// TimerQueue: the 4-ary heap of DelayedCalls with lazy deletion behind task::Clock and reactors.
// Tests: test/core/task/TimerQueueTest.cpp, test/core/task/ClockTest.cpp
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

// Heap indices from which popMain() prefetches: the levels above stay in the caches.
constexpr std::size_t kPrefetchFrom = 1024;

// Entries of a new queue's heap (the first kRoot unused).
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
  heap_.reserve(kInitialCapacity);
  heap_.resize(kRoot);
}

TimerQueue::~TimerQueue() {
  detachAll();
}

void TimerQueue::detachAll() noexcept {
  // Functions released here may schedule more calls from their destructors: repeat until empty.
  while (heapSize() != 0) {
    LargeArray<Entry> entries;
    entries.reserve(kInitialCapacity);
    entries.resize(kRoot);
    entries.swap(heap_);
    std::vector<SideEntry> sides = std::move(side_);
    side_.clear();
    live_ = 0;
    stale_ = 0;
    // First make every pending call inactive, so that nothing reaches this queue through them...
    for (std::size_t i = kRoot; i < entries.size(); ++i)
      if (entries[i].call->active()) entries[i].call->state_ = DelayedCall::State::cancelled;
    for (SideEntry& e : sides)
      if (e.call->active()) e.call->state_ = DelayedCall::State::cancelled;
    // ...then release their functions (the entries' references keep the calls alive)...
    for (std::size_t i = kRoot; i < entries.size(); ++i) entries[i].call->func_.reset();
    for (SideEntry& e : sides) e.call->func_.reset();
    // ...and the references, with the queue consistent (and empty).
    for (std::size_t i = kRoot; i < entries.size(); ++i) unref(entries[i].call);
    for (SideEntry& e : sides) unref(e.call);
  }
}

DelayedCallPtr TimerQueue::schedule(double time, DelayedFunction&& f) {
  if (std::isnan(time)) throw std::invalid_argument("TimerQueue.schedule: NaN time");
  if (!f) throw std::invalid_argument("TimerQueue.schedule: an empty function");
  if (heap_.size() == heap_.capacity()) grow();  // may throw: first
  DelayedCall* call = DelayedCall::create(this, std::move(f), time, nextSeq_++);
  call->addRef();  // the entry's
  // Sift up by time alone: the new sequence number is the largest, so it goes after equal times.
  std::size_t i = heap_.size();
  heap_.push_back(Entry{time, call});  // cannot reallocate (reserved)
  Entry* h = heap_.data();
  while (i > kRoot) {
    std::size_t parent = (i - kRoot - 1) / kArity + kRoot;
    if (!(time < h[parent].time)) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = Entry{time, call};
  ++live_;
  return DelayedCallPtr(call);
}

void TimerQueue::grow() {
  // Double; once past a large page, fill whole large pages.
  std::size_t capacity = heap_.capacity() * 2;
  if (capacity * sizeof(Entry) >= kLargePage)
    capacity =
        (capacity * sizeof(Entry) + kLargePage - 1) / kLargePage * kLargePage / sizeof(Entry);
  heap_.reserve(capacity);
}

std::optional<double> TimerQueue::nextTime() {
  const Entry* main = settleMain();
  const SideEntry* side = side_.empty() ? nullptr : settleSide();
  if (main && side) return std::min(main->time, side->time);
  if (main) return main->time;
  if (side) return side->time;
  return std::nullopt;
}

TimerQueue::DueCall TimerQueue::popDue(double now, std::uint64_t before) {
  const Entry* main = settleMain();
  const SideEntry* side = side_.empty() ? nullptr : settleSide();
  DelayedCall* call;
  if (side && (!main || sideLess(*side, SideEntry{main->time, main->call->mainSeq_, nullptr}))) {
    if (!(side->time <= now) || side->seq >= before) return {};
    call = side->call;
    popSide();
  } else if (main) {
    if (!(main->time <= now) || main->call->mainSeq_ >= before) return {};
    call = main->call;
    popMain();
    // The calls that surface next are wanted soon: start loading them while this one runs (the
    // new root, and its smallest child, which will follow it).
    const std::size_t n = heap_.size();
    if (n > kRoot) {
      const Entry* h = heap_.data();
      __builtin_prefetch(h[kRoot].call);
      std::size_t best = kRoot + 1;
      if (best < n) {
        for (std::size_t c = best + 1; c < n && c <= kRoot + kArity; ++c)
          if (h[c].time < h[best].time) best = c;
        __builtin_prefetch(h[best].call);
      }
    }
  } else {
    return {};
  }
  --live_;
  call->state_ = DelayedCall::State::called;
  return DueCall(call);  // takes the entry's reference
}

std::vector<DelayedCallPtr> TimerQueue::pending() const {
  std::vector<DelayedCall*> calls;
  calls.reserve(live_);
  for (std::size_t i = kRoot; i < heap_.size(); ++i) {
    DelayedCall* c = heap_[i].call;
    if (c->state_ == DelayedCall::State::main || c->state_ == DelayedCall::State::mainLater)
      calls.push_back(c);
  }
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
  call.state_ = DelayedCall::State::cancelled;
  --live_;
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
    call.state_ = DelayedCall::State::side;
    ++stale_;
  } else {
    // Later (or equal: the new sequence number sorts after the entry's) only updates the call;
    // its entry, whose key stays <= the call's, is re-keyed when it surfaces: never early.
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

void TimerQueue::popMain() noexcept {
  // Floyd's pop: walk the hole down to a leaf along the smaller children (the last entry nearly
  // always belongs near the bottom), then let the last entry rise from there.
  assert(mainSize() != 0);
  const Entry last = heap_.back();
  heap_.pop_back();
  const std::size_t n = heap_.size();
  if (n == kRoot) return;
  Entry* h = heap_.data();
  std::size_t i = kRoot;
  for (;;) {
    std::size_t first = kArity * (i - kRoot) + kRoot + 1;
    if (first >= n) break;
    // The walk is a chain of cache misses near the bottom: load the four groups one of which
    // the next step reads while this step compares.
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
  siftUp(i);
}

void TimerQueue::siftUp(std::size_t i) noexcept {
  Entry* h = heap_.data();
  const Entry moving = h[i];
  while (i > kRoot) {
    std::size_t parent = (i - kRoot - 1) / kArity + kRoot;
    if (!less(moving, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = moving;
}

void TimerQueue::siftDown(std::size_t i) noexcept {
  Entry* h = heap_.data();
  const std::size_t n = heap_.size();
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

const TimerQueue::Entry* TimerQueue::settleMain() noexcept {
  while (mainSize() != 0) {
    Entry& top = heap_[kRoot];
    DelayedCall* call = top.call;
    switch (call->state_) {
      case DelayedCall::State::main:
        return &top;
      case DelayedCall::State::mainLater:  // re-key (the key only grows) and sink
        top.time = call->time_;
        call->mainSeq_ = call->seq_;
        call->state_ = DelayedCall::State::main;
        siftDown(kRoot);
        break;
      default:  // cancelled, or moved to the side heap: stale
        popMain();
        --stale_;
        unref(call);  // runs no user code: a stale call's function is gone or held elsewhere
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

void TimerQueue::compact() noexcept {
  // Dropping a stale entry runs no user code: its call was cancelled (function already released)
  // or moved to the side heap (still referenced from there).
  Entry* h = heap_.data();
  const std::size_t n = heap_.size();
  std::size_t kept = kRoot;
  constexpr std::size_t kAhead = 16;  // the calls are scattered: load them ahead of use
  for (std::size_t i = kRoot; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(h[i + kAhead].call);
    Entry e = h[i];
    DelayedCall* call = e.call;
    if (call->state_ == DelayedCall::State::mainLater) {  // re-key it while we are here
      e.time = call->time_;
      call->mainSeq_ = call->seq_;
      call->state_ = DelayedCall::State::main;
    } else if (call->state_ != DelayedCall::State::main) {
      unref(call);
      continue;
    }
    h[kept++] = e;
  }
  heap_.resize(kept);
  if (kept > kRoot + 1)
    for (std::size_t i = (kept - 1 - kRoot - 1) / kArity + kRoot + 1; i-- > kRoot;) siftDown(i);

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

}  // namespace coil::detail
