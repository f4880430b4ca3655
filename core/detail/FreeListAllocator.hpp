#pragma once
/// @file FreeListAllocator: per-thread pools of fixed-size blocks for objects created and
/// destroyed at high rates in random order (timers), where malloc's paths and page faults
/// dominate; and large-page memory for big arrays (timer heaps).

#include <atomic>
#include <cstddef>
#include <new>

namespace coil::detail {

/// The granule of allocateLarge(), and the size from which large arrays use it.
inline constexpr std::size_t kLargePage = std::size_t{2} << 20;

/// `bytes` (rounded up to kLargePage) of page-aligned memory for a caller about to fill it: it is
/// mapped with its pages already faulted in (one system call instead of one fault per page).
/// Plain 64-byte-aligned operator new where mmap is unavailable and under AddressSanitizer.
/// Throws std::bad_alloc.
void* allocateLarge(std::size_t bytes);

/// Frees memory from allocateLarge(bytes) (the same `bytes`).
void freeLarge(void* p, std::size_t bytes) noexcept;

/// Grows memory `p` from allocateLarge(oldBytes) to `bytes` (> oldBytes), keeping its contents;
/// returns the new address (`p` is then invalid). Moves the pages instead of copying them where
/// the system can (mremap). Throws std::bad_alloc, leaving `p` intact.
void* reallocateLarge(void* p, std::size_t oldBytes, std::size_t bytes);

/// A pool of free blocks of one size and alignment, used by one thread at a time. Blocks are
/// carved from chunks that grow geometrically from 16 KiB to kLargePage (then allocateLarge()
/// pages) and are never returned to the system: the memory is kept for reuse at its peak. A
/// thread's pool is handed to the next thread that needs one when the thread exits, so pools are
/// bounded by the number of threads alive at once. A block may be given back to any pool of its
/// size (blocks freed on another thread join that thread's pool).
struct FreeList {
  /// A link in a free block.
  struct Node {
    /// The next free block.
    Node* next;
  };
  /// Bytes per block (a multiple of `align`).
  std::size_t size = 0;
  /// Alignment of every block.
  std::size_t align = 0;
  /// The first free block.
  Node* head = nullptr;
  /// Free blocks in the list.
  std::size_t count = 0;
  /// The unused rest of the newest chunk: [cur, end).
  char* cur = nullptr;
  /// End of the newest chunk.
  char* end = nullptr;
  /// Bytes of the newest chunk (0: none yet).
  std::size_t chunkBytes = 0;
  /// The newest chunk; each chunk's last word points to the one before.
  char* chunks = nullptr;
  /// Next pool on the shelf of pools whose thread has exited.
  FreeList* nextIdle = nullptr;

  /// A block: the most recently freed one, else the next one of the newest chunk.
  void* take() {
    if (Node* n = head) {
      head = n->next;
      --count;
      return n;
    }
    if (static_cast<std::size_t>(end - cur) < size) refill();
    void* p = cur;
    cur += size;
    return p;
  }
  /// Keeps `p` (a block of this size) for reuse.
  void give(void* p) noexcept {
    Node* n = static_cast<Node*>(p);
    n->next = head;
    head = n;
    ++count;
  }
  /// Starts a new chunk (the rest of the current one, too small for a block, is dropped).
  void refill();
};

/// Where pools wait between threads. Trivially destructible and constant-initialised, so it is
/// valid during static destruction.
struct FreeListShelf {
  /// Pools whose thread has exited.
  FreeList* idle = nullptr;
  /// A spin lock (taken only when a thread starts or stops using pools).
  std::atomic<bool> locked{false};

  /// An idle pool, or a new one for blocks of `size` bytes aligned to `align`.
  FreeList* acquire(std::size_t size, std::size_t align);
  /// Puts `list` back on the shelf.
  void release(FreeList* list) noexcept;
};

/// Hands the calling thread's pool back to its shelf when the thread exits.
struct FreeListReaper {
  /// The thread's pool pointer (cleared on exit; a later block in that thread finds a pool again).
  FreeList** slot = nullptr;
  /// The shelf the pool came from.
  FreeListShelf* shelf = nullptr;
  ~FreeListReaper() {
    if (slot && *slot) shelf->release(*slot);
    if (slot) *slot = nullptr;
  }
};

/// An allocator (for std::allocate_shared, or used directly) that takes single objects from this
/// thread's FreeList of blocks of their size and alignment. Under AddressSanitizer it is plain
/// operator new, so use-after-free stays detectable.
template <class T>
struct FreeListAllocator {
  /// The allocated type.
  using value_type = T;
  /// Stateless.
  FreeListAllocator() noexcept = default;
  /// Rebinding copy.
  template <class U>
  FreeListAllocator(const FreeListAllocator<U>&) noexcept {}  // NOLINT: allocator rebind

  /// Storage for n objects.
  T* allocate(std::size_t n) {
#if defined(__SANITIZE_ADDRESS__)
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{alignof(T)}));
#else
    if (n != 1)
      return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{alignof(T)}));
    return static_cast<T*>(list().take());
#endif
  }
  /// Returns storage from allocate().
  void deallocate(T* p, std::size_t n) noexcept {
#if defined(__SANITIZE_ADDRESS__)
    (void)n;
    ::operator delete (p, std::align_val_t{alignof(T)});
#else
    if (n != 1) {
      ::operator delete (p, std::align_val_t{alignof(T)});
      return;
    }
    list().give(p);
#endif
  }
  /// Stateless: all instances are equal.
  friend bool operator==(const FreeListAllocator&, const FreeListAllocator&) noexcept {
    return true;
  }

  /// This thread's pool for T.
  static FreeList& list() {
    static_assert(sizeof(T) >= sizeof(void*), "a block must hold a free-list link");
    constinit static FreeListShelf shelf;
    constinit thread_local FreeList* mine = nullptr;  // trivially destructible: always valid
    if (!mine) [[unlikely]] {
      // Constructed on a thread's first use only; a block freed after it ran (late in the
      // thread's exit) gets a pool that is not shelved again.
      thread_local FreeListReaper reaper{&mine, &shelf};
      (void)reaper;
      mine = shelf.acquire(sizeof(T), alignof(T));
    }
    return *mine;
  }
};

}  // namespace coil::detail
