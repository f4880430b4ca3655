#pragma once
/// @file TimerQueue: the scheduler of DelayedCalls shared by task::Clock and the reactors.

#include <coil/core/DelayedCall.hpp>
#include <coil/core/DelayedFunction.hpp>
#include <coil/core/IDelayedCall.hpp>
#include <coil/core/detail/FreeListAllocator.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace coil::detail {

/// `seconds` in the shortest form that reads back exactly ("0.1", "-1", "inf", "nan").
std::string formatSeconds(double seconds);

/// Throws std::invalid_argument "<who>: <what> must be a non-negative number of seconds, got
/// <value>" unless `value` is >= 0 (NaN fails).
void checkSeconds(std::string_view who, std::string_view what, double value);

/// checkSeconds(who, "delay", delay): the check of every callLater().
inline void checkDelay(std::string_view who, double delay) {
  if (delay >= 0) [[likely]]
    return;
  checkSeconds(who, "delay", delay);
}

/// A growable array of trivially copyable T on 64-byte-aligned storage (for the timer heap,
/// whose sibling groups must not straddle cache lines). From kLargePage bytes on, the storage
/// comes from allocateLarge() and grows with reallocateLarge(), which moves pages instead of
/// copying where the system can. Thread: the owner's.
template <class T>
class LargeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  /// Empty, no storage.
  LargeArray() noexcept = default;
  /// Takes `other`'s storage.
  LargeArray(LargeArray&& other) noexcept { swap(other); }
  /// Exchanges storage with `other`.
  LargeArray& operator=(LargeArray&& other) noexcept {
    swap(other);
    return *this;
  }
  /// Frees the storage.
  ~LargeArray() { release(data_, capacity_); }

  /// Number of elements.
  std::size_t size() const noexcept { return size_; }
  /// Number of elements the storage holds.
  std::size_t capacity() const noexcept { return capacity_; }
  /// The first element.
  T* data() noexcept { return data_; }
  /// The first element.
  const T* data() const noexcept { return data_; }
  /// Element `i` (< size()).
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  /// Element `i` (< size()).
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  /// The last element (size() > 0).
  T& back() noexcept { return data_[size_ - 1]; }
  /// Appends `value`; size() must be below capacity().
  void push_back(const T& value) noexcept { data_[size_++] = value; }
  /// Removes the last element.
  void pop_back() noexcept { --size_; }
  /// Shrinks to `n` (<= size()) elements, or grows to `n` (<= capacity()) with `fill`.
  void resize(std::size_t n, const T& fill = T{}) noexcept {
    while (size_ < n) data_[size_++] = fill;
    size_ = n;
  }
  /// Makes the storage hold exactly `n` (> size()) elements, keeping the elements.
  void reserve(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    const std::size_t oldBytes = capacity_ * sizeof(T);
    T* p;
    if (bytes >= kLargePage && oldBytes >= kLargePage) {
      p = static_cast<T*>(reallocateLarge(data_, oldBytes, bytes));
    } else {
      p = allocate(n);
      if (size_ != 0) std::memcpy(static_cast<void*>(p), data_, size_ * sizeof(T));
      release(data_, capacity_);
    }
    data_ = p;
    capacity_ = n;
  }
  /// Exchanges contents with `other`.
  void swap(LargeArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  static constexpr std::size_t kAlign = 64;

  static T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kLargePage) return static_cast<T*>(allocateLarge(bytes));
    return static_cast<T*>(::operator new (bytes, std::align_val_t{kAlign}));
  }
  static void release(T* p, std::size_t n) noexcept {
    if (!p) return;
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kLargePage)
      freeLarge(p, bytes);
    else
      ::operator delete (p, std::align_val_t{kAlign});
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// Pending DelayedCalls ordered by (time, scheduling order): equal times run FIFO.
///
/// The main heap is a 4-ary min-heap of 16-byte entries (time, call), laid out so that the four
/// children of a node share one cache line; among equal times the call's fixed main sequence
/// number decides. Every call gets its one main entry when scheduled. Deletion is lazy: cancel()
/// leaves a stale entry behind, dropped when it surfaces or by compaction (once more than 50
/// entries, and at least a quarter of all entries, are stale). Moving a call later only updates
/// the call; its entry is re-keyed when it surfaces (never early). Moving a call earlier than its
/// main entry gives it an entry in the side heap (24 bytes: time, sequence number, call), a binary
/// heap that stays empty unless calls are moved earlier; later moves of such a call add fresh
/// side entries. Each entry holds a reference to its call. schedule() is O(log n), cancel() O(1)
/// amortised, popDue() O(log n) amortised; the only allocation per call is the call itself
/// (callables up to DelayedFunction::kInlineSize bytes live inside it), recycled through a
/// per-thread free list. Not copyable or movable (calls point back at their queue).
/// Thread: the owner's.
class TimerQueue {
 public:
  /// A popDue() result: the call, already detached and marked called, whose function the
  /// scheduler must run() at once. Destroying it releases the function (and what it captured),
  /// then the queue's reference to the call. Empty when nothing was due.
  class DueCall {
   public:
    /// Nothing due.
    DueCall() noexcept = default;
    /// Takes `other`'s call; `other` becomes empty.
    DueCall(DueCall&& other) noexcept : call_(std::exchange(other.call_, nullptr)) {}
    /// Releases the current call, then takes `other`'s.
    DueCall& operator=(DueCall&& other) noexcept {
      if (this != &other) {
        release();
        call_ = std::exchange(other.call_, nullptr);
      }
      return *this;
    }
    /// Releases the call's function and reference.
    ~DueCall() { release(); }
    DueCall(const DueCall&) = delete;
    DueCall& operator=(const DueCall&) = delete;

    /// True when a call was due.
    explicit operator bool() const noexcept { return call_ != nullptr; }
    /// The call (null when nothing was due).
    DelayedCall* call() const noexcept { return call_; }
    /// Invokes the call's function (once); its exceptions propagate.
    void run() { TimerQueue::invoke(*call_); }
    /// Releases the function, then the reference; becomes empty.
    void release() noexcept {
      if (DelayedCall* c = std::exchange(call_, nullptr)) TimerQueue::finish(c);
    }

   private:
    friend class TimerQueue;
    explicit DueCall(DelayedCall* call) noexcept : call_(call) {}
    DelayedCall* call_ = nullptr;
  };

  /// popDue()'s default `before`: no limit on the scheduling order.
  static constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

  /// A queue whose calls measure reset() from `seconds()` (the owner's current time).
  explicit TimerQueue(std::function<double()> seconds);
  /// Detaches every pending call: they become cancelled (inactive) and release their functions.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Schedules `f` at absolute `time` (may be past or +infinity). NaN time or an empty `f` throw
  /// std::invalid_argument.
  DelayedCallPtr schedule(double time, DelayedFunction&& f);

  /// The time of the earliest pending call, or nullopt when none is pending. Not const: it drops
  /// stale entries and re-keys moved calls that reach the top.
  std::optional<double> nextTime();

  /// Removes and returns the earliest pending call whose time is <= `now` and which was scheduled
  /// (or last rescheduled) before mark() returned `before`; an empty DueCall if there is none (or
  /// the earliest pending call is newer than `before`). The call is marked called.
  DueCall popDue(double now, std::uint64_t before = kNoLimit);

  /// A token for popDue(now, before): calls scheduled or rescheduled after this are held back
  /// (the reactor's "calls made during this pass run on the next pass").
  std::uint64_t mark() const noexcept { return nextSeq_; }

  /// Every pending call, in the order they would run.
  std::vector<DelayedCallPtr> pending() const;

  /// Number of pending calls.
  std::size_t size() const noexcept { return live_; }

  /// True when no call is pending.
  bool empty() const noexcept { return live_ == 0; }

  /// Number of heap entries (both heaps), stale ones included (diagnostics and tests).
  std::size_t heapSize() const noexcept { return mainSize() + side_.size(); }

  /// Number of stale heap entries awaiting removal (diagnostics and tests).
  std::size_t staleCount() const noexcept { return stale_; }

 private:
  friend class coil::DelayedCall;

  // A main-heap entry. Its key is (time, call->mainSeq_).
  struct Entry {
    double time;
    DelayedCall* call;
  };
  // A side-heap entry; authoritative while its call is in State::side with seq_ == seq.
  struct SideEntry {
    double time;
    std::uint64_t seq;
    DelayedCall* call;
  };

  // The main heap's root index: with 16-byte entries on a 64-byte-aligned array, the children
  // of node i, kArity * (i - kRoot) + kRoot + 1 and the next three, start on a line boundary.
  static constexpr std::size_t kRoot = 3;
  static constexpr std::size_t kArity = 4;

  static bool less(const Entry& a, const Entry& b) noexcept {
    if (a.time != b.time) return a.time < b.time;
    return a.call->mainSeq_ < b.call->mainSeq_;
  }
  static bool sideLess(const SideEntry& a, const SideEntry& b) noexcept {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }
  static void invoke(DelayedCall& call) { call.func_(); }
  static void finish(DelayedCall* call) noexcept {
    call->func_.reset();
    unref(call);
  }
  static void unref(DelayedCall* call) noexcept {
    if (call->dropRef()) call->destroy();
  }

  std::size_t mainSize() const noexcept { return heap_.size() - kRoot; }

  // Called by DelayedCall (which has already checked that it is active).
  void cancelled(DelayedCall& call) noexcept;
  void reschedule(DelayedCall& call, double time);
  double now() const { return seconds_(); }

  const Entry* settleMain() noexcept;
  const SideEntry* settleSide() noexcept;
  void popMain() noexcept;
  void popSide() noexcept;
  void pushSide(double time, std::uint64_t seq, DelayedCall& call);
  void siftUp(std::size_t i) noexcept;
  void siftDown(std::size_t i) noexcept;
  void maybeCompact() noexcept {
    // A quarter stale, not Twisted's half: with every second timer cancelled (a common pattern:
    // timeouts that rarely fire) "more than half" is never reached and every stale entry pays
    // a full pop. Amortised O(1) per cancel: after a compaction a third of the live entries
    // must go stale before the next.
    if (stale_ > kCompactMinimum && stale_ * 4 >= heapSize()) compact();
  }
  void compact() noexcept;
  void detachAll() noexcept;
  void grow();

  static constexpr std::size_t kCompactMinimum = 50;

  std::function<double()> seconds_;
  LargeArray<Entry> heap_;  // [0, kRoot) unused
  std::vector<SideEntry> side_;
  std::uint64_t nextSeq_ = 1;
  std::size_t live_ = 0;
  std::size_t stale_ = 0;
};

}  // namespace coil::detail
