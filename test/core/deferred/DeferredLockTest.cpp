// Tests for coil::DeferredLock and coil::DeferredSemaphore (Twisted's OtherPrimitivesTests lock
// and semaphore cases of test_defer.py, plus typed C++ cases).
#include <coil/core/DeferredLock.hpp>

#include <test/support/Testing.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using coil::CancelledError;
using coil::Deferred;
using coil::Failure;
using coil::LockReleaseError;
using coil::Result;

namespace {

struct GenericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The result `d` holds now (fails the test if it has none); the chain carries nothing after.
template <class T>
Result<T> resultOf(Deferred<T> d) {
  BOOST_REQUIRE_MESSAGE(d.hasResult(), "the Deferred has no result");
  std::optional<Result<T>> out;
  d.addBoth([&out](Result<T> r) { out.emplace(std::move(r)); });
  BOOST_REQUIRE(out.has_value());
  return std::move(*out);
}

/// True when `d` failed with an E.
template <class E, class T>
bool failedWith(Deferred<T> d) {
  Result<T> r = resultOf(std::move(d));
  return !r.ok() && r.failure().template check<E>().has_value();
}

/// Holds `lock`, logs `id`, waits for `gate`, logs `-id`, releases.
Deferred<int> critical(coil::DeferredLock& lock, std::vector<int>& log, int id,
                       Deferred<void> gate) {
  co_await lock.acquire();
  log.push_back(id);
  co_await gate;
  log.push_back(-id);
  lock.release();
  co_return id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DeferredLock)

COIL_TEST_CASE(acquireReleaseAndRun) {
  coil::DeferredLock lock;
  int counter = 0;
  auto incr = [&counter] { ++counter; };
  lock.acquire().addCallback(incr);
  BOOST_TEST(lock.locked());
  BOOST_TEST(counter == 1);
  lock.acquire().addCallback(incr);
  BOOST_TEST(lock.locked());
  BOOST_TEST(counter == 1);
  lock.release();
  BOOST_TEST(lock.locked());
  BOOST_TEST(counter == 2);
  lock.release();
  BOOST_TEST(!lock.locked());
  BOOST_TEST(counter == 2);

  Deferred<std::string> control;
  std::string result;
  Deferred<std::string> resultDeferred = lock.run(
      [&result, control](std::string resultValue) {
        result = resultValue;
        return control;
      },
      std::string("firstUnique"));
  BOOST_TEST(lock.locked());
  BOOST_TEST(result == "firstUnique");
  resultDeferred.addCallback([&result](std::string v) { result = v; });
  lock.acquire().addCallback(incr);
  BOOST_TEST(lock.locked());
  BOOST_TEST(counter == 2);
  control.callback("secondUnique");
  BOOST_TEST(result == "secondUnique");
  BOOST_TEST(lock.locked());
  BOOST_TEST(counter == 3);

  std::optional<Result<void>> seen;
  auto d = lock.acquire().addBoth([&seen](Result<void> r) { seen.emplace(std::move(r)); });
  d.cancel();
  BOOST_REQUIRE(seen.has_value());
  BOOST_TEST(!seen->ok());
  BOOST_TEST(seen->failure().value<CancelledError>() != nullptr);
  lock.release();
  BOOST_TEST(!lock.locked());

  static_assert(std::is_same_v<decltype(lock.run([] { return coil::succeed(2); })), Deferred<int>>);
  static_assert(std::is_same_v<decltype(lock.run([] { return 1; })), Deferred<int>>);
  static_assert(std::is_same_v<decltype(lock.run([] {})), Deferred<void>>);
}

COIL_TEST_CASE(cancelAfterAcquiredDoesNothing) {
  coil::DeferredLock lock;
  bool errbackRan = false;
  Deferred<void> d = lock.acquire();
  d.addErrback([&](Failure) { errbackRan = true; });
  d.cancel();
  BOOST_TEST(!errbackRan);
  BOOST_TEST(lock.locked());
}

COIL_TEST_CASE(cancelBeforeAcquiredFailsAndLeavesTheQueue) {
  coil::DeferredLock lock;
  lock.acquire();
  Deferred<void> d = lock.acquire();
  BOOST_TEST(lock.waiting() == 1u);
  d.cancel();
  BOOST_TEST(failedWith<CancelledError>(d));
  BOOST_TEST(lock.waiting() == 0u);
  lock.release();
  BOOST_TEST(!lock.locked());  // the cancelled waiter was not handed the lock
}

COIL_TEST_CASE(releaseWhenUnlockedThrows) {
  coil::DeferredLock lock;
  BOOST_CHECK_THROW(lock.release(), LockReleaseError);
  lock.acquire();
  lock.release();
  BOOST_CHECK_THROW(lock.release(), std::logic_error);
  BOOST_TEST(!lock.locked());
}

COIL_TEST_CASE(waitersAreServedInFifoOrder) {
  coil::DeferredLock lock;
  std::vector<int> order;
  lock.acquire();
  for (int i = 1; i <= 3; ++i) lock.acquire().addCallback([&order, i] { order.push_back(i); });
  BOOST_TEST(lock.waiting() == 3u);
  for (int i = 1; i <= 3; ++i) {
    lock.release();
    BOOST_TEST(order.size() == static_cast<std::size_t>(i));
  }
  BOOST_TEST(order == (std::vector<int>{1, 2, 3}));
  BOOST_TEST(lock.locked());
}

COIL_TEST_CASE(runReleasesWhenTheFunctionThrows) {
  coil::DeferredLock lock;
  Deferred<int> d = lock.run([]() -> int { throw GenericError("boom"); });
  BOOST_TEST(failedWith<GenericError>(d));
  BOOST_TEST(!lock.locked());
}

COIL_TEST_CASE(runReleasesWhenTheDeferredFails) {
  coil::DeferredLock lock;
  Deferred<int> control;
  Deferred<int> d = lock.run([control] { return control; });
  BOOST_TEST(lock.locked());
  control.errback(GenericError("later"));
  BOOST_TEST(!lock.locked());
  BOOST_TEST(failedWith<GenericError>(d));
}

COIL_TEST_CASE(runReleasesWhenTheFunctionReturnsAStaleView) {
  coil::DeferredLock lock;
  Deferred<int> inner;
  inner.addCallback([](int v) { return std::to_string(v); });  // `inner` is a stale view now
  Deferred<int> d = lock.run([inner] { return inner; });
  BOOST_TEST(failedWith<coil::DeferredTypeError>(d));
  BOOST_TEST(!lock.locked());
}

COIL_TEST_CASE(runWaitsForTheLock) {
  coil::DeferredLock lock;
  lock.acquire();
  bool called = false;
  Deferred<int> d = lock.run([&called] {
    called = true;
    return 5;
  });
  BOOST_TEST(!called);
  BOOST_TEST(!d.called());
  lock.release();
  BOOST_TEST(called);
  BOOST_TEST(resultOf(d).value() == 5);
  BOOST_TEST(!lock.locked());
}

COIL_TEST_CASE(runMovesMoveOnlyArgumentsIn) {
  coil::DeferredLock lock;
  Deferred<int> d = lock.run([](std::unique_ptr<int> p, int add) { return *p + add; },
                             std::make_unique<int>(40), 2);
  BOOST_TEST(resultOf(d).value() == 42);
}

COIL_TEST_CASE(cancelRunWhileWaitingNeverCallsTheFunction) {
  coil::DeferredLock lock;
  lock.acquire();
  bool called = false;
  Deferred<void> d = lock.run([&called] { called = true; });
  d.cancel();
  BOOST_TEST(failedWith<CancelledError>(d));
  lock.release();
  BOOST_TEST(!called);
  BOOST_TEST(!lock.locked());
}

COIL_TEST_CASE(cancelRunWhileTheFunctionIsPendingReleases) {
  coil::DeferredLock lock;
  Deferred<int> inner;
  Deferred<int> d = lock.run([inner] { return inner; });
  BOOST_TEST(lock.locked());
  d.cancel();  // cancels the Deferred the chain waits on
  BOOST_TEST(inner.called());
  BOOST_TEST(!lock.locked());
  BOOST_TEST(failedWith<CancelledError>(d));
}

COIL_TEST_CASE(destroyingTheLockWithWaitersIsSafe) {
  auto lock = std::make_unique<coil::DeferredLock>();
  Deferred<int> pending;
  Deferred<int> running = lock->run([pending] { return pending; });
  Deferred<void> waiter = lock->acquire();
  Deferred<void> queuedRun = lock->run([] {});  // holds the lock's state weakly: no cycle
  lock.reset();
  BOOST_TEST(!queuedRun.called());  // dropped unfired with the lock's queue
  waiter.cancel();                  // its canceller finds no lock
  BOOST_TEST(failedWith<CancelledError>(waiter));
  pending.callback(3);  // run() finds no lock to release
  BOOST_TEST(resultOf(running).value() == 3);
}

COIL_TEST_CASE(coroutinesTakeTurns) {
  coil::DeferredLock lock;
  std::vector<int> log;
  Deferred<void> gate1, gate2;
  Deferred<int> first = critical(lock, log, 1, gate1);
  Deferred<int> second = critical(lock, log, 2, gate2);
  BOOST_TEST(log == (std::vector<int>{1}));
  gate2.callback();  // second still waits for the lock
  BOOST_TEST(log == (std::vector<int>{1}));
  gate1.callback();
  BOOST_TEST(log == (std::vector<int>{1, -1, 2, -2}));
  BOOST_TEST(resultOf(first).value() == 1);
  BOOST_TEST(resultOf(second).value() == 2);
  BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(DeferredSemaphore)

COIL_TEST_CASE(acquireReleaseAndRun) {
  const int n = 13;
  coil::DeferredSemaphore sem(n);
  int counter = 0;
  auto incr = [&counter] { ++counter; };

  Deferred<void> control;
  std::string helperArg;
  std::vector<bool> results;
  Deferred<void> resultDeferred = sem.run(
      [&helperArg, control](std::string arg) {
        helperArg = arg;
        return control;
      },
      std::string("uniqueObject"));
  resultDeferred.addCallback([&results] { results.push_back(true); }).addCallback(incr);
  BOOST_TEST(results.empty());
  BOOST_TEST(helperArg == "uniqueObject");
  control.callback();
  BOOST_TEST(results.size() == 1u);
  BOOST_TEST(counter == 1);

  counter = 0;
  for (int i = 1; i <= n; ++i) {
    sem.acquire().addCallback(incr);
    BOOST_TEST(counter == i);
  }

  std::vector<bool> success;
  auto d = sem.acquire().addCallbacks([&success] { success.push_back(false); },
                                      [&success](Failure) { success.push_back(true); });
  d.cancel();
  BOOST_TEST(success == std::vector<bool>{true});

  sem.acquire().addCallback(incr);
  BOOST_TEST(counter == n);
  sem.release();
  BOOST_TEST(counter == n + 1);
  for (int i = 1; i <= n; ++i) {
    sem.release();
    BOOST_TEST(counter == n + 1);
  }
  BOOST_TEST(sem.tokens() == n);
  BOOST_TEST(sem.limit() == n);
}

COIL_TEST_CASE(fewerThanOneTokenIsInvalid) {
  BOOST_CHECK_THROW(coil::DeferredSemaphore(0), std::invalid_argument);
  BOOST_CHECK_THROW(coil::DeferredSemaphore(-1), std::invalid_argument);
  BOOST_CHECK_NO_THROW(coil::DeferredSemaphore(1));
}

COIL_TEST_CASE(cancelAfterAcquiredDoesNothing) {
  coil::DeferredSemaphore sem(1);
  bool errbackRan = false;
  Deferred<void> d = sem.acquire();
  d.addErrback([&](Failure) { errbackRan = true; });
  d.cancel();
  BOOST_TEST(!errbackRan);
  BOOST_TEST(sem.tokens() == 0);
}

COIL_TEST_CASE(cancelBeforeAcquiredFailsAndLeavesTheQueue) {
  coil::DeferredSemaphore sem(1);
  sem.acquire();
  Deferred<void> d = sem.acquire();
  d.cancel();
  BOOST_TEST(failedWith<CancelledError>(d));
  BOOST_TEST(sem.waiting() == 0u);
  sem.release();
  BOOST_TEST(sem.tokens() == 1);
}

COIL_TEST_CASE(overReleaseThrows) {
  coil::DeferredSemaphore sem(2);
  BOOST_CHECK_THROW(sem.release(), LockReleaseError);
  sem.acquire();
  sem.release();
  BOOST_CHECK_THROW(sem.release(), LockReleaseError);
  BOOST_TEST(sem.tokens() == 2);
}

COIL_TEST_CASE(runLimitsConcurrency) {
  coil::DeferredSemaphore sem(2);
  std::vector<Deferred<int>> work(3);
  std::vector<Deferred<int>> done;
  int running = 0;
  for (std::size_t i = 0; i < work.size(); ++i) {
    done.push_back(sem.run([&running, d = work[i]] {
      ++running;
      return d;
    }));
  }
  BOOST_TEST(running == 2);
  BOOST_TEST(sem.tokens() == 0);
  BOOST_TEST(sem.waiting() == 1u);
  work[1].callback(1);
  BOOST_TEST(running == 3);  // the third started as soon as a token came back
  BOOST_TEST(sem.waiting() == 0u);
  work[0].callback(0);
  work[2].errback(GenericError("two"));
  BOOST_TEST(sem.tokens() == 2);
  BOOST_TEST(resultOf(done[0]).value() == 0);
  BOOST_TEST(resultOf(done[1]).value() == 1);
  BOOST_TEST(failedWith<GenericError>(done[2]));
}

BOOST_AUTO_TEST_SUITE_END()
