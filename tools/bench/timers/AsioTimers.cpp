// AsioTimers: the timers workload on Boost.Asio (one steady_timer per timer, cancel()).
#include "TimerPeers.hpp"

#include <chrono>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace coil::bench::timers {

namespace {

double toSeconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

Run runAsio(const std::vector<double>& delays, bool instrument) {
  namespace asio = boost::asio;
  Run run;
  const std::size_t n = delays.size();
  asio::io_context io(1);
  run.backend = "epoll";  // Asio's Linux reactor (timers through a timerfd)
  const std::uint64_t target = expectedFires(n);
  std::uint64_t fired = 0;
  if (instrument) run.late.prepare(n);

  const Span span;
  std::vector<asio::steady_timer> timers;
  timers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double scheduledAt = instrument ? steadySeconds() : 0.0;  // read first
    const auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(delays[i]));
    asio::steady_timer& t = timers.emplace_back(io, delay);
    t.async_wait([&io, &run, &fired, target, instrument, i](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled
      if (instrument) run.late.fired(i, toSeconds(std::chrono::steady_clock::now()));
      if (++fired == target) io.stop();
    });
    if (instrument) run.late.due(i, toSeconds(t.expiry()), scheduledAt, delays[i]);
  }
  for (std::size_t i = 1; i < n; i += 2) timers[i].cancel();
  if (instrument) run.late.loopStart = steadySeconds();
  if (target > 0) io.run();
  span.finish(run);
  run.fired = fired;
  return run;
}

}  // namespace coil::bench::timers
