// WrappingFactory: the client endpoints' wrapping factory and protocol.
// Tests: test/transports/endpoints/ClientEndpointTest.cpp
#include <coil/transports/endpoints/detail/WrappingFactory.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/IFileDescriptorReceiver.hpp>
#include <coil/core/IHalfCloseableProtocol.hpp>

#include <stdexcept>

namespace coil::endpoints::detail {

namespace {

// Delivers the user's protocol events; fires the connection Deferred after its connectionMade.
class WrappingProtocol : public Protocol {
 public:
  WrappingProtocol(Deferred<std::shared_ptr<IProtocol>> connected,
                   std::shared_ptr<IProtocol> wrapped)
      : connected_(std::move(connected)), wrapped_(std::move(wrapped)) {}

  void connectionMade() override {
    try {
      wrapped_->makeConnection(*transport());
    } catch (...) {
      // The transport loses the connection with this error; the caller learns it too.
      if (!connected_.called()) connected_.errback(Failure::current());
      throw;
    }
    if (!connected_.called()) connected_.callback(wrapped_);
  }
  void dataReceived(std::string_view data) override { wrapped_->dataReceived(data); }
  void connectionLost(const Failure& reason) override { wrapped_->connectionLost(reason); }
  std::string logPrefix() const override { return wrapped_->logPrefix(); }

 protected:
  IProtocol& wrapped() const noexcept { return *wrapped_; }

 private:
  Deferred<std::shared_ptr<IProtocol>> connected_;
  std::shared_ptr<IProtocol> wrapped_;
};

// Optional interfaces: a wrapper offers one only when the user's protocol does, since
// transports find them with dynamic_cast (Twisted's proxyForInterface per provided interface).
class ForwardHalfClose : public IHalfCloseableProtocol {
 public:
  using Interface = IHalfCloseableProtocol;
  explicit ForwardHalfClose(IHalfCloseableProtocol& to) : to_(to) {}
  void readConnectionLost() override { to_.readConnectionLost(); }
  void writeConnectionLost() override { to_.writeConnectionLost(); }

 private:
  IHalfCloseableProtocol& to_;
};

class ForwardFileDescriptors : public IFileDescriptorReceiver {
 public:
  using Interface = IFileDescriptorReceiver;
  explicit ForwardFileDescriptors(IFileDescriptorReceiver& to) : to_(to) {}
  void fileDescriptorReceived(int fd) override { to_.fileDescriptorReceived(fd); }

 private:
  IFileDescriptorReceiver& to_;
};

// The wrapped protocol outlives the references the forwarders hold: WrappingProtocol owns it.
template <class... Forwarders>
class WrappingProtocolWith final : public WrappingProtocol, public Forwarders... {
 public:
  WrappingProtocolWith(Deferred<std::shared_ptr<IProtocol>> connected,
                       const std::shared_ptr<IProtocol>& wrapped)
      : WrappingProtocol(std::move(connected), wrapped),
        Forwarders(dynamic_cast<typename Forwarders::Interface&>(*wrapped))... {}
};

std::shared_ptr<IProtocol> wrap(Deferred<std::shared_ptr<IProtocol>> connected,
                                const std::shared_ptr<IProtocol>& p) {
  const bool halfClose = dynamic_cast<IHalfCloseableProtocol*>(p.get()) != nullptr;
  const bool fds = dynamic_cast<IFileDescriptorReceiver*>(p.get()) != nullptr;
  if (halfClose && fds)
    return std::make_shared<WrappingProtocolWith<ForwardHalfClose, ForwardFileDescriptors>>(
        std::move(connected), p);
  if (halfClose)
    return std::make_shared<WrappingProtocolWith<ForwardHalfClose>>(std::move(connected), p);
  if (fds)
    return std::make_shared<WrappingProtocolWith<ForwardFileDescriptors>>(std::move(connected), p);
  return std::make_shared<WrappingProtocolWith<>>(std::move(connected), p);
}

}  // namespace

WrappingFactory::WrappingFactory(std::shared_ptr<Factory> wrapped)
    : wrapped_(std::move(wrapped)),
      connector_(std::make_shared<std::weak_ptr<IConnector>>()),
      onConnection_([connector = connector_](Deferred<std::shared_ptr<IProtocol>>& d) {
        // The canceller may run after this factory is gone: it holds only the shared slot.
        std::shared_ptr<IConnector> c = connector->lock();
        if (!c) return;  // no attempt to stop: plain CancelledError
        d.errback(error::ConnectingCancelledError(toString(c->getDestination())));
        try {
          c->stopConnecting();
        } catch (const error::NotConnectingError&) {
        }
      }) {
  if (!wrapped_) throw std::invalid_argument("a client endpoint needs a factory");
}

void WrappingFactory::doStart() {
  wrapped_->doStart();
}

void WrappingFactory::doStop() {
  wrapped_->doStop();
}

void WrappingFactory::startedConnecting(IConnector& connector) {
  *connector_ = connector.weak_from_this();
}

std::shared_ptr<IProtocol> WrappingFactory::buildProtocol(const Address& addr) {
  std::shared_ptr<IProtocol> user;
  try {
    user = wrapped_->buildProtocol(addr);
    if (!user) throw error::NoProtocol();
  } catch (...) {
    if (!onConnection_.called()) onConnection_.errback(Failure::current());
    return nullptr;
  }
  return wrap(onConnection_, user);
}

void WrappingFactory::clientConnectionFailed(IConnector& /*connector*/, const Failure& reason) {
  if (!onConnection_.called()) onConnection_.errback(reason);
}

}  // namespace coil::endpoints::detail
