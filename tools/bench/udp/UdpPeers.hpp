#pragma once
/// @file UdpPeers: the UDP echo benchmark's server contract, shared by coil's server
/// (UdpBench.cpp) and each peer's (LibeventUdp.cpp, LibuvUdp.cpp, AsioUdp.cpp).
///
/// A server is given a bound, non-blocking IPv4 UDP socket. It echoes every datagram to its
/// sender until a datagram that begins with 'Q' arrives, then returns. It runs in a child
/// process whose whole CPU time the benchmark charges to it.

#include <cstddef>

namespace coil::bench::udp {

/// True for the datagram that ends a run.
inline bool isQuit(const char* data, std::size_t size) noexcept {
  return size > 0 && data[0] == 'Q';
}

/// Serves `fd` with coil's default reactor (adoptDatagramPort + DatagramProtocol).
void runCoil(int fd);
/// Serves `fd` with libevent (one persistent EV_READ event; recvfrom/sendto until EAGAIN).
void runLibevent(int fd);
/// Serves `fd` with libuv (uv_udp_open, uv_udp_recv_start, uv_udp_try_send).
void runLibuv(int fd);
/// Serves `fd` with Boost.Asio (async_receive_from, non-blocking send_to).
void runAsio(int fd);

}  // namespace coil::bench::udp
