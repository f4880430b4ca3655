// TimerQueue's wheel: the slots of the buckets past the cursor, how the cursor advances through
// them, and how entries move between the slots, the near heap and the far heap.
// Tests: test/core/task/TimerWheelTest.cpp, test/core/task/TimerQueueTest.cpp
#include <coil/core/detail/TimerQueue.hpp>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace coil::detail {

TimerQueue::Heap& TimerQueue::growSlot(std::int64_t bucket) {
  if (!slots_) slots_ = std::make_unique<Heap[]>(kWheelSlots);
  Heap& slot = slots_[slotIndex(bucket)];
  if (slot.size() == slot.capacity()) grow(slot);
  return slot;
}

bool TimerQueue::tryAppend(std::int64_t bucket, const Entry& e) noexcept {
  assert(bucket > cursor_ && bucket <= cursor_ + kWindow);
  Heap* slot;
  try {
    slot = &slotFor(bucket);
  } catch (const std::bad_alloc&) {
    return false;  // the caller keeps the entry in the far heap, which takes any time
  }
  slot->push_back(e);
  markSlot(slotIndex(bucket));
  ++wheelSize_;
  return true;
}

void TimerQueue::place(const Entry& e) noexcept {
  // A call moved later, just re-keyed, whose bucket is past the cursor.
  const std::int64_t bucket = bucketOf(e.time);
  assert(bucket > cursor_);
  if (bucket <= cursor_ + kWindow && tryAppend(bucket, e)) {
    setSlotPos(*e.call, slots_[slotIndex(bucket)].size() - 1);
    return;
  }
  // reschedule() kept room in the far heap for every call moved later (rekey() has already
  // counted this one out).
  assert(far_.size() >= kRoot && far_.size() < far_.capacity());
  e.call->slotPos_ = DelayedCall::kNoSlotPos;
  far_.push_back(e);
  siftUp(far_, far_.size() - 1);
}

bool TimerQueue::unlinkFromWheel(DelayedCall& call) noexcept {
  // The call is in State::main, so its main entry's time is time_, whose bucket names the slot;
  // slotPos_ says where in the slot, unless the entry has moved since (checked).
  if (call.slotPos_ == DelayedCall::kNoSlotPos || !slots_) return false;
  const std::int64_t bucket = bucketOf(call.time_);
  if (bucket <= cursor_ || bucket > cursor_ + kWindow) return false;
  const std::size_t index = slotIndex(bucket);
  Heap& slot = slots_[index];
  const std::size_t pos = kRoot + call.slotPos_;
  if (pos >= slot.size() || slot[pos].call != &call) return false;
  // Slots are unsorted: the last entry fills the hole.
  const Entry last = slot.back();
  slot.pop_back();
  if (pos < slot.size()) {
    slot[pos] = last;
    last.call->slotPos_ = call.slotPos_;
  }
  if (slot.size() == kRoot) unmarkSlot(index);
  --wheelSize_;
  unref(&call);  // the entry's reference; the caller holds another
  return true;
}

std::int64_t TimerQueue::firstSlotBucket() const noexcept {
  // The first marked slot from the cursor's next bucket on, circularly: at most two bitmap words
  // and the summary are read.
  assert(slotSummary_ != 0);
  const std::size_t start = slotIndex(cursor_ + 1);
  std::size_t word = start / 64;
  std::uint64_t bits = slotWords_[word] & (~std::uint64_t{0} << (start % 64));
  if (bits == 0) {
    std::uint64_t words = slotSummary_ & ((~std::uint64_t{0} << word) << 1);  // after `word`
    if (words == 0) words = slotSummary_;  // wrapped around (`word` has none at or past start)
    word = static_cast<std::size_t>(__builtin_ctzll(words));
    bits = slotWords_[word];
  }
  const std::size_t index = word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
  return cursor_ + 1 + static_cast<std::int64_t>((index - start) & kSlotMask);
}

void TimerQueue::loadSlot(std::int64_t bucket) noexcept {
  // The near heap is empty and `bucket` is the first non-empty slot: advancing the cursor there
  // keeps every invariant (the slots between were empty).
  assert(near_.size() <= kRoot && bucket > cursor_ && bucket <= cursor_ + kWindow);
  cursor_ = bucket;
  const std::size_t index = slotIndex(bucket);
  near_.swap(slots_[index]);  // the slot keeps the near heap's empty storage for its next bucket
  unmarkSlot(index);
  const std::size_t n = near_.size();
  wheelSize_ -= n - kRoot;
  // One pass over the calls (loaded ahead: they are scattered, and will be wanted soon): drop the
  // stale entries; re-key the calls moved later, sending those now past the cursor on.
  constexpr std::size_t kAhead = 16;
  Entry* h = near_.data();
  std::size_t kept = kRoot;
  for (std::size_t i = kRoot; i < n; ++i) {
    if (i + kAhead < n) prefetchCall(h[i + kAhead].call);
    Entry e = h[i];
    DelayedCall* call = e.call;
    switch (call->state_) {
      case DelayedCall::State::main:
        h[kept++] = e;
        break;
      case DelayedCall::State::mainLater:
        rekey(*call);
        e.time = call->time_;
        if (bucketOf(e.time) <= cursor_)
          h[kept++] = e;
        else
          place(e);  // never into this storage: it left the wheel
        break;
      default:  // stale: runs no user code
        --stale_;
        unref(call);
        break;
    }
  }
  near_.resize(kept);
  heapify(near_);
  migrateFar();
}

void TimerQueue::migrateFar() noexcept {
  // Far entries whose bucket entered the window move to their slots as they are: stale ones and
  // calls moved later too (the slot's load sorts them out), so no call is read here. An entry
  // due at or before the cursor (placed there while the wheel had no room, or overtaken by the
  // clock) stops the walk: it competes as the far top until it pops.
  while (far_.size() > kRoot) {
    const Entry top = far_[kRoot];
    const std::int64_t bucket = bucketOf(top.time);
    if (bucket <= cursor_ || bucket > cursor_ + kWindow || !tryAppend(bucket, top)) return;
    popTop(far_);
  }
}

void TimerQueue::catchUp(std::int64_t nowBucket) noexcept {
  // The near heap and the wheel are empty: the cursor may move on freely. Follow the clock, but
  // stop before the far top, which then enters the window.
  assert(frontEmpty() && far_.size() > kRoot);
  const std::int64_t target = std::min(nowBucket, bucketOf(far_[kRoot].time) - 1);
  if (target > cursor_) cursor_ = target;
  migrateFar();
}

const char* TimerQueue::invariantViolation() const {
  using State = DelayedCall::State;
  std::size_t authoritative = 0;
  std::size_t later = 0;
  auto count = [&](const Entry& e) {
    if (e.call->state_ == State::main || e.call->state_ == State::mainLater) ++authoritative;
    if (e.call->state_ == State::mainLater) ++later;
  };
  auto isHeap = [](const Heap& h) {
    for (std::size_t i = kRoot + 1; i < h.size(); ++i)
      if (less(h[i], h[(i - kRoot - 1) / kArity + kRoot])) return false;
    return true;
  };
  if ((near_.size() != 0 && near_.size() < kRoot) || (far_.size() != 0 && far_.size() < kRoot))
    return "a heap without its unused root entries";
  if (!isHeap(near_)) return "near heap out of order";
  if (!isHeap(far_)) return "far heap out of order";
  for (std::size_t i = kRoot; i < near_.size(); ++i) {
    if (bucketOf(near_[i].time) > cursor_) return "near entry past the cursor";
    count(near_[i]);
  }
  for (std::size_t i = kRoot; i < far_.size(); ++i) count(far_[i]);
  std::size_t inSlots = 0;
  std::uint64_t summary = 0;
  for (std::size_t index = 0; index < kWheelSlots; ++index) {
    const std::size_t n = slots_ ? entries(slots_[index]) : 0;
    if (slots_ && slots_[index].size() != 0 && slots_[index].size() < kRoot)
      return "a slot without its unused root entries";
    if (((slotWords_[index / 64] >> (index % 64)) & 1) != (n != 0 ? 1u : 0u))
      return "slot bitmap disagrees with the slot";
    if (n != 0) summary |= std::uint64_t{1} << (index / 64);
    inSlots += n;
    for (std::size_t i = kRoot; i < kRoot + n; ++i) {
      const std::int64_t bucket = bucketOf(slots_[index][i].time);
      if (bucket <= cursor_ || bucket > cursor_ + kWindow) return "slot entry outside the window";
      if (slotIndex(bucket) != index) return "slot entry in the wrong slot";
      count(slots_[index][i]);
    }
  }
  if (summary != slotSummary_) return "slot summary disagrees with the bitmap";
  if (inSlots != wheelSize_) return "wheelSize_ miscounted";
  if (!std::is_heap(side_.begin(), side_.end(),
                    [](const SideEntry& a, const SideEntry& b) { return sideLess(b, a); }))
    return "side heap out of order";
  for (const SideEntry& e : side_)
    if (e.call->state_ == State::side && e.seq == e.call->seq_) ++authoritative;
  if (authoritative != live_) return "live_ miscounted";
  if (heapSize() != live_ + stale_) return "stale_ miscounted";
  if (later != laterCount_) return "laterCount_ miscounted";
  if (laterCount_ != 0 && far_.capacity() - far_.size() < laterCount_)
    return "no room in the far heap for the calls moved later";
  return nullptr;
}

}  // namespace coil::detail
