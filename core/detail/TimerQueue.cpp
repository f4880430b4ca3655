// TimerQueue: the 4-ary heap of DelayedCalls with lazy deletion behind task::Clock and reactors.
// Tests: test/core/task/TimerQueueTest.cpp, test/core/task/ClockTest.cpp
#include <coil/core/detail/TimerQueue.hpp>

#include <coil/core/detail/FreeListAllocator.hpp>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace coil::detail {

namespace {

// A 4-ary heap: shallower than a binary one, and a node's children share one or two cache lines.
constexpr std::size_t kArity = 4;

// Compaction: when more than this many entries, and at least a quarter of the heap, are stale.
constexpr std::size_t kCompactMinimum = 50;

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
  while (!heap_.empty()) {
    std::vector<Entry> entries = std::move(heap_);
    heap_.clear();
    live_ = 0;
    stale_ = 0;
    // First make every pending call inactive, so that nothing reaches this queue through them...
    for (Entry& e : entries) {
      DelayedCall& call = *e.call;
      if (e.seq != call.entrySeq_) continue;
      call.entrySeq_ = 0;
      call.queue_ = nullptr;
      call.cancelled_ = true;
    }
    // ...then release their functions (the others' are already empty).
    for (Entry& e : entries) {
      std::function<void()> released = std::move(e.call->func_);
      e.call->func_ = nullptr;
    }
    // `entries` dies here, with the queue consistent (and empty).
  }
}

std::shared_ptr<DelayedCall> TimerQueue::schedule(double time, std::function<void()> f) {
  if (std::isnan(time)) throw std::invalid_argument("TimerQueue.schedule: NaN time");
  if (!f) throw std::invalid_argument("TimerQueue.schedule: an empty function");
  std::uint64_t seq = nextSeq_++;
  // Timers die in firing order, not creation order: malloc's free path was a quarter of the
  // cost of a timer, so their blocks are recycled through a per-thread free list.
  auto call = std::allocate_shared<DelayedCall>(
      FreeListAllocator<DelayedCall>{}, DelayedCall::Private{}, this, std::move(f), time, seq);
  push(Entry{time, seq, call});
  ++live_;
  return call;
}

std::optional<double> TimerQueue::nextTime() {
  if (const Entry* top = settleTop()) return top->time;
  return std::nullopt;
}

TimerQueue::DueCall TimerQueue::popDue(double now, std::uint64_t before) {
  const Entry* top = settleTop();
  if (!top || !(top->time <= now) || top->seq >= before) return {};
  DueCall due;
  due.call = std::move(heap_.front().call);
  popTop();
  --live_;
  DelayedCall& call = *due.call;
  call.entrySeq_ = 0;
  call.queue_ = nullptr;
  call.called_ = true;
  due.func = std::move(call.func_);
  call.func_ = nullptr;
  return due;
}

std::vector<DelayedCallPtr> TimerQueue::pending() const {
  std::vector<std::shared_ptr<DelayedCall>> calls;
  calls.reserve(live_);
  for (const Entry& e : heap_)
    if (e.seq == e.call->entrySeq_) calls.push_back(e.call);
  std::sort(calls.begin(), calls.end(), [](const auto& a, const auto& b) {
    return a->time_ < b->time_ || (a->time_ == b->time_ && a->seq_ < b->seq_);
  });
  return std::vector<DelayedCallPtr>(calls.begin(), calls.end());
}

void TimerQueue::cancelled(DelayedCall& call) {
  assert(call.entrySeq_ != 0);
  call.entrySeq_ = 0;
  --live_;
  ++stale_;
  maybeCompact();
}

void TimerQueue::reschedule(DelayedCall& call, double time) {
  assert(call.entrySeq_ != 0);
  std::uint64_t seq = nextSeq_++;
  if (time < call.entryTime_) {
    // Earlier than its entry: a fresh entry (pushed first: if that throws, nothing changed), and
    // the old one goes stale.
    push(Entry{time, seq, call.shared_from_this()});
    call.entryTime_ = time;
    call.entrySeq_ = seq;
    ++stale_;
  }
  // Later (or equal: the new sequence number sorts after the entry's) only updates the call; its
  // entry, whose key stays <= the call's, is re-keyed when it reaches the top: never early.
  call.time_ = time;
  call.seq_ = seq;
  maybeCompact();
}

void TimerQueue::push(Entry entry) {
  heap_.push_back(std::move(entry));
  siftUp(heap_.size() - 1);
}

void TimerQueue::popTop() {
  assert(!heap_.empty());
  Entry removed = std::move(heap_.front());
  Entry last = std::move(heap_.back());
  heap_.pop_back();
  if (!heap_.empty()) {
    // Floyd's pop: walk the hole down to a leaf along the smaller children (the last entry
    // nearly always belongs near the bottom), then let the last entry rise from there.
    const std::size_t n = heap_.size();
    std::size_t i = 0;
    for (;;) {
      std::size_t first = i * kArity + 1;
      if (first >= n) break;
      std::size_t end = std::min(first + kArity, n);
      std::size_t best = first;
      for (std::size_t c = first + 1; c < end; ++c)
        if (less(heap_[c], heap_[best])) best = c;
      heap_[i] = std::move(heap_[best]);
      i = best;
    }
    heap_[i] = std::move(last);
    siftUp(i);
  }
  // `removed` (perhaps the last reference to a cancelled call) dies with the heap consistent.
}

void TimerQueue::siftUp(std::size_t i) noexcept {
  Entry moving = std::move(heap_[i]);
  while (i > 0) {
    std::size_t parent = (i - 1) / kArity;
    if (!less(moving, heap_[parent])) break;
    heap_[i] = std::move(heap_[parent]);
    i = parent;
  }
  heap_[i] = std::move(moving);
}

void TimerQueue::siftDown(std::size_t i) noexcept {
  const std::size_t n = heap_.size();
  Entry moving = std::move(heap_[i]);
  for (;;) {
    std::size_t first = i * kArity + 1;
    if (first >= n) break;
    std::size_t last = std::min(first + kArity, n);
    std::size_t best = first;
    for (std::size_t c = first + 1; c < last; ++c)
      if (less(heap_[c], heap_[best])) best = c;
    if (!less(heap_[best], moving)) break;
    heap_[i] = std::move(heap_[best]);
    i = best;
  }
  heap_[i] = std::move(moving);
}

const TimerQueue::Entry* TimerQueue::settleTop() {
  while (!heap_.empty()) {
    Entry& top = heap_.front();
    DelayedCall& call = *top.call;
    if (top.seq != call.entrySeq_) {  // cancelled, run, or moved earlier: stale
      popTop();
      --stale_;
      continue;
    }
    if (top.seq != call.seq_) {  // moved later: re-key (the key only grows) and sink
      top.time = call.time_;
      top.seq = call.seq_;
      call.entryTime_ = call.time_;
      call.entrySeq_ = call.seq_;
      siftDown(0);
      continue;
    }
    return &top;
  }
  return nullptr;
}

void TimerQueue::maybeCompact() noexcept {
  // A quarter stale, not Twisted's half: with every second timer cancelled (a common pattern:
  // timeouts that rarely fire) "more than half" is never reached and every stale entry pays a
  // full pop. Compaction stays amortised O(1) per cancel: after one, a third of the live
  // entries must go stale before the next.
  if (stale_ > kCompactMinimum && stale_ * 4 >= heap_.size()) compact();
}

void TimerQueue::compact() noexcept {
  // Dropping a stale entry runs no user code: its call was cancelled (function already released)
  // or moved earlier (still owned by its fresh entry).
  std::size_t kept = 0;
  for (Entry& e : heap_) {
    DelayedCall& call = *e.call;
    if (e.seq != call.entrySeq_) {
      e.call.reset();
      continue;
    }
    // Re-key calls moved later while we are at it.
    e.time = call.time_;
    e.seq = call.seq_;
    call.entryTime_ = call.time_;
    call.entrySeq_ = call.seq_;
    if (&heap_[kept] != &e) heap_[kept] = std::move(e);
    ++kept;
  }
  heap_.erase(heap_.begin() + static_cast<std::ptrdiff_t>(kept), heap_.end());
  stale_ = 0;
  if (kept > 1)
    for (std::size_t i = (kept - 2) / kArity + 1; i-- > 0;) siftDown(i);
}

}  // namespace coil::detail
