// UNIX datagram ports, bound and connected (Twisted's unix.DatagramPort,
// unix.ConnectedDatagramPort).
// Tests: test/transports/datagram/UNIXDatagramTest.cpp
#include <coil/transports/unix/UNIXDatagramPort.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/udp/DatagramAddress.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <utility>

namespace coil {

namespace {

bool isAbstract(std::string_view path) {
  return !path.empty() && path.front() == '\0';
}

// Binds `fd` to `path` and chmods it; returns the file's identity (none when abstract).
std::optional<std::pair<dev_t, ino_t>> bindPath(int fd, const std::string& path, int mode) {
  detail::SockAddr addr = detail::unixSockAddr(path);
  if (::bind(fd, addr.get(), addr.length) != 0)
    throw error::CannotListenError(path, 0, detail::lastSocketError());
  if (isAbstract(path)) return std::nullopt;
  struct stat st {};
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0 || ::stat(path.c_str(), &st) != 0) {
    std::error_code ec = detail::lastSocketError();
    ::unlink(path.c_str());
    throw error::CannotListenError(path, 0, ec);
  }
  return std::pair{st.st_dev, st.st_ino};
}

// Removes `path` if it is still the file `bound` names.
void unlinkIfOurs(const std::string& path, std::optional<std::pair<dev_t, ino_t>>& bound) {
  if (!bound) return;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && st.st_dev == bound->first && st.st_ino == bound->second)
    ::unlink(path.c_str());
  bound.reset();
}

}  // namespace

// ---- UNIXDatagramPort -------------------------------------------------------------------------

UNIXDatagramPort::UNIXDatagramPort(ReactorBase& reactor, std::string address,
                                   std::shared_ptr<DatagramProtocol> protocol,
                                   std::size_t maxPacketSize, int mode)
    : DatagramPortBase(reactor, protocol, maxPacketSize, nullptr),
      protocol_(protocol.get()),
      address_(std::move(address)),
      mode_(mode) {
  if (address_.empty()) throw std::invalid_argument("listenUNIXDatagram: empty address");
}

detail::UniqueFd UNIXDatagramPort::openSocket() {
  std::error_code ec;
  detail::UniqueFd fd = detail::makeSocket(AF_UNIX, SOCK_DGRAM, ec);
  if (ec) throw error::CannotListenError(address_, 0, ec);
  bound_ = bindPath(fd.get(), address_, mode_);
  return fd;
}

void UNIXDatagramPort::socketClosed() {
  unlinkIfOurs(address_, bound_);
}

void UNIXDatagramPort::write(std::string_view data, const Address& addr) {
  const detail::SockAddr* to = cachedSender(addr);
  detail::SockAddr parsed;
  if (to == nullptr) {
    parsed = detail::unixTarget(addr);
    to = &parsed;
  }
  if (send(data, to))
    throw Error("sendto " + toString(addr), std::make_error_code(std::errc::connection_refused));
}

void UNIXDatagramPort::write(std::string_view /*data*/) {
  throw LogicError("write without an address on an unconnected UNIX datagram port");
}

Address UNIXDatagramPort::getHost() const {
  return UNIXAddress{address_};
}

void UNIXDatagramPort::deliver(std::string_view data, const Address& from) {
  protocol_->datagramReceived(data, from);
}

// ---- UNIXDatagramConnectedPort ----------------------------------------------------------------

UNIXDatagramConnectedPort::UNIXDatagramConnectedPort(
    ReactorBase& reactor, std::string address, std::shared_ptr<ConnectedDatagramProtocol> protocol,
    std::size_t maxPacketSize, int mode, std::optional<std::string> bindAddress)
    : DatagramPortBase(reactor, protocol, maxPacketSize, nullptr),
      protocol_(protocol.get()),
      address_(std::move(address)),
      mode_(mode),
      bindAddress_(std::move(bindAddress)) {}

void UNIXDatagramConnectedPort::startListening() {
  try {
    DatagramPortBase::startListening();
  } catch (const LogicError&) {
    throw;  // misuse (already listening), not a connection failure
  } catch (...) {
    Failure reason = Failure::current();
    log::callLogged("Unhandled error in connectionFailed", "coil.datagram",
                    [&] { protocol_->connectionFailed(reason); });
  }
}

detail::UniqueFd UNIXDatagramConnectedPort::openSocket() {
  std::error_code ec;
  detail::UniqueFd fd = detail::makeSocket(AF_UNIX, SOCK_DGRAM, ec);
  if (ec) throw error::ConnectError(address_, ec);
  if (bindAddress_) bound_ = bindPath(fd.get(), *bindAddress_, mode_);
  detail::SockAddr peer = detail::unixSockAddr(address_);
  if (::connect(fd.get(), peer.get(), peer.length) != 0) {
    std::error_code failed = detail::lastSocketError();
    if (bindAddress_) unlinkIfOurs(*bindAddress_, bound_);
    detail::connectFailure(failed, toString(UNIXAddress{address_})).raise();
  }
  return fd;
}

void UNIXDatagramConnectedPort::socketClosed() {
  if (bindAddress_) unlinkIfOurs(*bindAddress_, bound_);
}

void UNIXDatagramConnectedPort::write(std::string_view data, const Address& addr) {
  const auto* local = std::get_if<UNIXAddress>(&addr);
  if (local == nullptr || local->name != address_)
    throw LogicError("a connected UNIX datagram port writes only to " + toString(getPeer()));
  write(data);
}

void UNIXDatagramConnectedPort::write(std::string_view data) {
  if (send(data, nullptr)) protocol_->connectionRefused();
}

Address UNIXDatagramConnectedPort::getHost() const {
  return UNIXAddress{bindAddress_.value_or(std::string())};
}

Address UNIXDatagramConnectedPort::getPeer() const {
  return UNIXAddress{address_};
}

void UNIXDatagramConnectedPort::deliver(std::string_view data, const Address& /*from*/) {
  protocol_->datagramReceived(data);
}

void UNIXDatagramConnectedPort::readRefused() {
  protocol_->connectionRefused();
}

}  // namespace coil
