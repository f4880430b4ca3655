#pragma once
/// @file Testing: helpers shared by coil's Boost.Test suites.

#include <coil/core/Log.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

/// Seconds a single test case may take before Boost.Test fails it.
#ifndef COIL_TEST_TIMEOUT
#define COIL_TEST_TIMEOUT 20
#endif

/// A Boost.Test case with coil's per-case timeout.
#define COIL_TEST_CASE(name) \
  BOOST_AUTO_TEST_CASE(name, *boost::unit_test::timeout(COIL_TEST_TIMEOUT))

namespace coil::test {

/// Captures log events (and silences stderr) for its lifetime.
class LogCapture {
 public:
  /// One captured event.
  struct Entry {
    /// Severity.
    log::Level level;
    /// Subsystem.
    std::string system;
    /// Text.
    std::string message;
    /// Failure's "Type: message", empty when none.
    std::string failure;
  };

  /// Starts capturing.
  LogCapture() {
    log::setStderr(false);
    id_ = log::addObserver([this](const log::Event& e) {
      entries.push_back({e.level, std::string(e.system), std::string(e.message),
                         e.failure ? e.failure->describe() : std::string()});
    });
  }
  /// Stops capturing.
  ~LogCapture() {
    log::removeObserver(id_);
    log::setStderr(true);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// Number of captured events whose message or failure contains `text`.
  std::size_t count(const std::string& text) const {
    std::size_t n = 0;
    for (const auto& e : entries)
      if (e.message.find(text) != std::string::npos || e.failure.find(text) != std::string::npos)
        ++n;
    return n;
  }

  /// Everything captured, oldest first.
  std::vector<Entry> entries;

 private:
  std::size_t id_ = 0;
};

}  // namespace coil::test
