// PosixReactorDatagram: PosixReactor's datagram-socket methods (UDP, multicast, UNIX datagram,
// adopted UDP), wired to transports/udp and transports/unix.
// Tests: test/transports/datagram/*, test/interop/datagram/*
#include <coil/backends/PosixReactor.hpp>

#include <coil/core/Errors.hpp>
#include <coil/transports/udp/MulticastPort.hpp>
#include <coil/transports/udp/UDPPort.hpp>
#include <coil/transports/unix/UNIXDatagramPort.hpp>

#include <sys/socket.h>

#include <utility>

namespace coil {

std::shared_ptr<IUDPPort> PosixReactor::doListenUDP(int port,
                                                    std::shared_ptr<DatagramProtocol> protocol,
                                                    std::string_view interface,
                                                    std::size_t maxPacketSize) {
  COIL_ASSERT_REACTOR_THREAD(*this, "listenUDP");
  auto p = std::make_shared<UDPPort>(*this, port, std::move(protocol), interface, maxPacketSize);
  p->startListening();
  return p;
}

std::shared_ptr<IMulticastPort> PosixReactor::doListenMulticast(
    int port, std::shared_ptr<DatagramProtocol> protocol, std::string_view interface,
    std::size_t maxPacketSize, bool listenMultiple) {
  COIL_ASSERT_REACTOR_THREAD(*this, "listenMulticast");
  auto p = std::make_shared<MulticastPort>(*this, port, std::move(protocol), interface,
                                           maxPacketSize, listenMultiple);
  p->startListening();
  return p;
}

std::shared_ptr<IUNIXDatagramPort> PosixReactor::doListenUNIXDatagram(
    std::string address, std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize,
    int mode) {
  COIL_ASSERT_REACTOR_THREAD(*this, "listenUNIXDatagram");
  auto p = std::make_shared<UNIXDatagramPort>(*this, std::move(address), std::move(protocol),
                                              maxPacketSize, mode);
  p->startListening();
  return p;
}

std::shared_ptr<IUNIXDatagramConnectedPort> PosixReactor::doConnectUNIXDatagram(
    std::string address, std::shared_ptr<ConnectedDatagramProtocol> protocol,
    std::size_t maxPacketSize, int mode, std::optional<std::string> bindAddress) {
  COIL_ASSERT_REACTOR_THREAD(*this, "connectUNIXDatagram");
  auto p = std::make_shared<UNIXDatagramConnectedPort>(
      *this, std::move(address), std::move(protocol), maxPacketSize, mode, std::move(bindAddress));
  p->startListening();
  return p;
}

std::shared_ptr<IUDPPort> PosixReactor::doAdoptDatagramPort(
    int fd, int addressFamily, std::shared_ptr<DatagramProtocol> protocol,
    std::size_t maxPacketSize) {
  COIL_ASSERT_REACTOR_THREAD(*this, "adoptDatagramPort");
  if (addressFamily != AF_INET && addressFamily != AF_INET6)
    throw error::UnsupportedAddressFamily("adoptDatagramPort: family " +
                                          std::to_string(addressFamily));
  std::error_code ec;
  detail::UniqueFd copy = detail::duplicateFd(fd, ec);
  if (ec) throw Error("adoptDatagramPort: cannot duplicate descriptor", ec);
  auto p = std::make_shared<UDPPort>(*this, std::move(copy), addressFamily, std::move(protocol),
                                     maxPacketSize);
  p->startListening();
  return p;
}

}  // namespace coil
