#pragma once
/// @file EchoClient: the echo benchmark's client — the same hand-written epoll loop for every
/// server. It opens `conns` connections to 127.0.0.1:port, keeps exactly one message of `size`
/// bytes in flight on each (the next is sent when the whole echo of the previous has come back
/// and matched), runs a warm-up, then measures for a fixed time (longer if no round trip has
/// completed yet): round trips, per-message latency (first byte sent to last byte received) and
/// the server's CPU time over the window.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace coil::bench::echo {

/// What one client run does.
struct ClientConfig {
  /// The server's port on 127.0.0.1.
  int port = 0;
  /// Connections, each with one message in flight.
  int conns = 1;
  /// Bytes per message.
  std::size_t size = 64;
  /// Seconds of traffic before the measured window.
  double warmupSeconds = 0.3;
  /// Seconds of the measured window.
  double seconds = 2.0;
  /// The server's CPU time so far, in nanoseconds (read at both ends of the window).
  std::function<std::uint64_t()> serverCpuNs;
};

/// What one client run measured (over the window only).
struct ClientResult {
  /// Round trips completed in the window.
  std::uint64_t roundTrips = 0;
  /// Wall nanoseconds of the window.
  std::uint64_t wallNs = 0;
  /// Server CPU nanoseconds (user + system, all threads) in the window.
  std::uint64_t serverCpuNs = 0;
  /// This client's CPU nanoseconds in the window.
  std::uint64_t clientCpuNs = 0;
  /// Wall nanoseconds spent connecting (before the warm-up; a listen backlog that overflows
  /// shows here as SYN retransmissions, a second each).
  std::uint64_t connectNs = 0;
  /// Median and 99th percentile of the per-message latency, microseconds.
  double p50Us = 0.0, p99Us = 0.0;
  /// Empty on success; else what went wrong (connect failed, wrong bytes echoed, stalled…).
  std::string error;
};

/// Runs the client against the server on `config.port` (in this thread; blocks for about
/// warmupSeconds + seconds). Every connection is reset (SO_LINGER 0) when it returns, so runs
/// leave no TIME_WAIT behind.
ClientResult runClient(const ClientConfig& config);

}  // namespace coil::bench::echo
