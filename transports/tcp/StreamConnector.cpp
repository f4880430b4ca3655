// StreamConnector: client connection attempts over TCP and UNIX stream sockets.
// Tests: test/transports/stream/ConnectorTest.cpp
#include <coil/transports/tcp/StreamConnector.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/tcp/StreamConnection.hpp>
#include <coil/transports/unix/FilesystemLock.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

namespace coil::stream {

namespace {

constexpr std::string_view kSystem = "coil.stream";

void cancelCall(DelayedCallPtr& call) noexcept {
  if (call && call->active()) {
    try {
      call->cancel();
    } catch (...) {
    }
  }
  call.reset();
}

}  // namespace

Connector::Connector(Private, ReactorBase& reactor, std::shared_ptr<ClientFactory> factory,
                     double timeout)
    : reactor_(reactor), factory_(std::move(factory)), timeout_(timeout) {
  if (!factory_) throw std::invalid_argument("connect: null factory");
}

std::shared_ptr<Connector> Connector::tcp(ReactorBase& reactor, std::string host, int port,
                                          std::shared_ptr<ClientFactory> factory, double timeout,
                                          std::optional<BindAddress> bindAddress) {
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("connectTCP: port must be 0-65535, got " + std::to_string(port));
  }
  auto c = std::make_shared<Connector>(Private{}, reactor, std::move(factory), timeout);
  c->host_ = std::move(host);
  c->port_ = port;
  c->bindAddress_ = std::move(bindAddress);
  return c;
}

std::shared_ptr<Connector> Connector::unixStream(ReactorBase& reactor, std::string path,
                                                 std::shared_ptr<ClientFactory> factory,
                                                 double timeout, bool checkPID) {
  auto c = std::make_shared<Connector>(Private{}, reactor, std::move(factory), timeout);
  c->unix_ = true;
  c->host_ = std::move(path);
  c->checkPID_ = checkPID;
  return c;
}

std::shared_ptr<Connector> Connector::self() {
  return std::static_pointer_cast<Connector>(shared_from_this());
}

Address Connector::getDestination() const {
  if (unix_) return UNIXAddress{host_};
  if (detail::isIPv4Literal(host_)) return IPv4Address{"TCP", host_, port_};
  if (detail::isIPv6Literal(host_)) {
    if (auto sa = detail::ipSockAddr(host_, port_)) return detail::toAddress(*sa, "TCP");
  }
  return HostnameAddress{host_, port_};
}

void Connector::connect() {
  if (state_ != State::disconnected) {
    throw std::logic_error("can't connect in this state");
  }
  state_ = State::connecting;
  if (!factoryStarted_) {
    factory_->doStart();
    factoryStarted_ = true;
  }
  startCall_ = reactor_.callLater(0, [self = self()] {
    self->startCall_.reset();
    self->begin();
  });
  std::weak_ptr<Connector> weak = self();
  timeoutCall_ = reactor_.callLater(timeout_, [weak] {
    if (auto self = weak.lock()) {
      self->timeoutCall_.reset();
      self->connectionFailed(Failure(error::TimeoutError()));
    }
  });
  factory_->startedConnecting(*this);
}

void Connector::begin() {
  if (state_ != State::connecting) return;
  if (unix_) {
    if (checkPID_ && !detail::isLocked(host_ + ".lock")) {
      connectionFailed(Failure(error::BadFileError(host_)));
      return;
    }
    detail::SockAddr address;
    try {
      address = detail::unixSockAddr(host_);
    } catch (...) {
      connectionFailed(Failure(error::BadFileError(host_)));
      return;
    }
    connectTo(address);
    return;
  }
  if (auto address = detail::ipSockAddr(host_, port_)) {
    connectTo(*address);
    return;
  }
  Deferred<std::vector<Address>> lookup;
  try {
    lookup = reactor_.nameResolver().resolveHostName(host_, port_, AddressTypes::any, "TCP");
  } catch (...) {
    connectionFailed(Failure::current());
    return;
  }
  resolving_ = lookup;
  auto self = this->self();
  lookup.addCallbacks(
      [self](std::vector<Address> found) {
        if (!self->resolving_) return;  // abandoned
        self->resolving_.reset();
        if (self->state_ != State::connecting) return;
        for (const Address& a : found) {
          std::optional<detail::SockAddr> sa;
          if (const auto* v4 = std::get_if<IPv4Address>(&a))
            sa = detail::ipSockAddr(v4->host, v4->port);
          if (const auto* v6 = std::get_if<IPv6Address>(&a)) {
            sa = detail::ipSockAddr(v6->host, v6->port);
            if (sa) reinterpret_cast<sockaddr_in6*>(&sa->storage)->sin6_scope_id = v6->scopeID;
          }
          if (sa) {
            self->connectTo(*sa);
            return;
          }
        }
        self->connectionFailed(
            Failure(error::DNSLookupError("address '" + self->host_ + "' not found")));
      },
      [self](const Failure& why) {
        if (!self->resolving_) return;
        self->resolving_.reset();
        if (self->state_ != State::connecting) return;
        self->connectionFailed(why);
      });
}

void Connector::connectTo(const detail::SockAddr& address) {
  std::error_code ec;
  detail::UniqueFd fd = detail::makeSocket(address.family(), SOCK_STREAM, ec);
  if (ec) {
    connectionFailed(detail::connectFailure(ec, "socket"));
    return;
  }
  if (bindAddress_) {
    std::optional<detail::SockAddr> local =
        bindAddress_->host.empty() ? detail::anySockAddr(address.family(), bindAddress_->port)
                                   : detail::ipSockAddr(bindAddress_->host, bindAddress_->port);
    if (!local || local->family() != address.family()) {
      connectionFailed(
          Failure(error::ConnectBindError("bad bindAddress '" + bindAddress_->host + "'")));
      return;
    }
    detail::setIntOption(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    if (::bind(fd.get(), local->get(), local->length) != 0) {
      connectionFailed(Failure(error::ConnectBindError({}, detail::lastSocketError())));
      return;
    }
  }
  int rc = ::connect(fd.get(), address.get(), address.length);
  if (rc != 0 && errno != EINPROGRESS && errno != EINTR && errno != EAGAIN) {
    connectionFailed(detail::connectFailure(detail::lastSocketError()));
    return;
  }
  int family = address.family();
  attempt_ = makeConnection(reactor_, std::move(fd), family, self());
  try {
    attempt_->startConnecting();  // completion (even an immediate one) arrives as writability
  } catch (...) {
    auto attempt = std::move(attempt_);
    attempt->cancelConnecting();
    connectionFailed(Failure::current());
  }
}

void Connector::cancelPending() noexcept {
  cancelCall(startCall_);
  cancelCall(timeoutCall_);
  if (resolving_) {
    auto lookup = std::move(*resolving_);
    resolving_.reset();
    try {
      lookup.cancel();
    } catch (...) {
    }
  }
  if (auto attempt = std::move(attempt_)) attempt->cancelConnecting();
}

void Connector::connectionFailed(const Failure& reason) {
  if (state_ != State::connecting) return;
  auto keep = self();
  cancelPending();
  state_ = State::disconnected;
  log::callLogged("Unhandled error in clientConnectionFailed", kSystem,
                  [&] { factory_->clientConnectionFailed(*this, reason); });
  finishCycle();
}

std::shared_ptr<IProtocol> Connector::connected(const Address& peer, bool& refused) {
  cancelCall(timeoutCall_);
  transport_ = attempt_;
  attempt_.reset();
  state_ = State::connected;
  std::shared_ptr<IProtocol> protocol = factory_->buildProtocol(peer);
  refused = !protocol;
  if (!protocol) protocol = std::make_shared<Protocol>();
  return protocol;
}

void Connector::connectionLost(const Failure& reason) {
  if (state_ != State::connected) return;
  auto keep = self();
  state_ = State::disconnected;
  transport_.reset();
  log::callLogged("Unhandled error in clientConnectionLost", kSystem,
                  [&] { factory_->clientConnectionLost(*this, reason); });
  finishCycle();
}

// The factory did not reconnect from inside its callback: this cycle is over.
void Connector::finishCycle() {
  if (state_ == State::disconnected && factoryStarted_) {
    factoryStarted_ = false;
    log::callLogged("Unhandled error in doStop", kSystem, [&] { factory_->doStop(); });
  }
}

void Connector::stopConnecting() {
  if (state_ != State::connecting) {
    throw error::NotConnectingError();
  }
  connectionFailed(Failure(error::UserError()));
}

void Connector::disconnect() {
  if (state_ == State::connecting) {
    stopConnecting();
  } else if (state_ == State::connected) {
    if (auto transport = transport_.lock()) transport->loseConnection();
  }
}

}  // namespace coil::stream
