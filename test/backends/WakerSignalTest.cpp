// PosixReactor's waker, signal handling and fork hooks on the backend COIL_REACTOR names.
// Tests: backends/PosixReactor.cpp
#include <coil/backends/PosixReactor.hpp>
#include <test/backends/BackendTesting.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

using coil::PosixReactor;
using coil::test::FakeDescriptor;
using coil::test::Pipe;
using coil::test::ReactorBuilder;
using coil::test::timed;

namespace {

// Calls wakeUp() from another thread until told to stop, so it does not matter whether the
// reactor was already blocked when the first one came.
class Poker {
 public:
  explicit Poker(coil::ReactorBase& reactor)
      : thread_([this, &reactor] {
          while (!done_.load()) {
            reactor.wakeUp();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }) {}
  ~Poker() {
    done_ = true;
    thread_.join();
  }
  Poker(const Poker&) = delete;
  Poker& operator=(const Poker&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

sighandler_t currentHandler(int signal) {
  struct sigaction action {};
  ::sigaction(signal, nullptr, &action);
  return action.sa_handler;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(WakerAndSignals, ReactorBuilder)

COIL_TEST_CASE(wakeUpFromAnotherThreadInterruptsABlockingIteration) {
  double elapsed;
  {
    Poker poker(reactor());
    elapsed = timed([&] { reactor().iterate(30.0); });
  }
  BOOST_TEST(elapsed < 10.0);
}

COIL_TEST_CASE(wakeUpsAreDrained) {
  for (int i = 0; i < 1000; ++i) reactor().wakeUp();  // more than a pipe would hold
  BOOST_TEST(timed([&] { reactor().iterate(10.0); }) < 5.0);
  // Drained: the next iteration blocks for its whole delay again.
  double elapsed = timed([&] { reactor().iterate(0.1); });
  BOOST_TEST(elapsed >= 0.09);
}

COIL_TEST_CASE(callFromThreadWakesARunningReactor) {
  std::thread other;
  reactor().callWhenRunning(
      [&] { other = std::thread([&] { reactor().callFromThread([&] { reactor().stop(); }); }); });
  double elapsed = timed([&] { reactor().run(false); });
  other.join();
  BOOST_TEST(elapsed < 10.0);
}

COIL_TEST_CASE(sigtermStopsRunAndTheHandlerStays) {
  coil::test::LogCapture logs;
  reactor().callWhenRunning([] { std::raise(SIGTERM); });
  bool shutdown = false;
  reactor().addSystemEventTrigger(coil::Phase::before, "shutdown", [&] {
    shutdown = true;
    return std::nullopt;
  });
  reactor().run(true);
  BOOST_TEST(shutdown);
  BOOST_TEST(posixReactor()->exitSignal() == SIGTERM);
  BOOST_TEST(currentHandler(SIGTERM) != SIG_DFL);  // left installed after run() (Twisted)
  BOOST_TEST(logs.count("Received SIGTERM, shutting down.") == 1u);
}

COIL_TEST_CASE(sigintStopsRunWhenItHadTheDefaultAction) {
  coil::test::LogCapture logs;
  sighandler_t before = currentHandler(SIGINT);
  if (before == SIG_IGN) {
    BOOST_TEST_MESSAGE("SIGINT is ignored in this process: skipped");
    return;
  }
  reactor().callWhenRunning([] { std::raise(SIGINT); });
  reactor().run(true);
  BOOST_TEST(posixReactor()->exitSignal() == SIGINT);
}

COIL_TEST_CASE(aSecondSignalWhileStoppingIsHarmless) {
  coil::test::LogCapture logs;
  reactor().callWhenRunning([] {
    std::raise(SIGTERM);
    std::raise(SIGTERM);
  });
  reactor().run(true);
  BOOST_TEST(posixReactor()->exitSignal() == SIGTERM);
  BOOST_TEST(logs.count("Received SIGTERM") >= 1u);
}

COIL_TEST_CASE(aSignalWithoutRunningStopsNothing) {
  coil::test::LogCapture logs;
  // Handlers installed by a reactor that has finished: the signal is only queued.
  reactor().callWhenRunning([&] { reactor().stop(); });
  reactor().run(true);
  std::raise(SIGTERM);
  BOOST_TEST(posixReactor()->exitSignal() == 0);
  reactor().iterate(0);  // reads the pipe; stop() refuses quietly (not running)
  BOOST_TEST(posixReactor()->exitSignal() == SIGTERM);
}

COIL_TEST_CASE(afterForkTheChildNeitherWakesNorStealsFromTheParent) {
  Pipe p;
  auto r = std::make_shared<FakeDescriptor>(p.r, "shared");
  int fd = p.r;
  r->onRead = [fd] { return coil::test::drainOrClose(fd); };
  reactor().addReader(r);
  reactor().iterate(0);
  PosixReactor& posix = *posixReactor();
  posix.beforeFork();
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    posix.afterFork();
    int status = 0;
    posix.wakeUp();  // must reach only the child's waker
    if (timed([&] { posix.doIteration(5.0); }) > 4.0) status |= 1;
    posix.removeReader(r.get());  // the child stops watching: the parent must not notice
    posix.doIteration(0.0);
    ::_exit(status);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  BOOST_TEST(timed([&] { reactor().iterate(0.2); }) >= 0.15);  // the child's wakeUp stayed there
  p.put();
  BOOST_TEST(iterateUntil([&] { return r->reads > 0; }));  // still watched in the parent
  reactor().removeReader(r.get());
}

COIL_TEST_CASE(afterForkKeepsWatchingInTheChild) {
  Pipe p;
  auto r = std::make_shared<FakeDescriptor>(p.r, "child");
  int fd = p.r;
  r->onRead = [fd] { return coil::test::drainOrClose(fd); };
  reactor().addReader(r);
  reactor().iterate(0);
  PosixReactor& posix = *posixReactor();
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    posix.afterFork();
    p.put();
    for (int i = 0; i < 50 && r->reads == 0; ++i) posix.doIteration(0.1);
    ::_exit(r->reads > 0 ? 0 : 1);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  reactor().removeReader(r.get());
  reactor().iterate(0);
}

BOOST_AUTO_TEST_SUITE_END()
