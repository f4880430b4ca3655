// Threads and the reactor (spec §1.5): callFromThread, callInThread and the reactor's pool,
// deferToThread, blockingCallFromThread. Ported from Twisted's test_threads.
// Tests: core/ReactorBase.cpp, core/Threads.hpp
#include <coil/core/Deferred.hpp>
#include <coil/core/DeferredList.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/core/ThreadPool.hpp>
#include <coil/core/Threads.hpp>

#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using coil::Deferred;
using coil::Failure;
using coil::Phase;
using coil::ThreadPool;
using coil::test::runReactor;
using coil::test::trigger;

namespace {

using Order = std::vector<std::string>;

class ThreadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ReactorThreads, coil::test::ReactorTest)

COIL_TEST_CASE(callFromThreadFromEightThreadsRunsEachCallOnceInPerThreadOrder) {
  constexpr int kThreads = 8;
  constexpr int kCalls = 10000;
  const auto reactorThread = std::this_thread::get_id();
  std::vector<int> next(kThreads, 0);
  int total = 0;
  bool inOrder = true;
  bool onReactorThread = true;
  std::vector<std::thread> threads;
  reactor->callWhenRunning([&] {
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kCalls; ++i)
          reactor->callFromThread([&, t, i] {
            inOrder = inOrder && next[t] == i;
            next[t] = i + 1;
            onReactorThread = onReactorThread && std::this_thread::get_id() == reactorThread;
            if (++total == kThreads * kCalls) reactor->stop();
          });
      });
  });
  runReactor(*reactor, 18);
  for (auto& thread : threads) thread.join();
  BOOST_TEST(total == kThreads * kCalls);
  BOOST_TEST(inOrder);
  BOOST_TEST(onReactorThread);
  for (int t = 0; t < kThreads; ++t) BOOST_TEST(next[t] == kCalls);
}

COIL_TEST_CASE(threadCallsRunBeforeTimedCallsOfTheSamePass) {
  Order order;
  reactor->callLater(0, [&] { order.push_back("timed"); });
  reactor->callFromThread([&] { order.push_back("thread 1"); });
  reactor->callFromThread([&] { order.push_back("thread 2"); });
  reactor->iterate();
  BOOST_TEST(order == (Order{"thread 1", "thread 2", "timed"}));
}

COIL_TEST_CASE(threadCallsQueuedDuringAPassWaitForTheNextOne) {
  Order order;
  reactor->callFromThread([&] {
    order.push_back("first");
    reactor->callFromThread([&] { order.push_back("queued by first"); });
  });
  reactor->callFromThread([&] { order.push_back("second"); });
  reactor->iterate();
  BOOST_TEST(order == (Order{"first", "second"}));
  reactor->iterate();
  BOOST_TEST(order == (Order{"first", "second", "queued by first"}));
}

COIL_TEST_CASE(threadCallsNeverRunBeforeRun) {
  Order order;
  reactor->callFromThread([&] {
    order.push_back("thread call");
    reactor->stop();
  });
  reactor->callWhenRunning([&] { order.push_back("callWhenRunning"); });
  BOOST_TEST(order.empty());
  runReactor(*reactor);
  BOOST_TEST(order == (Order{"callWhenRunning", "thread call"}));
}

COIL_TEST_CASE(callFromThreadWakesABlockedLoop) {
  // Nothing is scheduled but the watchdog (10 s away): only the wake-up can end the wait soon.
  std::thread poster;
  auto start = std::chrono::steady_clock::now();
  reactor->callWhenRunning(
      [&] { poster = std::thread([&] { reactor->callFromThread([&] { reactor->stop(); }); }); });
  runReactor(*reactor);
  poster.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(elapsed < 5.0);
}

COIL_TEST_CASE(exceptionInAThreadCallIsLoggedAndOthersRun) {
  coil::test::LogCapture logs;
  Order order;
  reactor->callFromThread([] { throw ThreadError("thread call failed"); });
  reactor->callFromThread([&] {
    order.push_back("next");
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(order == (Order{"next"}));
  BOOST_TEST(logs.count("thread call failed") == 1u);
  BOOST_CHECK_THROW(reactor->callFromThread({}), std::invalid_argument);
}

COIL_TEST_CASE(callInThreadUsesAPoolStartedWithTheReactorAndStoppedAtShutdown) {
  ThreadPool& pool = reactor->getThreadPool();
  BOOST_TEST(&pool == &reactor->getThreadPool());  // created once
  BOOST_TEST(pool.name() == "coil.reactor");
  BOOST_TEST(pool.minThreads() == 0u);
  BOOST_TEST(pool.maxThreads() == 10u);
  BOOST_TEST(!pool.started());
  const auto reactorThread = std::this_thread::get_id();
  std::atomic<bool> otherThread{false};
  bool poolStartedWhenRunning = false;
  reactor->callInThread([&] {
    otherThread = std::this_thread::get_id() != reactorThread;
    reactor->callFromThread([&] { reactor->stop(); });
  });
  BOOST_TEST(pool.pendingCount() == 1u);  // queued until the reactor runs
  reactor->callWhenRunning([&] { poolStartedWhenRunning = pool.started(); });
  runReactor(*reactor);
  BOOST_TEST(poolStartedWhenRunning);
  BOOST_TEST(otherThread.load());
  BOOST_TEST(pool.joined());
  BOOST_TEST(!pool.started());
  BOOST_TEST(pool.threadCount() == 0u);
}

COIL_TEST_CASE(poolMadeWhileRunningStartsAtOnce) {
  std::promise<void> ran;
  reactor->callWhenRunning([&] {
    BOOST_TEST(reactor->getThreadPool().started());
    reactor->callInThread([&] {
      ran.set_value();
      reactor->callFromThread([&] { reactor->stop(); });
    });
  });
  runReactor(*reactor);
  BOOST_TEST((ran.get_future().wait_for(std::chrono::seconds(0)) == std::future_status::ready));
}

COIL_TEST_CASE(shutdownBeforeRunStopsThePoolSafely) {
  ThreadPool& pool = reactor->getThreadPool();
  bool ran = false;
  reactor->callInThread([&] { ran = true; });
  reactor->fireSystemEvent("shutdown");  // stops the pool (and removes its startup trigger)
  BOOST_TEST(pool.joined());
  reactor->fireSystemEvent("startup");
  BOOST_TEST(!pool.started());
  BOOST_TEST(pool.threadCount() == 0u);
  BOOST_TEST(!ran);  // dropped: the pool never ran
}

COIL_TEST_CASE(suggestThreadPoolSizeSetsTheMaximumOnly) {
  reactor->suggestThreadPoolSize(3);
  ThreadPool& pool = reactor->getThreadPool();
  BOOST_TEST(pool.maxThreads() == 3u);
  BOOST_TEST(pool.minThreads() == 0u);
  std::atomic<std::size_t> most{0};
  std::atomic<int> done{0};
  reactor->callWhenRunning([&] {
    for (int i = 0; i < 20; ++i)
      reactor->callInThread([&] {
        std::size_t now = pool.threadCount();
        std::size_t seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        if (++done == 20) reactor->callFromThread([&] { reactor->stop(); });
      });
  });
  runReactor(*reactor);
  BOOST_TEST(done.load() == 20);
  BOOST_TEST(most.load() >= 1u);
  BOOST_TEST(most.load() <= 3u);
}

COIL_TEST_CASE(deferToThreadFiresOnTheReactorThreadWithTheValue) {
  const auto reactorThread = std::this_thread::get_id();
  std::optional<int> value;
  bool callbackOnReactorThread = false;
  std::atomic<bool> ranElsewhere{false};
  reactor->callWhenRunning([&] {
    coil::deferToThread(*reactor, [&] {
      ranElsewhere = std::this_thread::get_id() != reactorThread;
      return 42;
    }).addCallback([&](int v) {
      value = v;
      callbackOnReactorThread = std::this_thread::get_id() == reactorThread;
      reactor->stop();
    });
  });
  runReactor(*reactor);
  BOOST_TEST(value.value_or(-1) == 42);
  BOOST_TEST(callbackOnReactorThread);
  BOOST_TEST(ranElsewhere.load());
}

COIL_TEST_CASE(deferToThreadDeliversTheException) {
  std::string message;
  bool rightType = false;
  reactor->callWhenRunning([&] {
    coil::deferToThread(*reactor, []() -> std::string { throw ThreadError("worker failed"); })
        .addCallbacks([](std::string) {},
                      [&](Failure f) {
                        rightType = f.check<ThreadError>().has_value();
                        message = f.getErrorMessage();
                      })
        .addBoth([&](coil::Result<void>) { reactor->stop(); });
  });
  runReactor(*reactor);
  BOOST_TEST(rightType);
  BOOST_TEST(message == "worker failed");
}

COIL_TEST_CASE(deferToThreadVoidAndMoveOnlyResults) {
  bool voidFired = false;
  std::optional<int> moved;
  reactor->callWhenRunning([&] {
    auto a = coil::deferToThread(*reactor, [] {}).addCallback([&] { voidFired = true; });
    auto b = coil::deferToThread(*reactor, [] {
               return std::make_unique<int>(7);
             }).addCallback([&](std::unique_ptr<int> p) { moved = *p; });
    coil::gatherResults({a, b}).addBoth([&](coil::Result<void>) { reactor->stop(); });
  });
  runReactor(*reactor);
  BOOST_TEST(voidFired);
  BOOST_TEST(moved.value_or(-1) == 7);
}

COIL_TEST_CASE(manyDeferToThreadCallsAllFire) {
  std::optional<int> sum;
  reactor->callWhenRunning([&] {
    std::vector<Deferred<int>> ds;
    for (int i = 1; i <= 200; ++i) ds.push_back(coil::deferToThread(*reactor, [i] { return i; }));
    coil::gatherResults(std::move(ds))
        .addCallback([&](std::vector<int> values) {
          sum = std::accumulate(values.begin(), values.end(), 0);
        })
        .addBoth([&](coil::Result<void>) { reactor->stop(); });
  });
  runReactor(*reactor);
  BOOST_TEST(sum.value_or(-1) == 200 * 201 / 2);
}

COIL_TEST_CASE(deferToThreadPoolUsesTheGivenPool) {
  ThreadPool pool(1, 1, "custom");
  pool.start();
  std::optional<int> value;
  reactor->callWhenRunning([&] {
    coil::deferToThreadPool(*reactor, pool, [] { return 5; }).addCallback([&](int v) {
      value = v;
      reactor->stop();
    });
  });
  runReactor(*reactor);
  pool.stop();
  BOOST_TEST(value.value_or(-1) == 5);
}

COIL_TEST_CASE(blockingCallFromThreadReturnsTheValue) {
  const auto reactorThread = std::this_thread::get_id();
  std::thread caller;
  int result = 0;
  std::atomic<bool> onReactorThread{false};
  reactor->callWhenRunning([&] {
    caller = std::thread([&] {
      result = coil::blockingCallFromThread(*reactor, [&] {
        onReactorThread = std::this_thread::get_id() == reactorThread;
        return 17;
      });
      reactor->callFromThread([&] { reactor->stop(); });
    });
  });
  runReactor(*reactor);
  caller.join();
  BOOST_TEST(result == 17);
  BOOST_TEST(onReactorThread.load());
}

COIL_TEST_CASE(blockingCallFromThreadRethrows) {
  std::thread caller;
  std::string caught;
  reactor->callWhenRunning([&] {
    caller = std::thread([&] {
      try {
        coil::blockingCallFromThread(*reactor, []() -> int { throw ThreadError("on reactor"); });
      } catch (const ThreadError& e) {
        caught = e.what();
      }
      reactor->callFromThread([&] { reactor->stop(); });
    });
  });
  runReactor(*reactor);
  caller.join();
  BOOST_TEST(caught == "on reactor");
}

COIL_TEST_CASE(blockingCallFromThreadWaitsForADeferred) {
  std::thread caller;
  std::string value;
  std::string failure;
  bool voidDone = false;
  reactor->callWhenRunning([&] {
    caller = std::thread([&] {
      value = coil::blockingCallFromThread(*reactor, [&] {
        Deferred<std::string> d;
        reactor->callLater(0.005, [d]() mutable { d.callback("later"); });
        return d;
      });
      try {
        coil::blockingCallFromThread(*reactor, [&] {
          Deferred<int> d;
          reactor->callLater(0, [d]() mutable { d.errback(ThreadError("deferred failed")); });
          return d;
        });
      } catch (const ThreadError& e) {
        failure = e.what();
      }
      coil::blockingCallFromThread(*reactor, [] {});
      voidDone = true;
      reactor->callFromThread([&] { reactor->stop(); });
    });
  });
  runReactor(*reactor);
  caller.join();
  BOOST_TEST(value == "later");
  BOOST_TEST(failure == "deferred failed");
  BOOST_TEST(voidDone);
}

COIL_TEST_CASE(blockingCallFromThreadIsReleasedWhenItsDeferredIsDropped) {
  std::thread caller;
  bool cancelled = false;
  reactor->callWhenRunning([&] {
    caller = std::thread([&] {
      try {
        // The Deferred is dropped unfired on the reactor thread: nothing will ever fire it.
        coil::blockingCallFromThread(*reactor, [] { return Deferred<int>(); });
      } catch (const coil::CancelledError&) {
        cancelled = true;
      }
      reactor->callFromThread([&] { reactor->stop(); });
    });
  });
  runReactor(*reactor);
  caller.join();
  BOOST_TEST(cancelled);
}

BOOST_AUTO_TEST_SUITE_END()
