// Tests for detail::FreeListAllocator (per-thread block pools handed between threads) and the
// large-page memory behind the timer heap.
#include <coil/core/detail/FreeListAllocator.hpp>

#include <test/support/Testing.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

using coil::detail::FreeList;
using coil::detail::FreeListAllocator;
namespace detail = coil::detail;

namespace {
struct Block {
  char bytes[48];
};
struct alignas(64) Wide {
  char bytes[64];
};
}  // namespace

BOOST_AUTO_TEST_SUITE(FreeListAllocatorTests)

COIL_TEST_CASE(freedBlockIsReusedOnTheSameThread) {
  FreeListAllocator<Block> a;
  Block* first = a.allocate(1);
  a.deallocate(first, 1);
  Block* second = a.allocate(1);
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST_MESSAGE("AddressSanitizer build: the allocator is plain operator new");
#else
  BOOST_TEST(second == first);
#endif
  a.deallocate(second, 1);
}

COIL_TEST_CASE(blocksAreDistinctAlignedAndUsable) {
  FreeListAllocator<Wide> a;
  std::vector<Wide*> blocks;
  for (int i = 0; i < 5000; ++i) {  // several chunks
    Wide* w = a.allocate(1);
    BOOST_TEST_REQUIRE(reinterpret_cast<std::uintptr_t>(w) % alignof(Wide) == 0u);
    std::memset(w->bytes, i & 0xff, sizeof w->bytes);
    blocks.push_back(w);
  }
  bool intact = true;
  for (int i = 0; i < 5000; ++i)
    intact &= blocks[i]->bytes[0] == static_cast<char>(i & 0xff) &&
              blocks[i]->bytes[63] == static_cast<char>(i & 0xff);
  BOOST_TEST(intact);
  for (Wide* w : blocks) a.deallocate(w, 1);
}

COIL_TEST_CASE(arraysBypassThePool) {
  FreeListAllocator<Block> a;
  Block* many = a.allocate(3);
  many[2].bytes[0] = 'x';  // all three are usable
  a.deallocate(many, 3);
  BOOST_TEST(true);
}

COIL_TEST_CASE(sharedObjectsFreedOnAnotherThreadAreSafe) {
  auto p = std::allocate_shared<Block>(FreeListAllocator<Block>{});
  p->bytes[0] = 'a';
  std::thread t([q = std::move(p)]() mutable { q.reset(); });  // joins that thread's pool
  t.join();
  auto r = std::allocate_shared<Block>(FreeListAllocator<Block>{});
  r->bytes[0] = 'b';
  BOOST_TEST(r->bytes[0] == 'b');
}

COIL_TEST_CASE(anExitedThreadsPoolGoesToTheNextThread) {
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST_MESSAGE("AddressSanitizer build: the allocator is plain operator new");
#else
  struct Odd {
    char bytes[200];
  };
  FreeList* first = nullptr;
  FreeList* second = nullptr;
  std::thread a([&] {
    FreeListAllocator<Odd> alloc;
    alloc.deallocate(alloc.allocate(1), 1);
    first = &FreeListAllocator<Odd>::list();
  });
  a.join();
  std::thread b([&] { second = &FreeListAllocator<Odd>::list(); });
  b.join();
  BOOST_TEST(first != nullptr);
  BOOST_TEST(second == first);  // the shelf handed it over instead of making a new one
  BOOST_TEST(second->count == 1u);
#endif
}

COIL_TEST_CASE(aPoolCarvesChunksAndReusesFreedBlocks) {
  static FreeList list{};  // static: its chunks stay reachable (pools live for the process)
  list.size = 96;
  list.align = 8;
  void* a = list.take();
  void* b = list.take();
  BOOST_TEST(static_cast<char*>(b) - static_cast<char*>(a) == 96);  // carved in order
  list.give(a);
  BOOST_TEST(list.count == 1u);
  BOOST_TEST(list.take() == a);
  BOOST_TEST(list.count == 0u);
  std::size_t chunks = 0;
  for (int i = 0; i < 1000; ++i) {
    char* before = list.chunks;
    list.take();
    chunks += list.chunks != before ? 1 : 0;
  }
  BOOST_TEST(chunks >= 2u);  // 96 KB in chunks of 16 KB, 32 KB, ...
  BOOST_TEST(list.chunkBytes <= detail::kLargePage);
}

COIL_TEST_CASE(largeMemoryKeepsItsContentsWhenGrown) {
  const std::size_t small = detail::kLargePage;
  auto* p = static_cast<std::uint32_t*>(detail::allocateLarge(small));
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(p) % 64 == 0u);
  const std::size_t n = small / sizeof(std::uint32_t);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint32_t>(i * 2654435761u);
  auto* q = static_cast<std::uint32_t*>(detail::reallocateLarge(p, small, 3 * small));
  bool same = true;
  for (std::size_t i = 0; i < n; ++i) same &= q[i] == static_cast<std::uint32_t>(i * 2654435761u);
  BOOST_TEST(same);
  q[3 * n - 1] = 7;  // the new part is usable
  BOOST_TEST(q[3 * n - 1] == 7u);
  detail::freeLarge(q, 3 * small);
}

BOOST_AUTO_TEST_SUITE_END()
