// task::react (spec §12), ported from Twisted's test_task.ReactTests: exit codes, stopping once.
// Tests: core/task/React.cpp
#include <coil/core/Deferred.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/core/task/DeferLater.hpp>
#include <coil/core/task/React.hpp>

#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using coil::Deferred;
using coil::Phase;
using coil::ReactorBase;
using coil::test::LogCapture;
using coil::test::trigger;
namespace task = coil::task;

BOOST_FIXTURE_TEST_SUITE(ReactTests, coil::test::ReactorTest)

COIL_TEST_CASE(successReturnsZeroAfterStoppingTheReactor) {
  LogCapture logs;
  std::vector<std::string> order;
  reactor->addSystemEventTrigger(Phase::after, "shutdown",
                                 trigger([&] { order.push_back("shutdown"); }));
  int code = task::react(*reactor, [&](ReactorBase& r) {
    order.push_back(r.running() ? "main while running" : "main before run");
    Deferred<void> d;
    r.callLater(0.005, [d]() mutable { d.callback(); });
    return d;
  });
  BOOST_TEST(code == 0);
  BOOST_TEST(order == (std::vector<std::string>{"main before run", "shutdown"}));
  BOOST_TEST(!reactor->running());
  BOOST_TEST(logs.entries.empty());
}

COIL_TEST_CASE(alreadyFiredResultStopsOnceTheReactorRuns) {
  bool startedUp = false;
  int code = task::react(*reactor, [&](ReactorBase& r) {
    r.callWhenRunning([&] { startedUp = true; });
    return coil::succeed();
  });
  BOOST_TEST(code == 0);
  BOOST_TEST(startedUp);  // run() went through startup before stopping
}

COIL_TEST_CASE(coroutineMainReturnsZero) {
  bool resumed = false;
  int code = task::react(*reactor, [&](ReactorBase& r) -> Deferred<void> {
    co_await task::deferLater(r, 0.005);
    resumed = r.running();
  });
  BOOST_TEST(code == 0);
  BOOST_TEST(resumed);
}

COIL_TEST_CASE(valueOfMainIsIgnored) {
  int code = task::react(*reactor, [](ReactorBase& r) -> Deferred<int> {
    co_await task::deferLater(r, 0);
    co_return 9;
  });
  BOOST_TEST(code == 0);
}

COIL_TEST_CASE(systemExitFailureGivesItsCode) {
  LogCapture logs;
  int code = task::react(*reactor, [](ReactorBase&) { return coil::fail(task::SystemExit(3)); });
  BOOST_TEST(code == 3);
  BOOST_TEST(logs.count("main function encountered error") == 0u);
  int coroutineCode = 0;
  auto second = coil::test::makeTestReactor();
  coroutineCode = task::react(*second, [](ReactorBase& r) -> Deferred<void> {
    co_await task::deferLater(r, 0);
    throw task::SystemExit(5);
  });
  BOOST_TEST(coroutineCode == 5);
}

COIL_TEST_CASE(otherFailureIsLoggedAndGivesOne) {
  LogCapture logs;
  int code = task::react(*reactor, [](ReactorBase& r) -> Deferred<void> {
    co_await task::deferLater(r, 0);
    throw std::runtime_error("main broke");
  });
  BOOST_TEST(code == 1);
  BOOST_TEST(logs.count("main function encountered error") == 1u);
  BOOST_TEST(logs.count("main broke") == 1u);
}

COIL_TEST_CASE(synchronousThrowFromMainGivesOne) {
  LogCapture logs;
  int code = task::react(*reactor, [](ReactorBase&) -> Deferred<void> {
    throw std::logic_error("thrown before any Deferred");
  });
  BOOST_TEST(code == 1);
  BOOST_TEST(logs.count("thrown before any Deferred") == 1u);
}

COIL_TEST_CASE(noSecondStopWhenShutdownAlreadyBegan) {
  // main's Deferred fires during shutdown (someone else stopped the reactor): react must not
  // stop it again, and still returns main's code.
  LogCapture logs;
  int beforeShutdown = 0;
  int code = task::react(*reactor, [&](ReactorBase& r) {
    Deferred<void> d;
    r.addSystemEventTrigger(Phase::before, "shutdown", trigger([&] { ++beforeShutdown; }));
    r.addSystemEventTrigger(Phase::during, "shutdown",
                            trigger([d]() mutable { d.errback(task::SystemExit(4)); }));
    r.callLater(0.005, [&r] { r.stop(); });
    return d;
  });
  BOOST_TEST(code == 4);
  BOOST_TEST(beforeShutdown == 1);
  BOOST_TEST(logs.entries.empty());
}

COIL_TEST_CASE(mainFiringWhileRunningStopsExactlyOnce) {
  LogCapture logs;
  int shutdowns = 0;
  int code = task::react(*reactor, [&](ReactorBase& r) {
    r.addSystemEventTrigger(Phase::during, "shutdown", trigger([&] { ++shutdowns; }));
    Deferred<void> d;
    r.callLater(0, [d]() mutable { d.callback(); });
    return d;
  });
  BOOST_TEST(code == 0);
  BOOST_TEST(shutdowns == 1);
  BOOST_TEST(logs.entries.empty());
}

COIL_TEST_CASE(reactOnAStoppedReactorThrows) {
  reactor->callWhenRunning([&] { reactor->stop(); });
  coil::test::runReactor(*reactor);
  BOOST_CHECK_THROW(task::react(*reactor, [](ReactorBase&) { return coil::succeed(); }),
                    coil::error::ReactorNotRestartable);
}

BOOST_AUTO_TEST_SUITE_END()
