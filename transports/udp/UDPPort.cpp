// UDP ports: binding, connected mode, writes (Twisted's udp.Port).
// Tests: test/transports/datagram/UDPTest.cpp, ConnectedUDPTest.cpp
#include <coil/transports/udp/UDPPort.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/udp/DatagramAddress.hpp>

#include <netinet/in.h>

#include <stdexcept>

namespace coil {

namespace {

int checkedPort(int port) {
  if (port < 0 || port > 65535)
    throw std::invalid_argument("listenUDP: port " + std::to_string(port) + " out of range");
  return port;
}

// Host and port of an IP address, whatever its `type` says.
bool sameEndpoint(const Address& a, const Address& b) {
  if (const auto* x = std::get_if<IPv4Address>(&a)) {
    const auto* y = std::get_if<IPv4Address>(&b);
    return y && x->host == y->host && x->port == y->port;
  }
  if (const auto* x = std::get_if<IPv6Address>(&a)) {
    const auto* y = std::get_if<IPv6Address>(&b);
    return y && x->host == y->host && x->port == y->port;
  }
  return false;
}

}  // namespace

UDPPort::UDPPort(ReactorBase& reactor, int port, std::shared_ptr<DatagramProtocol> protocol,
                 std::string_view interface, std::size_t maxPacketSize)
    : DatagramPortBase(reactor, protocol, maxPacketSize, "UDP"),
      protocol_(protocol.get()),
      interface_(interface),
      port_(checkedPort(port)),
      family_(detail::interfaceFamily(interface)) {
  enableWriteBatching();
}

UDPPort::UDPPort(ReactorBase& reactor, detail::UniqueFd fd, int family,
                 std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize)
    : DatagramPortBase(reactor, protocol, maxPacketSize, "UDP"),
      protocol_(protocol.get()),
      family_(family),
      adoptedSocket_(true) {
  enableWriteBatching();
  if (family != AF_INET && family != AF_INET6)
    throw error::UnsupportedAddressFamily("adoptDatagramPort: family " + std::to_string(family));
  int domain = detail::getIntOption(fd.get(), SOL_SOCKET, SO_DOMAIN);
  int type = detail::getIntOption(fd.get(), SOL_SOCKET, SO_TYPE);
  if (domain != family || type != SOCK_DGRAM)
    throw std::invalid_argument("adoptDatagramPort: descriptor " + std::to_string(fd.get()) +
                                " is not a datagram socket of family " + std::to_string(family));
  adoptSocket(std::move(fd));
}

detail::UniqueFd UDPPort::openSocket() {
  if (adoptedSocket_) throw LogicError("an adopted UDP port cannot listen again");
  std::error_code ec;
  detail::UniqueFd fd = detail::makeSocket(family_, SOCK_DGRAM, ec);
  if (ec) throw error::CannotListenError(interface_, port_, ec);
  beforeBind(fd.get());
  detail::SockAddr addr = interface_.empty() ? detail::anySockAddr(family_, port_)
                                             : detail::ipTarget(interface_, port_, family_);
  if (::bind(fd.get(), addr.get(), addr.length) != 0)
    throw error::CannotListenError(interface_, port_, detail::lastSocketError());
  return fd;
}

void UDPPort::socketOpened() {
  host_ = detail::localAddress(socketFd(), "UDP");
  if (broadcast_) detail::setIntOption(socketFd(), SOL_SOCKET, SO_BROADCAST, 1);
  if (isConnected() && ::connect(socketFd(), connectedSock_.get(), connectedSock_.length) != 0)
    throw Error("UDP connect failed", detail::lastSocketError());
}

Address UDPPort::getHost() const {
  return host_;
}

void UDPPort::write(std::string_view data, const Address& addr) {
  if (isConnected()) {
    if (!sameEndpoint(addr, connectedAddr_))
      throw LogicError("a connected UDP port writes only to " + toString(connectedAddr_));
    write(data);
    return;
  }
  // Only a reply to the datagram being delivered may be queued: its address needs no check and
  // is one the socket just heard from (a broadcast or unroutable target is sent at once, so
  // its error is thrown here).
  // Unconnected, ECONNREFUSED means nothing (Twisted ignores it).
  if (const detail::SockAddr* to = cachedSender(addr)) {
    if (!queueWrite(data, to)) send(data, to);
    return;
  }
  sendParsed(data, addr);
}

void UDPPort::sendParsed(std::string_view data, const Address& addr) {
  detail::SockAddr to = detail::ipTarget(addr, family_);
  send(data, &to);
}

void UDPPort::write(std::string_view data) {
  if (!isConnected()) throw LogicError("write without an address on an unconnected UDP port");
  if (queueWrite(data, nullptr)) return;
  if (send(data, nullptr)) protocol_->connectionRefused();
}

void UDPPort::connect(std::string_view host, int port) {
  if (isConnected()) throw LogicError("already connected, reconnecting is not currently supported");
  detail::SockAddr to = detail::ipTarget(host, port, family_);
  flushWrites();
  if (socketFd() >= 0 && ::connect(socketFd(), to.get(), to.length) != 0)
    throw Error("UDP connect failed", detail::lastSocketError());
  connectedSock_ = to;
  connectedAddr_ = detail::toAddress(to, "UDP");
}

void UDPPort::setBroadcastAllowed(bool enabled) {
  flushWrites();
  if (socketFd() >= 0) {
    if (std::error_code ec = detail::setIntOption(socketFd(), SOL_SOCKET, SO_BROADCAST, enabled))
      throw Error("SO_BROADCAST", ec);
  }
  broadcast_ = enabled;
}

void UDPPort::deliver(std::string_view data, const Address& from) {
  protocol_->datagramReceived(data, from);
}

void UDPPort::readRefused() {
  if (isConnected()) protocol_->connectionRefused();
}

void UDPPort::writeRefused() {
  if (isConnected()) protocol_->connectionRefused();
}

}  // namespace coil
