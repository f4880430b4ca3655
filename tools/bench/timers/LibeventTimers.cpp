// LibeventTimers: the timers workload on libevent (evtimer per timer, event_del to cancel).
#include "TimerPeers.hpp"

#include <event2/event.h>
#include <event2/event_struct.h>

#include <memory>

namespace coil::bench::timers {

namespace {

struct State {
  event_base* base = nullptr;
  std::uint64_t fired = 0;
  std::uint64_t target = 0;
  bool instrument = false;
  Lateness* late = nullptr;
};

double toSeconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
}

timeval toTimeval(double seconds) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  return tv;
}

void onTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<std::pair<State*, std::size_t>*>(arg);
  State& s = *self->first;
  if (s.instrument) {
    timeval now{};
    event_gettime_monotonic(s.base, &now);
    s.late->fired(self->second, toSeconds(now));
  }
  if (++s.fired == s.target) event_base_loopbreak(s.base);
}

// An event and what its callback needs; event_assign() into an array, as bench.c does.
struct Slot {
  event ev;
  std::pair<State*, std::size_t> arg;
};

}  // namespace

Run runLibevent(const std::vector<double>& delays, bool instrument) {
  Run run;
  const std::size_t n = delays.size();
  State s;
  s.base = event_base_new();
  if (!s.base) {
    run.error = "event_base_new failed";
    return run;
  }
  run.backend = event_base_get_method(s.base);
  s.target = expectedFires(n);
  s.instrument = instrument;
  s.late = &run.late;
  if (instrument) run.late.prepare(n);

  const Span span;
  std::unique_ptr<Slot[]> slots(new Slot[n]);
  for (std::size_t i = 0; i < n; ++i) {
    const double scheduledAt = instrument ? steadySeconds() : 0.0;  // read first
    Slot& slot = slots[i];
    slot.arg = {&s, i};
    evtimer_assign(&slot.ev, s.base, onTimer, &slot.arg);
    timeval tv = toTimeval(delays[i]);
    evtimer_add(&slot.ev, &tv);
    // ev_timeout: the absolute due time in libevent's own monotonic clock.
    if (instrument) run.late.due(i, toSeconds(slot.ev.ev_timeout), scheduledAt, delays[i]);
  }
  for (std::size_t i = 1; i < n; i += 2) evtimer_del(&slots[i].ev);
  if (instrument) run.late.loopStart = steadySeconds();
  if (s.target > 0) event_base_dispatch(s.base);
  span.finish(run);
  run.fired = s.fired;

  for (std::size_t i = 0; i < n; ++i) event_del(&slots[i].ev);
  event_base_free(s.base);
  return run;
}

}  // namespace coil::bench::timers
