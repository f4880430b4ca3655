#pragma once
/// @file React: run a reactor around one asynchronous main function (Twisted's task.react).

#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/ReactorBase.hpp>

#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

namespace coil {

namespace detail {

/// react()'s body once main has been called: runs `reactor` until `finished` has fired and
/// returns the exit code. Defined in React.cpp.
int reactUntil(ReactorBase& reactor, Deferred<void> finished);

}  // namespace detail

namespace task {

/// Ends react() with an exit code (Twisted's SystemExit raised from main). Fail main's Deferred
/// with it — or throw it from a coroutine — to make react() return `code`.
class SystemExit : public Error {
 public:
  /// An exit with `code` (0: success).
  explicit SystemExit(int code = 0)
      : Error("Request to exit", "exit code " + std::to_string(code), {}), code(code) {}
  /// The exit code react() returns.
  int code;
};

/// Calls `main(reactor)` before the reactor runs (it may return a Deferred of anything, e.g. be
/// a coroutine, or a plain value; a synchronous throw counts as a failure), runs the reactor
/// with signal handlers, stops it once main's Deferred fires (through callWhenRunning; not if
/// shutdown has already begun), and returns the exit code once run() returns: 0 if main
/// succeeded (its value is ignored, as in Twisted), the code of a task::SystemExit it failed
/// with, otherwise 1 after logging the failure ("main function encountered error", system
/// "coil.task"). Unlike Twisted's react it returns the code instead of exiting, so it can be
/// tested and composed; reactAndExit() exits. Errors from run() itself (ReactorNotRestartable)
/// propagate. Thread: reactor (the thread that will run it).
template <class Main>
int react(ReactorBase& reactor, Main&& main) {
  auto finished = maybeDeferred(std::forward<Main>(main), reactor);
  using T = typename decltype(finished)::value_type;
  if constexpr (std::is_void_v<T>) {
    return detail::reactUntil(reactor, std::move(finished));
  } else {
    return detail::reactUntil(reactor, finished.addCallback([](T&&) {}));
  }
}

/// react(), then std::exit() with its code (Twisted's behaviour: sys.exit). Thread: reactor.
template <class Main>
[[noreturn]] void reactAndExit(ReactorBase& reactor, Main&& main) {
  std::exit(react(reactor, std::forward<Main>(main)));
}

}  // namespace task

}  // namespace coil
