#pragma once
/// @file TimerPeers: the timers benchmark's workload, clocks and per-run result, shared by coil's
/// runner (TimersBench.cpp) and each peer's (Libev/Libevent/Libuv/AsioTimers.cpp).
///
/// Every runner does the same: schedule one timer per entry of `delays` (seconds from now),
/// cancel every timer with an odd index, and run its loop until all the others have fired. The
/// CPU time of the whole run (storage, scheduling, cancelling and the loop) is measured by the
/// runner; in an instrumented run each firing also records its lateness.

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace coil::bench::timers {

/// CPU nanoseconds used by this process so far (all threads).
inline std::uint64_t cpuNs() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

/// Seconds of CLOCK_MONOTONIC (std::chrono::steady_clock on Linux): the common "real" clock.
inline double steadySeconds() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// True for the timers that are cancelled (every second one).
inline bool cancelled(std::size_t i) noexcept {
  return (i & 1u) != 0;
}

/// Number of timers that must fire for `n` scheduled.
inline std::size_t expectedFires(std::size_t n) noexcept {
  return n - n / 2;
}

/// Lateness bookkeeping of an instrumented run: due times are recorded when scheduling, the
/// lateness (now - due, seconds) when firing. Empty (and unused) in a timing run.
struct Lateness {
  /// Makes room for `n` timers (outside the timed region of a timing run it is never called).
  void prepare(std::size_t n) {
    dueOwn.assign(n, 0.0);
    dueReal.assign(n, 0.0);
    own.reserve(n);
    real.reserve(n);
    index.reserve(n);
  }
  /// Due time of timer i in the library's own clock, and on the steady clock.
  std::vector<double> dueOwn, dueReal;
  /// Lateness of each firing, in the library's own clock and on the steady clock.
  std::vector<double> own, real;
  /// The timer of each firing.
  std::vector<std::size_t> index;
  /// Steady-clock time at which the loop started running (scheduling and cancelling done).
  double loopStart = 0.0;
  /// Records timer i's due time: `own` in the library's clock, `scheduledAt + delay` on the
  /// steady clock (`scheduledAt`: read just before scheduling it).
  void due(std::size_t i, double own, double scheduledAt, double delay) {
    dueOwn[i] = own;
    dueReal[i] = scheduledAt + delay;
  }
  /// Records a firing of timer i at `ownNow` (library clock, seconds).
  void fired(std::size_t i, double ownNow) {
    own.push_back(ownNow - dueOwn[i]);
    real.push_back(steadySeconds() - dueReal[i]);
    index.push_back(i);
  }
};

/// What one run of one library measured.
struct Run {
  /// CPU nanoseconds of the whole run (storage, schedule, cancel, loop until done).
  std::uint64_t cpuNs = 0;
  /// Wall nanoseconds of the same span.
  std::uint64_t wallNs = 0;
  /// Timers that fired (must be expectedFires(n)).
  std::uint64_t fired = 0;
  /// The library's I/O backend ("epoll"), for the report.
  std::string backend;
  /// Filled in an instrumented run only.
  Lateness late;
  /// Non-empty when the run failed.
  std::string error;
};

/// The span a runner measures: starts (CPU, then wall clock) when constructed, at the start of
/// the timed region; finish() stores both durations in the run.
struct Span {
  std::uint64_t cpu0 = cpuNs();
  double wall0 = steadySeconds();
  /// Ends the span: sets run.cpuNs and run.wallNs.
  void finish(Run& run) const {
    run.cpuNs = cpuNs() - cpu0;
    run.wallNs = static_cast<std::uint64_t>((steadySeconds() - wall0) * 1e9);
  }
};

/// A runner: runs the workload once; `instrument` records lateness (and costs extra CPU).
using Runner = Run (*)(const std::vector<double>& delays, bool instrument);

/// The delay in whole milliseconds, rounded up (libuv's timers take milliseconds).
inline std::uint64_t ceilMilliseconds(double seconds) noexcept {
  auto ms = static_cast<std::uint64_t>(seconds * 1000.0);
  if (static_cast<double>(ms) < seconds * 1000.0) ++ms;
  return ms;
}

#ifdef COIL_BENCH_HAVE_LIBEV
/// libev: one ev_timer per timer, ev_timer_stop to cancel, on ev_loop_new(EVFLAG_AUTO).
Run runLibev(const std::vector<double>& delays, bool instrument);
#endif
#ifdef COIL_BENCH_HAVE_LIBEVENT
/// libevent: one evtimer (event_assign into an array) per timer, event_del to cancel.
Run runLibevent(const std::vector<double>& delays, bool instrument);
#endif
#ifdef COIL_BENCH_HAVE_LIBUV
/// libuv: one uv_timer_t per timer (millisecond delays, rounded up), uv_timer_stop to cancel.
Run runLibuv(const std::vector<double>& delays, bool instrument);
#endif
#ifdef COIL_BENCH_HAVE_ASIO
/// Boost.Asio: one steady_timer per timer with async_wait, cancel() to cancel.
Run runAsio(const std::vector<double>& delays, bool instrument);
#endif

}  // namespace coil::bench::timers
