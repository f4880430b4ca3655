#pragma once
/// @file FreeListAllocator: per-thread free lists of fixed-size blocks for objects created and
/// destroyed at high rates in random order (timers), where malloc's free path dominates.

#include <cstddef>
#include <new>

namespace coil::detail {

/// One thread's list of free blocks of one size. Keeps at most kMaxBlocks; frees the rest.
/// Trivially destructible on purpose: a block freed during static destruction, after the
/// thread's Reaper ran, must still find a valid (closed) list.
struct FreeList {
  /// Blocks kept for reuse at most.
  static constexpr std::size_t kMaxBlocks = 1 << 19;
  /// A link in a free block.
  struct Node {
    /// The next free block.
    Node* next;
  };
  /// The first free block.
  Node* head = nullptr;
  /// Free blocks kept.
  std::size_t count = 0;
  /// Set at thread exit: blocks are then freed at once instead of kept.
  bool closed = false;

  /// A block of `size` bytes: a kept one if any.
  void* take(std::size_t size) {
    if (Node* n = head) {
      head = n->next;
      --count;
      return n;
    }
    return ::operator new(size);
  }
  /// Keeps `p` for reuse, or frees it when enough are kept or the thread is exiting.
  void give(void* p) noexcept {
    if (closed || count >= kMaxBlocks) {
      ::operator delete(p);
      return;
    }
    Node* n = static_cast<Node*>(p);
    n->next = head;
    head = n;
    ++count;
  }
  /// Frees every kept block and closes the list.
  void drain() noexcept {
    closed = true;
    while (head) {
      Node* next = head->next;
      ::operator delete(head);
      head = next;
    }
    count = 0;
  }
};

/// Drains a FreeList when its thread exits.
struct FreeListReaper {
  /// The list to drain.
  FreeList* list;
  ~FreeListReaper() { list->drain(); }
};

/// An allocator for std::allocate_shared that takes single objects from this thread's free list
/// for blocks of their size. A block freed on another thread joins that thread's list. Under
/// AddressSanitizer it is plain operator new, so use-after-free stays detectable.
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
    return static_cast<T*>(::operator new(n * sizeof(T)));
#else
    if (n != 1 || alignof(T) > alignof(std::max_align_t)) {
      return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    return static_cast<T*>(list().take(sizeof(T)));
#endif
  }
  /// Returns storage from allocate().
  void deallocate(T* p, std::size_t n) noexcept {
#if defined(__SANITIZE_ADDRESS__)
    (void)n;
    ::operator delete(p);
#else
    if (n != 1 || alignof(T) > alignof(std::max_align_t)) {
      ::operator delete(p);
      return;
    }
    list().give(p);
#endif
  }
  /// Stateless: all instances are equal.
  friend bool operator==(const FreeListAllocator&, const FreeListAllocator&) noexcept {
    return true;
  }

 private:
  static FreeList& list() {
    static_assert(sizeof(T) >= sizeof(void*), "a block must hold a free-list link");
    thread_local FreeList perThread;                 // trivially destructible: always valid
    thread_local FreeListReaper reaper{&perThread};  // drains it at thread exit
    (void)reaper;
    return perThread;
  }
};

}  // namespace coil::detail
