// Example: a UDP echo server and a client on one reactor. The client sends three datagrams to
// the server on loopback, the server echoes each, and the program stops once all came back.
#include <coil/core/IUDPTransport.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>

#include <cstdio>
#include <memory>
#include <string>

using namespace coil;

// Twisted's classic: write every datagram back to whoever sent it.
class Echo : public DatagramProtocol {
 public:
  void datagramReceived(std::string_view data, const Address& from) override {
    transport()->write(data, from);
  }
};

// Sends `count` greetings to `server` on start, stops the reactor once all are echoed.
class Client : public DatagramProtocol {
 public:
  Client(ReactorBase& reactor, Address server, int count)
      : reactor_(reactor), server_(std::move(server)), left_(count) {}

  void startProtocol() override {
    for (int i = 0; i < left_; ++i) transport()->write("hello #" + std::to_string(i), server_);
  }

  void datagramReceived(std::string_view data, const Address& from) override {
    std::printf("echo from %s: %.*s\n", toString(from).c_str(), static_cast<int>(data.size()),
                data.data());
    if (--left_ == 0) reactor_.stop();
  }

  int left() const { return left_; }

 private:
  ReactorBase& reactor_;
  Address server_;
  int left_;
};

int main() {
  std::unique_ptr<ReactorBase> reactor = makeReactor();  // COIL_REACTOR, else the default
  auto server = reactor->listenUDP(0, std::make_shared<Echo>(), "127.0.0.1");
  std::printf("echo server on %s (%s)\n", toString(server->getHost()).c_str(),
              std::string(reactor->backendName()).c_str());

  auto client = std::make_shared<Client>(*reactor, server->getHost(), 3);
  auto clientPort = reactor->listenUDP(0, client, "127.0.0.1");

  // Give up after 5 s rather than hang if a datagram were lost.
  auto watchdog = reactor->callLater(5.0, [&] { reactor->stop(); });
  reactor->run(false);
  if (watchdog->active()) watchdog->cancel();

  clientPort->stopListening();
  server->stopListening();
  reactor->iterate(0);  // the ports close on the next iteration
  if (client->left() != 0) {
    std::fprintf(stderr, "%d datagram(s) never came back\n", client->left());
    return 1;
  }
  return 0;
}
