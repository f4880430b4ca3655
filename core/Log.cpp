// Log: the global observer list and the stderr observer.
// Tests: test/core/LogTest.cpp
#include <coil/core/Log.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <ostream>
#include <utility>
#include <vector>

namespace coil::log {

namespace {

struct Registry {
  std::recursive_mutex mutex;
  std::vector<std::pair<std::size_t, Observer>> observers;
  std::size_t nextId = 1;
  std::atomic<bool> toStderr{true};
  std::atomic<int> minimum{static_cast<int>(Level::info)};
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: logging works during static teardown
  return *r;
}

void writeStderr(const Event& e) {
  std::string line = "[";
  line += e.system;
  line += "] ";
  line += levelName(e.level);
  line += ": ";
  line += e.message;
  if (e.failure) {
    line += "\n  ";
    line += e.failure->describe();
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string_view levelName(Level level) noexcept {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
    case Level::critical:
      return "critical";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& out, Level level) {
  return out << levelName(level);
}

std::size_t addObserver(Observer observer) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::size_t id = r.nextId++;
  r.observers.emplace_back(id, std::move(observer));
  return id;
}

void removeObserver(std::size_t id) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::erase_if(r.observers, [id](const auto& entry) { return entry.first == id; });
}

void setStderr(bool enabled) {
  registry().toStderr = enabled;
}

void setMinimumLevel(Level level) {
  registry().minimum = static_cast<int>(level);
}

void emit(Level level, std::string_view system, std::string_view message, const Failure* failure) {
  Registry& r = registry();
  if (static_cast<int>(level) < r.minimum.load(std::memory_order_relaxed)) return;
  Event event{level, system, message, failure};
  if (r.toStderr.load(std::memory_order_relaxed)) writeStderr(event);
  std::lock_guard lock(r.mutex);
  // Observers may add or remove observers; iterate over a snapshot.
  auto snapshot = r.observers;
  for (auto& [id, observer] : snapshot) {
    try {
      observer(event);
    } catch (...) {
      // An observer that throws must not take logging down with it.
    }
  }
}

void failure(std::string_view why, const Failure& f, std::string_view system) {
  emit(Level::error, system, why, &f);
}

void currentException(std::string_view why, std::string_view system) {
  Failure f = Failure::current();
  failure(why, f, system);
}

}  // namespace coil::log
