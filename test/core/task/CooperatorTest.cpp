// Cooperator and CooperativeTask behaviour, ported from Twisted's test_cooperator.py
// (CooperatorTests, RunStateTests) plus time slicing, Generator and lifetime cases.
// Tests: core/task/Cooperator.cpp
#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/task/Clock.hpp>
#include <coil/core/task/Cooperator.hpp>
#include <coil/core/task/DeferLater.hpp>
#include <test/support/Testing.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace task = coil::task;
using coil::Deferred;
using coil::Failure;
using coil::Result;
using task::Clock;
using task::CooperativeTask;
using task::Cooperator;
using task::Step;

namespace {

class UnhandledException : public std::runtime_error {
 public:
  UnhandledException() : std::runtime_error("unhandled") {}
};

template <class E>
bool isA(const Failure& f) {
  return f.value<E>() != nullptr;
}

/// Runs one Cooperator tick scheduled by the default scheduler.
void pump(Clock& clock) {
  clock.advance(Cooperator::kEpsilon);
}

/// What a whenDone()/coiterate() Deferred delivered.
struct Outcome {
  bool fired = false;
  std::optional<CooperativeTask> task;
  std::optional<Failure> failure;
};

std::shared_ptr<Outcome> watch(Deferred<CooperativeTask> d) {
  auto out = std::make_shared<Outcome>();
  d.addCallbacks(
      [out](CooperativeTask t) {
        out->fired = true;
        out->task = std::move(t);
      },
      [out](Failure f) {
        out->fired = true;
        out->failure = std::move(f);
      });
  return out;
}

/// An iterator over `items` that appends each to `log`, one per step.
task::Iterator appender(std::string items, std::string& log) {
  return [items = std::move(items), &log, i = std::size_t{0}]() mutable -> Step {
    if (i == items.size()) return Step::done();
    log += items[i++];
    return {};
  };
}

/// A termination predicate factory ending every tick after one unit of work.
Cooperator::TerminationPredicateFactory oneStepPerTick() {
  return [] { return [] { return true; }; };
}

/// Twisted's RunStateTests fixture: a worker iterator steered by flags, one unit per tick.
struct RunState {
  Clock clock;
  Cooperator cooperator{clock, oneStepPerTick(), {}, false};
  bool doDeferNext = false;
  bool doStopNext = false;
  bool doDieNext = false;
  int i = 0;
  std::vector<std::variant<int, Deferred<void>>> work;
  CooperativeTask task;

  RunState() : task(cooperator.cooperate([this] { return worker(); })) { cooperator.start(); }

  Step worker() {
    ++i;
    if (doDeferNext) {
      doDeferNext = false;
      Deferred<void> d;
      work.emplace_back(d);
      return d;
    }
    if (doStopNext) return Step::done();
    if (doDieNext) throw UnhandledException();
    work.emplace_back(i);
    return {};
  }

  void pump() { ::pump(clock); }
  std::vector<int> ints() const {
    std::vector<int> out;
    for (const auto& w : work)
      if (auto* v = std::get_if<int>(&w)) out.push_back(*v);
    return out;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(CooperatorTests)

COIL_TEST_CASE(stoppedRejectsNewTasks) {
  // testStoppedRejectsNewTasks
  Clock clock;
  Cooperator c(clock);
  c.stop();
  std::string log;
  auto out = watch(c.coiterate(appender("abc", log)));
  BOOST_TEST(out->fired);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<task::SchedulerStopped>(*out->failure));
  BOOST_TEST(clock.getDelayedCalls().empty());
  pump(clock);
  BOOST_TEST(log.empty());
}

COIL_TEST_CASE(stopRunning) {
  // testStopRunning: a stopped cooperator does not run its tasks to completion.
  Clock clock;
  Cooperator c(clock);
  std::string log;
  auto out = watch(c.coiterate(appender("abc", log)));
  c.stop();
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<task::SchedulerStopped>(*out->failure));
  pump(clock);
  BOOST_TEST(log.empty());
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(stopOutstanding) {
  // testStopOutstanding: a task paused on a Deferred fails with SchedulerStopped once that
  // Deferred fires after Cooperator::stop().
  Clock clock;
  Cooperator c(clock);
  Deferred<std::string> outstanding;
  bool resumedPastYield = false;
  int calls = 0;
  auto out = watch(c.coiterate([&]() -> Step {
    if (calls++ == 0) return outstanding;
    resumedPastYield = true;
    return {};
  }));
  pump(clock);
  BOOST_TEST(calls == 1);
  c.stop();
  BOOST_TEST(!out->fired);
  outstanding.callback("arglebargle");
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<task::SchedulerStopped>(*out->failure));
  pump(clock);
  BOOST_TEST(!resumedPastYield);
}

COIL_TEST_CASE(unexpectedError) {
  // testUnexpectedError
  Clock clock;
  Cooperator c(clock);
  auto out = watch(c.coiterate([]() -> Step { throw UnhandledException(); }));
  pump(clock);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<UnhandledException>(*out->failure));
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(unexpectedErrorActuallyLater) {
  // testUnexpectedErrorActuallyLater: a yielded Deferred failing later fails the task.
  Clock clock;
  Cooperator c(clock);
  auto out = watch(c.coiterate([&]() -> Step {
    Deferred<void> d;
    clock.callLater(0, [d]() mutable { d.errback(UnhandledException()); });
    return d;
  }));
  pump(clock);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<UnhandledException>(*out->failure));
}

COIL_TEST_CASE(unexpectedErrorNotActuallyLater) {
  // testUnexpectedErrorNotActuallyLater: an already-failed yielded Deferred fails the task.
  Clock clock;
  Cooperator c(clock);
  auto out = watch(c.coiterate([]() -> Step { return coil::fail<int>(UnhandledException()); }));
  pump(clock);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<UnhandledException>(*out->failure));
}

COIL_TEST_CASE(cooperation) {
  // testCooperation: tasks take turns, one unit each, in the order they were added.
  Clock clock;
  Cooperator c(clock);
  std::string log;
  int done = 0;
  for (const char* items : {"abc", "123", "def", "456"}) {
    c.coiterate(appender(items, log)).addCallback([&](CooperativeTask) { ++done; });
  }
  BOOST_TEST(log.empty());  // nothing runs before the first tick
  for (int i = 0; i < 10 && done < 4; ++i) pump(clock);
  BOOST_TEST(done == 4);
  BOOST_TEST(log == "a1d4b2e5c3f6");
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(roundRobinAcrossTicks) {
  // With one unit per tick, the position in the round carries over from tick to tick.
  Clock clock;
  Cooperator c(clock, oneStepPerTick());
  std::string log;
  c.cooperate(appender("aaa", log));
  c.cooperate(appender("bbb", log));
  c.cooperate(appender("ccc", log));
  for (int i = 0; i < 4; ++i) pump(clock);
  BOOST_TEST(log == "abca");
  for (int i = 0; i < 5; ++i) pump(clock);
  BOOST_TEST(log == "abcabcabc");
}

COIL_TEST_CASE(finishingTaskDoesNotSkipTheNextOne) {
  // Removing a task from the round keeps the position: the next task still gets its turn.
  Clock clock;
  Cooperator c(clock, oneStepPerTick());
  std::string log;
  c.cooperate(appender("a", log));
  c.cooperate(appender("bb", log));
  c.cooperate(appender("cc", log));
  for (int i = 0; i < 5; ++i) pump(clock);  // a b c (a done) b
  BOOST_TEST(log == "abcb");
  pump(clock);
  BOOST_TEST(log == "abcbc");
}

COIL_TEST_CASE(resourceExhaustion) {
  // testResourceExhaustion: the termination predicate ends the tick.
  Clock clock;
  bool stopped = false;
  Cooperator c(clock, [&] { return [&] { return stopped; }; });
  std::vector<int> output;
  int i = 0;
  auto out = watch(c.coiterate([&]() -> Step {
    if (i == 100) return Step::done();
    output.push_back(i);
    if (i == 9) stopped = true;
    ++i;
    return {};
  }));
  pump(clock);
  c.stop();
  BOOST_TEST(stopped);
  BOOST_TEST(output.size() == 10u);
  BOOST_TEST(output.back() == 9);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<task::SchedulerStopped>(*out->failure));
}

COIL_TEST_CASE(timeSlicingWithAFakePredicate) {
  // Each tick gets a fresh predicate from the factory; here, three units per tick.
  Clock clock;
  int predicates = 0;
  Cooperator c(clock, [&] {
    ++predicates;
    return [n = 0]() mutable { return ++n >= 3; };
  });
  std::string log;
  c.cooperate(appender("abcdefgh", log));
  pump(clock);
  BOOST_TEST(log == "abc");
  BOOST_TEST(predicates == 1);
  pump(clock);
  BOOST_TEST(log == "abcdef");
  pump(clock);
  BOOST_TEST(log == "abcdefgh");
  BOOST_TEST(predicates == 3);
  BOOST_TEST(clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(defaultTimeSliceRunsManyUnitsPerTick) {
  // The default 10 ms steady-clock slice lets quick units run many per tick.
  Clock clock;
  Cooperator c(clock);
  int n = 0;
  auto out = watch(c.coiterate([&]() -> Step { return ++n == 50 ? Step::done() : Step::more(); }));
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  BOOST_TEST(clock.getDelayedCalls()[0]->getTime() == Cooperator::kEpsilon);
  pump(clock);
  BOOST_TEST(n == 50);
  BOOST_TEST(out->fired);
  auto expired = Cooperator::timeSlice(0)();
  BOOST_TEST(expired());
  auto longSlice = Cooperator::timeSlice(3600)();
  BOOST_TEST(!longSlice());
}

COIL_TEST_CASE(callbackReCoiterate) {
  // testCallbackReCoiterate: coiterate from a whenDone callback schedules only one tick.
  Clock clock;
  int scheduled = 0;
  Cooperator c(clock, oneStepPerTick(), [&](std::function<void()> f) {
    BOOST_TEST(clock.getDelayedCalls().empty());
    ++scheduled;
    return clock.callLater(Cooperator::kEpsilon, std::move(f));
  });
  bool done = false;
  c.coiterate([] { return Step::done(); }).addCallback([&](CooperativeTask) {
    c.coiterate([] { return Step::done(); }).addCallback([&](CooperativeTask) { done = true; });
  });
  for (int i = 0; i < 50 && !done; ++i) pump(clock);
  BOOST_TEST(done);
  BOOST_TEST(scheduled == 2);
}

COIL_TEST_CASE(removingLastTaskStopsScheduledCall) {
  // test_removingLastTaskStopsScheduledCall
  Clock clock;
  Cooperator c(clock);
  std::string log;
  auto task1 = c.cooperate(appender("12", log));
  auto task2 = c.cooperate(appender("12", log));
  BOOST_REQUIRE(clock.getDelayedCalls().size() == 1u);
  auto call = clock.getDelayedCalls()[0];
  task1.stop();
  BOOST_TEST(call->active());
  task2.stop();
  BOOST_TEST(!call->active());
  BOOST_TEST(clock.getDelayedCalls().empty());
  c.cooperate(appender("12", log));
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
}

COIL_TEST_CASE(runningStates) {
  // test_runningWhenStarted / WhenNotStarted / WhenRunning / WhenStopped
  Clock clock;
  Cooperator started(clock);
  BOOST_TEST(started.running());
  Cooperator c(clock, {}, {}, false);
  BOOST_TEST(!c.running());
  c.start();
  BOOST_TEST(c.running());
  c.stop();
  BOOST_TEST(!c.running());
}

COIL_TEST_CASE(notStartedQueuesUntilStart) {
  Clock clock;
  Cooperator c(clock, {}, {}, false);
  std::string log;
  auto out = watch(c.coiterate(appender("ab", log)));
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(1);
  BOOST_TEST(log.empty());
  c.start();
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  pump(clock);
  BOOST_TEST(log == "ab");
  BOOST_TEST(out->fired);
  BOOST_TEST(!out->failure);
}

COIL_TEST_CASE(startAfterStopAcceptsTasks) {
  Clock clock;
  Cooperator c(clock);
  c.stop();
  c.start();
  BOOST_TEST(c.running());
  std::string log;
  auto out = watch(c.coiterate(appender("x", log)));
  pump(clock);
  BOOST_TEST(log == "x");
  BOOST_TEST((out->fired && !out->failure));
}

COIL_TEST_CASE(destroyingTheCooperatorStopsItsTasks) {
  Clock clock;
  std::string log;
  std::shared_ptr<Outcome> running;
  std::shared_ptr<Outcome> paused;
  Deferred<void> gate;
  {
    Cooperator c(clock, oneStepPerTick());
    running = watch(c.coiterate(appender("abc", log)));
    int calls = 0;
    paused = watch(c.coiterate([&, calls]() mutable -> Step {
      if (calls++ == 0) return gate;
      return {};
    }));
    c.cooperate([]() -> Step { return {}; });  // an endless task, forgotten by the caller
    pump(clock);
    pump(clock);
    pump(clock);
    BOOST_TEST(log == "a");
  }
  BOOST_REQUIRE(running->failure);
  BOOST_TEST(isA<task::SchedulerStopped>(*running->failure));
  BOOST_TEST(clock.getDelayedCalls().empty());
  BOOST_TEST(!paused->fired);
  gate.callback();  // the paused task resumes into a dead cooperator
  BOOST_REQUIRE(paused->failure);
  BOOST_TEST(isA<task::SchedulerStopped>(*paused->failure));
}

COIL_TEST_CASE(finishedTaskReleasesItsIterator) {
  // Once a task ends, its iterator (and what it captured) is released, even while handles live.
  Clock clock;
  Cooperator c(clock);
  auto stoppedToken = std::make_shared<int>(0);
  std::weak_ptr<int> stoppedWeak = stoppedToken;
  auto stopped = c.cooperate([token = std::move(stoppedToken)] { return Step(); });
  auto doneToken = std::make_shared<int>(0);
  std::weak_ptr<int> doneWeak = doneToken;
  auto done = c.cooperate([token = std::move(doneToken)] { return Step::done(); });
  BOOST_TEST(!stoppedWeak.expired());
  stopped.stop();
  BOOST_TEST(stoppedWeak.expired());
  pump(clock);
  BOOST_TEST(doneWeak.expired());
}

COIL_TEST_CASE(generatorCoroutine) {
  // task::Generator: co_yield {} is one unit, co_yield d waits on d, co_return finishes.
  Clock clock;
  Cooperator c(clock, oneStepPerTick());
  std::vector<std::string> log;
  auto gen = [&]() -> task::Generator {
    log.push_back("first");
    co_yield {};
    log.push_back("second");
    co_yield task::deferLater(clock, 5);
    log.push_back("after wait");
  };
  auto out = watch(c.coiterate(gen()));
  BOOST_TEST(log.empty());  // lazy, like a Python generator
  pump(clock);
  BOOST_TEST(log == std::vector<std::string>{"first"});
  pump(clock);
  BOOST_TEST(log.size() == 2u);
  pump(clock);
  BOOST_TEST(log.size() == 2u);  // waiting on the Deferred
  clock.advance(5);
  pump(clock);
  BOOST_TEST(log.back() == "after wait");
  BOOST_TEST(out->fired);
  BOOST_TEST(!out->failure);
}

COIL_TEST_CASE(generatorException) {
  Clock clock;
  Cooperator c(clock);
  auto gen = []() -> task::Generator {
    co_yield {};
    throw UnhandledException();
  };
  auto out = watch(c.coiterate(gen()));
  pump(clock);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<UnhandledException>(*out->failure));
}

COIL_TEST_CASE(yieldedDeferredValueIsConsumed) {
  // The task adds its callbacks to the yielded Deferred; its value is consumed (Twisted: None).
  Clock clock;
  Cooperator c(clock);
  Deferred<int> d;
  int calls = 0;
  c.coiterate([&]() -> Step { return calls++ == 0 ? Step(d) : Step::done(); });
  pump(clock);
  d.callback(7);
  BOOST_CHECK_THROW(d.addCallback([](int) {}), coil::DeferredTypeError);
  pump(clock);
  BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(RunStateTests)

COIL_TEST_CASE(pauseResume) {
  // test_pauseResume
  RunState s;
  s.pump();
  BOOST_TEST(s.ints() == std::vector<int>{1});
  s.pump();
  BOOST_TEST(s.ints() == (std::vector<int>{1, 2}));
  s.task.pause();
  s.pump();
  BOOST_TEST(s.ints() == (std::vector<int>{1, 2}));
  s.task.resume();
  BOOST_TEST(s.ints() == (std::vector<int>{1, 2}));  // resuming does no work by itself
  s.pump();
  BOOST_TEST(s.ints() == (std::vector<int>{1, 2, 3}));
}

COIL_TEST_CASE(resumeNotPaused) {
  // test_resumeNotPaused
  RunState s;
  BOOST_CHECK_THROW(s.task.resume(), task::NotPaused);
  s.task.pause();
  s.task.resume();
  BOOST_CHECK_THROW(s.task.resume(), task::NotPaused);
}

COIL_TEST_CASE(pauseTwice) {
  // test_pauseTwice: pauses nest.
  RunState s;
  s.task.pause();
  s.pump();
  BOOST_TEST(s.work.empty());
  s.task.pause();
  s.pump();
  BOOST_TEST(s.work.empty());
  s.task.resume();
  s.pump();
  BOOST_TEST(s.work.empty());
  s.task.resume();
  s.pump();
  BOOST_TEST(s.ints() == std::vector<int>{1});
}

COIL_TEST_CASE(pauseWhileDeferred) {
  // test_pauseWhileDeferred: both the Deferred and resume() are needed to continue.
  RunState s;
  s.doDeferNext = true;
  s.pump();
  BOOST_REQUIRE(s.work.size() == 1u);
  BOOST_TEST(std::holds_alternative<Deferred<void>>(s.work[0]));
  s.pump();
  BOOST_TEST(s.work.size() == 1u);
  s.task.pause();
  s.pump();
  BOOST_TEST(s.work.size() == 1u);
  s.task.resume();
  s.pump();
  BOOST_TEST(s.work.size() == 1u);
  std::get<Deferred<void>>(s.work[0]).callback();
  s.pump();
  BOOST_REQUIRE(s.work.size() == 2u);
  BOOST_TEST(std::get<int>(s.work[1]) == 2);
}

COIL_TEST_CASE(whenDone) {
  // test_whenDone: each whenDone() is a separate Deferred fired with the task.
  RunState s;
  auto d1 = s.task.whenDone();
  auto d2 = s.task.whenDone();
  BOOST_TEST(!(d1 == d2));
  std::vector<CooperativeTask> results1;
  std::vector<CooperativeTask> results2;
  std::vector<int> final1;
  std::vector<int> final2;
  d1.addCallback([&](CooperativeTask t) {
      results1.push_back(t);
      return 1;
    }).addCallback([&](int v) { final1.push_back(v); });
  d2.addCallback([&](CooperativeTask t) {
      results2.push_back(t);
      return 2;
    }).addCallback([&](int v) { final2.push_back(v); });
  s.doStopNext = true;
  s.pump();
  BOOST_REQUIRE(results1.size() == 1u);
  BOOST_REQUIRE(results2.size() == 1u);
  BOOST_TEST((results1[0] == s.task));
  BOOST_TEST((results2[0] == s.task));
  BOOST_TEST(final1 == std::vector<int>{1});
  BOOST_TEST(final2 == std::vector<int>{2});
}

COIL_TEST_CASE(whenDoneError) {
  // test_whenDoneError
  RunState s;
  auto out = watch(s.task.whenDone());
  s.doDieNext = true;
  s.pump();
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<UnhandledException>(*out->failure));
}

COIL_TEST_CASE(whenDoneStop) {
  // test_whenDoneStop
  RunState s;
  auto out = watch(s.task.whenDone());
  s.task.stop();
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<task::TaskStopped>(*out->failure));
}

COIL_TEST_CASE(whenDoneAlreadyDone) {
  // test_whenDoneAlreadyDone
  RunState s;
  s.doStopNext = true;
  s.pump();
  auto out = watch(s.task.whenDone());
  BOOST_TEST(out->fired);
  BOOST_TEST((out->task == s.task));
}

COIL_TEST_CASE(whenDoneAfterFailureFails) {
  RunState s;
  s.doDieNext = true;
  s.pump();
  auto out = watch(s.task.whenDone());
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<UnhandledException>(*out->failure));
}

COIL_TEST_CASE(stopStops) {
  // test_stopStops
  RunState s;
  s.task.stop();
  s.pump();
  BOOST_TEST(s.work.empty());
  BOOST_CHECK_THROW(s.task.stop(), task::TaskStopped);
  BOOST_CHECK_THROW(s.task.pause(), task::TaskStopped);
  s.pump();
  BOOST_TEST(s.work.empty());
  BOOST_TEST(s.clock.getDelayedCalls().empty());
}

COIL_TEST_CASE(pauseStopResume) {
  // test_pauseStopResume: resuming a paused, stopped task is a no-op.
  RunState s;
  s.task.pause();
  s.task.stop();
  s.task.resume();
  s.pump();
  BOOST_TEST(s.work.empty());
  BOOST_CHECK_THROW(s.task.resume(), task::NotPaused);
}

COIL_TEST_CASE(stopDeferred) {
  // test_stopDeferred: a task stopped while waiting is not resumed when the Deferred fires,
  // and the Deferred's result is consumed.
  RunState s;
  s.doDeferNext = true;
  s.pump();
  auto d = std::get<Deferred<void>>(s.work.back());
  s.work.pop_back();
  std::vector<bool> results;
  d.addBoth([&](Result<void> r) { results.push_back(r.ok()); });
  s.pump();
  s.task.stop();
  s.pump();
  d.callback();
  s.pump();
  BOOST_TEST(results == std::vector<bool>{true});
  BOOST_TEST(s.work.empty());
}

COIL_TEST_CASE(stopDeferredThenFailureIsLeftUnhandled) {
  // A Deferred that fails after its task was stopped keeps its failure (logged if unhandled).
  coil::test::LogCapture logs;
  {
    RunState s;
    s.doDeferNext = true;
    s.pump();
    auto d = std::get<Deferred<void>>(s.work.back());
    s.work.clear();
    s.task.stop();
    d.errback(UnhandledException());
  }
  BOOST_TEST(logs.count("Unhandled error in Deferred") == 1u);
}

COIL_TEST_CASE(stopExhausted) {
  // test_stopExhausted
  RunState s;
  s.doStopNext = true;
  s.pump();
  BOOST_CHECK_THROW(s.task.stop(), task::TaskDone);
  BOOST_CHECK_THROW(s.task.pause(), task::TaskDone);
}

COIL_TEST_CASE(stopErrored) {
  // test_stopErrored
  RunState s;
  s.doDieNext = true;
  s.pump();
  BOOST_CHECK_THROW(s.task.stop(), task::TaskFailed);
  BOOST_CHECK_THROW(s.task.pause(), task::TaskFinished);
}

COIL_TEST_CASE(stopCooperatorReentrancy) {
  // test_stopCooperatorReentrancy: a whenDone callback may stop the cooperator.
  RunState s;
  std::vector<std::string> phases;
  s.task.whenDone().addCallback([&](CooperativeTask t) {
    phases.push_back(t == s.task ? "task" : "other");
    s.cooperator.stop();
    phases.push_back("done");
  });
  s.doStopNext = true;
  s.pump();
  BOOST_TEST(phases == (std::vector<std::string>{"task", "done"}));
}

COIL_TEST_CASE(pauseAfterSchedulerStopped) {
  RunState s;
  s.cooperator.stop();
  BOOST_CHECK_THROW(s.task.pause(), task::SchedulerStopped);
  auto out = watch(s.task.whenDone());
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<task::SchedulerStopped>(*out->failure));
}

COIL_TEST_CASE(stopTaskFromInsideItsIterator) {
  Clock clock;
  Cooperator c(clock);
  std::optional<CooperativeTask> self;
  int calls = 0;
  self = c.cooperate([&]() -> Step {
    ++calls;
    self->stop();
    return {};
  });
  auto out = watch(self->whenDone());
  pump(clock);
  pump(clock);
  BOOST_TEST(calls == 1);
  BOOST_REQUIRE(out->failure);
  BOOST_TEST(isA<task::TaskStopped>(*out->failure));
}

BOOST_AUTO_TEST_SUITE_END()
