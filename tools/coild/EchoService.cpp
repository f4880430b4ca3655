// EchoService: coild's echo protocol and the TCP/UNIX ports serving it.
// Tests: test/tools/CoildTest.cpp, test/interop/stream/InteropStreamTest.cpp
#include "EchoService.hpp"

#include <type_traits>

namespace coil::coild {

void Echo::connectionMade() {
  transport_->registerProducer(shared_from_this(), true);
}

void Echo::readConnectionLost() {
  // loseConnection() waits for a registered producer to go away.
  transport_->unregisterProducer();
  transport_->loseConnection();
}

namespace {

/// Names itself in the ports' log lines ("EchoFactory starting on ...").
class EchoFactory final : public ServerFactory {
 public:
  std::string logPrefix() const override { return "EchoFactory"; }
};

}  // namespace

std::shared_ptr<Factory> echoFactory() {
  auto factory = std::make_shared<EchoFactory>();
  factory->protocol = []() -> std::shared_ptr<IProtocol> { return std::make_shared<Echo>(); };
  factory->noisy = false;
  return factory;
}

std::shared_ptr<IListeningPort> listenEchoTCP(ReactorBase& reactor, int port,
                                              const std::string& interface) {
  return reactor.listenTCP(port, echoFactory(), 50, interface);
}

std::shared_ptr<IListeningPort> listenEchoUNIX(ReactorBase& reactor, const std::string& path) {
  return reactor.listenUNIX(path, echoFactory(), 50, 0666, true);
}

std::string describe(const Address& address) {
  return std::visit(
      [](const auto& a) -> std::string {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, IPv4Address>)
          return a.host + ":" + std::to_string(a.port);
        else if constexpr (std::is_same_v<A, IPv6Address>)
          return "[" + a.host + "]:" + std::to_string(a.port);
        else if constexpr (std::is_same_v<A, UNIXAddress>)
          return "unix:" + a.name;
        else
          return a.hostname + ":" + std::to_string(a.port);
      },
      address);
}

}  // namespace coil::coild
