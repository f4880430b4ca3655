// LibevTimers: the timers workload on libev (ev_timer per timer, ev_timer_stop to cancel).
#include "TimerPeers.hpp"

#include <ev.h>

#include <memory>

namespace coil::bench::timers {

namespace {

struct State {
  struct ev_loop* loop = nullptr;
  std::uint64_t fired = 0;
  std::uint64_t target = 0;
  bool instrument = false;
  Lateness* late = nullptr;
};

State* gState = nullptr;

const char* backendName(unsigned backend) {
  switch (backend) {
    case EVBACKEND_EPOLL:
      return "epoll";
    case EVBACKEND_POLL:
      return "poll";
    case EVBACKEND_SELECT:
      return "select";
    case EVBACKEND_LINUXAIO:
      return "linuxaio";
    case EVBACKEND_IOURING:
      return "io_uring";
    default:
      return "other";
  }
}

void onTimer(struct ev_loop* loop, ev_timer* w, int) {
  State& s = *gState;
  if (s.instrument) {
    // libev's own view: a fired (stopped) timer's remaining time is its due time minus the loop's
    // monotonic now when it was found due, i.e. minus the lateness (dueOwn is 0 for libev).
    s.late->fired(reinterpret_cast<std::uintptr_t>(w->data),
                  -static_cast<double>(ev_timer_remaining(loop, w)));
  }
  if (++s.fired == s.target) ev_break(loop, EVBREAK_ALL);
}

}  // namespace

Run runLibev(const std::vector<double>& delays, bool instrument) {
  Run run;
  const std::size_t n = delays.size();
  State s;
  s.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
  if (!s.loop) {
    run.error = "ev_loop_new failed";
    return run;
  }
  run.backend = backendName(ev_backend(s.loop));
  s.target = expectedFires(n);
  s.instrument = instrument;
  s.late = &run.late;
  if (instrument) run.late.prepare(n);
  gState = &s;

  const Span span;
  std::unique_ptr<ev_timer[]> timers(new ev_timer[n]);
  for (std::size_t i = 0; i < n; ++i) {
    const double scheduledAt = instrument ? steadySeconds() : 0.0;  // read first
    ev_timer* t = &timers[i];
    ev_timer_init(t, onTimer, delays[i], 0.);
    t->data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(i));
    ev_timer_start(s.loop, t);
    if (instrument) run.late.due(i, 0.0, scheduledAt, delays[i]);  // see onTimer()
  }
  for (std::size_t i = 1; i < n; i += 2) ev_timer_stop(s.loop, &timers[i]);
  if (instrument) run.late.loopStart = steadySeconds();
  if (s.target > 0) ev_run(s.loop, 0);
  span.finish(run);
  run.fired = s.fired;

  gState = nullptr;
  ev_loop_destroy(s.loop);
  return run;
}

}  // namespace coil::bench::timers
