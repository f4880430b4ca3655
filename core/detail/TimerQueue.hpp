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
#include <memory>
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
/// Every call gets one main entry when scheduled: 16 bytes (time, call), keyed (time,
/// call->mainSeq_). Time is cut into buckets of 1/1024 s (bucketOf(): clamped, so huge, infinite
/// and far negative times work), and a cursor bucket splits the main entries three ways:
/// - the near heap holds the entries of buckets <= cursor_. It is a 4-ary min-heap laid out so
///   that the four children of a node share one cache line, and it is the heap that pops. It holds
///   about one bucket's calls, so popping stays in the caches even with a million calls pending
///   (one heap of them all walks ten levels per pop, the lower ones cache misses);
/// - the wheel: kWheelSlots unsorted slots, one per bucket of the window (cursor_, cursor_ +
///   kWheelSlots] (2 s), with a two-level bitmap of the non-empty ones. schedule() appends there;
/// - the far heap, 4-ary too, holds the entries beyond the window, and the few that could not be
///   given a slot (see Memory), which may lie anywhere: the far top competes with the near top.
/// A near entry is earlier than every wheel entry (different buckets never share a time), so the
/// earliest main entry is the near top or the far top. When the near heap has no live entry left,
/// the cursor advances to the first non-empty slot (a bitmap scan), whose storage becomes the near
/// heap: swapped in, not copied (the slot recycles the near heap's empty storage), its stale
/// entries dropped in one pass that also loads the calls into the caches, then heapified in O(n).
/// Far entries whose bucket entered the window then move to their slots. While the near heap and
/// the wheel are empty the cursor follows the clock (popDue()'s `now`, or seconds() when
/// schedule() finds a call outside the window), never past the far top, so that one long timeout
/// cannot drag it ahead and send every later call to the near heap.
///
/// Cancelling: a call whose entry was put in a slot remembers where (DelayedCall::slotPos_, a hint
/// checked before use), so cancelling it, or moving it earlier, takes the entry out at once (the
/// slot's last entry fills the hole) and releases its reference: with timeouts that rarely fire
/// nothing stale piles up, and compaction, which must read every call, stays idle. Elsewhere
/// deletion is lazy: the entry goes stale, dropped when it surfaces, when its slot is loaded, or
/// by compaction of every structure (once more than 50 entries, and at least a quarter of all
/// entries, are stale). Moving a call later only updates the call; its entry is re-keyed when it
/// surfaces or its slot is loaded (never early), and moves to its new slot (or the far heap) if
/// its new bucket is past the cursor: a near heap that kept it would pop it before earlier wheel
/// entries. Moving a call earlier than its main entry gives it an entry in the side heap (24
/// bytes: time, sequence number, call), a binary heap that stays empty unless calls are moved
/// earlier; later moves of such a call add fresh side entries. Each entry holds a reference to its
/// call.
///
/// Memory: schedule() and the calls' reschedules allocate before they change anything, and may
/// throw. nextTime() and popDue() never throw: when an entry moves into a slot that must grow
/// (from the far heap, or re-keyed) and that fails, it stays in or goes to the far heap, whose
/// spare capacity always covers the calls moved later (laterCount_). Storage is kept and
/// recycled. schedule() is O(1) within the window and O(log n) beyond it, cancel() O(1) (amortised
/// outside the wheel), popDue() O(log b) amortised for b calls per bucket (plus O(log n) once for
/// a call that arrived beyond the window); the only allocation per call is the call itself
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

  /// A queue whose calls measure reset() from `seconds()` (the owner's current time), which it
  /// also reads when a call is scheduled while nothing is near (to place the wheel's window).
  explicit TimerQueue(std::function<double()> seconds);
  /// Detaches every pending call: they become cancelled (inactive) and release their functions.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Schedules `f` at absolute `time` (may be past or +infinity). NaN time or an empty `f` throw
  /// std::invalid_argument.
  DelayedCallPtr schedule(double time, DelayedFunction&& f);

  /// The time of the earliest pending call, or nullopt when none is pending. Not const: it drops
  /// stale entries, re-keys moved calls that reach the top and loads the next wheel slot.
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

  /// True when nothing at all is stored, not even cancelled calls awaiting removal: popDue()
  /// would return nothing and do nothing.
  bool idle() const noexcept { return frontEmpty() && far_.size() <= kRoot && side_.empty(); }

  /// Number of entries in all structures (near, wheel, far and side), stale ones included
  /// (diagnostics and tests).
  std::size_t heapSize() const noexcept {
    return entries(near_) + wheelSize_ + entries(far_) + side_.size();
  }

  /// Number of stale entries awaiting removal (diagnostics and tests).
  std::size_t staleCount() const noexcept { return stale_; }

  /// Where the entries are (diagnostics and tests).
  struct Layout {
    /// Entries in the near heap, stale ones included.
    std::size_t near;
    /// Entries in the wheel's slots, stale ones included.
    std::size_t wheel;
    /// Entries in the far heap, stale ones included.
    std::size_t far;
    /// Entries in the side heap, stale ones included.
    std::size_t side;
    /// The cursor: the near heap holds buckets up to it, the wheel the kWheelSlots after it.
    std::int64_t cursor;
  };

  /// The number of entries in each structure, and the cursor (diagnostics and tests).
  Layout layout() const noexcept {
    return Layout{entries(near_), wheelSize_, entries(far_), side_.size(), cursor_};
  }

  /// Checks every structural invariant in O(n) (tests): null when they hold, else which failed.
  const char* invariantViolation() const;

  /// Bucket of the wheel (1/1024 s) that holds `time`: floor(time * 1024), clamped to
  /// [-2^62, 2^62] (+infinity and NaN give 2^62). Exposed for tests.
  static std::int64_t bucketOf(double time) noexcept {
    const double x = time * kBucketsPerSecond;  // exact: a power of two
    if (!(x < kBucketLimit)) return kMaxBucket;
    if (!(x > -kBucketLimit)) return -kMaxBucket;
    const auto b = static_cast<std::int64_t>(x);  // toward zero; floor below
    return b - (static_cast<double>(b) > x ? 1 : 0);
  }

  /// Number of slots of the wheel: calls due up to kWheelSlots buckets past the cursor go there.
  static constexpr std::size_t kWheelSlots = 2048;

 private:
  friend class coil::DelayedCall;

  // A main entry: near heap, wheel slot or far heap. Its key is (time, call->mainSeq_).
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
  // The near and far heaps, and the slots (whose storage becomes the near heap): the first kRoot
  // entries are unused; empty ones may have no storage at all (size 0).
  using Heap = LargeArray<Entry>;

  // The heaps' root index: with 16-byte entries on a 64-byte-aligned array, the children of node
  // i, kArity * (i - kRoot) + kRoot + 1 and the next three, start on a line boundary.
  static constexpr std::size_t kRoot = 3;
  static constexpr std::size_t kArity = 4;
  static constexpr double kBucketsPerSecond = 1024.0;
  static constexpr double kBucketLimit = 0x1p62;
  static constexpr std::int64_t kMaxBucket = std::int64_t{1} << 62;
  static constexpr std::int64_t kWindow = static_cast<std::int64_t>(kWheelSlots);
  static constexpr std::size_t kSlotMask = kWheelSlots - 1;
  static constexpr std::size_t kSlotWords = kWheelSlots / 64;
  static_assert((kWheelSlots & kSlotMask) == 0 && kSlotWords >= 1 && kSlotWords <= 64);

  static std::size_t entries(const Heap& h) noexcept {
    return h.size() > kRoot ? h.size() - kRoot : 0;
  }
  static std::size_t slotIndex(std::int64_t bucket) noexcept {
    return static_cast<std::size_t>(bucket) & kSlotMask;
  }
  static bool less(const Entry& a, const Entry& b) noexcept {
    if (a.time != b.time) return a.time < b.time;
    return a.call->mainSeq_ < b.call->mainSeq_;
  }
  static bool sideLess(const SideEntry& a, const SideEntry& b) noexcept {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }
  static void invoke(DelayedCall& call) { call.func_(); }
  // Starts loading what popping and running `call` reads: its first 64 bytes, which straddle two
  // cache lines unless the call happens to start on one.
  static void prefetchCall(const DelayedCall* call) noexcept {
    __builtin_prefetch(call);
    __builtin_prefetch(reinterpret_cast<const char*>(call) + 63);
  }
  static void finish(DelayedCall* call) noexcept {
    call->func_.reset();
    unref(call);
  }
  static void unref(DelayedCall* call) noexcept {
    if (call->dropRef()) call->destroy();
  }

  // 4-ary heap primitives, for the near and far heaps.
  static void grow(Heap& h);
  static void pushNew(Heap& h, const Entry& e) noexcept;
  static void popTop(Heap& h) noexcept;
  static void siftUp(Heap& h, std::size_t i) noexcept;
  static void siftDown(Heap& h, std::size_t i) noexcept;
  static void heapify(Heap& h) noexcept;

  // Called by DelayedCall (which has already checked that it is active).
  void cancelled(DelayedCall& call) noexcept;
  void reschedule(DelayedCall& call, double time);
  double now() const { return seconds_(); }

  bool frontEmpty() const noexcept { return near_.size() <= kRoot && slotSummary_ == 0; }
  // A call moved later gets its true key; its entry must then be placed by it.
  void rekey(DelayedCall& call) noexcept;
  const Entry* settleMain(bool& inFar) noexcept;
  const Entry* settleNear() noexcept;
  const Entry* settleFar() noexcept;
  const SideEntry* settleSide() noexcept;
  void popSide() noexcept;
  void pushSide(double time, std::uint64_t seq, DelayedCall& call);
  void reserveFar(std::size_t spare);

  // The wheel (TimerWheel.cpp).
  Heap& slotFor(std::int64_t bucket) {  // the slot of `bucket`, with room for one more entry
    if (slots_) {
      Heap& slot = slots_[slotIndex(bucket)];
      if (slot.size() < slot.capacity()) return slot;
    }
    return growSlot(bucket);
  }
  Heap& growSlot(std::int64_t bucket);
  static void setSlotPos(DelayedCall& call, std::size_t index) noexcept {
    const std::size_t pos = index - kRoot;
    call.slotPos_ =
        pos < DelayedCall::kNoSlotPos ? static_cast<std::uint16_t>(pos) : DelayedCall::kNoSlotPos;
  }
  bool unlinkFromWheel(DelayedCall& call) noexcept;
  void markSlot(std::size_t index) noexcept {
    slotWords_[index / 64] |= std::uint64_t{1} << (index % 64);
    slotSummary_ |= std::uint64_t{1} << (index / 64);
  }
  void unmarkSlot(std::size_t index) noexcept {
    slotWords_[index / 64] &= ~(std::uint64_t{1} << (index % 64));
    if (slotWords_[index / 64] == 0) slotSummary_ &= ~(std::uint64_t{1} << (index / 64));
  }
  std::int64_t firstSlotBucket() const noexcept;
  void loadSlot(std::int64_t bucket) noexcept;
  bool tryAppend(std::int64_t bucket, const Entry& e) noexcept;
  void place(const Entry& e) noexcept;
  void migrateFar() noexcept;
  void catchUp(std::int64_t nowBucket) noexcept;
  template <class F>
  void forEachMainEntry(F&& f) const;

  void maybeCompact() noexcept {
    // A quarter stale, not Twisted's half: with every second timer cancelled (a common pattern:
    // timeouts that rarely fire) "more than half" is never reached and every stale entry pays
    // a full pop. Amortised O(1) per cancel: after a compaction a third of the live entries
    // must go stale before the next.
    if (stale_ > kCompactMinimum && stale_ * 4 >= heapSize()) compact();
  }
  void compact() noexcept;
  std::size_t filter(Entry* h, std::size_t begin, std::size_t end, std::int64_t rekeyUpTo,
                     bool inSlot) noexcept;
  void detachAll() noexcept;

  static constexpr std::size_t kCompactMinimum = 50;

  // What idle() and mark() read (every pass of the reactor's loop) comes first.
  Heap near_;                      // the entries of buckets <= cursor_
  Heap far_;                       // beyond the window (and misfits); spare >= laterCount_
  std::uint64_t slotSummary_ = 0;  // bit w: slotWords_[w] != 0
  std::vector<SideEntry> side_;
  std::uint64_t nextSeq_ = 1;
  std::size_t live_ = 0;
  std::function<double()> seconds_;
  std::unique_ptr<Heap[]> slots_;             // kWheelSlots, allocated on first use
  std::uint64_t slotWords_[kSlotWords] = {};  // bit i: slot i holds entries
  std::size_t wheelSize_ = 0;                 // entries in the slots
  std::int64_t cursor_ = -kMaxBucket;
  std::size_t stale_ = 0;
  std::size_t laterCount_ = 0;  // calls in State::mainLater
};

}  // namespace coil::detail
