// React: task::react's body — run the reactor, stop it once main's Deferred fires, exit code.
// Tests: test/core/reactor/ReactTest.cpp
#include <coil/core/task/React.hpp>

#include <coil/core/Log.hpp>
#include <coil/core/Result.hpp>

#include <memory>
#include <optional>

namespace coil::detail {

namespace {

struct ReactState {
  int code = 0;
  bool stopping = false;  // "shutdown" has begun: do not stop again
  bool done = false;      // react() has returned: main's Deferred fired too late to matter
};

}  // namespace

int reactUntil(ReactorBase& reactor, Deferred<void> finished) {
  auto state = std::make_shared<ReactState>();
  reactor.addSystemEventTrigger(Phase::before, "shutdown",
                                [state]() -> std::optional<Deferred<void>> {
                                  state->stopping = true;
                                  return std::nullopt;
                                });
  auto stop = [&reactor, state](const Result<void>& result, bool stopReactor) {
    if (stopReactor) {
      try {
        reactor.stop();
      } catch (const error::ReactorNotRunning&) {
      }
    }
    if (result.ok()) return;
    if (const auto* exit = result.failure().value<task::SystemExit>()) {
      state->code = exit->code;
    } else {
      log::failure("main function encountered error", result.failure(), "coil.task");
      state->code = 1;
    }
  };
  finished.addBoth([&reactor, state, stop](Result<void> result) {
    if (state->done) return;
    if (state->stopping) {
      stop(result, false);
    } else {
      reactor.callWhenRunning([stop, result] { stop(result, true); });
    }
  });
  struct MarkDone {
    ReactState& state;
    ~MarkDone() { state.done = true; }
  } markDone{*state};  // also when run() throws
  reactor.run();
  return state->code;
}

}  // namespace coil::detail
