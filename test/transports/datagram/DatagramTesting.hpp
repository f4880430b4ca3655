#pragma once
/// @file DatagramTesting: protocols and helpers shared by the datagram transport suites.

#include <coil/core/Errors.hpp>
#include <coil/core/IMulticastTransport.hpp>
#include <coil/core/IUDPTransport.hpp>
#include <coil/core/IUNIXDatagramTransport.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>
#include <coil/transports/udp/UDPPort.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/TestReactor.hpp>
#include <test/support/Testing.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
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

/// Bound on waiting for a datagram that must arrive, in milliseconds.
inline constexpr int kWaitMs = 2000;

/// A plain non-blocking UDP socket bound to `host`, port 0: the peer a test drives by hand.
class Peer {
 public:
  /// Binds the socket (fails the test when it cannot).
  explicit Peer(const char* host) : host_(host) {
    coil::detail::SockAddr any = *coil::detail::ipSockAddr(host, 0);
    std::error_code ec;
    fd_ = coil::detail::makeSocket(any.family(), SOCK_DGRAM, ec);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST_REQUIRE(::bind(fd_.get(), any.get(), any.length) == 0);
    address_ = coil::detail::localAddress(fd_.get(), "UDP");
  }

  /// Sends `data` to port `port` on this peer's host.
  void sendTo(int port, const std::string& data) {
    coil::detail::SockAddr to = *coil::detail::ipSockAddr(host_, port);
    BOOST_TEST_REQUIRE(::sendto(fd_.get(), data.data(), data.size(), 0, to.get(), to.length) ==
                       static_cast<ssize_t>(data.size()));
  }

  /// The next datagram, waiting up to `ms` for it (0: only what is there); nullopt if none.
  std::optional<std::string> receive(int ms = 0, Address* from = nullptr) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (ms > 0 && ::poll(&p, 1, ms) <= 0) return std::nullopt;
    char buffer[4096];
    coil::detail::SockAddr sender;
    sender.length = sizeof sender.storage;
    ssize_t n =
        ::recvfrom(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT, sender.get(), &sender.length);
    if (n < 0) return std::nullopt;
    if (from != nullptr) *from = coil::detail::toAddress(sender, "UDP");
    return std::string(buffer, static_cast<std::size_t>(n));
  }

  /// Every datagram waiting now, each checked to come from `server`.
  std::vector<std::string> drain(const Address& server) {
    std::vector<std::string> out;
    Address from;
    while (std::optional<std::string> d = receive(0, &from)) {
      BOOST_TEST(from == server);
      out.push_back(*d);
    }
    return out;
  }

  /// The bound address.
  const Address& address() const { return address_; }
  /// The bound port.
  int port() const { return portOf(address_); }
  /// Closes the socket (its port then refuses).
  void close() { fd_.reset(); }

 private:
  const char* host_;
  coil::detail::UniqueFd fd_;
  Address address_;
};

/// The UDPPort behind `port` (listenUDP() returns the interface).
inline UDPPort& udp(IUDPPort& port) {
  return dynamic_cast<UDPPort&>(port);
}

}  // namespace coil::test
