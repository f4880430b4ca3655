#pragma once
/// @file BenchUtil: timing, allocation counting and JSON-lines output shared by coil's benchmarks.
/// Link CountAllocations.cpp into a benchmark to make allocationCount() live.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace coil::bench {

/// Heap allocations since program start (needs CountAllocations.cpp linked in).
std::uint64_t allocationCount() noexcept;

/// Nanoseconds of a steady clock.
inline std::uint64_t nowNs() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

/// One measured run: ops performed, nanoseconds, allocations.
struct Measurement {
  /// Operations performed.
  std::uint64_t ops = 0;
  /// Wall nanoseconds for all ops.
  std::uint64_t ns = 0;
  /// Heap allocations during all ops.
  std::uint64_t allocs = 0;
};

/// Runs body(ops) `rounds` times and keeps the fastest round (least disturbed by the machine).
template <class Body>
Measurement measure(std::uint64_t ops, int rounds, Body&& body) {
  Measurement best;
  for (int r = 0; r < rounds; ++r) {
    std::uint64_t a0 = allocationCount();
    std::uint64_t t0 = nowNs();
    body(ops);
    std::uint64_t t1 = nowNs();
    std::uint64_t a1 = allocationCount();
    if (r == 0 || t1 - t0 < best.ns) best = {ops, t1 - t0, a1 - a0};
  }
  return best;
}

/// Prints one JSON object per line: {"bench":…,"impl":…,"ops":…,"ns_per_op":…,"allocs_per_op":…}
/// plus any extra `"key":value` pairs already formatted in `extra`.
inline void report(const std::string& bench, const std::string& impl, const Measurement& m,
                   const std::string& extra = {}) {
  double nsPerOp = m.ops ? static_cast<double>(m.ns) / static_cast<double>(m.ops) : 0.0;
  double allocsPerOp = m.ops ? static_cast<double>(m.allocs) / static_cast<double>(m.ops) : 0.0;
  std::printf(
      "{\"bench\":\"%s\",\"impl\":\"%s\",\"ops\":%llu,\"ns_per_op\":%.1f,\"allocs_per_op\":%.3f%s%"
      "s}"
      "\n",
      bench.c_str(), impl.c_str(), static_cast<unsigned long long>(m.ops), nsPerOp, allocsPerOp,
      extra.empty() ? "" : ",", extra.c_str());
  std::fflush(stdout);
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
}

}  // namespace coil::bench
