// StreamPort: listening TCP and UNIX stream sockets.
// Tests: test/transports/stream/PortTest.cpp, test/transports/stream/UNIXTest.cpp
#include <coil/transports/tcp/StreamPort.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/tcp/StreamConnection.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace coil::stream {

namespace {

constexpr std::string_view kSystem = "coil.stream";
constexpr double kWarningInterval = 10.0;

detail::UniqueFd openReserve() noexcept {
  return detail::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

bool isAbstract(const std::string& path) {
  return !path.empty() && path.front() == '\0';
}

}  // namespace

Port::Port(Private, ReactorBase& reactor, std::shared_ptr<Factory> factory, Config config)
    : reactor_(reactor), factory_(std::move(factory)), config_(std::move(config)) {
  if (!factory_) throw std::invalid_argument("listen: null factory");
}

Port::~Port() {
  closeSocket();
}

std::shared_ptr<Port> Port::listen(ReactorBase& reactor, std::shared_ptr<Factory> factory,
                                   Config config) {
  auto port = std::make_shared<Port>(Private{}, reactor, std::move(factory), std::move(config));
  port->startListening();
  return port;
}

std::shared_ptr<Port> Port::adopt(ReactorBase& reactor, std::shared_ptr<Factory> factory, int fd,
                                  int family) {
  if (family != AF_INET && family != AF_INET6 && family != AF_UNIX) {
    throw error::UnsupportedAddressFamily("address family " + std::to_string(family));
  }
  std::error_code ec;
  detail::UniqueFd copy = detail::duplicateFd(fd, ec);
  if (ec) throw std::system_error(ec, "adoptStreamPort: cannot duplicate descriptor");
  Config config;
  config.family = family;
  auto port = std::make_shared<Port>(Private{}, reactor, std::move(factory), std::move(config));
  port->adopted_ = std::move(copy);
  port->startListening();
  return port;
}

void Port::bindAndListen() {
  const Config& c = config_;
  std::error_code ec;
  if (c.family == AF_UNIX) {
    auto fail = [&](std::error_code code) {
      lock_.reset();
      throw error::CannotListenError(c.path, "", code);
    };
    detail::SockAddr address = detail::unixSockAddr(c.path);
    if (c.wantPID && !isAbstract(c.path)) {
      lock_.emplace(c.path + ".lock");
      if (!lock_->lock()) {
        lock_.reset();
        throw error::CannotListenError(c.path, "Cannot acquire lock");
      }
      if (!lock_->clean()) ::unlink(c.path.c_str());  // the dead holder's leftover socket
    }
    fd_ = detail::makeSocket(AF_UNIX, SOCK_STREAM, ec);
    if (ec) fail(ec);
    if (::bind(fd_.get(), address.get(), address.length) != 0) {
      ec = detail::lastSocketError();
      fd_.reset();
      fail(ec);
    }
    if (!isAbstract(c.path) && ::chmod(c.path.c_str(), static_cast<mode_t>(c.mode)) != 0) {
      ec = detail::lastSocketError();
      fd_.reset();
      ::unlink(c.path.c_str());
      fail(ec);
    }
    if (::listen(fd_.get(), c.backlog) != 0) {
      ec = detail::lastSocketError();
      fd_.reset();
      ::unlink(c.path.c_str());
      fail(ec);
    }
    return;
  }
  std::optional<detail::SockAddr> address = c.interface.empty()
                                                ? detail::anySockAddr(AF_INET, c.port)
                                                : detail::ipSockAddr(c.interface, c.port);
  if (!address) {
    throw error::CannotListenError(c.interface, c.port,
                                   std::make_error_code(std::errc::invalid_argument));
  }
  config_.family = address->family();
  fd_ = detail::makeSocket(address->family(), SOCK_STREAM, ec);
  if (ec) throw error::CannotListenError(c.interface, c.port, ec);
  detail::setIntOption(fd_.get(), SOL_SOCKET, SO_REUSEADDR, 1);
  if (::bind(fd_.get(), address->get(), address->length) != 0 ||
      ::listen(fd_.get(), c.backlog) != 0) {
    ec = detail::lastSocketError();
    fd_.reset();
    throw error::CannotListenError(c.interface, c.port, ec);
  }
}

void Port::startListening() {
  if (listening_) throw std::logic_error("startListening: the port is already listening");
  if (adopted_) {
    fd_ = std::move(adopted_);
  } else {
    bindAndListen();
  }
  const char* type = config_.family == AF_UNIX ? "UNIX" : "TCP";
  host_ = detail::localAddress(fd_.get(), type);
  reserve_ = openReserve();
  try {
    reactor_.addReader(shared_from_this());
  } catch (const std::system_error& e) {
    closeSocket();
    throw error::CannotListenError(config_.interface, config_.port, e.code());
  }
  listening_ = true;
  factory_->doStart();
  if (factory_->noisy)
    log::info(kSystem, factory_->logPrefix() + " starting on " + toString(host_));
}

void Port::closeSocket() noexcept {
  if (!fd_) return;
  fd_.reset();
  reserve_.reset();
  if (config_.family == AF_UNIX && !config_.path.empty() && !isAbstract(config_.path)) {
    ::unlink(config_.path.c_str());
  }
  lock_.reset();
}

Deferred<void> Port::stopListening() {
  if (!listening_) return succeed();
  listening_ = false;
  reactor_.removeReader(this);
  closeSocket();
  if (factory_->noisy) {
    // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict on the chained operator+.
    std::string line = config_.family == AF_UNIX ? "(UNIX Port " : "(TCP Port ";
    line += toString(host_);
    line += " Closed)";
    log::info(kSystem, line);
  }
  Deferred<void> done;
  reactor_.callLater(0, [self = shared_from_this(), done]() mutable {
    try {
      self->factory_->doStop();
    } catch (...) {
      done.errback(Failure::current());
      return;
    }
    done.callback();
  });
  return done;
}

void Port::connectionLost(const Failure& /*reason*/) {
  if (!listening_) return;
  listening_ = false;
  closeSocket();
  log::callLogged("Unhandled error in doStop", kSystem, [&] { factory_->doStop(); });
}

Address Port::getHost() const {
  return host_;
}

std::string Port::logPrefix() const {
  return factory_->logPrefix() + (config_.family == AF_UNIX ? " (UNIX)" : " (TCP)");
}

std::optional<Failure> Port::doRead() {
  int accepted = 0;
  while (accepted < numberAccepts_) {
    detail::SockAddr peer;
    peer.length = sizeof peer.storage;
    int fd = ::accept4(fd_.get(), peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      switch (err) {
        case EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case EWOULDBLOCK:
#endif
          numberAccepts_ = std::max(1, accepted);
          return std::nullopt;
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
        case EPERM:
          ++accepted;  // a connection that died in the queue, or a firewall veto: skip it
          continue;
        case EMFILE:
        case ENFILE:
          if (!handleExhaustion(err)) return std::nullopt;
          ++accepted;
          continue;
        default:
          log::error(kSystem, logPrefix() + ": accept failed: " + std::strerror(err));
          return std::nullopt;
      }
    }
    ++accepted;
    serve(detail::UniqueFd(fd), peer);
    if (!listening_) return std::nullopt;  // stopped from inside buildProtocol/connectionMade
  }
  numberAccepts_ += 20;
  return std::nullopt;
}

// Out of descriptors: give the reserve back, accept the excess connection and close it (the
// client sees its connection closed instead of waiting), then take the reserve again.
bool Port::handleExhaustion(int err) {
  double now = reactor_.seconds();
  if (now - lastWarning_ >= kWarningInterval) {
    lastWarning_ = now;
    log::warn(kSystem, logPrefix() + ": accept failed (" + std::strerror(err) +
                           "); closing incoming connections until descriptors are free");
  }
  if (!reserve_) reserve_ = openReserve();
  if (!reserve_) return false;
  reserve_.reset();
  int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) ::close(fd);
  reserve_ = openReserve();
  return fd >= 0;
}

void Port::serve(detail::UniqueFd fd, const detail::SockAddr& peer) {
  Address address = detail::toAddress(peer, config_.family == AF_UNIX ? "UNIX" : "TCP");
  std::shared_ptr<IProtocol> protocol;
  try {
    protocol = factory_->buildProtocol(address);
  } catch (...) {
    log::currentException("Unhandled error in buildProtocol of " + logPrefix(), kSystem);
    return;
  }
  if (!protocol) return;  // refused: the socket closes
  auto connection = makeConnection(reactor_, std::move(fd), config_.family);
  try {
    connection->start(std::move(protocol));
  } catch (...) {
    log::currentException(logPrefix() + ": cannot serve a new connection", kSystem);
  }
}

}  // namespace coil::stream
