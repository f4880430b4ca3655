// Reactor lifecycle (spec §1.1): run/stop/crash/iterate/callWhenRunning, ported from Twisted's
// test_core.SystemEventTestsBuilder/ReactorBuilder cases and test_base.
// Tests: core/ReactorBase.cpp
#include <coil/core/Errors.hpp>
#include <coil/core/ReactorBase.hpp>

#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using coil::Deferred;
using coil::Phase;
using coil::test::runReactor;
using coil::test::trigger;
namespace error = coil::error;

namespace {

double elapsedSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ReactorLifecycle, coil::test::ReactorTest)

COIL_TEST_CASE(stopBeforeRunRaisesReactorNotRunning) {
  BOOST_CHECK_THROW(reactor->stop(), error::ReactorNotRunning);
  try {
    reactor->stop();
  } catch (const error::ReactorNotRunning& e) {
    BOOST_TEST(std::string(e.what()) == "Can't stop reactor that isn't running.");
  }
  BOOST_TEST(!reactor->running());
}

COIL_TEST_CASE(stopTwiceRaisesReactorNotRunning) {
  bool secondRaised = false;
  reactor->callWhenRunning([&] {
    reactor->stop();
    try {
      reactor->stop();
    } catch (const error::ReactorNotRunning&) {
      secondRaised = true;
    }
  });
  runReactor(*reactor);
  BOOST_TEST(secondRaised);
  BOOST_CHECK_THROW(reactor->stop(), error::ReactorNotRunning);
}

COIL_TEST_CASE(runWhileRunningRaisesReactorAlreadyRunning) {
  bool raised = false;
  reactor->callWhenRunning([&] {
    try {
      reactor->run(false);
    } catch (const error::ReactorAlreadyRunning& e) {
      raised = std::string(e.what()) == "Reactor is already running.";
    }
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(raised);
}

COIL_TEST_CASE(runAfterStopRaisesReactorNotRestartable) {
  reactor->callWhenRunning([&] { reactor->stop(); });
  runReactor(*reactor);
  BOOST_CHECK_THROW(reactor->run(false), error::ReactorNotRestartable);
  try {
    reactor->run(false);
  } catch (const error::ReactorNotRestartable& e) {
    BOOST_TEST(std::string(e.what()) == "Can't restart a reactor that was stopped.");
  }
  // All three are RuntimeError-like logic errors in coil.
  BOOST_CHECK_THROW(reactor->run(false), std::logic_error);
}

COIL_TEST_CASE(crashLeavesAtOnceWithoutTriggersAndRunWorksAgain) {
  std::vector<std::string> fired;
  for (Phase phase : {Phase::before, Phase::during, Phase::after})
    reactor->addSystemEventTrigger(
        phase, "shutdown", trigger([&, phase] { fired.push_back(std::to_string(int(phase))); }));
  int startups = 0;
  reactor->addSystemEventTrigger(Phase::during, "startup", trigger([&] { ++startups; }));
  reactor->callWhenRunning([&] { reactor->crash(); });
  runReactor(*reactor);
  BOOST_TEST(!reactor->running());
  BOOST_TEST(fired.empty());
  BOOST_TEST(startups == 1);

  // run() again: startup fires again (the internal trigger was re-added), running() is true.
  bool runningAgain = false;
  reactor->callWhenRunning([&] {
    runningAgain = reactor->running();
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(runningAgain);
  BOOST_TEST(fired == (std::vector<std::string>{"0", "1", "2"}));
  BOOST_TEST(startups == 1);  // consumed by the first startup
}

COIL_TEST_CASE(crashInTimedCallStopsLoopAfterPass) {
  std::vector<std::string> order;
  reactor->callLater(0, [&] {
    order.push_back("crash");
    reactor->crash();
  });
  reactor->callLater(0, [&] { order.push_back("same pass"); });
  runReactor(*reactor);
  BOOST_TEST(order == (std::vector<std::string>{"crash", "same pass"}));
  BOOST_TEST(!reactor->running());
  // The reactor was crashed, not stopped: stop() would still be accepted by the flags, and a
  // second run needs a stop to end.
  reactor->callWhenRunning([&] { reactor->stop(); });
  runReactor(*reactor);
}

COIL_TEST_CASE(codeAfterStopRunsBeforeShutdownTriggers) {
  std::vector<std::string> order;
  reactor->addSystemEventTrigger(Phase::before, "shutdown",
                                 trigger([&] { order.push_back("before-shutdown"); }));
  reactor->callLater(0, [&] {
    reactor->stop();
    order.push_back("after stop()");
  });
  reactor->callLater(0, [&] { order.push_back("same pass"); });
  runReactor(*reactor);
  BOOST_TEST(order == (std::vector<std::string>{"after stop()", "same pass", "before-shutdown"}));
}

COIL_TEST_CASE(stopInCallWhenRunningFiresShutdownOnFirstPass) {
  std::vector<std::string> order;
  reactor->callWhenRunning([&] {
    reactor->stop();
    order.push_back("stopped");
  });
  reactor->addSystemEventTrigger(Phase::after, "startup",
                                 trigger([&] { order.push_back("after-startup"); }));
  reactor->addSystemEventTrigger(Phase::during, "shutdown",
                                 trigger([&] { order.push_back("during-shutdown"); }));
  runReactor(*reactor);
  BOOST_TEST(order == (std::vector<std::string>{"stopped", "after-startup", "during-shutdown"}));
}

COIL_TEST_CASE(allShutdownPhasesFinishBeforeRunReturns) {
  std::vector<std::string> order;
  Deferred<void> hold;
  reactor->addSystemEventTrigger(Phase::before, "shutdown", [&]() -> std::optional<Deferred<void>> {
    order.push_back("before");
    reactor->callLater(0.01, [&] {
      order.push_back("fired");
      hold.callback();
    });
    return hold;
  });
  reactor->addSystemEventTrigger(Phase::during, "shutdown",
                                 trigger([&] { order.push_back("during"); }));
  reactor->addSystemEventTrigger(Phase::after, "shutdown",
                                 trigger([&] { order.push_back("after"); }));
  reactor->callWhenRunning([&] { reactor->stop(); });
  runReactor(*reactor);
  BOOST_TEST(order == (std::vector<std::string>{"before", "fired", "during", "after"}));
}

COIL_TEST_CASE(runningIsTrueFromDuringStartupToDuringShutdown) {
  std::vector<std::pair<std::string, bool>> seen;
  auto record = [&](const char* where) {
    return trigger([&, where] { seen.emplace_back(where, reactor->running()); });
  };
  reactor->addSystemEventTrigger(Phase::before, "startup", record("before-startup"));
  reactor->addSystemEventTrigger(Phase::during, "startup", record("during-startup"));
  reactor->addSystemEventTrigger(Phase::after, "startup", record("after-startup"));
  reactor->addSystemEventTrigger(Phase::before, "shutdown", record("before-shutdown"));
  reactor->addSystemEventTrigger(Phase::during, "shutdown", record("during-shutdown"));
  reactor->addSystemEventTrigger(Phase::after, "shutdown", record("after-shutdown"));
  BOOST_TEST(!reactor->running());
  reactor->callLater(0, [&] {
    seen.emplace_back("timed call", reactor->running());
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(!reactor->running());
  std::vector<std::pair<std::string, bool>> expected{
      {"before-startup", false}, {"during-startup", true},  {"after-startup", true},
      {"timed call", true},      {"before-shutdown", true}, {"during-shutdown", false},
      {"after-shutdown", false}};
  BOOST_TEST(seen.size() == expected.size());
  for (std::size_t i = 0; i < std::min(seen.size(), expected.size()); ++i) {
    BOOST_TEST(seen[i].first == expected[i].first);
    BOOST_TEST(seen[i].second == expected[i].second, seen[i].first);
  }
}

COIL_TEST_CASE(callWhenRunningBeforeRunIsFifoAfterStartup) {
  std::vector<int> order;
  std::optional<coil::TriggerId> a = reactor->callWhenRunning([&] { order.push_back(1); });
  std::optional<coil::TriggerId> b = reactor->callWhenRunning([&] { order.push_back(2); });
  BOOST_TEST(a.has_value());
  BOOST_TEST(b.has_value());
  BOOST_TEST(!(*a == *b));
  BOOST_TEST(order.empty());
  reactor->callWhenRunning([&] { reactor->stop(); });
  runReactor(*reactor);
  BOOST_TEST(order == (std::vector<int>{1, 2}));
}

COIL_TEST_CASE(callWhenRunningWhileRunningCallsAtOnce) {
  bool ranInside = false;
  std::optional<coil::TriggerId> id;
  reactor->callWhenRunning([&] {
    bool called = false;
    id = reactor->callWhenRunning([&] { called = true; });
    ranInside = called;
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(ranInside);
  BOOST_TEST(!id.has_value());
}

COIL_TEST_CASE(callWhenRunningIdCanBeRemoved) {
  bool called = false;
  std::optional<coil::TriggerId> id = reactor->callWhenRunning([&] { called = true; });
  BOOST_REQUIRE(id.has_value());
  reactor->removeSystemEventTrigger(*id);
  reactor->callWhenRunning([&] { reactor->stop(); });
  runReactor(*reactor);
  BOOST_TEST(!called);
  BOOST_CHECK_THROW(reactor->callWhenRunning({}), std::invalid_argument);
}

COIL_TEST_CASE(iterateRunsDueCallsAndDoesNotBlockAtZero) {
  bool ran = false;
  reactor->callLater(0, [&] { ran = true; });
  auto far = reactor->callLater(100, [] {});
  auto start = std::chrono::steady_clock::now();
  reactor->iterate();
  reactor->iterate(0);
  BOOST_TEST(ran);
  BOOST_TEST(elapsedSince(start) < 5.0);  // a blocking iterate(0) would wait for `far` (100 s)
  BOOST_TEST(far->active());
  far->cancel();
  BOOST_CHECK_THROW(reactor->iterate(-1), std::invalid_argument);
}

COIL_TEST_CASE(iterateWaitsForAWakeUpAtMostDelay) {
  // iterate(delay) returns once a thread call arrives, well before `delay`.
  bool ran = false;
  std::thread poster([&] { reactor->callFromThread([&] { ran = true; }); });
  auto start = std::chrono::steady_clock::now();
  reactor->iterate(30);  // ends on the wake-up (before or during the wait), not after 30 s
  BOOST_TEST(elapsedSince(start) < 15.0);
  poster.join();
  reactor->iterate(0);  // runs the call if it arrived during the wait
  BOOST_TEST(ran);
}

COIL_TEST_CASE(stopFromAnotherThreadThroughCallFromThread) {
  std::thread stopper;
  reactor->callWhenRunning(
      [&] { stopper = std::thread([&] { reactor->callFromThread([&] { reactor->stop(); }); }); });
  runReactor(*reactor);
  stopper.join();
  BOOST_TEST(!reactor->running());
}

COIL_TEST_CASE(beforeStartupDeferredDelaysRunningButRunBlocks) {
  Deferred<void> gate;
  std::vector<std::string> order;
  reactor->addSystemEventTrigger(Phase::before, "startup",
                                 [&]() -> std::optional<Deferred<void>> { return gate; });
  reactor->callLater(0.01, [&] {
    order.push_back(reactor->running() ? "running" : "not running");
    gate.callback();
    order.push_back(reactor->running() ? "running" : "not running");
  });
  reactor->callWhenRunning([&] {
    order.push_back("callWhenRunning");
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(order == (std::vector<std::string>{"not running", "callWhenRunning", "running"}));
}

COIL_TEST_CASE(exceptionInCallWhenRunningIsLoggedAndStartupGoesOn) {
  coil::test::LogCapture logs;
  bool second = false;
  reactor->callWhenRunning([] { throw std::runtime_error("boom in startup"); });
  reactor->callWhenRunning([&] {
    second = true;
    reactor->stop();
  });
  runReactor(*reactor);
  BOOST_TEST(second);
  BOOST_TEST(logs.count("boom in startup") == 1u);
}

COIL_TEST_CASE(destroyingAnUnrunReactorReleasesPendingWork) {
  auto token = std::make_shared<int>(0);
  auto owned = coil::test::makeTestReactor();
  owned->callLater(5, [token] {});
  owned->callFromThread([token] {});
  owned->callWhenRunning([token] {});
  BOOST_TEST(token.use_count() == 4);
  auto call = owned->getDelayedCalls().at(0);
  owned.reset();
  BOOST_TEST(token.use_count() == 1);
  BOOST_TEST(!call->active());
}

BOOST_AUTO_TEST_SUITE_END()
