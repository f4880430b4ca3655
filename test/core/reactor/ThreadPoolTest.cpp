// ThreadPool on its own (Twisted's test_threadpool): start/stop, growth, draining, dropping,
// resizing, logging. Waits are bounded and on real events (futures, condition variables).
// Tests: core/ThreadPool.cpp
#include <coil/core/ThreadPool.hpp>

#include <test/support/Testing.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using coil::ThreadPool;

namespace {

constexpr auto kWait = std::chrono::seconds(10);

/// A latch-like gate: workers wait() until open(); arrivals are counted.
class Gate {
 public:
  /// Blocks (at most kWait) until open(); returns false on timeout.
  bool wait() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    return changed_.wait_for(lock, kWait, [this] { return open_; });
  }
  /// Waits (at most kWait) until `n` workers are waiting.
  bool awaitArrivals(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return arrived_ >= n; });
  }
  /// Releases every waiter, now and later.
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  bool open_ = false;
};

/// Waits (bounded) until `pred()` holds, yielding in between; for state with no event to wait on.
bool eventually(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ThreadPoolTests)

COIL_TEST_CASE(constructionChecksBoundsAndStartsNothing) {
  BOOST_CHECK_THROW(ThreadPool(3, 2), std::invalid_argument);
  ThreadPool pool(2, 4, "named");
  BOOST_TEST(pool.name() == "named");
  BOOST_TEST(pool.minThreads() == 2u);
  BOOST_TEST(pool.maxThreads() == 4u);
  BOOST_TEST(!pool.started());
  BOOST_TEST(!pool.joined());
  BOOST_TEST(pool.threadCount() == 0u);
  BOOST_CHECK_THROW(pool.callInThread({}), std::invalid_argument);
  BOOST_CHECK_THROW(pool.adjustPoolsize(5, 1), std::invalid_argument);
  ThreadPool defaults;
  BOOST_TEST(defaults.minThreads() == 5u);
  BOOST_TEST(defaults.maxThreads() == 20u);
}

COIL_TEST_CASE(workQueuedBeforeStartRunsAfterStart) {
  ThreadPool pool(0, 2);
  std::promise<std::thread::id> ran;
  pool.callInThread([&] { ran.set_value(std::this_thread::get_id()); });
  BOOST_TEST(pool.pendingCount() == 1u);
  BOOST_TEST(pool.threadCount() == 0u);
  pool.start();
  BOOST_TEST(pool.started());
  auto future = ran.get_future();
  BOOST_REQUIRE((future.wait_for(kWait) == std::future_status::ready));
  BOOST_TEST((future.get() != std::this_thread::get_id()));
  pool.stop();
  BOOST_TEST(pool.joined());
  BOOST_TEST(pool.threadCount() == 0u);
}

COIL_TEST_CASE(startMakesTheMinimumAtOnce) {
  ThreadPool pool(3, 5);
  pool.start();
  BOOST_TEST(pool.threadCount() == 3u);
  pool.start();  // no-op
  BOOST_TEST(pool.threadCount() == 3u);
  pool.stop();
  BOOST_TEST(pool.threadCount() == 0u);
}

COIL_TEST_CASE(growsOnDemandUpToTheMaximum) {
  ThreadPool pool(0, 4);
  pool.start();
  BOOST_TEST(pool.threadCount() == 0u);
  Gate gate;
  std::atomic<int> concurrent{0}, most{0};
  for (int i = 0; i < 8; ++i)
    pool.callInThread([&] {
      int now = ++concurrent;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      gate.wait();
      --concurrent;
    });
  // Four workers block at the gate at the same time: the pool grew to its maximum, no further.
  BOOST_TEST(gate.awaitArrivals(4));
  BOOST_TEST(pool.threadCount() == 4u);
  BOOST_TEST(pool.workingCount() == 4u);
  BOOST_TEST(pool.pendingCount() == 4u);
  gate.open();
  pool.stop();
  BOOST_TEST(most.load() == 4);
  BOOST_TEST(pool.pendingCount() == 0u);
}

COIL_TEST_CASE(stopFinishesQueuedWorkThenJoins) {
  ThreadPool pool(1, 1);
  pool.start();
  Gate gate;
  std::atomic<int> done{0};
  pool.callInThread([&] {
    gate.wait();
    ++done;
  });
  BOOST_TEST(gate.awaitArrivals(1));
  for (int i = 0; i < 99; ++i) pool.callInThread([&] { ++done; });
  BOOST_TEST(pool.pendingCount() == 99u);  // the only worker is held at the gate
  std::thread opener([&] {
    // Opened from elsewhere while stop() is (or is about to be) joining.
    gate.open();
  });
  pool.stop();
  opener.join();
  BOOST_TEST(done.load() == 100);
}

COIL_TEST_CASE(workAfterStopOrNeverStartedIsDroppedAndReleased) {
  auto token = std::make_shared<int>(0);
  bool ran = false;
  {
    ThreadPool pool(0, 1);
    pool.callInThread([token, &ran] { ran = true; });
    BOOST_TEST(token.use_count() == 2);
    pool.stop();  // never started: dropped
    BOOST_TEST(token.use_count() == 1);
    pool.callInThread([token, &ran] { ran = true; });  // after stop: dropped at once
    BOOST_TEST(token.use_count() == 1);
  }
  BOOST_TEST(!ran);
}

COIL_TEST_CASE(aStoppedPoolCanBeStartedAgain) {
  ThreadPool pool(1, 2);
  pool.start();
  pool.stop();
  BOOST_TEST(pool.joined());
  pool.start();
  BOOST_TEST(!pool.joined());
  std::promise<void> ran;
  pool.callInThread([&] { ran.set_value(); });
  BOOST_TEST((ran.get_future().wait_for(kWait) == std::future_status::ready));
  pool.stop();
}

COIL_TEST_CASE(exceptionsAreLoggedAndTheWorkerGoesOn) {
  coil::test::LogCapture logs;
  std::atomic<int> after{0};
  {
    ThreadPool pool(1, 1, "logging");
    pool.start();
    pool.callInThread([] { throw std::runtime_error("work failed"); });
    pool.callInThread([] { throw 7; });
    pool.callInThread([&] { ++after; });
    pool.stop();  // joins: the log entries are complete afterwards
  }
  BOOST_TEST(after.load() == 1);
  BOOST_TEST(logs.count("Unhandled error in a thread pool function") == 2u);
  BOOST_TEST(logs.count("work failed") == 1u);
}

COIL_TEST_CASE(adjustPoolsizeGrowsToTheNewMinimum) {
  ThreadPool pool(0, 5);
  pool.start();
  BOOST_TEST(pool.threadCount() == 0u);
  pool.adjustPoolsize(3, 5);
  BOOST_TEST(pool.threadCount() == 3u);
  pool.adjustPoolsize(1, 8);  // lowering the minimum keeps the workers
  BOOST_TEST(pool.threadCount() == 3u);
  BOOST_TEST(pool.maxThreads() == 8u);
  pool.stop();
}

COIL_TEST_CASE(adjustPoolsizeShrinksIdleWorkersToTheNewMaximum) {
  ThreadPool pool(0, 4);
  pool.start();
  Gate gate;
  for (int i = 0; i < 4; ++i) pool.callInThread([&] { gate.wait(); });
  BOOST_REQUIRE(gate.awaitArrivals(4));
  BOOST_TEST(pool.threadCount() == 4u);
  gate.open();
  pool.adjustPoolsize(0, 1);
  BOOST_TEST(eventually([&] { return pool.threadCount() == 1u; }));
  std::promise<void> ran;
  pool.callInThread([&] { ran.set_value(); });
  BOOST_TEST((ran.get_future().wait_for(kWait) == std::future_status::ready));
  BOOST_TEST(pool.threadCount() <= 1u);
  pool.stop();
}

COIL_TEST_CASE(stopFromAWorkerThrowsLogicError) {
  ThreadPool pool(1, 1);
  pool.start();
  std::promise<bool> threw;
  pool.callInThread([&] {
    try {
      pool.stop();
      threw.set_value(false);
    } catch (const std::logic_error&) {
      threw.set_value(true);
    }
  });
  auto future = threw.get_future();
  BOOST_REQUIRE((future.wait_for(kWait) == std::future_status::ready));
  BOOST_TEST(future.get());
  pool.stop();
}

COIL_TEST_CASE(callInThreadFromManyThreadsRunsEverything) {
  ThreadPool pool(0, 6);
  pool.start();
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t)
    producers.emplace_back([&] {
      for (int i = 0; i < 2500; ++i) pool.callInThread([&] { ++done; });
    });
  for (auto& p : producers) p.join();
  pool.stop();
  BOOST_TEST(done.load() == 10000);
  BOOST_TEST(pool.threadCount() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
