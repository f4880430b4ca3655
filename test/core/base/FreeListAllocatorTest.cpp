// Tests for detail::FreeListAllocator: reuse, cross-thread frees, and the closed list at exit.
#include <coil/core/detail/FreeListAllocator.hpp>

#include <test/support/Testing.hpp>

#include <memory>
#include <thread>

using coil::detail::FreeList;
using coil::detail::FreeListAllocator;

namespace {
struct Block {
  char bytes[48];
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

COIL_TEST_CASE(arraysBypassTheList) {
  FreeListAllocator<Block> a;
  Block* many = a.allocate(3);
  many[2].bytes[0] = 'x';  // all three are usable
  a.deallocate(many, 3);
  BOOST_TEST(true);
}

COIL_TEST_CASE(sharedObjectsFreedOnAnotherThreadAreSafe) {
  auto p = std::allocate_shared<Block>(FreeListAllocator<Block>{});
  p->bytes[0] = 'a';
  std::thread t([q = std::move(p)]() mutable { q.reset(); });  // joins that thread's list
  t.join();
  auto r = std::allocate_shared<Block>(FreeListAllocator<Block>{});
  r->bytes[0] = 'b';
  BOOST_TEST(r->bytes[0] == 'b');
}

COIL_TEST_CASE(closedListFreesInsteadOfKeeping) {
  FreeList list;
  void* p = list.take(32);
  list.give(p);
  BOOST_TEST(list.count == 1u);
  list.drain();
  BOOST_TEST(list.closed);
  BOOST_TEST(list.count == 0u);
  void* q = list.take(32);
  list.give(q);  // after close: freed at once, not kept
  BOOST_TEST(list.count == 0u);
  BOOST_TEST(list.head == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
