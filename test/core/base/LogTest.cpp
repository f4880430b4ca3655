// Tests for coil::log: levels, observers, stderr switch.
#include <coil/core/Log.hpp>

#include <test/support/Testing.hpp>

#include <stdexcept>

using coil::test::LogCapture;
namespace log = coil::log;

BOOST_AUTO_TEST_SUITE(Log)

COIL_TEST_CASE(observerReceivesEventsAtOrAboveMinimum) {
  LogCapture capture;
  log::info("coil.test", "hello");
  log::debug("coil.test", "hidden");
  BOOST_TEST(capture.count("hello") == 1u);
  BOOST_TEST(capture.count("hidden") == 0u);
  log::setMinimumLevel(log::Level::debug);
  log::debug("coil.test", "shown");
  log::setMinimumLevel(log::Level::info);
  BOOST_TEST(capture.count("shown") == 1u);
}

COIL_TEST_CASE(failureIsLoggedWithTypeAndMessage) {
  LogCapture capture;
  log::failure("while testing", coil::Failure(std::runtime_error("kaboom")), "coil.test");
  BOOST_REQUIRE_EQUAL(capture.entries.size(), 1u);
  BOOST_TEST(capture.entries[0].level == log::Level::error);
  BOOST_TEST(capture.entries[0].system == "coil.test");
  BOOST_TEST(capture.entries[0].failure == "std::runtime_error: kaboom");
}

COIL_TEST_CASE(removedObserverReceivesNothing) {
  int seen = 0;
  auto id = log::addObserver([&](const log::Event&) { ++seen; });
  log::setStderr(false);
  log::warn("coil.test", "one");
  log::removeObserver(id);
  log::warn("coil.test", "two");
  log::setStderr(true);
  BOOST_TEST(seen == 1);
}

COIL_TEST_CASE(throwingObserverDoesNotStopOthers) {
  LogCapture capture;
  auto id = log::addObserver([](const log::Event&) { throw std::runtime_error("observer"); });
  log::error("coil.test", "still delivered");
  log::removeObserver(id);
  BOOST_TEST(capture.count("still delivered") == 1u);
}

COIL_TEST_CASE(currentExceptionLogsTheHandledException) {
  LogCapture capture;
  try {
    throw std::logic_error("handled");
  } catch (...) {
    log::currentException("caught");
  }
  BOOST_REQUIRE_EQUAL(capture.entries.size(), 1u);
  BOOST_TEST(capture.entries[0].failure == "std::logic_error: handled");
}

BOOST_AUTO_TEST_SUITE_END()
