#pragma once
/// @file Log: coil's logging — levels, a stderr observer by default, pluggable observers
/// (Twisted's log observers).

#include <coil/core/Failure.hpp>

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

namespace coil::log {

/// Severity of a log event, lowest first.
enum class Level { debug, info, warn, error, critical };

/// The lowercase name of a level ("warn").
std::string_view levelName(Level level) noexcept;

/// Writes levelName(level).
std::ostream& operator<<(std::ostream& out, Level level);

/// One log event as observers see it. Views are valid only during the observer call.
struct Event {
  /// Severity.
  Level level;
  /// The emitting subsystem ("coil.deferred").
  std::string_view system;
  /// The text.
  std::string_view message;
  /// The failure being reported, if any.
  const Failure* failure;
};

/// Receives every event at or above the minimum level. Must not throw.
using Observer = std::function<void(const Event&)>;

/// Adds an observer; returns its id for removeObserver(). Thread: any.
std::size_t addObserver(Observer observer);

/// Removes an observer added by addObserver(); unknown ids are ignored. Thread: any.
void removeObserver(std::size_t id);

/// Turns the built-in stderr observer on or off (on by default). Thread: any.
void setStderr(bool enabled);

/// Sets the minimum level delivered to observers (default: info). Thread: any.
void setMinimumLevel(Level level);

/// Emits one event. Thread: any.
void emit(Level level, std::string_view system, std::string_view message,
          const Failure* failure = nullptr);

/// Emits at debug level. Thread: any.
inline void debug(std::string_view system, std::string_view message) {
  emit(Level::debug, system, message);
}
/// Emits at info level. Thread: any.
inline void info(std::string_view system, std::string_view message) {
  emit(Level::info, system, message);
}
/// Emits at warn level. Thread: any.
inline void warn(std::string_view system, std::string_view message) {
  emit(Level::warn, system, message);
}
/// Emits at error level. Thread: any.
inline void error(std::string_view system, std::string_view message) {
  emit(Level::error, system, message);
}

/// Logs a failure at error level as "why\n<Type>: <message>" (Twisted's log.failure). Thread: any.
void failure(std::string_view why, const Failure& f, std::string_view system = "coil");

/// Logs the exception being handled (call inside a catch block). Thread: any.
void currentException(std::string_view why, std::string_view system = "coil");

/// Calls `f()`; an exception escaping it is logged with currentException(why, system) and
/// swallowed, so the caller's loop goes on (the dispatch-boundary rule). Thread: any.
template <class F>
void callLogged(std::string_view why, std::string_view system, F&& f) {
  try {
    std::forward<F>(f)();
  } catch (...) {
    currentException(why, system);
  }
}

}  // namespace coil::log
