#pragma once
/// @file WrappingFactory: the client factory and protocol that turn a connector's callbacks into
/// the Deferred a client endpoint's connect() returns (Twisted's endpoints._WrappingFactory and
/// _WrappingProtocol). Private to transports/endpoints.

#include <coil/core/Deferred.hpp>
#include <coil/core/IConnector.hpp>
#include <coil/core/Protocol.hpp>

#include <memory>

namespace coil::endpoints::detail {

/// Wraps the user's factory for one connection attempt: buildProtocol() wraps the user's
/// protocol, whose connectionMade() fires onConnection(); connection failures, a null protocol
/// (error::NoProtocol) and exceptions from the user's buildProtocol() fail it. doStart/doStop
/// pass through. Create with std::make_shared. Thread: reactor.
class WrappingFactory : public ClientFactory {
 public:
  /// Wraps `wrapped` (not null).
  explicit WrappingFactory(std::shared_ptr<Factory> wrapped);
  /// The Deferred of the attempt; cancelling it before it fires fails it with
  /// error::ConnectingCancelledError(destination) and calls the connector's stopConnecting().
  Deferred<std::shared_ptr<IProtocol>>& onConnection() noexcept { return onConnection_; }
  /// Forwards to the user's factory.
  void doStart() override;
  /// Forwards to the user's factory.
  void doStop() override;
  /// Remembers the connector, for cancellation.
  void startedConnecting(IConnector& connector) override;
  /// The user's protocol, wrapped so that its connection fires onConnection(); null (and
  /// onConnection() failed) when the user's buildProtocol() returns null or throws.
  std::shared_ptr<IProtocol> buildProtocol(const Address& addr) override;
  /// Fails onConnection() with `reason` unless it already fired.
  void clientConnectionFailed(IConnector& connector, const Failure& reason) override;
  /// The user's factory's prefix.
  std::string logPrefix() const override { return wrapped_->logPrefix(); }

 private:
  std::shared_ptr<Factory> wrapped_;
  std::shared_ptr<std::weak_ptr<IConnector>> connector_;  // shared with the canceller
  Deferred<std::shared_ptr<IProtocol>> onConnection_;
};

/// Connects through `connect(wrappingFactory)` (which returns the connector, or throws) and
/// returns the attempt's Deferred (failed with the exception when connect throws).
template <class Connect>
Deferred<std::shared_ptr<IProtocol>> connectWrapped(std::shared_ptr<Factory> factory,
                                                    Connect&& connect) {
  try {
    auto wrapping = std::make_shared<WrappingFactory>(std::move(factory));
    connect(wrapping);
    return wrapping->onConnection();
  } catch (...) {
    return fail<std::shared_ptr<IProtocol>>(Failure::current());
  }
}

}  // namespace coil::endpoints::detail
