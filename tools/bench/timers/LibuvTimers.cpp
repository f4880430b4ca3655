// LibuvTimers: the timers workload on libuv (uv_timer_t per timer, uv_timer_stop to cancel).
#include "TimerPeers.hpp"

#include <uv.h>

#include <memory>

namespace coil::bench::timers {

namespace {

struct State {
  uv_loop_t* loop = nullptr;
  std::uint64_t fired = 0;
  std::uint64_t target = 0;
  bool instrument = false;
  Lateness* late = nullptr;
};

State* gState = nullptr;

void onTimer(uv_timer_t* t) {
  State& s = *gState;
  if (s.instrument) {
    // uv_now(): the loop's cached time in milliseconds, its own notion of now.
    s.late->fired(reinterpret_cast<std::uintptr_t>(t->data),
                  static_cast<double>(uv_now(s.loop)) * 1e-3);
  }
  if (++s.fired == s.target) uv_stop(s.loop);
}

}  // namespace

Run runLibuv(const std::vector<double>& delays, bool instrument) {
  Run run;
  const std::size_t n = delays.size();
  auto loop = std::make_unique<uv_loop_t>();
  if (uv_loop_init(loop.get()) != 0) {
    run.error = "uv_loop_init failed";
    return run;
  }
  run.backend = "epoll";  // libuv's only Linux poller (it does not name it)
  State s;
  s.loop = loop.get();
  s.target = expectedFires(n);
  s.instrument = instrument;
  s.late = &run.late;
  if (instrument) run.late.prepare(n);
  gState = &s;

  const Span span;
  std::unique_ptr<uv_timer_t[]> timers(new uv_timer_t[n]);
  for (std::size_t i = 0; i < n; ++i) {
    const double scheduledAt = instrument ? steadySeconds() : 0.0;  // read first
    uv_timer_t* t = &timers[i];
    uv_timer_init(s.loop, t);
    t->data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(i));
    const std::uint64_t ms = ceilMilliseconds(delays[i]);
    uv_timer_start(t, onTimer, ms, 0);
    if (instrument)
      run.late.due(i, static_cast<double>(uv_now(s.loop) + ms) * 1e-3, scheduledAt, delays[i]);
  }
  for (std::size_t i = 1; i < n; i += 2) uv_timer_stop(&timers[i]);
  if (instrument) run.late.loopStart = steadySeconds();
  if (s.target > 0) uv_run(s.loop, UV_RUN_DEFAULT);
  span.finish(run);
  run.fired = s.fired;

  gState = nullptr;
  // Teardown (not timed): every handle must be closed before the loop.
  for (std::size_t i = 0; i < n; ++i) uv_close(reinterpret_cast<uv_handle_t*>(&timers[i]), nullptr);
  uv_run(s.loop, UV_RUN_DEFAULT);
  uv_loop_close(s.loop);
  return run;
}

}  // namespace coil::bench::timers
