// Clock: simulated time for tests, running due calls from a detail::TimerQueue on advance().
// Tests: test/core/task/ClockTest.cpp
#include <coil/core/task/Clock.hpp>

#include <coil/core/Log.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace coil::task {

Clock::Clock() : queue_([this] { return now_; }) {}

Clock::~Clock() = default;

DelayedCallPtr Clock::callLater(double delay, DelayedFunction f) {
  detail::checkDelay("Clock.callLater", delay);
  if (!f) throw std::invalid_argument("Clock.callLater: an empty function");
  return queue_.schedule(now_ + delay, std::move(f));
}

std::vector<DelayedCallPtr> Clock::getDelayedCalls() const {
  return queue_.pending();
}

void Clock::advance(double amount) {
  detail::checkSeconds("Clock.advance", "amount", amount);
  now_ += amount;
  while (auto due = queue_.popDue(now_)) {
    try {
      due.run();
    } catch (...) {
      log::currentException("Unhandled error in a delayed call", "coil.task");
    }
  }
}

void Clock::pump(const std::vector<double>& timings) {
  for (double amount : timings) advance(amount);
}

}  // namespace coil::task
