// Tests for coil::detail::TimerQueue's bucketed front: entries moving between the near heap, the
// wheel's slots and the far heap, cursor jumps, moved calls, compaction, and a reference model.
#include <coil/core/DelayedCall.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <test/core/task/TimerQueueFixture.hpp>
#include <test/support/Testing.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

using coil::DelayedCall;
using coil::DelayedCallPtr;
namespace detail = coil::detail;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// One bucket, and the wheel's window, in seconds.
constexpr double kBucket = 1.0 / 1024;
constexpr double kWindow = detail::TimerQueue::kWheelSlots * kBucket;

using Fixture = coil::test::TimerQueueFixture;

}  // namespace

BOOST_AUTO_TEST_SUITE(TimerWheel)

COIL_TEST_CASE(bucketsAreMillisecondFloorsClampedAtTheEnds) {
  using Q = detail::TimerQueue;
  const std::int64_t max = std::int64_t{1} << 62;
  BOOST_TEST(Q::bucketOf(0.0) == 0);
  BOOST_TEST(Q::bucketOf(-0.0) == 0);
  BOOST_TEST(Q::bucketOf(kBucket) == 1);
  BOOST_TEST(Q::bucketOf(std::nextafter(kBucket, 0.0)) == 0);
  BOOST_TEST(Q::bucketOf(1.0) == 1024);
  BOOST_TEST(Q::bucketOf(-1e-9) == -1);
  BOOST_TEST(Q::bucketOf(-kBucket) == -1);
  BOOST_TEST(Q::bucketOf(std::nextafter(-kBucket, -1.0)) == -2);
  BOOST_TEST(Q::bucketOf(1e6) == 1024000000);
  BOOST_TEST(Q::bucketOf(1e300) == max);
  BOOST_TEST(Q::bucketOf(kInf) == max);
  BOOST_TEST(Q::bucketOf(std::nan("")) == max);
  BOOST_TEST(Q::bucketOf(-1e300) == -max);
  BOOST_TEST(Q::bucketOf(-kInf) == -max);
  // Different buckets never share a time, and a bucket's times are at or after its start.
  BOOST_TEST(Q::bucketOf(std::ldexp(1.0, 52)) == std::int64_t{1} << 62);
  BOOST_TEST(Q::bucketOf(std::ldexp(1.0, 51)) == std::int64_t{1} << 61);
}

COIL_TEST_CASE(callsGoNearToTheWheelOrFarByTheirBucket) {
  Fixture f;
  f.now = 10;
  f.at(10 + kWindow / 2, 2);  // rebases the cursor on the clock: the wheel
  BOOST_TEST(f.layout().cursor == detail::TimerQueue::bucketOf(10));
  f.at(9, 1);                       // past: near
  f.at(10 + 2 * kWindow, 3);        // beyond the window: far
  f.at(10 + kWindow - kBucket, 4);  // the window's last bucket: the wheel
  auto l = f.layout();
  BOOST_TEST(l.near == 1u);
  BOOST_TEST(l.wheel == 2u);
  BOOST_TEST(l.far == 1u);
  f.check();
  BOOST_TEST(f.runUntil(100) == 4);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2, 4, 3}));
  BOOST_TEST(f.queue.heapSize() == 0u);
}

COIL_TEST_CASE(farCallsCrossIntoTheWheelAndThenTheNearHeap) {
  Fixture f;
  // Times from 0 to 20 s, scheduled in a shuffled order: most start far.
  std::vector<int> ids(400);
  for (int i = 0; i < 400; ++i) ids[i] = i;
  std::shuffle(ids.begin(), ids.end(), std::mt19937(3));
  for (int id : ids) f.at(0.05 * id, id);
  auto l = f.layout();
  BOOST_TEST(l.far > 300u);
  BOOST_TEST(l.wheel > 0u);
  f.check();
  // Step through time: at each step the far calls entering the window move into slots.
  bool sawFarAndWheel = false;
  for (double t = 0; t <= 21; t += 0.25) {
    f.runUntil(t);
    l = f.layout();
    sawFarAndWheel |= l.far > 0 && l.wheel > 0 && l.far < 300;
    const auto due = static_cast<std::size_t>(std::floor(t / 0.05 + 1e-9)) + 1;
    BOOST_TEST_REQUIRE(f.ran.size() == std::min<std::size_t>(due, 400));
  }
  BOOST_TEST(sawFarAndWheel);
  BOOST_TEST(f.ran.size() == 400u);
  BOOST_TEST(std::is_sorted(f.ran.begin(), f.ran.end()));
  BOOST_TEST(f.queue.heapSize() == 0u);
}

COIL_TEST_CASE(nextTimeReportsTheEarliestCallWhereverItIs) {
  Fixture f;
  auto far = f.at(100, 1);
  BOOST_TEST(*f.queue.nextTime() == 100.0);
  BOOST_TEST(f.layout().far == 1u);
  auto wheel = f.at(1.5, 2);
  BOOST_TEST(*f.queue.nextTime() == 1.5);
  BOOST_TEST(f.layout().near == 1u);  // the slot was loaded to find it
  f.at(0.75, 3);                      // before the cursor now: near
  BOOST_TEST(*f.queue.nextTime() == 0.75);
  wheel->cancel();
  f.runUntil(1.0);
  BOOST_TEST(*f.queue.nextTime() == 100.0);
  far->cancel();
  BOOST_TEST(!f.queue.nextTime().has_value());
  BOOST_TEST(f.queue.heapSize() == 0u);
}

COIL_TEST_CASE(aLoneFarCallDoesNotDragTheCursorAhead) {
  // A long timeout sits far; short calls scheduled meanwhile must still go to the wheel.
  Fixture f;
  f.at(3600, 0);
  for (int round = 0; round < 5; ++round) {
    f.runUntil(f.now + 1);
    for (int i = 1; i <= 100; ++i) f.at(f.now + 0.01 * i, i);
    auto l = f.layout();
    BOOST_TEST(l.far == 1u);
    BOOST_TEST(l.near <= 2u);
    BOOST_TEST(l.wheel + l.near == 100u);
    BOOST_TEST(f.runUntil(f.now + 1.5) == 100);
  }
  BOOST_TEST(f.queue.size() == 1u);
  BOOST_TEST(f.runUntil(3600) == 1);
}

COIL_TEST_CASE(theCursorFollowsClockJumps) {
  // task::Clock may jump by a million seconds: calls before, across and after the jump.
  Fixture f;
  f.at(0.5, 1);
  f.at(1e6 - 1, 3);
  f.at(1e6 + 0.5, 4);
  f.at(2, 2);
  BOOST_TEST(f.runUntil(1) == 1);
  BOOST_TEST(f.runUntil(1e6) == 2);  // 2 and 3
  BOOST_TEST(f.layout().cursor >= detail::TimerQueue::bucketOf(1e6 - 1));
  f.at(1e6 + 0.25, 5);  // scheduled after the jump: the window is at the new time
  f.at(1e6 + 3 * kWindow, 6);
  f.check();
  BOOST_TEST(f.layout().far >= 1u);
  BOOST_TEST(f.runUntil(1e6 + 1) == 2);
  BOOST_TEST(f.runUntil(1e7) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2, 3, 5, 4, 6}));
  // And back to a quiet queue: calls scheduled now land in the wheel again.
  f.at(1e7 + 0.5, 7);
  BOOST_TEST(f.layout().wheel == 1u);
  BOOST_TEST(f.runUntil(1e7 + 0.5) == 1);
}

COIL_TEST_CASE(aFarCallOverdueWhenTheWindowMovesStillRunsFirst) {
  // Time passes without a pass of the loop (a busy reactor): the next call, scheduled into an
  // empty front, moves the window to the clock, past a far call that is already due. That call
  // stays in the far heap and must still run before the near and wheel calls after it.
  Fixture f;
  f.at(10, 1);  // far
  f.at(10.5, 4);
  f.now = 20;
  f.at(19.5, 2);  // near: the window moved to 20
  f.at(20.5, 3);  // the wheel
  auto l = f.layout();
  BOOST_TEST(l.far == 2u);
  BOOST_TEST(l.near == 1u);
  BOOST_TEST(l.wheel == 1u);
  f.check();
  BOOST_TEST(*f.queue.nextTime() == 10.0);
  BOOST_TEST(f.runUntil(21) == 4);
  BOOST_TEST(f.ran == (std::vector<int>{1, 4, 2, 3}));
  f.check();
  // Again, with the front emptied before the pass: the overdue far calls stay where they are
  // (before the cursor, they have no slot) and pop from the far heap, in order.
  f.at(30, 5);
  f.at(31, 6);
  f.now = 40;
  auto c = f.at(40.5, 7);  // moves the window to 40
  c->cancel();             // and leaves the front empty
  BOOST_TEST(f.layout().far == 2u);
  BOOST_TEST(f.layout().wheel == 0u);
  auto due = f.queue.popDue(40);  // catches the cursor up: nothing moves
  f.check();
  BOOST_REQUIRE(due);
  BOOST_TEST(due.call()->getTime() == 30.0);
  due.run();
  BOOST_TEST(f.runUntil(40) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{1, 4, 2, 3, 5, 6}));
}

COIL_TEST_CASE(pastTimesRunFirstInOrder) {
  Fixture f;
  f.now = 50;
  f.at(51, 10);
  BOOST_TEST(*f.queue.nextTime() == 51.0);  // the cursor is now at 51's bucket
  f.at(50.5, 5);
  f.at(-3, 1);  // negative times are just very past
  f.at(49, 3);
  f.at(-3, 2);  // equal: FIFO
  f.at(51, 11);
  f.check();
  BOOST_TEST(f.layout().near == 6u);
  BOOST_TEST(*f.queue.nextTime() == -3.0);
  BOOST_TEST(f.runUntil(51) == 6);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2, 3, 5, 10, 11}));
}

COIL_TEST_CASE(infiniteTimesWaitBehindEverythingElse) {
  Fixture f;
  f.at(kInf, 9);
  f.at(1, 1);
  f.at(std::ldexp(1.0, 60), 8);
  f.at(kInf, 10);
  f.at(5, 2);
  f.check();
  BOOST_TEST(f.runUntil(1e300) == 3);
  BOOST_TEST(*f.queue.nextTime() == kInf);
  f.check();
  f.at(1e301, 3);  // after the cursor reached the clamped end: near, still ordered by time
  f.at(-1, 0);
  BOOST_TEST(*f.queue.nextTime() == -1.0);
  BOOST_TEST(f.runUntil(1e302) == 2);
  BOOST_TEST(f.queue.size() == 2u);
  BOOST_TEST(f.runUntil(kInf) == 2);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2, 8, 0, 3, 9, 10}));
  f.check();
}

COIL_TEST_CASE(aNearCallMovedLaterLeavesTheNearHeap) {
  Fixture f;
  auto a = f.at(0.0001, 1);  // near: the cursor is at bucket 0
  f.at(0.5, 2);              // wheel
  f.at(0.9, 3);              // wheel
  auto b = f.at(0.0002, 4);  // near
  BOOST_TEST(f.layout().near == 2u);
  a->reset(0.7);  // past the cursor, inside the window: its entry must not pop before 0.5
  b->reset(10);   // beyond the window: to the far heap
  BOOST_TEST(f.queue.heapSize() == 4u);
  BOOST_TEST(*f.queue.nextTime() == 0.5);
  f.check();
  auto l = f.layout();
  BOOST_TEST(l.far == 1u);
  BOOST_TEST(l.near == 1u);  // the slot of 0.5, loaded
  BOOST_TEST(l.wheel == 2u);
  BOOST_TEST(f.runUntil(0.69) == 1);
  BOOST_TEST(f.runUntil(0.7) == 1);
  BOOST_TEST(f.runUntil(9.99) == 1);
  BOOST_TEST(f.runUntil(10) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{2, 1, 3, 4}));
}

COIL_TEST_CASE(callsMovedLaterAcrossBucketsFromEveryStructure) {
  Fixture f;
  std::vector<DelayedCallPtr> calls;
  // Near, wheel and far calls, each moved later by various amounts: within their bucket, to a
  // later bucket of the window, and beyond it.
  const double times[] = {0.0002, 0.3, 1.2, 5.0, 30.0};
  const double moves[] = {0.0001, 0.25, 1.5, 7.0};
  int id = 0;
  std::multimap<std::pair<double, int>, int> expected;  // (time, order) -> id
  int order = 0;
  for (double t : times)
    for (double m : moves) {
      calls.push_back(f.at(t, id));
      expected.emplace(std::make_pair(t + m, 1000 + order++), id);
      ++id;
    }
  for (std::size_t i = 0; i < calls.size(); ++i) calls[i]->delay(moves[i % 4]);
  BOOST_TEST(f.queue.heapSize() == calls.size());
  f.check();
  for (double t = 0; t < 40; t += 0.1) f.runUntil(t);
  std::vector<int> want;
  for (auto& [key, v] : expected) want.push_back(v);
  BOOST_TEST(f.ran == want);
}

COIL_TEST_CASE(manyCallsMovedLaterOutOfTheNearHeapAllFitTheFarHeap) {
  // Every call moved later has room in the far heap, reserved when it was moved.
  Fixture f;
  f.now = 5;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 3000; ++i) calls.push_back(f.at(4 + i * 1e-4, i));  // past: near
  BOOST_TEST(f.layout().near == 3000u);
  for (int i = 0; i < 3000; ++i) calls[i]->reset(100 + i * 1e-3);  // all beyond the window
  f.check();
  BOOST_TEST(*f.queue.nextTime() == 105.0);
  auto l = f.layout();
  BOOST_TEST(l.near == 0u);
  BOOST_TEST(l.far == 3000u);
  f.check();
  BOOST_TEST(f.runUntil(200) == 3000);
  BOOST_TEST(std::is_sorted(f.ran.begin(), f.ran.end()));
}

COIL_TEST_CASE(callsMovedEarlierInterleaveWithWheelCalls) {
  Fixture f;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 10; ++i) calls.push_back(f.at(0.1 * (i + 1), 10 * (i + 1)));  // wheel
  auto far = f.at(50, 999);
  BOOST_TEST(f.layout().far == 1u);
  far->reset(0.45);         // a side entry between 0.4 and 0.5
  calls[9]->reset(0.25);    // 1.0 -> 0.25: side too
  calls[2]->delay(-0.295);  // about 0.3 -> 0.005: side, first
  calls[9]->delay(-0.1);    // again: a fresh side entry, the older one stale
  auto l = f.layout();
  BOOST_TEST(l.side == 4u);
  // Stale: the far entry and 1.0's first side entry (the wheel entries were removed at once).
  BOOST_TEST(f.queue.staleCount() == 2u);
  BOOST_TEST(l.wheel == 8u);
  f.check();
  BOOST_TEST(f.runUntil(0.5) == 7);
  BOOST_TEST(f.ran == (std::vector<int>{30, 10, 100, 20, 40, 999, 50}));
  BOOST_TEST(f.runUntil(1.0) == 4);
  BOOST_TEST(f.queue.heapSize() == 0u);
}

COIL_TEST_CASE(cancellingCallsInSlotsAndFarReleasesThem) {
  Fixture f;
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  auto inSlot = f.queue.schedule(0.5, [token] {});
  auto inFar = f.queue.schedule(30, [token] {});
  token.reset();
  f.at(0.6, 1);
  f.at(40, 2);
  BOOST_TEST(f.layout().wheel == 2u);
  BOOST_TEST(f.layout().far == 2u);
  inSlot->cancel();  // its entry leaves the slot at once, with its reference
  BOOST_TEST(!watch.expired());
  BOOST_TEST(f.queue.staleCount() == 0u);
  BOOST_TEST(f.layout().wheel == 1u);
  inFar->cancel();  // a stale entry stays in the far heap
  BOOST_TEST(watch.expired());
  BOOST_TEST(f.queue.size() == 2u);
  BOOST_TEST(f.queue.staleCount() == 1u);
  BOOST_TEST(f.queue.heapSize() == 3u);
  f.check();
  BOOST_TEST(*f.queue.nextTime() == 0.6);  // the far top is settled on the way
  BOOST_TEST(f.queue.staleCount() == 0u);
  BOOST_TEST(f.queue.heapSize() == 2u);
  BOOST_TEST(f.runUntil(100) == 2);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2}));
  BOOST_TEST(f.queue.heapSize() == 0u);
  BOOST_TEST(f.queue.staleCount() == 0u);
}

COIL_TEST_CASE(compactionCoversEveryStructure) {
  Fixture f;
  f.now = 100;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 100; ++i) calls.push_back(f.at(99 + i * 1e-3, i));           // near
  for (int i = 0; i < 100; ++i) calls.push_back(f.at(100.1 + i * 0.01, 100 + i));  // wheel
  for (int i = 0; i < 100; ++i) calls.push_back(f.at(110 + i * 0.1, 200 + i));     // far
  for (int i = 0; i < 300; i += 10) calls[i]->reset(-1.5 - i * 1e-3);              // earlier: side
  for (int i = 5; i < 300; i += 10) calls[i]->delay(0.5);                          // later, lazily
  auto l = f.layout();
  BOOST_TEST(l.near == 100u);
  BOOST_TEST(l.wheel == 90u);  // the wheel calls moved earlier left their slots at once
  BOOST_TEST(l.far == 100u);
  BOOST_TEST(l.side == 30u);
  // Wheel calls moved later are cancelled lazily, leaving stale entries in their slots too.
  for (int i = 101; i < 200; i += 2) calls[i]->delay(1e-4);
  // Cancel the others across the structures in turn; right after each compaction (the stale
  // count drops to zero) every structure holds exactly its live calls.
  auto live = [&](int from) {
    std::size_t n = 0;
    for (int i = from; i < from + 100; ++i) n += calls[i]->active() && i % 10 != 0 ? 1 : 0;
    return n;
  };
  int compactions = 0;
  for (int k = 0; k < 100; ++k)
    for (int block = 0; block < 3; ++block) {
      const int i = block * 100 + k;
      if (i % 10 == 0 || i % 10 == 5) continue;
      const std::size_t stale = f.queue.staleCount();
      calls[i]->cancel();
      if (f.queue.staleCount() != 0 || stale == 0) continue;
      ++compactions;
      l = f.layout();
      BOOST_TEST_REQUIRE(l.near == live(0));
      BOOST_TEST_REQUIRE(l.wheel == live(100));
      BOOST_TEST_REQUIRE(l.far == live(200));
      BOOST_TEST_REQUIRE(l.side == 30u);
      f.check();
    }
  BOOST_TEST(compactions >= 2);
  std::map<std::pair<double, int>, int> expected;  // ties: scheduling order is index order here
  for (int i = 0; i < 300; ++i)
    if (calls[i]->active()) expected.emplace(std::make_pair(calls[i]->getTime(), i), i);
  BOOST_TEST(expected.size() == 60u);
  f.runUntil(1e9);
  std::vector<int> want;
  for (auto& [key, v] : expected) want.push_back(v);
  BOOST_TEST(f.ran == want);
}

COIL_TEST_CASE(cancellingAWheelCallRemovesItsEntryAtOnce) {
  // The slot position each call keeps lets cancel() take its entry out: the last entry of the
  // slot fills the hole (and learns its new position), so nothing stale is left.
  Fixture f;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 40; ++i) calls.push_back(f.at(0.5, i));  // one slot
  for (int i = 0; i < 10; ++i) calls.push_back(f.at(0.25 + i * 0.1, 40 + i));
  BOOST_TEST(f.layout().wheel == 50u);
  std::vector<int> order = {0, 39, 17, 38, 1, 20, 45, 49, 21, 2, 36};
  std::size_t left = 50;
  for (int i : order) {
    calls[i]->cancel();
    --left;
    BOOST_TEST_REQUIRE(f.queue.staleCount() == 0u);
    BOOST_TEST_REQUIRE(f.queue.heapSize() == left);
    BOOST_TEST_REQUIRE(f.layout().wheel == left);
    f.check();
  }
  BOOST_TEST(f.runUntil(2) == static_cast<int>(left));
  // 0.5 sorts between 0.45 (id 42) and 0.55 (id 43); equal times in scheduling order.
  std::vector<int> byTime;
  for (int i = 40; i < 43; ++i)
    if (std::find(order.begin(), order.end(), i) == order.end()) byTime.push_back(i);
  for (int k = 0; k < 40; ++k)
    if (std::find(order.begin(), order.end(), k) == order.end()) byTime.push_back(k);
  for (int i = 43; i < 50; ++i)
    if (std::find(order.begin(), order.end(), i) == order.end()) byTime.push_back(i);
  BOOST_TEST(f.ran == byTime);
}

COIL_TEST_CASE(cancelFallsBackToAStaleEntryWhereNoPositionIsKnown) {
  Fixture f;
  auto migrated = f.at(3, 1);  // far, then moved into a slot without touching the call
  auto later = f.at(1.6, 2);   // a slot; moved later within the window: re-keyed lazily
  auto near = f.at(0.0, 3);    // the near heap
  f.at(0.25, 4);
  later->delay(0.1);
  // 3 and 4 run; loading 1.6's slot brings 3 s into the window, and 1.7 into the near heap.
  BOOST_TEST(f.runUntil(1.5) == 2);
  BOOST_TEST(f.layout().far == 0u);
  BOOST_TEST(f.layout().wheel == 1u);
  BOOST_TEST(f.layout().near == 1u);
  migrated->cancel();
  BOOST_TEST(f.queue.staleCount() == 1u);
  f.check();
  auto c = f.at(1.75, 5);
  c->delay(0.01);
  c->cancel();  // moved later, not yet re-keyed: lazily
  BOOST_TEST(f.queue.staleCount() == 2u);
  BOOST_TEST(f.runUntil(5) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{3, 4, 2}));
  BOOST_TEST(f.queue.heapSize() == 0u);
  (void)near;
}

COIL_TEST_CASE(positionsStayRightThroughCompactionAndHugeSlots) {
  Fixture f;
  // More calls in one slot than positions can name: the ones past the limit cancel lazily.
  const int n = 70000;
  std::vector<DelayedCallPtr> calls;
  calls.reserve(n);
  for (int i = 0; i < n; ++i) calls.push_back(f.at(1.0, i));
  calls[n - 1]->cancel();  // past the limit: stale
  BOOST_TEST(f.queue.staleCount() == 1u);
  calls[0]->cancel();  // the stale last entry fills its hole
  BOOST_TEST(f.queue.staleCount() == 1u);
  BOOST_TEST(f.queue.heapSize() == static_cast<std::size_t>(n - 1));
  // Lazily cancel calls moved later until a compaction squeezes the slot, then cancel the rest
  // at once: their positions were updated by the compaction.
  std::size_t i = 1;
  for (; f.queue.staleCount() != 0; ++i) {
    calls[i]->delay(0);
    calls[i]->cancel();
  }
  BOOST_TEST(i > 1000u);
  f.check();
  const std::size_t entries = f.queue.heapSize();
  for (std::size_t k = i; k < i + 1000; ++k) calls[k]->cancel();
  BOOST_TEST(f.queue.staleCount() == 0u);
  BOOST_TEST(f.queue.heapSize() == entries - 1000);
  f.check();
  BOOST_TEST(f.runUntil(1) == static_cast<int>(entries - 1000));
  BOOST_TEST(std::is_sorted(f.ran.begin(), f.ran.end()));
  BOOST_TEST(f.ran.front() == static_cast<int>(i + 1000));
}

COIL_TEST_CASE(equalTimesStayFifoWhateverPathTheyTook) {
  // Time T reached by calls scheduled far, in the wheel, in the near heap (after the cursor
  // passed T's bucket), moved later to T and moved earlier to T: FIFO by (re)scheduling order.
  Fixture f;
  const double T = 3.0;
  f.at(T, 1);                 // far (beyond the 2 s window from 0), then the wheel
  auto later = f.at(1.8, 2);  // wheel, then near; moved later to T below
  auto earlier = f.at(9, 3);  // far, moved earlier to T below
  f.runUntil(1.5);            // the window now covers T
  f.at(T, 4);                 // wheel
  later->reset(T - f.now);
  earlier->reset(T - f.now);
  BOOST_TEST(*f.queue.nextTime() == T);  // the cursor reaches T's bucket
  f.at(T, 5);                            // near
  auto moved = f.at(0.1 + f.now, 6);
  moved->reset(T - f.now);  // a near/wheel call moved later onto T again
  f.check();
  BOOST_TEST(f.runUntil(std::nextafter(T, 0.0)) == 0);
  BOOST_TEST(f.runUntil(T) == 6);
  BOOST_TEST(f.ran == (std::vector<int>{1, 4, 2, 3, 5, 6}));
}

COIL_TEST_CASE(callsMadeDuringAPassWaitForTheNextWhereverTheyLand) {
  Fixture f;
  f.at(0.5, 1);  // wheel
  f.at(9, 2);    // far
  const auto mark = f.queue.mark();
  f.at(0.7, 3);  // wheel, after the mark
  f.at(10, 4);   // far, after the mark
  f.at(0.6, 5);  // and again
  auto moved = f.at(0.55, 6);
  moved->reset(0.8);  // rescheduled after the mark too
  auto due = f.queue.popDue(20, mark);
  BOOST_REQUIRE(due);
  BOOST_TEST(due.call()->getTime() == 0.5);
  due.run();
  BOOST_TEST(!f.queue.popDue(20, mark));  // 5, at 0.6, is newer than the mark: the pass ends
  BOOST_TEST(f.queue.size() == 5u);
  BOOST_TEST(f.runUntil(20) == 5);
  BOOST_TEST(f.ran == (std::vector<int>{1, 5, 3, 6, 2, 4}));
}

COIL_TEST_CASE(aMillionPendingTimersAcrossAllStructures) {
  Fixture f;
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> delay(0.0, 10.0);  // a fifth in the window, the rest far
  const int n = 1000000;
  std::vector<DelayedCallPtr> calls;
  calls.reserve(n);
  std::vector<double> times;
  times.reserve(n);
  double last = -1;
  bool ordered = true;
  for (int i = 0; i < n; ++i) {
    const double t = delay(rng);
    times.push_back(t);
    calls.push_back(f.queue.schedule(t, [&f, &last, &ordered, t] {
      ordered &= t >= last && f.now >= t;
      last = t;
    }));
  }
  auto l = f.layout();
  BOOST_TEST(l.wheel + l.near > 150000u);
  BOOST_TEST(l.far > 700000u);
  for (int i = 1; i < n; i += 2) calls[i]->cancel();
  BOOST_TEST(f.queue.size() == static_cast<std::size_t>(n / 2));
  BOOST_TEST(f.queue.heapSize() <= 2 * f.queue.size() + 51);
  f.check();
  std::size_t fired = 0;
  for (double now = 0; now <= 10.0; now += 0.01) {
    f.now = now;
    while (auto due = f.queue.popDue(now)) {
      due.run();
      ++fired;
    }
  }
  BOOST_TEST(fired == static_cast<std::size_t>(n / 2));
  BOOST_TEST(ordered);
  BOOST_TEST(f.queue.heapSize() == 0u);
  f.check();
}

COIL_TEST_CASE(randomOperationsMatchAReferenceModelExactly) {
  // Schedules, cancels, resets, delays, pops (with and without a mark) and clock advances (small
  // steps and big jumps) at random, over times that land in every structure; every pop, every
  // nextTime() and the pending() order are checked against a sorted model.
  for (unsigned seed : {1u, 2u, 3u, 4u}) {
    Fixture f;
    std::mt19937 rng(seed);
    struct Item {
      DelayedCallPtr call;
      int id;
    };
    std::map<std::pair<double, std::uint64_t>, Item> model;  // (time, order) -> call
    std::map<int, std::pair<double, std::uint64_t>> keyOf;
    std::uint64_t order = 0;
    int nextId = 0;
    std::vector<int> ran;
    auto randomDelay = [&]() -> double {
      switch (rng() % 12) {
        case 0:
          return static_cast<double>(rng() % 1000) * 0.05;  // up to 50 s: far
        case 1:
          return (rng() % 50 == 0) ? kInf : static_cast<double>(rng() % 3);
        case 2:
          return -static_cast<double>(rng() % 1000) * 0.001;  // past
        case 3:
          return static_cast<double>(rng() % 8) * kBucket;  // bucket edges
        default:
          return static_cast<double>(rng() % 2500) * 0.001;  // around the window
      }
    };
    auto pick = [&]() { return std::next(keyOf.begin(), static_cast<long>(rng() % keyOf.size())); };
    auto rekey = [&](int id, double time) {
      auto node = model.extract(keyOf[id]);
      keyOf[id] = {time, order++};
      node.key() = keyOf[id];
      model.insert(std::move(node));
    };
    for (int step = 0; step < 30000; ++step) {
      const int op = static_cast<int>(rng() % 20);
      if (op < 7 || keyOf.empty()) {
        const int id = nextId++;
        const double t = f.now + randomDelay();
        auto c = f.queue.schedule(t, [&ran, id] { ran.push_back(id); });
        keyOf[id] = {t, order++};
        model.emplace(keyOf[id], Item{c, id});
      } else if (op < 9) {
        auto it = pick();
        auto node = model.find(it->second);
        node->second.call->cancel();
        model.erase(node);
        keyOf.erase(it);
      } else if (op < 11) {
        auto it = pick();
        const int id = it->first;
        const double s = randomDelay();
        if (std::isinf(s)) continue;
        model.at(it->second).call->reset(s);
        rekey(id, f.now + s);
      } else if (op < 13) {
        auto it = pick();
        const int id = it->first;
        const double old = it->second.first;
        const double s = static_cast<double>(static_cast<int>(rng() % 4000) - 2000) * 0.001;
        if (std::isinf(old)) continue;
        model.at(it->second).call->delay(s);
        rekey(id, old + s);
      } else if (op == 13 && rng() % 4 == 0) {
        // Time passes without a pass (a busy reactor): calls come due before anything pops.
        f.now += (rng() % 8 == 0) ? static_cast<double>(rng() % 30) : (rng() % 500) * 0.001;
      } else if (op < 15) {
        // nextTime() is exact.
        auto next = f.queue.nextTime();
        if (model.empty())
          BOOST_TEST_REQUIRE(!next.has_value());
        else
          BOOST_TEST_REQUIRE(*next == model.begin()->first.first);
      } else {
        // Advance: usually a little, sometimes a jump; pop what is due, some of it with a mark
        // taken after a few new calls.
        f.now += (rng() % 40 == 0) ? static_cast<double>(rng() % 100) : (rng() % 300) * 0.001;
        std::uint64_t mark = detail::TimerQueue::kNoLimit;
        std::uint64_t modelMark = std::numeric_limits<std::uint64_t>::max();
        if (rng() % 3 == 0) {
          mark = f.queue.mark();
          modelMark = order;
          for (int k = static_cast<int>(rng() % 3); k > 0; --k) {  // held back if due
            const int id = nextId++;
            const double t = f.now + randomDelay() - 0.5;
            auto c = f.queue.schedule(t, [&ran, id] { ran.push_back(id); });
            keyOf[id] = {t, order++};
            model.emplace(keyOf[id], Item{c, id});
          }
        }
        for (;;) {
          auto due = f.queue.popDue(f.now, mark);
          auto best = model.begin();
          if (best == model.end() || !(best->first.first <= f.now) ||
              best->first.second >= modelMark) {
            BOOST_TEST_REQUIRE(!due);
            break;
          }
          BOOST_REQUIRE(due);
          BOOST_TEST_REQUIRE(due.call() == best->second.call.get());
          due.run();
          BOOST_TEST_REQUIRE(ran.back() == best->second.id);
          keyOf.erase(best->second.id);
          model.erase(best);
        }
      }
      BOOST_TEST_REQUIRE(f.queue.size() == model.size());
      BOOST_TEST_REQUIRE(f.queue.heapSize() == f.queue.size() + f.queue.staleCount());
      BOOST_TEST_REQUIRE(f.queue.heapSize() <= 2 * f.queue.size() + 51);
      if (step % 64 == 0) f.check();
    }
    f.check();
    auto pending = f.queue.pending();
    BOOST_TEST_REQUIRE(pending.size() == model.size());
    std::size_t k = 0;
    for (auto& [key, item] : model) BOOST_TEST_REQUIRE(pending[k++] == item.call);
    // Drain: everything runs, in model order.
    std::vector<int> want;
    for (auto& [key, item] : model) want.push_back(item.id);
    ran.clear();
    f.now = kInf;
    while (auto due = f.queue.popDue(kInf)) due.run();
    BOOST_TEST(ran == want);
    BOOST_TEST(f.queue.heapSize() == 0u);
  }
}

COIL_TEST_CASE(destroyingTheQueueDetachesCallsInEveryStructure) {
  std::vector<DelayedCallPtr> calls;
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  DelayedCallPtr late;
  {
    double now = 10;
    detail::TimerQueue q([&now] { return now; });
    calls.push_back(q.schedule(10.5, [token] {}));  // the wheel (rebases the window on 10)
    calls.push_back(q.schedule(9, [token] {}));     // near
    calls.push_back(q.schedule(50, [token] {}));    // far
    calls.push_back(q.schedule(11, [token] {}));
    calls.back()->reset(-1);  // side
    // A capture whose destructor schedules on the dying queue, into the wheel.
    struct Reenter {
      detail::TimerQueue* q;
      DelayedCallPtr* out;
      ~Reenter() {
        *out = q->schedule(10.25, [] {});
      }
    };
    auto reenter = std::make_shared<Reenter>(&q, &late);
    calls.push_back(q.schedule(10.75, [reenter] {}));
    reenter.reset();
    token.reset();
    auto l = q.layout();
    BOOST_TEST(l.near == 1u);
    BOOST_TEST(l.wheel == 2u);
    BOOST_TEST(l.far == 1u);
    BOOST_TEST(l.side == 1u);
    BOOST_TEST(!q.invariantViolation());
  }
  BOOST_TEST(watch.expired());
  for (auto& c : calls) {
    BOOST_TEST(!c->active());
    BOOST_TEST(DelayedCall::from(c)->cancelled());
  }
  BOOST_REQUIRE(late);
  BOOST_TEST(!late->active());
}

BOOST_AUTO_TEST_SUITE_END()
