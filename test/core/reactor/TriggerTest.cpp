// System event triggers (spec §1.2), ported from Twisted's test_internet.SystemEventTests.
// Tests: core/ReactorBase.cpp
#include <coil/core/Deferred.hpp>
#include <coil/core/ReactorBase.hpp>

#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using coil::Deferred;
using coil::Failure;
using coil::Phase;
using coil::TriggerId;
using coil::test::LogCapture;
using coil::test::runReactor;
using coil::test::trigger;

namespace {

using Order = std::vector<std::string>;

/// A before-trigger that returns `d`.
coil::SystemEventTrigger returning(Deferred<void> d, Order* order = nullptr,
                                   std::string name = {}) {
  return [d, order, name]() -> std::optional<Deferred<void>> {
    if (order) order->push_back(name);
    return d;
  };
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ReactorTriggers, coil::test::ReactorTest)

COIL_TEST_CASE(phasesRunBeforeDuringAfter) {
  Order order;
  reactor->addSystemEventTrigger(Phase::after, "test", trigger([&] { order.push_back("after"); }));
  reactor->addSystemEventTrigger(Phase::during, "test",
                                 trigger([&] { order.push_back("during"); }));
  reactor->addSystemEventTrigger(Phase::before, "test",
                                 trigger([&] { order.push_back("before"); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"before", "during", "after"}));
}

COIL_TEST_CASE(triggersOfOnePhaseRunFifo) {
  Order order;
  for (const char* name : {"a", "b", "c", "d"})
    reactor->addSystemEventTrigger(Phase::during, "test",
                                   trigger([&, name] { order.push_back(name); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"a", "b", "c", "d"}));
}

COIL_TEST_CASE(beforeTriggerDeferredDelaysDuringAndAfter) {
  Order order;
  Deferred<void> d;
  reactor->addSystemEventTrigger(Phase::before, "test", returning(d, &order, "before"));
  reactor->addSystemEventTrigger(Phase::during, "test",
                                 trigger([&] { order.push_back("during"); }));
  reactor->addSystemEventTrigger(Phase::after, "test", trigger([&] { order.push_back("after"); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"before"}));
  d.callback();
  BOOST_TEST(order == (Order{"before", "during", "after"}));
}

COIL_TEST_CASE(duringWaitsForEveryBeforeDeferred) {
  Order order;
  Deferred<void> first, second;
  reactor->addSystemEventTrigger(Phase::before, "test", returning(first));
  reactor->addSystemEventTrigger(Phase::before, "test", returning(second));
  reactor->addSystemEventTrigger(Phase::before, "test", trigger([] {}));
  reactor->addSystemEventTrigger(Phase::during, "test",
                                 trigger([&] { order.push_back("during"); }));
  reactor->fireSystemEvent("test");
  second.callback();
  BOOST_TEST(order.empty());
  first.callback();
  BOOST_TEST(order == (Order{"during"}));
}

COIL_TEST_CASE(alreadyFiredBeforeDeferredContinuesAtOnce) {
  Order order;
  reactor->addSystemEventTrigger(Phase::before, "test", returning(coil::succeed()));
  reactor->addSystemEventTrigger(Phase::during, "test",
                                 trigger([&] { order.push_back("during"); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"during"}));
}

COIL_TEST_CASE(failedBeforeDeferredStillContinues) {
  Order order;
  Deferred<void> d;
  reactor->addSystemEventTrigger(Phase::before, "test", returning(d));
  reactor->addSystemEventTrigger(Phase::during, "test",
                                 trigger([&] { order.push_back("during"); }));
  reactor->addSystemEventTrigger(Phase::after, "test", trigger([&] { order.push_back("after"); }));
  reactor->fireSystemEvent("test");
  d.errback(std::runtime_error("before failed"));
  BOOST_TEST(order == (Order{"during", "after"}));
  // The failure stays in the trigger's own chain (as in Twisted): handle it here.
  bool stillFailed = false;
  d.addErrback([&](Failure f) { stillFailed = f.getErrorMessage() == "before failed"; });
  BOOST_TEST(stillFailed);
}

COIL_TEST_CASE(beforeTriggerAddedWhileFiringRunsInOrder) {
  Order order;
  reactor->addSystemEventTrigger(Phase::before, "test", trigger([&] {
                                   order.push_back("first");
                                   reactor->addSystemEventTrigger(
                                       Phase::before, "test",
                                       trigger([&] { order.push_back("added"); }));
                                 }));
  reactor->addSystemEventTrigger(Phase::before, "test",
                                 trigger([&] { order.push_back("second"); }));
  reactor->addSystemEventTrigger(Phase::during, "test",
                                 trigger([&] { order.push_back("during"); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"first", "second", "added", "during"}));
}

COIL_TEST_CASE(beforeDeferredFromTriggerAddedWhileFiringIsAwaited) {
  Order order;
  Deferred<void> late;
  reactor->addSystemEventTrigger(
      Phase::before, "test",
      trigger([&] { reactor->addSystemEventTrigger(Phase::before, "test", returning(late)); }));
  reactor->addSystemEventTrigger(Phase::during, "test",
                                 trigger([&] { order.push_back("during"); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order.empty());
  late.callback();
  BOOST_TEST(order == (Order{"during"}));
}

COIL_TEST_CASE(duringAndAfterTriggersAddedWhileFiringRun) {
  Order order;
  reactor->addSystemEventTrigger(Phase::before, "test", trigger([&] {
                                   reactor->addSystemEventTrigger(
                                       Phase::during, "test",
                                       trigger([&] { order.push_back("during from before"); }));
                                 }));
  reactor->addSystemEventTrigger(
      Phase::during, "test", trigger([&] {
        order.push_back("during");
        reactor->addSystemEventTrigger(Phase::during, "test",
                                       trigger([&] { order.push_back("during from during"); }));
        reactor->addSystemEventTrigger(Phase::after, "test",
                                       trigger([&] { order.push_back("after from during"); }));
      }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order ==
             (Order{"during", "during from before", "during from during", "after from during"}));
}

COIL_TEST_CASE(triggersAreConsumed) {
  int count = 0;
  for (Phase phase : {Phase::before, Phase::during, Phase::after})
    reactor->addSystemEventTrigger(phase, "test", trigger([&] { ++count; }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(count == 3);
  reactor->fireSystemEvent("test");
  BOOST_TEST(count == 3);
  reactor->addSystemEventTrigger(Phase::during, "test", trigger([&] { ++count; }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(count == 4);
}

COIL_TEST_CASE(removedTriggerDoesNotRun) {
  Order order;
  TriggerId a =
      reactor->addSystemEventTrigger(Phase::before, "test", trigger([&] { order.push_back("a"); }));
  reactor->addSystemEventTrigger(Phase::during, "test", trigger([&] { order.push_back("b"); }));
  TriggerId c =
      reactor->addSystemEventTrigger(Phase::after, "test", trigger([&] { order.push_back("c"); }));
  reactor->removeSystemEventTrigger(a);
  reactor->removeSystemEventTrigger(c);
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"b"}));
}

COIL_TEST_CASE(triggerMayRemoveALaterOneOfTheSamePhase) {
  Order order;
  TriggerId second{};
  reactor->addSystemEventTrigger(Phase::during, "test", trigger([&] {
                                   order.push_back("first");
                                   reactor->removeSystemEventTrigger(second);
                                 }));
  second = reactor->addSystemEventTrigger(Phase::during, "test",
                                          trigger([&] { order.push_back("second"); }));
  reactor->addSystemEventTrigger(Phase::during, "test", trigger([&] { order.push_back("third"); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"first", "third"}));
}

COIL_TEST_CASE(removingUnknownRemovedOrRunTriggerThrows) {
  BOOST_CHECK_THROW(reactor->removeSystemEventTrigger(TriggerId{987654321}), std::invalid_argument);
  BOOST_CHECK_THROW(reactor->removeSystemEventTrigger(TriggerId{}), std::invalid_argument);
  TriggerId id = reactor->addSystemEventTrigger(Phase::during, "test", trigger([] {}));
  reactor->removeSystemEventTrigger(id);
  BOOST_CHECK_THROW(reactor->removeSystemEventTrigger(id), std::invalid_argument);
  TriggerId ran = reactor->addSystemEventTrigger(Phase::after, "test", trigger([] {}));
  reactor->fireSystemEvent("test");
  BOOST_CHECK_THROW(reactor->removeSystemEventTrigger(ran), std::invalid_argument);
}

COIL_TEST_CASE(removingARunBeforeTriggerWhileWaitingOnlyWarns) {
  LogCapture logs;
  Deferred<void> d;
  TriggerId id = reactor->addSystemEventTrigger(Phase::before, "test", returning(d));
  bool during = false;
  reactor->addSystemEventTrigger(Phase::during, "test", trigger([&] { during = true; }));
  reactor->fireSystemEvent("test");
  BOOST_CHECK_NO_THROW(reactor->removeSystemEventTrigger(id));
  BOOST_TEST(logs.count("already run") == 1u);
  d.callback();
  BOOST_TEST(during);
  // Once the event has moved on, the id is simply unknown.
  BOOST_CHECK_THROW(reactor->removeSystemEventTrigger(id), std::invalid_argument);
}

COIL_TEST_CASE(exceptionsAreLoggedAndTheRestStillRun) {
  LogCapture logs;
  Order order;
  for (Phase phase : {Phase::before, Phase::during, Phase::after}) {
    std::string name = std::to_string(static_cast<int>(phase));
    reactor->addSystemEventTrigger(
        phase, "test", trigger([name] { throw std::runtime_error("trigger failed " + name); }));
    reactor->addSystemEventTrigger(phase, "test", trigger([&, name] { order.push_back(name); }));
  }
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"0", "1", "2"}));
  BOOST_TEST(logs.count("trigger failed") == 3u);
  BOOST_TEST(logs.count("Unhandled error in a system event trigger") == 3u);
}

COIL_TEST_CASE(eventsAreIndependentAndUnknownEventIsNoop) {
  Order order;
  reactor->addSystemEventTrigger(Phase::during, "a", trigger([&] { order.push_back("a"); }));
  reactor->addSystemEventTrigger(Phase::during, "b", trigger([&] { order.push_back("b"); }));
  reactor->fireSystemEvent("nothing registered");
  reactor->fireSystemEvent("b");
  BOOST_TEST(order == (Order{"b"}));
  reactor->fireSystemEvent("a");
  BOOST_TEST(order == (Order{"b", "a"}));
}

COIL_TEST_CASE(emptyTriggerOrBadPhaseIsRejected) {
  BOOST_CHECK_THROW(reactor->addSystemEventTrigger(Phase::during, "test", {}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(reactor->addSystemEventTrigger(static_cast<Phase>(7), "test", trigger([] {})),
                    std::invalid_argument);
}

COIL_TEST_CASE(duringTriggerDeferredDoesNotDelayAfter) {
  Order order;
  Deferred<void> never;
  reactor->addSystemEventTrigger(Phase::during, "test", returning(never));
  reactor->addSystemEventTrigger(Phase::after, "test", trigger([&] { order.push_back("after"); }));
  reactor->fireSystemEvent("test");
  BOOST_TEST(order == (Order{"after"}));
}

COIL_TEST_CASE(reactorDuringShutdownTriggersPrecedeUserOnes) {
  // crash() and disconnectAll() are registered by the constructor: a user during-shutdown
  // trigger already sees running() == false and no descriptors left.
  std::optional<bool> runningInDuring;
  reactor->addSystemEventTrigger(Phase::during, "shutdown",
                                 trigger([&] { runningInDuring = reactor->running(); }));
  reactor->callWhenRunning([&] { reactor->stop(); });
  runReactor(*reactor);
  BOOST_REQUIRE(runningInDuring.has_value());
  BOOST_TEST(!*runningInDuring);
}

COIL_TEST_CASE(failedBeforeShutdownDeferredStillShutsDown) {
  Order order;
  Deferred<void> d;
  reactor->addSystemEventTrigger(Phase::before, "shutdown", returning(d));
  reactor->addSystemEventTrigger(Phase::after, "shutdown",
                                 trigger([&] { order.push_back("after"); }));
  reactor->callWhenRunning([&] {
    reactor->stop();
    reactor->callLater(0.01, [&] { d.errback(std::runtime_error("cleanup failed")); });
  });
  runReactor(*reactor);
  BOOST_TEST(order == (Order{"after"}));
  d.addErrback([](Failure) {});
}

BOOST_AUTO_TEST_SUITE_END()
