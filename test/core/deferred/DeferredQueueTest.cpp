// Tests for coil::DeferredQueue (Twisted's OtherPrimitivesTests queue cases of test_defer.py,
// plus typed C++ cases).
#include <coil/core/DeferredQueue.hpp>

#include <test/support/Testing.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using coil::CancelledError;
using coil::Deferred;
using coil::Failure;
using coil::QueueOverflow;
using coil::QueueUnderflow;
using coil::Result;

namespace {

/// The result `d` holds now (fails the test if it has none); the chain carries nothing after.
template <class T>
Result<T> resultOf(Deferred<T> d) {
  BOOST_REQUIRE_MESSAGE(d.hasResult(), "the Deferred has no result");
  std::optional<Result<T>> out;
  d.addBoth([&out](Result<T> r) { out.emplace(std::move(r)); });
  BOOST_REQUIRE(out.has_value());
  return std::move(*out);
}

std::vector<int> range(int from, int to) {
  std::vector<int> out;
  for (int i = from; i < to; ++i) out.push_back(i);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DeferredQueue)

COIL_TEST_CASE(putGetSizeAndBacklog) {
  const int n = 2, m = 2;
  coil::DeferredQueue<int> queue(n, m);
  std::vector<int> gotten;
  for (int i = 0; i < m; ++i) queue.get().addCallback([&gotten](int v) { gotten.push_back(v); });
  BOOST_CHECK_THROW(queue.get(), QueueUnderflow);
  for (int i = 0; i < m; ++i) {
    queue.put(i);
    BOOST_TEST(gotten == range(0, i + 1));
  }
  for (int i = 0; i < n; ++i) {
    queue.put(n + i);
    BOOST_TEST(gotten == range(0, m));
  }
  BOOST_CHECK_THROW(queue.put(99), QueueOverflow);

  gotten.clear();
  for (int i = 0; i < n; ++i) {
    queue.get().addCallback([&gotten](int v) { gotten.push_back(v); });
    BOOST_TEST(gotten == range(n, n + i + 1));
  }
}

COIL_TEST_CASE(unlimitedQueueFeedsWaitersInOrder) {
  coil::DeferredQueue<int> queue;
  std::vector<int> gotten;
  for (int i = 0; i < 2; ++i) queue.get().addCallback([&gotten](int v) { gotten.push_back(v); });
  BOOST_TEST(queue.waiting() == 2u);
  for (int i = 0; i < 2; ++i) queue.put(i);
  BOOST_TEST(gotten == range(0, 2));
  BOOST_TEST(queue.waiting() == 0u);
  BOOST_TEST(queue.pending() == 0u);
  BOOST_TEST(!queue.size().has_value());
  BOOST_TEST(!queue.backlog().has_value());
}

COIL_TEST_CASE(zeroSizeOverflowsAndZeroBacklogUnderflows) {
  coil::DeferredQueue<int> noRoom(0);
  BOOST_CHECK_THROW(noRoom.put(1), QueueOverflow);
  BOOST_TEST(noRoom.pending() == 0u);
  coil::DeferredQueue<int> noWaiters(std::nullopt, 0);
  BOOST_CHECK_THROW(noWaiters.get(), QueueUnderflow);
  noWaiters.put(5);  // a buffered item is still handed out
  BOOST_TEST(resultOf(noWaiters.get()).value() == 5);
}

COIL_TEST_CASE(cancelAfterSynchronousGetDoesNothing) {
  coil::DeferredQueue<int> queue;
  bool errbackRan = false;
  Deferred<int> d = queue.get();
  d.addErrback([&](Failure) {
    errbackRan = true;
    return 0;
  });
  queue.put(1);
  d.cancel();
  BOOST_TEST(!errbackRan);
  BOOST_TEST(resultOf(d).value() == 1);
}

COIL_TEST_CASE(cancelledGetLeavesTheQueue) {
  coil::DeferredQueue<int> queue;
  Deferred<int> d = queue.get();
  d.cancel();
  Result<int> r = resultOf(d);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.failure().value<CancelledError>() != nullptr);
  BOOST_TEST(queue.waiting() == 0u);
  // If the Deferred were still linked to the queue, put() would raise AlreadyCalledError.
  BOOST_CHECK_NO_THROW(queue.put(7));
  BOOST_TEST(queue.pending() == 1u);
  BOOST_TEST(resultOf(queue.get()).value() == 7);
}

COIL_TEST_CASE(cancelledGetPassesItemsToTheNextWaiter) {
  coil::DeferredQueue<std::string> queue;
  Deferred<std::string> first = queue.get();
  Deferred<std::string> second = queue.get();
  first.cancel();
  BOOST_TEST(queue.waiting() == 1u);
  queue.put("item");
  BOOST_TEST(resultOf(second).value() == "item");
  BOOST_TEST(resultOf(first).failure().value<CancelledError>() != nullptr);
}

COIL_TEST_CASE(bufferedItemsComeOutFirstInFirstOut) {
  coil::DeferredQueue<int> queue(3);
  queue.put(1);
  queue.put(2);
  queue.put(3);
  BOOST_TEST(queue.pending() == 3u);
  BOOST_TEST(queue.size().value() == 3u);
  Deferred<int> a = queue.get();
  BOOST_TEST(a.hasResult());  // succeed(item): already fired
  BOOST_TEST(resultOf(a).value() == 1);
  BOOST_TEST(resultOf(queue.get()).value() == 2);
  queue.put(4);
  BOOST_TEST(resultOf(queue.get()).value() == 3);
  BOOST_TEST(resultOf(queue.get()).value() == 4);
  BOOST_TEST(queue.pending() == 0u);
}

COIL_TEST_CASE(moveOnlyItems) {
  coil::DeferredQueue<std::unique_ptr<int>> queue(1);
  Deferred<std::unique_ptr<int>> waiter = queue.get();
  queue.put(std::make_unique<int>(1));  // straight to the waiter
  queue.put(std::make_unique<int>(2));  // buffered
  BOOST_CHECK_THROW(queue.put(std::make_unique<int>(3)), QueueOverflow);
  BOOST_TEST(*resultOf(waiter).value() == 1);
  BOOST_TEST(*resultOf(queue.get()).value() == 2);
}

COIL_TEST_CASE(overflowThrowsSynchronouslyAndKeepsTheBuffer) {
  coil::DeferredQueue<int> queue(1, 1);
  queue.put(1);
  BOOST_CHECK_THROW(queue.put(2), QueueOverflow);
  BOOST_TEST(queue.pending() == 1u);
  BOOST_TEST(resultOf(queue.get()).value() == 1);
  Deferred<int> waiting = queue.get();
  BOOST_CHECK_THROW(queue.get(), QueueUnderflow);
  BOOST_TEST(queue.waiting() == 1u);
  queue.put(2);
  BOOST_TEST(resultOf(waiting).value() == 2);
}

COIL_TEST_CASE(putFromAGetCallbackIsSafe) {
  coil::DeferredQueue<int> queue;
  std::vector<int> seen;
  queue.get().addCallback([&](int v) {
    seen.push_back(v);
    queue.put(v + 1);  // re-entrant put while the first waiter's callbacks run
  });
  queue.get().addCallback([&](int v) { seen.push_back(v); });
  queue.put(10);
  BOOST_TEST(seen == (std::vector<int>{10, 11}));
  BOOST_TEST(queue.pending() == 0u);
  BOOST_TEST(queue.waiting() == 0u);
}

COIL_TEST_CASE(cancellingAGetAfterTheQueueIsGoneIsSafe) {
  auto queue = std::make_unique<coil::DeferredQueue<int>>();
  Deferred<int> d = queue->get();
  queue.reset();
  d.cancel();
  BOOST_TEST(resultOf(d).failure().value<CancelledError>() != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
