#pragma once
/// @file IReactorCore: running and stopping a reactor, and system event triggers.

#include <coil/core/Deferred.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace coil {

/// When a system event trigger runs, relative to the event (Twisted's "before"/"during"/"after").
enum class Phase { before, during, after };

/// Identifies a trigger for removeSystemEventTrigger(). Opaque.
struct TriggerId {
  /// Internal number; 0 is never issued.
  std::uint64_t value = 0;
  /// Identity.
  friend bool operator==(TriggerId, TriggerId) = default;
};

/// A trigger: returns nothing, or (before-phase) a Deferred that holds back the rest of the event
/// until it fires.
using SystemEventTrigger = std::function<std::optional<Deferred<void>>()>;

/// The reactor's life cycle (Twisted's IReactorCore). Thread: reactor unless stated.
class IReactorCore {
 public:
  virtual ~IReactorCore() = default;

  /// True from during-startup until during-shutdown.
  virtual bool running() const = 0;

  /// Fires "startup", runs the loop until stop() or crash(), and returns after "shutdown" has
  /// completed. Throws error::ReactorAlreadyRunning while running and error::ReactorNotRestartable
  /// after stop(). With installSignalHandlers, SIGINT and SIGTERM stop the reactor.
  virtual void run(bool installSignalHandlers = true) = 0;

  /// Asks the loop to fire "shutdown" at the end of the current pass. Throws
  /// error::ReactorNotRunning when not running (or when already stopping).
  virtual void stop() = 0;

  /// Leaves the loop at once without firing any trigger; run() may be called again.
  virtual void crash() = 0;

  /// One pass: run due calls, then wait at most `delay` seconds for I/O (0: do not block).
  virtual void iterate(double delay = 0) = 0;

  /// Runs `f` now if running (returns nullopt), else as an after-startup trigger (returns its id).
  virtual std::optional<TriggerId> callWhenRunning(std::function<void()> f) = 0;

  /// Adds a trigger for `event` ("startup", "shutdown", or any name) in `phase`.
  virtual TriggerId addSystemEventTrigger(Phase phase, std::string_view event,
                                          SystemEventTrigger f) = 0;

  /// Removes a trigger; an unknown or already-removed id throws std::invalid_argument.
  virtual void removeSystemEventTrigger(TriggerId id) = 0;

  /// Fires `event`: before-triggers (FIFO, including ones added meanwhile), then — once every
  /// Deferred they returned has fired, successfully or not — during- then after-triggers.
  /// Triggers are consumed. Exceptions are logged and the rest still run.
  virtual void fireSystemEvent(std::string_view event) = 0;
};

}  // namespace coil
