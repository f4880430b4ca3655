#pragma once
/// @file StreamTesting: the "endpoint pair" the stream transport tests are written against
/// (Twisted's ConnectionTestsMixin idea): how to listen, how to connect, what addresses look
/// like — instantiated for TCP over IPv4, TCP over IPv6, UNIX paths and UNIX abstract names.

#include <coil/core/Errors.hpp>
#include <coil/core/IHalfCloseableProtocol.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/detail/Socket.hpp>
#include <coil/transports/tcp/StreamConnection.hpp>

#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coil::test {

/// One kind of stream endpoint. Thread: the test's.
struct StreamKind {
  /// "TCP4", "TCP6", "UNIX", "UNIX-abstract".
  std::string name;
  /// AF_INET, AF_INET6, AF_UNIX.
  int family;
  /// Listens with `factory` on a fresh address.
  std::function<std::shared_ptr<IListeningPort>(ReactorBase&, std::shared_ptr<Factory>)> listen;
  /// Connects `factory` to `port`.
  std::function<std::shared_ptr<IConnector>(ReactorBase&, IListeningPort&,
                                            std::shared_ptr<ClientFactory>, double timeout)>
      connect;
};

/// A fresh UNIX socket path in the temp directory (not created). Thread: any.
inline std::string tempSocketPath(const std::string& tag = "s") {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TMPDIR");
  std::string base = dir && *dir ? dir : "/tmp";
  return base + "/coil-" + std::to_string(::getpid()) + "-" + tag + "-" +
         std::to_string(counter++) + ".sock";
}

/// True when ::1 can be bound (IPv6 loopback configured). Thread: any.
inline bool haveIPv6() {
  std::error_code ec;
  detail::UniqueFd fd = detail::makeSocket(AF_INET6, SOCK_STREAM, ec);
  if (ec) return false;
  auto sa = detail::ipSockAddr("::1", 0);
  return ::bind(fd.get(), sa->get(), sa->length) == 0;
}

/// The port number of an IP port. Thread: any.
inline int portOf(const IListeningPort& port) {
  Address a = port.getHost();
  if (auto* v4 = std::get_if<IPv4Address>(&a)) return v4->port;
  if (auto* v6 = std::get_if<IPv6Address>(&a)) return v6->port;
  return -1;
}

/// Every kind available here (TCP6 only when ::1 works). Thread: any.
inline std::vector<StreamKind> streamKinds() {
  std::vector<StreamKind> kinds;
  auto tcp = [](std::string name, int family, std::string host) {
    return StreamKind{name, family,
                      [host](ReactorBase& r, std::shared_ptr<Factory> f) {
                        return r.listenTCP(0, std::move(f), 50, host);
                      },
                      [host](ReactorBase& r, IListeningPort& p, std::shared_ptr<ClientFactory> f,
                             double t) { return r.connectTCP(host, portOf(p), std::move(f), t); }};
  };
  kinds.push_back(tcp("TCP4", AF_INET, "127.0.0.1"));
  if (haveIPv6()) kinds.push_back(tcp("TCP6", AF_INET6, "::1"));
  kinds.push_back(
      StreamKind{"UNIX", AF_UNIX,
                 [](ReactorBase& r, std::shared_ptr<Factory> f) {
                   return r.listenUNIX(tempSocketPath(), std::move(f));
                 },
                 [](ReactorBase& r, IListeningPort& p, std::shared_ptr<ClientFactory> f, double t) {
                   return r.connectUNIX(std::get<UNIXAddress>(p.getHost()).name, std::move(f), t);
                 }});
  kinds.push_back(StreamKind{
      "UNIX-abstract", AF_UNIX,
      [](ReactorBase& r, std::shared_ptr<Factory> f) {
        return r.listenUNIX(std::string(1, '\0') + tempSocketPath("abstract"), std::move(f));
      },
      [](ReactorBase& r, IListeningPort& p, std::shared_ptr<ClientFactory> f, double t) {
        return r.connectUNIX(std::get<UNIXAddress>(p.getHost()).name, std::move(f), t);
      }});
  return kinds;
}

/// A protocol that records what happens to it; hooks run inside the callbacks.
/// Thread: reactor.
class Recorder : public Protocol {
 public:
  void connectionMade() override {
    ++made;
    if (onMade) onMade(*this);
  }
  void dataReceived(std::string_view data) override {
    received.append(data);
    if (onData) onData(*this, data);
  }
  void connectionLost(const Failure& reason) override {
    ++lostCount;
    lost = reason;
    events.push_back("connectionLost");
    if (onLost) onLost(*this, reason);
  }
  /// The transport as the shared stream Connection.
  stream::Connection& connection() { return dynamic_cast<stream::Connection&>(*transport()); }

  int made = 0;
  int lostCount = 0;
  std::string received;
  std::optional<Failure> lost;
  std::vector<std::string> events;
  std::function<void(Recorder&)> onMade;
  std::function<void(Recorder&, std::string_view)> onData;
  std::function<void(Recorder&, const Failure&)> onLost;
};

/// A Recorder that also takes half-close events. Thread: reactor.
class HalfCloseRecorder : public Recorder, public IHalfCloseableProtocol {
 public:
  void readConnectionLost() override {
    ++readLost;
    if (onReadLost) onReadLost(*this);
  }
  void writeConnectionLost() override { ++writeLost; }
  int readLost = 0;
  int writeLost = 0;
  std::function<void(HalfCloseRecorder&)> onReadLost;
};

/// A server factory that keeps every protocol it builds (made by `make`). Thread: reactor.
template <class P = Recorder>
class RecordingServerFactory : public ServerFactory {
 public:
  RecordingServerFactory() { noisy = false; }
  std::shared_ptr<IProtocol> buildProtocol(const Address& addr) override {
    peers.push_back(addr);
    if (refuse) return nullptr;
    auto p = std::make_shared<P>();
    if (setup) setup(*p);
    built.push_back(p);
    return p;
  }
  std::vector<std::shared_ptr<P>> built;
  std::vector<Address> peers;
  std::function<void(P&)> setup;
  bool refuse = false;
};

/// A client factory that records the connector's progress. Thread: reactor.
template <class P = Recorder>
class RecordingClientFactory : public ClientFactory {
 public:
  RecordingClientFactory() { noisy = false; }
  std::shared_ptr<IProtocol> buildProtocol(const Address& addr) override {
    peers.push_back(addr);
    auto p = std::make_shared<P>();
    p->events.push_back("built");
    if (setup) setup(*p);
    built.push_back(p);
    return p;
  }
  void startedConnecting(IConnector& c) override {
    ++started;
    startedWith = &c;
  }
  void clientConnectionFailed(IConnector& c, const Failure& reason) override {
    failed = reason;
    ++failedCount;
    if (onFailed) onFailed(c, reason);
  }
  void clientConnectionLost(IConnector& c, const Failure& reason) override {
    lost = reason;
    lostWith = &c;
    if (!built.empty()) built.back()->events.push_back("clientConnectionLost");
    ++lostCount;
    if (onLost) onLost(c, reason);
  }
  std::vector<std::shared_ptr<P>> built;
  std::vector<Address> peers;
  std::function<void(P&)> setup;
  int started = 0;
  int failedCount = 0;
  int lostCount = 0;
  IConnector* startedWith = nullptr;
  IConnector* lostWith = nullptr;
  std::optional<Failure> failed;
  std::optional<Failure> lost;
  std::function<void(IConnector&, const Failure&)> onFailed;
  std::function<void(IConnector&, const Failure&)> onLost;
};

/// A connected server/client pair over one kind. Thread: the test's.
template <class S = Recorder, class C = Recorder>
struct StreamPair {
  std::shared_ptr<RecordingServerFactory<S>> serverFactory =
      std::make_shared<RecordingServerFactory<S>>();
  std::shared_ptr<RecordingClientFactory<C>> clientFactory =
      std::make_shared<RecordingClientFactory<C>>();
  std::shared_ptr<IListeningPort> port;
  std::shared_ptr<IConnector> connector;

  /// Listens, connects and iterates until both ends saw connectionMade (checked).
  bool open(ReactorBuilder& b, const StreamKind& kind) {
    port = kind.listen(b.reactor(), serverFactory);
    connector = kind.connect(b.reactor(), *port, clientFactory, 30);
    bool ok = b.iterateUntil([&] {
      return !serverFactory->built.empty() && serverFactory->built[0]->made == 1 &&
             !clientFactory->built.empty() && clientFactory->built[0]->made == 1;
    });
    BOOST_CHECK_MESSAGE(ok, kind.name << ": the pair did not connect");
    return ok;
  }
  /// The first server-side protocol.
  S& server() { return *serverFactory->built.at(0); }
  /// The first client-side protocol.
  C& client() { return *clientFactory->built.at(0); }

  /// Closes whatever is still open and stops listening, iterating until done (checked).
  void close(ReactorBuilder& b) {
    for (auto& p : serverFactory->built)
      if (p->lostCount == 0 && p->transport()) p->transport()->loseConnection();
    for (auto& p : clientFactory->built)
      if (p->lostCount == 0 && p->transport()) p->transport()->loseConnection();
    bool stopped = false;
    if (port) port->stopListening().addCallback([&stopped] { stopped = true; });
    bool ok = b.iterateUntil([&] {
      for (auto& p : serverFactory->built)
        if (p->made && p->lostCount == 0) return false;
      for (auto& p : clientFactory->built)
        if (p->made && p->lostCount == 0) return false;
      return stopped || !port;
    });
    BOOST_CHECK_MESSAGE(ok, "the pair did not close");
  }
};

}  // namespace coil::test
