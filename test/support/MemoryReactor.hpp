#pragma once
/// @file MemoryReactor: a reactor that records listen/connect calls instead of making sockets,
/// with time from a task::Clock (Twisted's internet/testing.MemoryReactorClock).
///
/// listenTCP/listenUNIX/adoptStreamPort return FakeListeningPorts; connectTCP/connectUNIX make
/// a FakeConnector (test/support/FakeConnector.hpp), call its connect() — so the factory is
/// started and told startedConnecting() — and return it; the test then makes the attempt
/// succeed (`connectors.back()->connectionMade(transport)`) or fail (`refuse()`). Time is the
/// clock's: callLater() schedules on it and `clock.advance()` runs what is due.

#include <coil/core/Address.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/IListeningPort.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/core/task/Clock.hpp>
#include <test/support/FakeConnector.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coil::test {

/// A listening port that only records stopListening(). Thread: the test's.
class FakeListeningPort : public IListeningPort {
 public:
  /// A port reporting `host` and serving with `factory`.
  FakeListeningPort(Address host, std::shared_ptr<Factory> factory)
      : host_(std::move(host)), factory_(std::move(factory)) {}
  /// Records the call (listening() becomes true).
  void startListening() override { listening_ = true; }
  /// Records the call (listening() becomes false); an already-fired Deferred.
  Deferred<void> stopListening() override {
    listening_ = false;
    return succeed();
  }
  /// The address given.
  Address getHost() const override { return host_; }
  /// True until stopListening().
  bool listening() const noexcept { return listening_; }
  /// The factory given.
  const std::shared_ptr<Factory>& factory() const noexcept { return factory_; }

 private:
  Address host_;
  std::shared_ptr<Factory> factory_;
  bool listening_ = true;
};

/// A ReactorBase that records what it is asked to do instead of doing I/O (Twisted's
/// MemoryReactorClock). Thread: the test's.
class MemoryReactor : public ReactorBase {
 public:
  /// One listenTCP() call.
  struct TCPServer {
    /// Arguments, as given.
    int port;
    std::shared_ptr<Factory> factory;  ///< as given
    int backlog;                       ///< as given
    std::string interface;             ///< as given
  };
  /// One connectTCP() call.
  struct TCPClient {
    /// Arguments, as given.
    std::string host;
    int port;                                ///< as given
    std::shared_ptr<ClientFactory> factory;  ///< as given
    double timeout;                          ///< as given
    std::optional<BindAddress> bindAddress;  ///< as given
  };
  /// One listenUNIX() call.
  struct UNIXServer {
    /// Arguments, as given.
    std::string address;
    std::shared_ptr<Factory> factory;  ///< as given
    int backlog;                       ///< as given
    int mode;                          ///< as given
    bool wantPID;                      ///< as given
  };
  /// One connectUNIX() call.
  struct UNIXClient {
    /// Arguments, as given.
    std::string address;
    std::shared_ptr<ClientFactory> factory;  ///< as given
    double timeout;                          ///< as given
    bool checkPID;                           ///< as given
  };
  /// One adoptStreamPort() call.
  struct AdoptedPort {
    /// Arguments, as given.
    int fd;
    int addressFamily;                 ///< as given
    std::shared_ptr<Factory> factory;  ///< as given
  };

  /// Cancels what is still scheduled on the clock.
  ~MemoryReactor() override { stopThreadPool(); }

  // ---- time: the clock's
  /// clock.seconds().
  double seconds() const override { return clock.seconds(); }
  /// clock.callLater().
  DelayedCallPtr callLater(double delay, DelayedFunction f) override {
    return clock.callLater(delay, std::move(f));
  }
  using ReactorBase::callLater;
  /// clock.getDelayedCalls().
  std::vector<DelayedCallPtr> getDelayedCalls() const override { return clock.getDelayedCalls(); }

  // ---- no I/O
  /// Ignored.
  void addReader(FileDescriptorPtr) override {}
  /// Ignored.
  void addWriter(FileDescriptorPtr) override {}
  /// Ignored.
  void removeReader(IFileDescriptor*) override {}
  /// Ignored.
  void removeWriter(IFileDescriptor*) override {}
  /// Nothing registered.
  std::vector<FileDescriptorPtr> removeAll() override { return {}; }
  /// Nothing registered.
  std::vector<FileDescriptorPtr> getReaders() const override { return {}; }
  /// Nothing registered.
  std::vector<FileDescriptorPtr> getWriters() const override { return {}; }
  /// Does nothing (use clock.advance()).
  void doIteration(std::optional<double>) override {}
  /// Does nothing.
  void wakeUp() override {}
  /// "memory".
  std::string_view backendName() const override { return "memory"; }

  /// The time source (advance it to run delayed calls).
  task::Clock clock;
  /// Every listenTCP() call, in order.
  std::vector<TCPServer> tcpServers;
  /// Every connectTCP() call, in order.
  std::vector<TCPClient> tcpClients;
  /// Every listenUNIX() call, in order.
  std::vector<UNIXServer> unixServers;
  /// Every connectUNIX() call, in order.
  std::vector<UNIXClient> unixClients;
  /// Every adoptStreamPort() call, in order.
  std::vector<AdoptedPort> adoptedPorts;
  /// The connectors made by connectTCP()/connectUNIX(), in order.
  std::vector<std::shared_ptr<FakeConnector>> connectors;
  /// The ports returned by the listen calls, in order.
  std::vector<std::shared_ptr<FakeListeningPort>> ports;
  /// When set, listen calls throw it (after recording their arguments).
  std::exception_ptr listenError;
  /// When set, connect calls throw it (after recording their arguments).
  std::exception_ptr connectError;

 protected:
  /// Records the call; returns a port at interface:port (0.0.0.0 or :: when empty/"::").
  std::shared_ptr<IListeningPort> doListenTCP(int port, std::shared_ptr<Factory> factory,
                                              int backlog, std::string_view interface) override {
    tcpServers.push_back({port, factory, backlog, std::string(interface)});
    if (interface.find(':') != std::string_view::npos)
      return listened(IPv6Address{"TCP", std::string(interface), port}, std::move(factory));
    return listened(
        IPv4Address{"TCP", interface.empty() ? "0.0.0.0" : std::string(interface), port},
        std::move(factory));
  }
  /// Records the call; returns a started FakeConnector towards host:port.
  std::shared_ptr<IConnector> doConnectTCP(std::string_view host, int port,
                                           std::shared_ptr<ClientFactory> factory, double timeout,
                                           std::optional<BindAddress> bindAddress) override {
    tcpClients.push_back({std::string(host), port, factory, timeout, bindAddress});
    Address to = host.find(':') != std::string_view::npos
                     ? Address(IPv6Address{"TCP", std::string(host), port})
                     : Address(IPv4Address{"TCP", std::string(host), port});
    return connected(std::move(factory), std::move(to));
  }
  /// Records the call; returns a port at the path.
  std::shared_ptr<IListeningPort> doListenUNIX(std::string address,
                                               std::shared_ptr<Factory> factory, int backlog,
                                               int mode, bool wantPID) override {
    unixServers.push_back({address, factory, backlog, mode, wantPID});
    return listened(UNIXAddress{std::move(address)}, std::move(factory));
  }
  /// Records the call; returns a started FakeConnector towards the path.
  std::shared_ptr<IConnector> doConnectUNIX(std::string address,
                                            std::shared_ptr<ClientFactory> factory, double timeout,
                                            bool checkPID) override {
    unixClients.push_back({address, factory, timeout, checkPID});
    return connected(std::move(factory), UNIXAddress{std::move(address)});
  }
  /// Records the call; returns a port at 0.0.0.0:0.
  std::shared_ptr<IListeningPort> doAdoptStreamPort(int fd, int addressFamily,
                                                    std::shared_ptr<Factory> factory) override {
    adoptedPorts.push_back({fd, addressFamily, factory});
    return listened(IPv4Address{"TCP", "0.0.0.0", 0}, std::move(factory));
  }

 private:
  std::shared_ptr<IListeningPort> listened(Address host, std::shared_ptr<Factory> factory) {
    if (listenError) std::rethrow_exception(listenError);
    auto port = std::make_shared<FakeListeningPort>(std::move(host), std::move(factory));
    ports.push_back(port);
    return port;
  }

  std::shared_ptr<IConnector> connected(std::shared_ptr<ClientFactory> factory, Address to) {
    if (connectError) std::rethrow_exception(connectError);
    auto connector = std::make_shared<FakeConnector>(std::move(factory), std::move(to));
    connectors.push_back(connector);
    connector->connect();
    return connector;
  }
};

}  // namespace coil::test
