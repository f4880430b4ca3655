#pragma once
/// @file TestReactor: the reactor that reactor behaviour tests run on, and their fixture.
///
/// Tests written against makeTestReactor() use only the ReactorBase / IReactor* API, so the same
/// cases run on every backend: makeTestReactor() returns the backend named by COIL_REACTOR (CTest
/// registers reactor suites once per backend), else the default one.

#include <coil/core/ReactorBase.hpp>

#include <coil/plugins/Reactors.hpp>
#include <test/support/NullReactor.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace coil::test {

/// A new reactor for one test, on the backend COIL_REACTOR names (built-in or plugin).
/// Thread: the test's.
inline std::unique_ptr<ReactorBase> makeTestReactor() {
  return coil::makeReactor(defaultReactorName());
}

/// Adapts a void function to a SystemEventTrigger (one that returns no Deferred).
inline SystemEventTrigger trigger(std::function<void()> f) {
  return [f = std::move(f)]() -> std::optional<Deferred<void>> {
    f();
    return std::nullopt;
  };
}

/// Runs `reactor` (without signal handlers) until it stops, failing the test — and stopping it
/// — if that takes more than `timeout` seconds (Twisted's ReactorBuilder.runReactor). The
/// watchdog call is cancelled afterwards, so it never counts as a leftover.
inline void runReactor(ReactorBase& reactor, double timeout = 10.0) {
  bool timedOut = false;
  DelayedCallPtr watchdog = reactor.callLater(timeout, [&reactor, &timedOut] {
    timedOut = true;
    reactor.crash();
  });
  reactor.run(false);
  if (watchdog->active()) watchdog->cancel();
  BOOST_CHECK_MESSAGE(!timedOut, "the reactor did not stop within the test's timeout");
}

/// Fixture: a fresh reactor; teardown fails the test on leftover delayed calls, readers or
/// writers (then clears them, so one failure does not cascade).
struct ReactorTest {
  /// The reactor under test.
  std::unique_ptr<ReactorBase> reactor = makeTestReactor();

  ReactorTest() = default;
  ~ReactorTest() {
    auto calls = reactor->getDelayedCalls();
    BOOST_CHECK_MESSAGE(calls.empty(), calls.size() << " delayed call(s) left pending");
    BOOST_CHECK_MESSAGE(reactor->getReaders().empty(), "readers left registered");
    BOOST_CHECK_MESSAGE(reactor->getWriters().empty(), "writers left registered");
    for (auto& call : calls)
      if (call->active()) call->cancel();
    reactor->removeAll();
  }
  ReactorTest(const ReactorTest&) = delete;
  ReactorTest& operator=(const ReactorTest&) = delete;
};

}  // namespace coil::test
