// Example: an echo client written as a coroutine — connect, then co_await each reply.
//
//   example_EchoClient                  start a tiny echo server on a free loopback port in
//                                       this process, then talk to it (exit 0 on success)
//   example_EchoClient HOST:PORT [MSG]  talk to any echo server, e.g. `coild echo --port 8000`
//                                       or `socat TCP-LISTEN:8000,fork PIPE`
#include <coil/core/Deferred.hpp>
#include <coil/core/Log.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace coil;

// A protocol whose ask(message) writes it and returns a Deferred for the echoed reply.
class Asker : public Protocol {
 public:
  void connectionMade() override { onConnected(); }
  Deferred<std::string> ask(std::string message) {
    expected_ = message.size();
    reply_ = Deferred<std::string>();
    transport()->write(message);
    return reply_;
  }
  void dataReceived(std::string_view data) override {
    received_.append(data);
    if (received_.size() < expected_ || reply_.called()) return;
    std::string reply = std::move(received_);
    received_.clear();
    reply_.callback(std::move(reply));
  }
  void connectionLost(const Failure& reason) override {
    if (!reply_.called()) reply_.errback(reason);
  }
  std::function<void()> onConnected;

 private:
  std::size_t expected_ = 0;
  std::string received_;
  Deferred<std::string> reply_ = succeed(std::string());
};

// Fires `connected` with the protocol once the connection is made (Twisted's connectProtocol).
class AskerFactory : public ClientFactory {
 public:
  std::shared_ptr<IProtocol> buildProtocol(const Address&) override {
    auto asker = std::make_shared<Asker>();
    asker->onConnected = [d = connected, weak = std::weak_ptr<Asker>(asker)]() mutable {
      d.callback(weak.lock());
    };
    return asker;
  }
  void clientConnectionFailed(IConnector&, const Failure& reason) override {
    connected.errback(reason);
  }
  Deferred<std::shared_ptr<Asker>> connected;
};

// The session: each co_await suspends until the reactor delivers the reply.
Deferred<int> session(ReactorBase& reactor, std::string host, int port,
                      std::vector<std::string> messages) {
  auto factory = std::make_shared<AskerFactory>();
  reactor.connectTCP(host, port, factory, 5);
  auto asker = co_await factory->connected;
  int failures = 0;
  for (const std::string& message : messages) {
    std::string reply = co_await asker->ask(message).addTimeout(5, reactor);
    bool same = reply == message;
    failures += same ? 0 : 1;
    std::printf("%s %zu bytes\n", same ? "echoed" : "MISMATCH", message.size());
  }
  asker->transport()->loseConnection();
  co_return failures;
}

class Echo : public Protocol {
 public:
  void dataReceived(std::string_view data) override { transport()->write(data); }
};

int main(int argc, char** argv) {
  auto reactor = makeReactor();
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> messages{"hello\n", "coil\n", std::string(1 << 20, 'z')};
  std::shared_ptr<IListeningPort> server;
  if (argc > 1) {
    std::string target = argv[1];
    auto colon = target.rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "usage: %s [HOST:PORT [MESSAGE]]\n", argv[0]);
      return 2;
    }
    host = target.substr(0, colon);
    port = std::stoi(target.substr(colon + 1));
    if (argc > 2) messages = {argv[2]};
  } else {
    server = reactor->listenTCP(0, ServerFactory::forProtocol<Echo>(), 50, "127.0.0.1");
    port = std::get<IPv4Address>(server->getHost()).port;
  }

  int result = 1;
  session(*reactor, host, port, messages)
      .addCallback([&](int failures) { result = failures == 0 ? 0 : 1; })
      .addErrback([](Failure f) { log::failure("echo session failed", f); })
      .addCallback([&] { reactor->stop(); });
  auto watchdog = reactor->callLater(15, [&] { reactor->stop(); });  // never hang
  reactor->run(false);
  if (watchdog->active()) watchdog->cancel();
  std::printf("%s\n", result == 0 ? "echo client done" : "echo client FAILED");
  return result;
}
