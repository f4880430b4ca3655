#pragma once
/// @file FakeConnector: an IConnector that follows Twisted's BaseConnector state machine
/// without sockets; the test decides when attempts fail, succeed or are lost.

#include <coil/core/Address.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/IConnector.hpp>
#include <coil/core/ITransport.hpp>
#include <coil/core/Protocol.hpp>

#include <memory>
#include <stdexcept>
#include <utility>

namespace coil::test {

/// Simulates a client connector (spec §3.6): connect() starts the factory once per cycle and
/// calls startedConnecting(); connectionFailed()/connectionLost() report to the factory and
/// stop it unless it reconnected from inside the callback. Create it with std::make_shared
/// (IConnector requires shared ownership). Thread: the test's.
class FakeConnector : public IConnector {
 public:
  /// The connector's state, as BaseConnector's.
  enum class State { disconnected, connecting, connected };

  /// A connector for `factory` towards `destination`.
  explicit FakeConnector(std::shared_ptr<ClientFactory> factory,
                         Address destination = HostnameAddress{"example.com", 80})
      : factory_(std::move(factory)), destination_(std::move(destination)) {}

  /// Starts an attempt; throws std::logic_error unless disconnected.
  void connect() override {
    if (state_ != State::disconnected) throw std::logic_error("Can't connect in this state");
    ++connectCalls;
    state_ = State::connecting;
    if (!factoryStarted_) {
      factory_->doStart();
      factoryStarted_ = true;
    }
    factory_->startedConnecting(*this);
  }

  /// stopConnecting() or, when connected, connectionLost(ConnectionDone).
  void disconnect() override {
    if (state_ == State::connecting)
      stopConnecting();
    else if (state_ == State::connected)
      connectionLost(Failure(error::ConnectionDone()));
  }

  /// Fails the attempt with UserError; NotConnectingError unless connecting.
  void stopConnecting() override {
    if (state_ != State::connecting) throw error::NotConnectingError();
    ++stopConnectingCalls;
    connectionFailed(Failure(error::UserError()));
  }

  /// The destination given at construction.
  Address getDestination() const override { return destination_; }

  /// The attempt failed: state disconnected, clientConnectionFailed(), then doStop() unless the
  /// factory called connect() inside it.
  void connectionFailed(const Failure& reason) {
    state_ = State::disconnected;
    factory_->clientConnectionFailed(*this, reason);
    if (state_ == State::disconnected) {
      factory_->doStop();
      factoryStarted_ = false;
    }
  }

  /// The attempt was refused: connectionFailed(ConnectionRefusedError).
  void refuse() { connectionFailed(Failure(error::ConnectionRefusedError())); }

  /// The attempt succeeded: buildProtocol(peer of `transport`); a null protocol makes the
  /// connection lost at once (ConnectionDone), else makeConnection(transport). Returns it.
  std::shared_ptr<IProtocol> connectionMade(ITransport& transport) {
    state_ = State::connected;
    protocol_ = factory_->buildProtocol(transport.getPeer());
    if (!protocol_) {
      connectionLost(Failure(error::ConnectionDone()));
      return nullptr;
    }
    protocol_->makeConnection(transport);
    return protocol_;
  }

  /// The connection was lost: protocol's connectionLost() first, then clientConnectionLost(),
  /// then doStop() unless the factory reconnected.
  void connectionLost(const Failure& reason) {
    if (auto p = std::exchange(protocol_, nullptr)) p->connectionLost(reason);
    state_ = State::disconnected;
    factory_->clientConnectionLost(*this, reason);
    if (state_ == State::disconnected) {
      factory_->doStop();
      factoryStarted_ = false;
    }
  }

  /// The current state.
  State state() const noexcept { return state_; }

  /// The factory.
  const std::shared_ptr<ClientFactory>& factory() const noexcept { return factory_; }

  /// Number of connect() calls that started an attempt.
  int connectCalls = 0;
  /// Number of successful stopConnecting() calls.
  int stopConnectingCalls = 0;

 private:
  std::shared_ptr<ClientFactory> factory_;
  Address destination_;
  State state_ = State::disconnected;
  bool factoryStarted_ = false;
  std::shared_ptr<IProtocol> protocol_;
};

}  // namespace coil::test
