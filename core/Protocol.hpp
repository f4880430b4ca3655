#pragma once
/// @file Protocol: protocols and the factories that build them (Twisted's internet/protocol.py):
/// IProtocol, Protocol, Factory, ServerFactory, ClientFactory, ReconnectingClientFactory,
/// DatagramProtocol, ConnectedDatagramProtocol.

#include <coil/core/Address.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/IConnector.hpp>
#include <coil/core/IReactorTime.hpp>
#include <coil/core/ITransport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace coil {

class Factory;
/// A datagram transport (UDP, UNIX datagram); defined by core/IDatagramTransport.hpp (issue #5).
class IDatagramTransport;

/// The events a stream transport delivers (Twisted's IProtocol). Protocols are held by
/// std::shared_ptr: the transport keeps its protocol alive until connectionLost() has returned.
/// An exception escaping any of these callbacks is the transport's business: it logs it and
/// loses the connection with that exception as the reason (connectionLost still runs once).
/// Thread: reactor.
class IProtocol {
 public:
  virtual ~IProtocol() = default;

  /// The transport connected this protocol: remember `transport`, then connectionMade().
  /// `transport` stays valid until connectionLost() returns.
  virtual void makeConnection(ITransport& transport) = 0;

  /// The connection is up; the protocol may write.
  virtual void connectionMade() = 0;

  /// Bytes arrived; `data` is valid only during the call and may hold any split of the stream.
  virtual void dataReceived(std::string_view data) = 0;

  /// The connection is gone, for `reason` (error::ConnectionDone for a clean close,
  /// error::ConnectionLost / ConnectionAborted otherwise). Called exactly once.
  virtual void connectionLost(const Failure& reason) = 0;

  /// A short prefix for log lines about this protocol's connection.
  virtual std::string logPrefix() const { return "-"; }
};

/// The usual base for stream protocols: every event is a no-op; makeConnection() sets
/// transport() and `connected` then calls connectionMade(). Thread: reactor.
class Protocol : public IProtocol {
 public:
  /// Sets transport() and `connected`, then calls connectionMade().
  void makeConnection(ITransport& transport) override;
  /// Does nothing.
  void connectionMade() override {}
  /// Does nothing.
  void dataReceived(std::string_view /*data*/) override {}
  /// Does nothing.
  void connectionLost(const Failure& /*reason*/) override {}

  /// The transport given to makeConnection(): null before it; valid until connectionLost()
  /// returns (do not use it afterwards).
  ITransport* transport() const noexcept { return transport_; }

  /// The factory that built this protocol, if it still exists, as `F` (null if the factory is
  /// gone or is not an F).
  template <class F = Factory>
  std::shared_ptr<F> factoryAs() const {
    return std::dynamic_pointer_cast<F>(factory.lock());
  }

  /// True once makeConnection() ran (Twisted's `connected`; like Twisted, never reset).
  bool connected = false;
  /// The factory that built this protocol (set by Factory::buildProtocol); weak, because the
  /// factory usually outlives its protocols and must not be kept alive by them.
  std::weak_ptr<Factory> factory;

 protected:
  /// The current transport (subclasses that wrap transports may replace it).
  ITransport* transport_ = nullptr;
};

/// Builds protocols for a port or connector and counts the ports/connectors using it.
/// Factories are held by std::shared_ptr (ports and connectors keep theirs). Thread: reactor.
class Factory : public std::enable_shared_from_this<Factory> {
 public:
  /// Makes the protocol buildProtocol() returns; empty = buildProtocol() returns null.
  using ProtocolMaker = std::function<std::shared_ptr<IProtocol>()>;

  /// A factory with no protocol maker.
  Factory() = default;
  /// Copies configuration (`protocol`, `noisy`), not the port count.
  Factory(const Factory& other)
      : std::enable_shared_from_this<Factory>(), protocol(other.protocol), noisy(other.noisy) {}
  Factory& operator=(const Factory&) = delete;
  virtual ~Factory() = default;

  /// A `F` whose `protocol` makes `std::make_shared<P>(args...)` (arguments copied now).
  template <class P, class... A>
  static std::shared_ptr<Factory> forProtocol(A&&... args) {
    return makeFor<Factory, P>(std::forward<A>(args)...);
  }

  /// Called by each port/connector when it starts using this factory: the first call runs
  /// startFactory() (logging "Starting factory <prefix>" when `noisy`).
  virtual void doStart();

  /// Called by each port/connector when it stops using it: no-op at zero; the call that brings
  /// the count to zero runs stopFactory() (logging "Stopping factory <prefix>" when `noisy`).
  virtual void doStop();

  /// Hook: the first port/connector started. Does nothing.
  virtual void startFactory() {}

  /// Hook: the last port/connector stopped. Does nothing.
  virtual void stopFactory() {}

  /// A protocol for a connection with `addr` (the peer's address), or null to refuse it (the
  /// server closes the socket; a client loses the connection). Default: `protocol()`, with
  /// Protocol::factory set to this factory (when it is owned by a shared_ptr).
  virtual std::shared_ptr<IProtocol> buildProtocol(const Address& addr);

  /// A short name for log lines (default: "Factory").
  virtual std::string logPrefix() const { return "Factory"; }

  /// How many ports/connectors use this factory (Twisted's numPorts).
  int numPorts() const noexcept { return numPorts_; }

  /// Twisted's `protocol` class attribute: what buildProtocol() instantiates.
  ProtocolMaker protocol;
  /// Log "Starting factory"/"Stopping factory" (Twisted's `noisy`).
  bool noisy = true;

 protected:
  /// forProtocol() for a factory type `F` (default-constructible).
  template <class F, class P, class... A>
  static std::shared_ptr<F> makeFor(A&&... args) {
    auto f = std::make_shared<F>();
    f->protocol = [captured = std::tuple<std::decay_t<A>...>(
                       std::forward<A>(args)...)]() -> std::shared_ptr<IProtocol> {
      return std::apply([](const auto&... a) { return std::make_shared<P>(a...); }, captured);
    };
    return f;
  }

 private:
  int numPorts_ = 0;
};

/// A factory for servers (Twisted's ServerFactory): a Factory with a distinct type.
/// Thread: reactor.
class ServerFactory : public Factory {
 public:
  /// A ServerFactory whose protocol is `std::make_shared<P>(args...)`.
  template <class P, class... A>
  static std::shared_ptr<ServerFactory> forProtocol(A&&... args) {
    return makeFor<ServerFactory, P>(std::forward<A>(args)...);
  }
};

/// A factory for clients: also told about the connector's progress. Calling
/// connector.connect() inside clientConnectionFailed/Lost reconnects. Thread: reactor.
class ClientFactory : public Factory {
 public:
  /// A ClientFactory whose protocol is `std::make_shared<P>(args...)`.
  template <class P, class... A>
  static std::shared_ptr<ClientFactory> forProtocol(A&&... args) {
    return makeFor<ClientFactory, P>(std::forward<A>(args)...);
  }

  /// A connection attempt started. Does nothing.
  virtual void startedConnecting(IConnector& /*connector*/) {}

  /// The attempt failed for `reason` (ConnectionRefusedError, TimeoutError, UserError, …).
  /// Does nothing.
  virtual void clientConnectionFailed(IConnector& /*connector*/, const Failure& /*reason*/) {}

  /// An established connection was lost for `reason`, after the protocol's connectionLost().
  /// Does nothing.
  virtual void clientConnectionLost(IConnector& /*connector*/, const Failure& /*reason*/) {}
};

/// A ClientFactory that reconnects with exponential back-off and jitter (Twisted's
/// ReconnectingClientFactory, same defaults and formula). Nothing resets on success: call
/// resetDelay() once connected (usually in buildProtocol()). Thread: reactor.
class ReconnectingClientFactory : public ClientFactory {
 public:
  /// Schedules retries on `clock` (a reactor or task::Clock); the random engine is seeded from
  /// std::random_device.
  explicit ReconnectingClientFactory(IReactorTime& clock);
  /// Copies configuration only (delays, factor, jitter, maxRetries, protocol, noisy, clock,
  /// random engine state); transient state starts fresh, as after Twisted's unpickling:
  /// no connector, no pending retry, retries 0, delay = initialDelay, continueTrying true.
  ReconnectingClientFactory(const ReconnectingClientFactory& other);
  ReconnectingClientFactory& operator=(const ReconnectingClientFactory&) = delete;
  /// Cancels a pending retry.
  ~ReconnectingClientFactory() override;

  /// Remembers `connector` and retry()s if still trying.
  void clientConnectionFailed(IConnector& connector, const Failure& reason) override;
  /// Remembers `connector` and retry()s if still trying.
  void clientConnectionLost(IConnector& connector, const Failure& reason) override;

  /// Schedules connector->connect() (default: the remembered connector; none throws
  /// std::invalid_argument). Gives up when not continueTrying, or when ++retries exceeds
  /// maxRetries (so exactly maxRetries retries happen). Otherwise delay = min(delay * factor,
  /// maxDelay), then, if jitter, delay = normal(delay, delay * jitter) (may exceed maxDelay;
  /// clamped at 0), and clock.callLater(delay, connect). The first retry is ≈ 2.72 s.
  void retry(IConnector* connector = nullptr);

  /// Stops for good: cancels the pending retry, continueTrying = false, and
  /// connector->stopConnecting() (error::NotConnectingError ignored).
  void stopTrying();

  /// Back to the start: delay = initialDelay, retries = 0, continueTrying = true, forgets the
  /// pending retry handle (as Twisted does, an already-scheduled retry still runs).
  void resetDelay();

  /// The connector last seen (null if none, or if it was destroyed).
  std::shared_ptr<IConnector> connector() const { return connector_.lock(); }

  /// The pending retry (Twisted's _callID), or null.
  const DelayedCallPtr& callID() const noexcept { return callID_; }

  /// The clock retries are scheduled on.
  IReactorTime& clock() const noexcept { return *clock_; }

  /// The engine behind the jitter (std::normal_distribution over it); replace or seed it for
  /// reproducible tests.
  std::mt19937& randomEngine() noexcept { return rng_; }

  /// Reseeds randomEngine().
  void seed(std::uint32_t value) { rng_.seed(value); }

  /// Upper bound of the delay before jitter, seconds.
  double maxDelay = 3600;
  /// The delay retries start from, seconds.
  double initialDelay = 1.0;
  /// Multiplier per retry (e).
  double factor = 2.7182818284590451;
  /// Standard deviation of the delay, as a fraction of it.
  double jitter = 0.119626565582;
  /// Maximum retries; nullopt = unlimited.
  std::optional<int> maxRetries;
  /// The current delay, seconds.
  double delay = initialDelay;
  /// Retries since the last resetDelay().
  int retries = 0;
  /// False after stopTrying().
  bool continueTrying = true;

 private:
  IReactorTime* clock_;
  std::mt19937 rng_;
  std::weak_ptr<IConnector> connector_;
  DelayedCallPtr callID_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // retry calls hold it weakly
};

/// Shared part of datagram protocols (Twisted's AbstractDatagramProtocol): one protocol
/// instance may serve several ports; startProtocol()/stopProtocol() run on the first doStart()
/// and the last doStop(). Thread: reactor.
class AbstractDatagramProtocol {
 public:
  virtual ~AbstractDatagramProtocol() = default;

  /// The port starts using this protocol: remember `transport`, then doStart(). A protocol
  /// that already has a transport throws std::logic_error.
  virtual void makeConnection(IDatagramTransport& transport);

  /// First call runs startProtocol() (logging "Starting protocol <prefix>" when `noisy`).
  virtual void doStart();

  /// Forgets the transport; the call that brings the count to zero runs stopProtocol()
  /// (logging "Stopping protocol <prefix>"). At zero already throws std::logic_error.
  virtual void doStop();

  /// Hook: the protocol started listening. Does nothing.
  virtual void startProtocol() {}

  /// Hook: the protocol stopped listening. Does nothing.
  virtual void stopProtocol() {}

  /// The port's transport: null outside makeConnection()..doStop().
  IDatagramTransport* transport() const noexcept { return transport_; }

  /// The transport as `T` (IUDPTransport, IMulticastTransport, IUNIXDatagramTransport, …), or
  /// null when there is none or it is not a `T`. Include T's header to use it.
  template <class T>
  T* transportAs() const {
    return dynamic_cast<T*>(transport_);
  }

  /// How many ports use this protocol.
  int numPorts() const noexcept { return numPorts_; }

  /// A short name for log lines.
  virtual std::string logPrefix() const { return "DatagramProtocol"; }

  /// Log start/stop (Twisted's `noisy`).
  bool noisy = true;

 protected:
  /// The current transport.
  IDatagramTransport* transport_ = nullptr;

 private:
  int numPorts_ = 0;
};

/// A protocol for unconnected datagram ports (Twisted's DatagramProtocol). Thread: reactor.
class DatagramProtocol : public AbstractDatagramProtocol {
 public:
  /// A datagram arrived from `addr`; `data` is valid only during the call. Does nothing.
  virtual void datagramReceived(std::string_view /*data*/, const Address& /*addr*/) {}

  /// A previous send was refused (ICMP port unreachable; connected UDP only). Does nothing.
  virtual void connectionRefused() {}
};

/// A protocol for connected datagram sockets (Twisted's ConnectedDatagramProtocol).
/// Thread: reactor.
class ConnectedDatagramProtocol : public AbstractDatagramProtocol {
 public:
  /// A datagram arrived from the connected peer. Does nothing.
  virtual void datagramReceived(std::string_view /*data*/) {}

  /// Connecting failed for `reason`. Does nothing.
  virtual void connectionFailed(const Failure& /*reason*/) {}

  /// A previous send was refused. Does nothing.
  virtual void connectionRefused() {}
};

}  // namespace coil
