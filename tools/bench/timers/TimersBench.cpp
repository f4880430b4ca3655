// bench_timers: 1M timers at random delays, half cancelled — coil's reactor against libev,
// libevent, libuv and Boost.Asio. Prints JSON lines; --quick for a smoke run (CI never times it).
//
// Each run happens in a fresh child process (fork), so no library inherits another's heap.
// Per library: `rounds` timing runs (the least CPU is kept) and one instrumented run that
// records lateness = fire time - due time, in the library's own clock ("own": coil's seconds(),
// ev_now, libevent's monotonic clock, uv_now, steady_clock) and on CLOCK_MONOTONIC ("real",
// due = the clock when the timer was scheduled + its delay).
#include "TimerPeers.hpp"

#include <coil/core/DelayedCall.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <type_traits>

namespace coil::bench::timers {

namespace {

Run runCoil(const std::vector<double>& delays, bool instrument) {
  Run run;
  const std::size_t n = delays.size();
  std::unique_ptr<ReactorBase> reactor = makeReactor();
  run.backend = std::string(reactor->backendName());
  struct State {
    ReactorBase* reactor;
    std::uint64_t fired;
    std::uint64_t target;
    bool instrument;
    Lateness* late;
  } s{reactor.get(), 0, expectedFires(n), instrument, &run.late};
  if (instrument) run.late.prepare(n);

  const Span span;
  std::vector<DelayedCallPtr> toCancel;
  toCancel.reserve(n / 2);
  for (std::size_t i = 0; i < n; ++i) {
    const double scheduledAt = instrument ? steadySeconds() : 0.0;  // read first
    // Two words, trivially copyable: stored inline in the call (no allocation of its own).
    DelayedCallPtr call = reactor->callLater(delays[i], [state = &s, i] {
      if (state->instrument) state->late->fired(i, state->reactor->seconds());
      if (++state->fired == state->target) state->reactor->stop();
    });
    if (instrument) run.late.due(i, call->getTime(), scheduledAt, delays[i]);
    if (cancelled(i)) toCancel.push_back(std::move(call));
  }
  for (DelayedCallPtr& call : toCancel) call->cancel();
  if (instrument) run.late.loopStart = steadySeconds();
  if (s.target > 0) reactor->run(false);
  span.finish(run);
  run.fired = s.fired;
  return run;
}

// What a child sends back through its pipe.
struct Wire {
  std::uint64_t cpuNs = 0, wallNs = 0, fired = 0, early = 0, realEarly = 0;
  double p50 = 0, p99 = 0, max = 0, realP50 = 0, realP99 = 0;
  double settledP50 = 0, settledP99 = 0;  // own lateness of timers due after the loop started
  std::uint64_t settled = 0;
  bool instrumented = false;
  char backend[32] = {};
  char error[200] = {};
};
static_assert(std::is_trivially_copyable_v<Wire>);

// Copies `s` into a fixed buffer, made safe for a JSON string (quotes, backslashes, controls).
void copyString(char* out, std::size_t size, const std::string& s) {
  std::snprintf(out, size, "%s", s.c_str());
  for (char* c = out; *c; ++c)
    if (*c == '"' || *c == '\\' || static_cast<unsigned char>(*c) < 0x20) *c = '\'';
}

// The p-th percentile (0 < p <= 1) of `v` in microseconds (sorts v).
double percentileUs(std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  std::size_t k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  k = std::clamp<std::size_t>(k, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] * 1e6;
}

Wire summarize(Run& run, bool instrument) {
  Wire w;
  w.cpuNs = run.cpuNs;
  w.wallNs = run.wallNs;
  w.fired = run.fired;
  w.instrumented = instrument;
  copyString(w.backend, sizeof w.backend, run.backend);
  copyString(w.error, sizeof w.error, run.error);
  if (instrument) {
    for (double x : run.late.own) w.early += x < 0 ? 1 : 0;
    for (double x : run.late.real) w.realEarly += x < 0 ? 1 : 0;
    if (!run.late.own.empty())
      w.max = *std::max_element(run.late.own.begin(), run.late.own.end()) * 1e6;
    std::vector<double> settled;
    for (std::size_t k = 0; k < run.late.own.size(); ++k)
      if (run.late.dueReal[run.late.index[k]] >= run.late.loopStart)
        settled.push_back(run.late.own[k]);
    w.settled = settled.size();
    w.settledP50 = percentileUs(settled, 0.50);
    w.settledP99 = percentileUs(settled, 0.99);
    w.p50 = percentileUs(run.late.own, 0.50);
    w.p99 = percentileUs(run.late.own, 0.99);
    w.realP50 = percentileUs(run.late.real, 0.50);
    w.realP99 = percentileUs(run.late.real, 0.99);
  }
  return w;
}

// Runs `runner` in a child process and returns its summary.
Wire inChild(Runner runner, const std::vector<double>& delays, bool instrument) {
  Wire w;
  int fds[2];
  if (::pipe(fds) != 0) {
    copyString(w.error, sizeof w.error, std::string("pipe: ") + std::strerror(errno));
    return w;
  }
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Wire out;
    try {
      Run run = runner(delays, instrument);
      out = summarize(run, instrument);
    } catch (const std::exception& e) {
      copyString(out.error, sizeof out.error, e.what());
    }
    const char* p = reinterpret_cast<const char*>(&out);
    std::size_t left = sizeof out;
    while (left > 0) {
      ssize_t k = ::write(fds[1], p, left);
      if (k <= 0) break;
      p += k;
      left -= static_cast<std::size_t>(k);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    copyString(w.error, sizeof w.error, std::string("fork: ") + std::strerror(errno));
    return w;
  }
  char* p = reinterpret_cast<char*>(&w);
  std::size_t got = 0;
  while (got < sizeof w) {
    ssize_t k = ::read(fds[0], p + got, sizeof w - got);
    if (k <= 0) break;
    got += static_cast<std::size_t>(k);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got != sizeof w) {
    w = Wire{};
    copyString(w.error, sizeof w.error,
               "child died (status " + std::to_string(status) + ") before reporting");
  }
  return w;
}

// True when `name` is one of the comma-separated names in `list`.
bool listed(const char* list, const char* name) {
  const std::size_t length = std::strlen(name);
  for (const char* p = list; *p;) {
    const char* comma = std::strchr(p, ',');
    const std::size_t n = comma ? static_cast<std::size_t>(comma - p) : std::strlen(p);
    if (n == length && std::strncmp(p, name, n) == 0) return true;
    if (!comma) break;
    p = comma + 1;
  }
  return false;
}

struct Impl {
  const char* name;
  Runner runner;  // null: not built
  const char* missing;
  Wire best;      // least CPU of the timing runs
  Wire lateness;  // the instrumented run
  bool ran = false;
};

}  // namespace

}  // namespace coil::bench::timers

int main(int argc, char** argv) {
  using namespace coil::bench::timers;
  bool quick = false;
  bool lateness = true;        // --no-lateness: skip the instrumented runs (for profiling)
  const char* only = nullptr;  // --only NAME[,NAME...]: run these libraries (for profiling)
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--no-lateness") == 0) {
      lateness = false;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--no-lateness] [--only NAME[,NAME...]]\n"
                   "  NAME: coil, libev, libevent, libuv or asio\n",
                   argv[0]);
      return 2;
    }
  }
  const std::size_t n = quick ? 10'000 : 1'000'000;
  const double span = quick ? 0.05 : 1.0;  // delays in [0, span) seconds
  const int rounds = quick ? 1 : 3;

  std::mt19937_64 rng(20240603);
  std::uniform_real_distribution<double> dist(0.0, span);
  std::vector<double> delays(n);
  for (double& d : delays) d = dist(rng);

  Impl impls[] = {
      {"coil", runCoil, nullptr, {}, {}},
#ifdef COIL_BENCH_HAVE_LIBEV
      {"libev", runLibev, nullptr, {}, {}},
#else
      {"libev", nullptr, "libev not found at configure time", {}, {}},
#endif
#ifdef COIL_BENCH_HAVE_LIBEVENT
      {"libevent", runLibevent, nullptr, {}, {}},
#else
      {"libevent", nullptr, "libevent not found at configure time", {}, {}},
#endif
#ifdef COIL_BENCH_HAVE_LIBUV
      {"libuv", runLibuv, nullptr, {}, {}},
#else
      {"libuv", nullptr, "libuv not found at configure time", {}, {}},
#endif
#ifdef COIL_BENCH_HAVE_ASIO
      {"asio", runAsio, nullptr, {}, {}},
#else
      {"asio", nullptr, "Boost.Asio not found at configure time", {}, {}},
#endif
  };

  if (only) {
    for (Impl& impl : impls)
      if (!listed(only, impl.name)) {
        impl.runner = nullptr;
        impl.missing = "not selected (--only)";
      }
  }

  // Timing rounds interleave the libraries, so a busy moment of the machine hits all alike.
  for (int r = 0; r < rounds; ++r) {
    for (Impl& impl : impls) {
      if (!impl.runner) continue;
      Wire w = inChild(impl.runner, delays, false);
      if (!impl.ran || (w.error[0] == 0 && (impl.best.error[0] != 0 || w.cpuNs < impl.best.cpuNs)))
        impl.best = w;
      impl.ran = true;
    }
  }
  for (Impl& impl : impls)
    if (impl.runner) impl.lateness = lateness ? inChild(impl.runner, delays, true) : impl.best;

  const Impl& reference = impls[1];
  const bool haveReference = reference.runner && reference.best.error[0] == 0;
  const double refNs = static_cast<double>(reference.best.cpuNs) / static_cast<double>(n);
  int status = 0;
  for (const Impl& impl : impls) {
    if (!impl.runner) {
      std::printf("{\"bench\":\"timers\",\"impl\":\"%s\",\"skipped\":\"%s\"}\n", impl.name,
                  impl.missing);
      continue;
    }
    const Wire& b = impl.best;
    const Wire& l = impl.lateness;
    if (b.error[0] || l.error[0]) {
      std::printf("{\"bench\":\"timers\",\"impl\":\"%s\",\"error\":\"%s\"}\n", impl.name,
                  b.error[0] ? b.error : l.error);
      status = 1;
      continue;
    }
    const double ns = static_cast<double>(b.cpuNs) / static_cast<double>(n);
    char ratio[32] = "null";
    if (haveReference) std::snprintf(ratio, sizeof ratio, "%.3f", ns / refNs);
    std::printf(
        "{\"bench\":\"timers\",\"impl\":\"%s\",\"backend\":\"%s\",\"timers\":%zu,"
        "\"cancelled\":%zu,\"fired\":%llu,\"cpu_ns_per_timer\":%.1f,\"wall_ms\":%.1f,"
        "\"p50_late_us\":%.1f,\"p99_late_us\":%.1f,\"max_late_us\":%.1f,\"early\":%llu,"
        "\"real_p50_late_us\":%.1f,\"real_p99_late_us\":%.1f,\"real_early\":%llu,"
        "\"settled\":%llu,\"settled_p50_late_us\":%.1f,\"settled_p99_late_us\":%.1f,"
        "\"ratio_vs_libev\":%s%s}\n",
        impl.name, b.backend, n, n / 2, static_cast<unsigned long long>(b.fired), ns,
        static_cast<double>(b.wallNs) / 1e6, l.p50, l.p99, l.max,
        static_cast<unsigned long long>(l.early), l.realP50, l.realP99,
        static_cast<unsigned long long>(l.realEarly), static_cast<unsigned long long>(l.settled),
        l.settledP50, l.settledP99, ratio,
        std::strcmp(impl.name, "coil") == 0 ? ",\"goal_ratio\":1.0" : "");
    if (b.fired != expectedFires(n) || l.fired != expectedFires(n)) status = 1;
    if (std::strcmp(impl.name, "coil") == 0 && l.early != 0) {
      std::fprintf(stderr, "bench_timers: coil fired %llu timers early\n",
                   static_cast<unsigned long long>(l.early));
      status = 1;
    }
  }
  std::fflush(stdout);
  return status;
}
