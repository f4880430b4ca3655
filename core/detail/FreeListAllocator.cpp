// FreeListAllocator: chunk refills of the per-thread block pools, their shelf, and large-page
// memory.
// Tests: test/core/base/FreeListAllocatorTest.cpp
#include <coil/core/detail/FreeListAllocator.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

#if !defined(__SANITIZE_ADDRESS__) && __has_include(<sys/mman.h>)
#include <sys/mman.h>
#define COIL_LARGE_PAGES_MMAP 1
#endif

namespace coil::detail {

namespace {

constexpr std::size_t kFirstChunk = std::size_t{16} << 10;

std::size_t roundUp(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

void* allocateLarge(std::size_t bytes) {
  const std::size_t length = roundUp(bytes, kLargePage);
#if defined(COIL_LARGE_PAGES_MMAP)
  // The caller is about to touch it all (chunks are carved from the start, heap arrays filled):
  // fault it in with the mapping rather than one page fault at a time.
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#if defined(MAP_POPULATE)
  flags |= MAP_POPULATE;
#endif
  void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
#else
  return ::operator new (length, std::align_val_t{64});
#endif
}

void freeLarge(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  const std::size_t length = roundUp(bytes, kLargePage);
#if defined(COIL_LARGE_PAGES_MMAP)
  ::munmap(p, length);
#else
  ::operator delete (p, length, std::align_val_t{64});
#endif
}

void* reallocateLarge(void* p, std::size_t oldBytes, std::size_t bytes) {
#if defined(COIL_LARGE_PAGES_MMAP) && defined(MREMAP_MAYMOVE)
  const std::size_t oldLength = roundUp(oldBytes, kLargePage);
  const std::size_t length = roundUp(bytes, kLargePage);
  if (length == oldLength) return p;
  void* q = ::mremap(p, oldLength, length, MREMAP_MAYMOVE);
  if (q == MAP_FAILED) throw std::bad_alloc();
#if defined(MADV_POPULATE_WRITE)
  // Fault in the new part at once, as allocateLarge() does (advice: failure is harmless).
  ::madvise(static_cast<char*>(q) + oldLength, length - oldLength, MADV_POPULATE_WRITE);
#endif
  return q;
#else
  void* q = allocateLarge(bytes);
  std::memcpy(q, p, oldBytes);
  freeLarge(p, oldBytes);
  return q;
#endif
}

void FreeList::refill() {
  // Chunks double up to a large page, so that a thread with few blocks keeps little memory and
  // one with many gets them on huge pages. Chunks are never freed: blocks of any chunk may sit
  // in any pool of this size.
  const std::size_t bytes = std::min(chunkBytes == 0 ? kFirstChunk : chunkBytes * 2, kLargePage);
  char* chunk;
  if (bytes == kLargePage) {
    chunk = static_cast<char*>(allocateLarge(bytes));
  } else {
    chunk = static_cast<char*>(
        ::operator new (bytes, std::align_val_t{std::max<std::size_t>(align, 64)}));
  }
  // The chunk's last word links it to the previous chunk (keeping every chunk reachable).
  char* link = chunk + bytes - sizeof(char*);
  ::new (static_cast<void*>(link)) char*(chunks);
  chunks = chunk;
  chunkBytes = bytes;
  cur = chunk;
  end = chunk + (bytes - sizeof(char*)) / size * size;
}

FreeList* FreeListShelf::acquire(std::size_t size, std::size_t align) {
  while (locked.exchange(true, std::memory_order_acquire)) {
  }
  FreeList* list = idle;
  if (list) idle = list->nextIdle;
  locked.store(false, std::memory_order_release);
  if (list) {
    list->nextIdle = nullptr;
    return list;
  }
  list = new FreeList;
  list->size = size;
  list->align = align;
  return list;
}

void FreeListShelf::release(FreeList* list) noexcept {
  while (locked.exchange(true, std::memory_order_acquire)) {
  }
  list->nextIdle = idle;
  idle = list;
  locked.store(false, std::memory_order_release);
}

}  // namespace coil::detail
