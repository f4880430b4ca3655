// The threads contract (DESIGN "Contracts"): debug builds abort when a reactor method is called
// off the reactor thread. Each case runs the offending call in a forked child and expects
// SIGABRT; release builds (NDEBUG) compile the checks out, and these cases out with them.
// Tests: core/ReactorBase.cpp (assertReactorThread), backends/PosixReactor*.cpp
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <memory>
#include <thread>

#ifndef NDEBUG
namespace {

// Runs `offThread(reactor)` on a second thread of a forked child; returns the wait status.
int statusOfChild(const std::function<void(coil::ReactorBase&)>& offThread) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not Boost.Test's handler, which would carry on
    auto reactor = coil::test::makeTestReactor();
    std::thread t([&] { offThread(*reactor); });
    t.join();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool abortedBy(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

}  // namespace
#endif

BOOST_AUTO_TEST_SUITE(ThreadCheck)

#ifndef NDEBUG

COIL_TEST_CASE(callLaterOffTheReactorThreadAborts) {
  BOOST_TEST(abortedBy(statusOfChild([](coil::ReactorBase& r) { r.callLater(1.0, [] {}); })));
}

COIL_TEST_CASE(removeReaderOffTheReactorThreadAborts) {
  BOOST_TEST(abortedBy(statusOfChild([](coil::ReactorBase& r) { r.removeReader(nullptr); })));
}

COIL_TEST_CASE(listenTCPOffTheReactorThreadAborts) {
  BOOST_TEST(abortedBy(statusOfChild([](coil::ReactorBase& r) {
    r.listenTCP(0, std::make_shared<coil::Factory>(), 50, "127.0.0.1");
  })));
}

COIL_TEST_CASE(callFromThreadOffTheReactorThreadIsAllowed) {
  int status = statusOfChild([](coil::ReactorBase& r) { r.callFromThread([] {}); });
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

COIL_TEST_CASE(theThreadInRunBecomesTheReactorThread) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);
    auto reactor = coil::test::makeTestReactor();
    // Registered on the constructing thread; run on another, which then owns the reactor.
    reactor->callWhenRunning([&] { reactor->callLater(0, [&] { reactor->stop(); }); });
    std::thread t([&] { reactor->run(false); });
    t.join();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

#else

COIL_TEST_CASE(releaseBuildsCompileTheChecksOut) {
  BOOST_TEST_MESSAGE("thread checks are debug-only (NDEBUG is defined)");
}

#endif

BOOST_AUTO_TEST_SUITE_END()
