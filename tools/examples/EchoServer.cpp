// Example: a TCP echo server (Twisted's classic first server), checked by connecting to itself.
//
//   example_EchoServer            listen on a free loopback port, echo a few messages to an
//                                 in-process client, check them, stop (exit 0 on success)
//   example_EchoServer 8000       serve on port 8000 until Ctrl-C (`nc 127.0.0.1 8000`)
//
// The backend is COIL_REACTOR's, else the default (epoll on Linux).
#include <coil/core/Log.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace coil;

// The whole server: write back whatever arrives.
class Echo : public Protocol {
 public:
  void dataReceived(std::string_view data) override { transport()->write(data); }
};

// A client that sends `messages` one at a time and checks that each comes back unchanged.
class Checker : public Protocol {
 public:
  Checker(std::vector<std::string> messages, bool* ok) : messages_(std::move(messages)), ok_(ok) {}

  void connectionMade() override { sendNext(); }

  void dataReceived(std::string_view data) override {
    received_.append(data);
    if (received_.size() < messages_[next_ - 1].size()) return;  // more of this echo to come
    if (received_ != messages_[next_ - 1]) {
      std::fprintf(stderr, "echo mismatch for message %zu\n", next_);
      transport()->loseConnection();
      return;
    }
    std::printf("echoed %zu bytes\n", received_.size());
    received_.clear();
    if (next_ < messages_.size()) {
      sendNext();
    } else {
      *ok_ = true;
      transport()->loseConnection();
    }
  }

 private:
  void sendNext() { transport()->write(messages_[next_++]); }

  std::vector<std::string> messages_;
  bool* ok_;
  std::size_t next_ = 0;
  std::string received_;
};

// Stops the reactor when the checking client is done, however it ended.
class CheckerFactory : public ClientFactory {
 public:
  explicit CheckerFactory(IReactorCore& reactor) : reactor_(reactor) {}
  void clientConnectionFailed(IConnector&, const Failure& reason) override {
    log::failure("could not connect", reason);
    reactor_.stop();
  }
  void clientConnectionLost(IConnector&, const Failure&) override { reactor_.stop(); }

 private:
  IReactorCore& reactor_;
};

int main(int argc, char** argv) {
  auto reactor = makeReactor();
  auto echo = ServerFactory::forProtocol<Echo>();
  if (argc > 1) {  // serve forever (until SIGINT/SIGTERM)
    auto port = reactor->listenTCP(std::atoi(argv[1]), echo);
    std::printf("echo server on %s\n", toString(port->getHost()).c_str());
    reactor->run();
    return 0;
  }

  auto port = reactor->listenTCP(0, echo, 50, "127.0.0.1");  // 0: any free port
  int portNumber = std::get<IPv4Address>(port->getHost()).port;
  std::printf("listening on 127.0.0.1:%d (backend %s)\n", portNumber,
              std::string(reactor->backendName()).c_str());

  bool ok = false;
  std::vector<std::string> messages{"hello\n", "coil\n", std::string(256 * 1024, 'x')};
  auto client = std::make_shared<CheckerFactory>(*reactor);
  client->protocol = [&]() -> std::shared_ptr<IProtocol> {
    return std::make_shared<Checker>(messages, &ok);
  };
  reactor->connectTCP("127.0.0.1", portNumber, client, 5);

  auto watchdog = reactor->callLater(10, [&] { reactor->stop(); });  // never hang
  reactor->run(false);
  if (watchdog->active()) watchdog->cancel();
  std::printf("%s\n", ok ? "echo works" : "echo FAILED");
  return ok ? 0 : 1;
}
