#pragma once
/// @file DatagramTesting: protocols and helpers shared by the datagram transport suites.

#include <coil/core/Errors.hpp>
#include <coil/core/IMulticastTransport.hpp>
#include <coil/core/IUDPTransport.hpp>
#include <coil/core/IUNIXDatagramTransport.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <unistd.h>

#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coil {
/// Lets Boost.Test print addresses in failed comparisons.
inline std::ostream& boost_test_print_type(std::ostream& os, const Address& a) {
  return os << toString(a);
}
}  // namespace coil

namespace coil::test {

/// A DatagramProtocol that records everything it is told. Thread: reactor.
class RecordingDatagram : public DatagramProtocol {
 public:
  RecordingDatagram() { noisy = false; }
  /// One received datagram.
  struct Received {
    /// Its bytes.
    std::string data;
    /// Its sender.
    Address from;
  };
  void startProtocol() override { ++starts; }
  void stopProtocol() override { ++stops; }
  void datagramReceived(std::string_view data, const Address& addr) override {
    received.push_back({std::string(data), addr});
    if (onDatagram) onDatagram(data, addr);
  }
  void connectionRefused() override { ++refused; }
  /// Called after recording each datagram.
  std::function<void(std::string_view, const Address&)> onDatagram;
  /// Everything received, in order.
  std::vector<Received> received;
  /// startProtocol() calls.
  int starts = 0;
  /// stopProtocol() calls.
  int stops = 0;
  /// connectionRefused() calls.
  int refused = 0;
};

/// A ConnectedDatagramProtocol that records everything. Thread: reactor.
class RecordingConnected : public ConnectedDatagramProtocol {
 public:
  RecordingConnected() { noisy = false; }
  void startProtocol() override { ++starts; }
  void stopProtocol() override { ++stops; }
  void datagramReceived(std::string_view data) override { received.emplace_back(data); }
  void connectionFailed(const Failure& reason) override { failures.push_back(reason); }
  void connectionRefused() override { ++refused; }
  /// Datagrams received, in order.
  std::vector<std::string> received;
  /// connectionFailed() reasons.
  std::vector<Failure> failures;
  /// startProtocol() calls.
  int starts = 0;
  /// stopProtocol() calls.
  int stops = 0;
  /// connectionRefused() calls.
  int refused = 0;
};

/// The port number of an IPv4/IPv6 address.
inline int portOf(const Address& a) {
  if (const auto* v4 = std::get_if<IPv4Address>(&a)) return v4->port;
  if (const auto* v6 = std::get_if<IPv6Address>(&a)) return v6->port;
  throw std::invalid_argument("not an IP address: " + toString(a));
}

/// Stops `port` and iterates until its Deferred fired; fails the test otherwise.
inline void stopAndWait(ReactorBuilder& b, IListeningPort& port) {
  bool done = false;
  port.stopListening().addCallback([&done] { done = true; });
  BOOST_TEST_REQUIRE(b.iterateUntil([&] { return done; }));
}

/// A fresh path for a UNIX socket under the temporary directory (not created).
inline std::string tempSocketPath(const std::string& tag) {
  static int counter = 0;
  return "/tmp/coil-dg-" + std::to_string(::getpid()) + "-" + tag + "-" +
         std::to_string(++counter) + ".sock";
}

}  // namespace coil::test
