// The backend seam as NullReactor exercises it: fd sets, disconnectAll at shutdown, signal
// handler installation, main-loop errors, wake-ups, destruction with a busy pool. These cases
// use NullReactor directly (not makeTestReactor()): they fake what real backends do with fds.
// Tests: core/ReactorBase.cpp, test/support/NullReactor.hpp
#include <coil/core/Errors.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/core/ThreadPool.hpp>

#include <test/support/NullReactor.hpp>
#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using coil::Failure;
using coil::FileDescriptorPtr;
using coil::IFileDescriptor;
using coil::Phase;
using coil::test::LogCapture;
using coil::test::NullReactor;
using coil::test::runReactor;
using coil::test::trigger;

namespace {

/// A descriptor that records connectionLost.
class FakeDescriptor : public IFileDescriptor {
 public:
  explicit FakeDescriptor(int fd, bool throwOnLost = false) : fd_(fd), throwOnLost_(throwOnLost) {}
  int fileno() const override { return fd_; }
  void connectionLost(const Failure& reason) override {
    ++lost;
    reasonWasConnectionLost = reason.check<coil::error::ConnectionLost>().has_value();
    if (throwOnLost_) throw std::runtime_error("connectionLost failed");
  }
  int lost = 0;
  bool reasonWasConnectionLost = false;

 private:
  int fd_;
  bool throwOnLost_;
};

/// Counts installSignalHandlers() calls and whether running() was already true.
class SignalCountingReactor : public NullReactor {
 public:
  int installs = 0;
  bool runningAtInstall = false;

 protected:
  void installSignalHandlers() override {
    ++installs;
    runningAtInstall = running();
  }
};

/// doIteration() throws once.
class ThrowingOnceReactor : public NullReactor {
 public:
  void doIteration(std::optional<double> timeout) override {
    if (!thrown_) {
      thrown_ = true;
      throw std::runtime_error("backend hiccup");
    }
    NullReactor::doIteration(timeout);
  }

 private:
  bool thrown_ = false;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(NullReactorSeam)

COIL_TEST_CASE(fdSetsKeepEachDescriptorOnce) {
  NullReactor reactor;
  BOOST_TEST(reactor.backendName() == "null");
  auto a = std::make_shared<FakeDescriptor>(3);
  auto b = std::make_shared<FakeDescriptor>(4);
  reactor.addReader(a);
  reactor.addReader(a);
  reactor.addWriter(a);
  reactor.addWriter(b);
  BOOST_TEST(reactor.getReaders().size() == 1u);
  BOOST_TEST(reactor.getWriters().size() == 2u);
  reactor.removeWriter(a.get());
  reactor.removeWriter(a.get());  // absent: no-op
  BOOST_TEST(reactor.getWriters().size() == 1u);
  reactor.addWriter(a);
  auto all = reactor.removeAll();
  BOOST_TEST(all.size() == 2u);
  BOOST_TEST(reactor.getReaders().empty());
  BOOST_TEST(reactor.getWriters().empty());
}

COIL_TEST_CASE(shutdownDisconnectsEveryDescriptorWithConnectionLost) {
  LogCapture logs;
  NullReactor reactor;
  auto reader = std::make_shared<FakeDescriptor>(3);
  auto both = std::make_shared<FakeDescriptor>(4, /*throwOnLost=*/true);
  auto writer = std::make_shared<FakeDescriptor>(5);
  reactor.addReader(reader);
  reactor.addReader(both);
  reactor.addWriter(both);
  reactor.addWriter(writer);
  std::optional<std::size_t> readersInUserDuring;
  reactor.addSystemEventTrigger(Phase::during, "shutdown", trigger([&] {
                                  readersInUserDuring = reactor.getReaders().size();
                                }));
  reactor.callWhenRunning([&] { reactor.stop(); });
  runReactor(reactor);
  BOOST_TEST(reader->lost == 1);
  BOOST_TEST(both->lost == 1);  // once, though it was reader and writer
  BOOST_TEST(writer->lost == 1);
  BOOST_TEST(reader->reasonWasConnectionLost);
  BOOST_TEST(writer->reasonWasConnectionLost);
  BOOST_TEST(logs.count("connectionLost failed") == 1u);
  BOOST_TEST(readersInUserDuring.value_or(99) == 0u);
  BOOST_TEST(reactor.getReaders().empty());
  BOOST_TEST(reactor.getWriters().empty());
}

COIL_TEST_CASE(runTrueInstallsSignalHandlersDuringStartup) {
  SignalCountingReactor withSignals;
  withSignals.callWhenRunning([&] { withSignals.stop(); });
  withSignals.run(true);
  BOOST_TEST(withSignals.installs == 1);
  BOOST_TEST(withSignals.runningAtInstall);

  SignalCountingReactor without;
  without.callWhenRunning([&] { without.stop(); });
  without.run(false);
  BOOST_TEST(without.installs == 0);
}

COIL_TEST_CASE(crashBeforeFirstRunDoesNotInstallTwice) {
  SignalCountingReactor reactor;
  reactor.crash();  // re-adds the internal startup trigger: there are two now
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run(true);
  BOOST_TEST(reactor.installs == 1);
}

COIL_TEST_CASE(anExceptionFromDoIterationIsLoggedAndTheLoopGoesOn) {
  LogCapture logs;
  ThrowingOnceReactor reactor;
  bool ran = false;
  reactor.callLater(0.001, [&] {
    ran = true;
    reactor.stop();
  });
  runReactor(reactor);
  BOOST_TEST(ran);
  BOOST_TEST(logs.count("Unexpected error in main loop.") == 1u);
  BOOST_TEST(logs.count("backend hiccup") == 1u);
}

COIL_TEST_CASE(aWakeUpBeforeTheWaitIsRemembered) {
  NullReactor reactor;
  reactor.wakeUp();
  auto start = std::chrono::steady_clock::now();
  reactor.doIteration(std::nullopt);  // would block forever without the remembered wake-up
  reactor.doIteration(0.001);         // consumed: this one times out
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(elapsed < 5.0);
  BOOST_TEST(elapsed >= 0.001);
  BOOST_TEST(reactor.iterations() == 2u);
}

COIL_TEST_CASE(notRunningLoopWaitsInsteadOfBusyPolling) {
  // While a before-startup Deferred holds "running" back, the loop waits for the next timed
  // call (Twisted polls with timeout 0 in a busy loop).
  NullReactor reactor;
  coil::Deferred<void> gate;
  reactor.addSystemEventTrigger(Phase::before, "startup",
                                [&]() -> std::optional<coil::Deferred<void>> { return gate; });
  reactor.callLater(0.05, [&] { gate.callback(); });
  reactor.callWhenRunning([&] { reactor.stop(); });
  runReactor(reactor);
  BOOST_TEST(reactor.iterations() < 10u);
}

COIL_TEST_CASE(destroyingACrashedReactorWithABusyPoolIsSafe) {
  std::atomic<int> posted{0};
  {
    auto reactor = std::make_unique<NullReactor>();
    reactor->callWhenRunning([&] {
      for (int i = 0; i < 50; ++i)
        reactor->callInThread([&] {
          reactor->callFromThread([] {});
          ++posted;
        });
      reactor->crash();  // no shutdown: the pool is still running
    });
    reactor->run(false);
    BOOST_TEST(reactor->getThreadPool().started());
  }  // ~NullReactor stops (drains, joins) the pool before anything is torn down
  BOOST_TEST(posted.load() == 50);
}

BOOST_AUTO_TEST_SUITE_END()
