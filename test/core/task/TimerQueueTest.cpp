// Tests for coil::detail::TimerQueue: ordering, lazy deletion, compaction, rescheduling, lifetime.
#include <coil/core/DelayedCall.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <test/core/task/TimerQueueFixture.hpp>
#include <test/support/Testing.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using coil::DelayedCall;
using coil::DelayedCallPtr;
namespace detail = coil::detail;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using Fixture = coil::test::TimerQueueFixture;

std::vector<double> pendingTimes(const detail::TimerQueue& q) {
  std::vector<double> times;
  for (const auto& c : q.pending()) times.push_back(c->getTime());
  return times;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(TimerQueue)

COIL_TEST_CASE(emptyQueueHasNothing) {
  Fixture f;
  BOOST_TEST(f.queue.size() == 0u);
  BOOST_TEST(f.queue.empty());
  BOOST_TEST(!f.queue.nextTime().has_value());
  BOOST_TEST(!f.queue.popDue(kInf));
  BOOST_TEST(f.queue.pending().empty());
}

COIL_TEST_CASE(popsInTimeOrder) {
  Fixture f;
  f.at(3, 3);
  f.at(1, 1);
  f.at(2, 2);
  BOOST_TEST(f.queue.size() == 3u);
  BOOST_TEST(*f.queue.nextTime() == 1.0);
  BOOST_TEST(f.runUntil(10) == 3);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2, 3}));
  BOOST_TEST(f.queue.empty());
}

COIL_TEST_CASE(equalTimesPopFifo) {
  Fixture f;
  for (int i = 0; i < 200; ++i) f.at(i % 2 ? 5.0 : 4.0, i);
  f.runUntil(5);
  std::vector<int> expected;
  for (int i = 0; i < 200; i += 2) expected.push_back(i);
  for (int i = 1; i < 200; i += 2) expected.push_back(i);
  BOOST_TEST(f.ran == expected);
}

COIL_TEST_CASE(popDueNeverReturnsACallBeforeItsTime) {
  Fixture f;
  auto c = f.at(1.5, 1);
  BOOST_TEST(!f.queue.popDue(1.0));
  BOOST_TEST(!f.queue.popDue(std::nextafter(1.5, 0.0)));
  BOOST_TEST(!f.queue.popDue(std::nan("")));
  BOOST_TEST(c->active());
  auto due = f.queue.popDue(1.5);
  BOOST_REQUIRE(due);
  BOOST_TEST(due.call() == c.get());
}

COIL_TEST_CASE(popDueMarksCalledDetachesAndHandsOverTheFunction) {
  Fixture f;
  auto token = std::make_shared<int>(7);
  std::weak_ptr<int> watch = token;
  int seen = 0;
  auto c = f.queue.schedule(1, [token, &seen] { seen = *token; });
  token.reset();
  auto due = f.queue.popDue(1);
  BOOST_REQUIRE(due);
  BOOST_TEST(DelayedCall::from(c)->called());
  BOOST_TEST(!c->active());
  BOOST_TEST(!DelayedCall::from(c)->cancelled());
  BOOST_TEST(f.queue.size() == 0u);
  BOOST_CHECK_THROW(c->cancel(), coil::error::AlreadyCalled);
  BOOST_TEST(!watch.expired());  // the function is released only after `due` has run it
  due.run();
  BOOST_TEST(seen == 7);
  due = {};
  BOOST_TEST(watch.expired());
}

COIL_TEST_CASE(cancelledCallsAreSkippedAndReleaseTheirFunction) {
  // Beyond the wheel's window (see TimerWheelTest), where cancelling leaves a stale entry.
  Fixture f;
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  auto a = f.queue.schedule(100, [token] {});
  token.reset();
  auto b = f.at(200, 2);
  a->cancel();
  BOOST_TEST(watch.expired());
  BOOST_TEST(DelayedCall::from(a)->cancelled());
  BOOST_TEST(!a->active());
  BOOST_TEST(f.queue.size() == 1u);
  BOOST_TEST(f.queue.staleCount() == 1u);
  BOOST_TEST(*f.queue.nextTime() == 200.0);  // drops the stale entry on the way
  BOOST_TEST(f.queue.staleCount() == 0u);
  BOOST_TEST(f.runUntil(500) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{2}));
}

COIL_TEST_CASE(resetEarlierMovesTheCallForward) {
  Fixture f;
  f.at(5, 5);
  auto c = f.at(10, 10);
  f.now = 1;
  c->reset(2);  // now 1 + 2
  BOOST_TEST(c->getTime() == 3.0);
  BOOST_TEST(*f.queue.nextTime() == 3.0);
  BOOST_TEST(f.queue.size() == 2u);
  BOOST_TEST(f.runUntil(4) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{10}));
  BOOST_TEST(f.runUntil(20) == 1);  // the old entry at 10 is stale: nothing runs twice
  BOOST_TEST(f.ran == (std::vector<int>{10, 5}));
}

COIL_TEST_CASE(resetLaterIsNeverEarlyAndAddsNoEntry) {
  Fixture f;
  auto c = f.at(1, 1);
  f.at(2, 2);
  c->reset(3);
  BOOST_TEST(c->getTime() == 3.0);
  BOOST_TEST(f.queue.heapSize() == 2u);
  BOOST_TEST(*f.queue.nextTime() == 2.0);
  BOOST_TEST(f.runUntil(2.5) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{2}));
  BOOST_TEST(c->active());
  BOOST_TEST(f.runUntil(3) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{2, 1}));
}

COIL_TEST_CASE(repeatedResetLaterKeepsOneEntry) {
  // The TimeoutMixin pattern: a timeout pushed back on every read.
  Fixture f;
  auto c = f.at(10, 1);
  for (int i = 1; i <= 10000; ++i) {
    f.now = i * 0.001;
    c->reset(10);
  }
  BOOST_TEST(f.queue.heapSize() == 1u);
  BOOST_TEST(*f.queue.nextTime() == 20.0);
  BOOST_TEST(f.runUntil(19.999) == 0);
  BOOST_TEST(f.runUntil(20) == 1);
}

COIL_TEST_CASE(repeatedResetEarlierIsCompacted) {
  Fixture f;
  auto c = f.at(1e6, 1);
  for (int i = 0; i < 10000; ++i) {
    c->reset(1e6 - i - 1);
    BOOST_TEST_REQUIRE(f.queue.heapSize() <= 2 * f.queue.size() + 51);
  }
  BOOST_TEST(f.queue.size() == 1u);
  BOOST_TEST(*f.queue.nextTime() == 1e6 - 10000);
}

COIL_TEST_CASE(delayMovesByTheGivenAmount) {
  Fixture f;
  auto a = f.at(5, 1);
  auto b = f.at(6, 2);
  a->delay(2);  // 7: after b
  BOOST_TEST(a->getTime() == 7.0);
  b->delay(-5.5);  // 0.5
  BOOST_TEST(b->getTime() == 0.5);
  BOOST_TEST(*f.queue.nextTime() == 0.5);
  f.runUntil(10);
  BOOST_TEST(f.ran == (std::vector<int>{2, 1}));
}

COIL_TEST_CASE(rescheduledCallGoesAfterCallsAlreadyAtThatTime) {
  // The order must not depend on whether anybody looked at the queue in between.
  for (bool peek : {false, true}) {
    Fixture f;
    auto a = f.at(1, 1);
    a->reset(5);
    if (peek) BOOST_TEST(*f.queue.nextTime() == 5.0);
    f.at(5, 2);
    auto c = f.at(7, 3);
    c->reset(5);  // earlier: new entry, ordered after 1 and 2
    f.runUntil(5);
    BOOST_TEST(f.ran == (std::vector<int>{1, 2, 3}));
  }
}

COIL_TEST_CASE(aCallMovedEarlierRepeatedlyRunsOnceAtItsLastTime) {
  Fixture f;
  auto a = f.at(10, 1);
  f.at(5, 2);
  a->reset(3);  // earlier than its entry: a side entry
  a->reset(4);  // again: a fresh side entry, the older one stale
  BOOST_TEST(f.queue.size() == 2u);
  BOOST_TEST(f.queue.staleCount() == 2u);  // the main entry and the first side entry
  f.at(6, 3);
  a->delay(2);  // 6, after the call scheduled at 6 before this
  BOOST_TEST(a->getTime() == 6.0);
  BOOST_TEST(*f.queue.nextTime() == 5.0);
  BOOST_TEST(f.runUntil(100) == 3);
  BOOST_TEST(f.ran == (std::vector<int>{2, 3, 1}));
  BOOST_TEST(f.queue.heapSize() == 0u);
  BOOST_TEST(f.queue.staleCount() == 0u);
}

COIL_TEST_CASE(equalTimesStayFifoAcrossMovedAndUnmovedCalls) {
  Fixture f;
  f.at(5, 1);
  auto moved = f.at(9, 2);
  moved->reset(5);  // now 0: time 5, ordered after 1
  f.at(5, 3);       // after the reset
  auto later = f.at(2, 4);
  later->reset(5);  // moved later to 5: after 3
  BOOST_TEST(f.runUntil(5) == 4);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2, 3, 4}));
}

COIL_TEST_CASE(cancellingAMovedCallLeavesNoLiveEntry) {
  Fixture f;
  auto a = f.at(10, 1);
  a->reset(1);
  a->cancel();
  BOOST_TEST(f.queue.size() == 0u);
  BOOST_TEST(!f.queue.nextTime().has_value());
  BOOST_TEST(f.queue.heapSize() == 0u);
  BOOST_TEST(f.runUntil(100) == 0);
}

COIL_TEST_CASE(markHoldsBackCallsScheduledAfterIt) {
  Fixture f;
  f.at(0, 1);
  auto moved = f.at(100, 2);
  auto mark = f.queue.mark();
  f.at(0, 3);
  BOOST_TEST(static_cast<bool>(f.queue.popDue(0, mark)));
  BOOST_TEST(!f.queue.popDue(0, mark));  // 3 is newer than the mark
  moved->reset(-1);                      // rescheduled after the mark too
  BOOST_TEST(!f.queue.popDue(0, mark));
  BOOST_TEST(f.queue.size() == 2u);
  BOOST_TEST(static_cast<bool>(f.queue.popDue(0)));
  BOOST_TEST(static_cast<bool>(f.queue.popDue(0)));
}

COIL_TEST_CASE(infiniteAndHugeTimesAreOrderedAndHarmless) {
  Fixture f;
  const double huge = std::ldexp(1.0, 128);
  auto inf = f.at(kInf, 3);
  f.at(huge, 2);
  f.at(1, 1);
  BOOST_TEST(f.runUntil(1e300) == 2);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2}));
  BOOST_TEST(*f.queue.nextTime() == kInf);
  BOOST_TEST(inf->active());
  BOOST_CHECK_THROW(inf->delay(-kInf), std::invalid_argument);  // inf - inf is not a time
  BOOST_TEST(f.runUntil(kInf) == 1);
  BOOST_TEST(f.ran == (std::vector<int>{1, 2, 3}));
}

COIL_TEST_CASE(nanIsRejectedEverywhere) {
  Fixture f;
  BOOST_CHECK_THROW(f.queue.schedule(std::nan(""), [] {}), std::invalid_argument);
  BOOST_CHECK_THROW(f.queue.schedule(1, std::function<void()>()), std::invalid_argument);
  BOOST_CHECK_THROW(f.queue.schedule(1, coil::DelayedFunction()), std::invalid_argument);
  auto c = f.at(kInf, 1);
  BOOST_CHECK_THROW(c->delay(std::nan("")), std::invalid_argument);
  BOOST_CHECK_THROW(c->delay(-kInf), std::invalid_argument);
  BOOST_CHECK_THROW(c->reset(std::nan("")), std::invalid_argument);
  BOOST_TEST(c->getTime() == kInf);
  BOOST_TEST(f.queue.size() == 1u);
}

COIL_TEST_CASE(pendingListsLiveCallsInRunOrder) {
  Fixture f;
  auto a = f.at(3, 1);
  auto b = f.at(1, 2);
  auto c = f.at(2, 3);
  auto d = f.at(1, 4);
  b->cancel();
  a->reset(0.5);
  BOOST_TEST(pendingTimes(f.queue) == (std::vector<double>{0.5, 1, 2}));
  auto pending = f.queue.pending();
  BOOST_TEST(pending[0] == a);
  BOOST_TEST(pending[1] == d);
  BOOST_TEST(pending[2] == c);
  f.runUntil(1);
  BOOST_TEST(pendingTimes(f.queue) == (std::vector<double>{2}));
}

COIL_TEST_CASE(compactionKeepsTheHeapBoundedAfterMassCancels) {
  Fixture f;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 1000; ++i) calls.push_back(f.at(1000 - i, i));
  for (int i = 0; i < 1000; ++i) {
    if (i % 10 == 0) continue;
    calls[i]->cancel();
    BOOST_TEST_REQUIRE(f.queue.heapSize() <= 2 * f.queue.size() + 51);
  }
  BOOST_TEST(f.queue.size() == 100u);
  BOOST_TEST(f.queue.heapSize() <= 151u);
  BOOST_TEST(f.queue.staleCount() <= 51u);
  BOOST_TEST(f.runUntil(1e9) == 100);
  BOOST_TEST(std::is_sorted(f.ran.rbegin(), f.ran.rend()));  // descending ids: ascending times
  BOOST_TEST(f.queue.heapSize() == 0u);
  BOOST_TEST(f.queue.staleCount() == 0u);
}

COIL_TEST_CASE(compactionKeepsMovedCallsInOrder) {
  // Calls moved later (lazily, entry not yet re-keyed) and earlier survive a compaction intact.
  Fixture f;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 300; ++i) calls.push_back(f.at(i, i));
  for (int i = 0; i < 100; ++i) calls[i]->reset(1000 - i);  // later: 0..99 now run last, reversed
  calls[299]->reset(-1);                                    // earlier: first
  for (int i = 100; i < 299; ++i)
    if (i % 10 != 0) calls[i]->cancel();  // 179 cancels: one compaction on the way
  BOOST_TEST(f.queue.size() == 121u);
  BOOST_TEST(f.queue.staleCount() < 100u);
  BOOST_TEST(f.queue.heapSize() == f.queue.size() + f.queue.staleCount());
  f.runUntil(1e9);
  std::vector<int> expected{299};
  for (int i = 100; i < 299; i += 10) expected.push_back(i);
  for (int i = 99; i >= 0; --i) expected.push_back(i);
  BOOST_TEST(f.ran == expected);
}

COIL_TEST_CASE(fewStaleEntriesAreNotCompacted) {
  Fixture f;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 60; ++i) calls.push_back(f.at(100 + i, i));  // far: cancels leave entries
  for (int i = 0; i < 50; ++i) calls[i]->cancel();
  BOOST_TEST(f.queue.staleCount() == 50u);  // 50 is not "more than 50"
  BOOST_TEST(f.queue.heapSize() == 60u);
  calls[50]->cancel();
  BOOST_TEST(f.queue.staleCount() == 0u);
  BOOST_TEST(f.queue.heapSize() == 9u);
}

COIL_TEST_CASE(manyTimersWithEverySecondCancelledFireInOrderNeverEarly) {
  Fixture f;
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> delay(0.0, 1000.0);
  const int n = 200000;
  std::vector<DelayedCallPtr> calls;
  calls.reserve(n);
  std::vector<double> firedAt;
  std::vector<double> scheduledFor;
  for (int i = 0; i < n; ++i) {
    double t = delay(rng);
    calls.push_back(f.queue.schedule(t, [&f, &firedAt, &scheduledFor, t] {
      firedAt.push_back(f.now);
      scheduledFor.push_back(t);
    }));
  }
  for (int i = 1; i < n; i += 2) calls[i]->cancel();
  BOOST_TEST(f.queue.size() == static_cast<std::size_t>(n / 2));
  for (double now = 0; now <= 1000.0; now += 0.5) f.runUntil(now);
  BOOST_TEST(firedAt.size() == static_cast<std::size_t>(n / 2));
  BOOST_TEST(std::is_sorted(scheduledFor.begin(), scheduledFor.end()));
  bool early = false;
  for (std::size_t i = 0; i < firedAt.size(); ++i) early |= firedAt[i] < scheduledFor[i];
  BOOST_TEST(!early);
  for (int i = 0; i < n; ++i) BOOST_TEST_REQUIRE(calls[i]->active() == false);
}

COIL_TEST_CASE(randomOperationsMatchAReferenceModel) {
  // Schedules, cancels, resets, delays and pops at random; checks every pop against a model.
  Fixture f;
  std::mt19937 rng(7);
  struct Model {
    double time;
    std::uint64_t order;
    DelayedCallPtr call;
  };
  std::map<int, Model> model;  // id -> expected key
  std::uint64_t order = 0;
  int nextId = 0;
  std::vector<int> ran;
  auto key = [](const Model& m) { return std::make_pair(m.time, m.order); };
  for (int step = 0; step < 20000; ++step) {
    int op = static_cast<int>(rng() % 10);
    if (op < 4 || model.empty()) {
      int id = nextId++;
      double t = f.now + static_cast<double>(rng() % 100) / 10.0;
      auto c = f.queue.schedule(t, [&ran, id] { ran.push_back(id); });
      model[id] = Model{t, order++, c};
    } else if (op < 9) {
      auto it = std::next(model.begin(), static_cast<long>(rng() % model.size()));
      Model& m = it->second;
      switch (op) {
        case 4: {
          auto call = m.call;
          model.erase(it);
          call->cancel();
          BOOST_TEST_REQUIRE(DelayedCall::from(call)->cancelled());
          break;
        }
        case 5:
        case 6: {
          double s = static_cast<double>(rng() % 100) / 10.0 - 2.0;
          m.call->reset(s);
          m.time = f.now + s;
          m.order = order++;
          BOOST_TEST_REQUIRE(m.call->getTime() == m.time);
          break;
        }
        default: {
          double s = static_cast<double>(rng() % 100) / 10.0 - 5.0;
          m.call->delay(s);
          m.time += s;
          m.order = order++;
          BOOST_TEST_REQUIRE(m.call->getTime() == m.time);
          break;
        }
      }
    } else {
      f.now += static_cast<double>(rng() % 30) / 10.0;
      while (true) {
        auto best = std::min_element(model.begin(), model.end(), [&](auto& a, auto& b) {
          return key(a.second) < key(b.second);
        });
        auto due = f.queue.popDue(f.now);
        if (best == model.end() || best->second.time > f.now) {
          BOOST_TEST_REQUIRE(!due);
          break;
        }
        BOOST_REQUIRE(due);
        BOOST_TEST_REQUIRE(due.call() == best->second.call.get());
        due.run();
        BOOST_TEST_REQUIRE(ran.back() == best->first);
        model.erase(best);
      }
    }
    BOOST_TEST_REQUIRE(f.queue.size() == model.size());
    BOOST_TEST_REQUIRE(f.queue.heapSize() <= 2 * f.queue.size() + 51);
  }
  auto pending = f.queue.pending();
  BOOST_TEST(pending.size() == model.size());
  BOOST_TEST(std::is_sorted(pending.begin(), pending.end(),
                            [](auto& a, auto& b) { return a->getTime() < b->getTime(); }));
}

COIL_TEST_CASE(destroyingTheQueueCancelsPendingCallsAndReleasesThem) {
  DelayedCallPtr pending, cancelled, popped;
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  {
    double now = 0;
    detail::TimerQueue q([&now] { return now; });
    pending = q.schedule(5, [token] {});
    cancelled = q.schedule(6, [] {});
    popped = q.schedule(0, [] {});
    token.reset();
    cancelled->cancel();
    auto due = q.popDue(0);
    BOOST_REQUIRE(due);
  }
  BOOST_TEST(watch.expired());
  BOOST_TEST(!pending->active());
  BOOST_TEST(DelayedCall::from(pending)->cancelled());
  BOOST_CHECK_THROW(pending->cancel(), coil::error::AlreadyCancelled);
  BOOST_CHECK_THROW(pending->reset(1), coil::error::AlreadyCancelled);
  BOOST_TEST(DelayedCall::from(popped)->called());
  BOOST_TEST(DelayedCall::from(cancelled)->cancelled());
}

namespace {
/// Schedules a call on `queue` when destroyed (a capture that re-enters the dying queue).
class ScheduleOnDestroy {
 public:
  ScheduleOnDestroy(detail::TimerQueue* queue, DelayedCallPtr* out) : queue_(queue), out_(out) {}
  ~ScheduleOnDestroy() {
    *out_ = queue_->schedule(1, [] {});
  }
  ScheduleOnDestroy(const ScheduleOnDestroy&) = delete;
  ScheduleOnDestroy& operator=(const ScheduleOnDestroy&) = delete;

 private:
  detail::TimerQueue* queue_;
  DelayedCallPtr* out_;
};
}  // namespace

COIL_TEST_CASE(captureDestructorsMayReenterTheQueue) {
  DelayedCallPtr late;
  DelayedCallPtr victim;
  {
    detail::TimerQueue q([] { return 0.0; });
    auto guard = std::make_shared<ScheduleOnDestroy>(&q, &late);
    auto c = q.schedule(1, [guard] {});
    guard.reset();
    victim = q.schedule(2, [] {});
    // Cancelling releases the capture, which schedules another call: the queue stays whole.
    c->cancel();
    BOOST_REQUIRE(late);
    BOOST_TEST(late->active());
    BOOST_TEST(q.size() == 2u);
    // And at destruction, a released capture scheduling again is handled too.
    auto guard2 = std::make_shared<ScheduleOnDestroy>(&q, &late);
    q.schedule(3, [guard2] {});
    guard2.reset();
  }
  BOOST_TEST(!late->active());
  BOOST_TEST(!victim->active());
}

COIL_TEST_CASE(checkDelayNamesTheCallerAndTheValue) {
  BOOST_CHECK_NO_THROW(coil::detail::checkDelay("x", 0.0));
  BOOST_CHECK_NO_THROW(coil::detail::checkDelay("x", kInf));
  BOOST_CHECK_EXCEPTION(coil::detail::checkDelay("Reactor.callLater", -0.25), std::invalid_argument,
                        [](const std::invalid_argument& e) {
                          std::string what = e.what();
                          return what.find("Reactor.callLater") != std::string::npos &&
                                 what.find("-0.25") != std::string::npos;
                        });
  BOOST_CHECK_THROW(coil::detail::checkDelay("x", std::nan("")), std::invalid_argument);
  BOOST_TEST(coil::detail::formatSeconds(0.1) == "0.1");
  BOOST_TEST(coil::detail::formatSeconds(-kInf) == "-inf");
}

BOOST_AUTO_TEST_SUITE_END()
