// EndpointHost: a small daemon for the plugin tests, run as a subprocess. It loads plugin
// files into the default registry, then serves one echo connection on an endpoint string:
//   coil_test_endpoint_host BACKEND DESCRIPTION [PLUGIN.so...]
// It prints what it does on stdout ("loaded: ...", "listening on ...", "closed") and exits 0
// after one connection closed; 2 usage, 3 a plugin refused, 4 a parse error, 5 listen failed,
// 6 timed out. DESCRIPTION "-" only loads the plugins. Built twice: as a coil_plugin_host()
// program (coil_test_endpoint_host) and as an ordinary one (coil_test_plain_host).
// Tests: test/plugins/SystemdEndpointTest.cpp
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <variant>

namespace {

constexpr double kTimeoutSeconds = 15;

// Echoes; the end of its one connection stops the reactor.
class OneEcho : public coil::Protocol {
 public:
  explicit OneEcho(coil::ReactorBase* reactor) : reactor_(reactor) {}
  void dataReceived(std::string_view data) override { transport_->write(data); }
  void connectionLost(const coil::Failure&) override {
    std::cout << "closed" << std::endl;
    reactor_->stop();
  }

 private:
  coil::ReactorBase* reactor_;  // outlives every connection: main() runs it
};

int serve(const std::string& backend, const std::string& description) {
  std::unique_ptr<coil::ReactorBase> reactor = coil::makeReactor(backend);
  std::shared_ptr<coil::endpoints::IStreamServerEndpoint> endpoint;
  try {
    endpoint = coil::endpoints::serverFromString(*reactor, description, coil::defaultRegistry());
  } catch (const coil::endpoints::EndpointSyntaxError& e) {
    std::cout << "parse error: " << e.what() << "\nparameter: " << e.parameter() << std::endl;
    return 4;
  }
  int status = 0;
  coil::ReactorBase* r = reactor.get();
  auto factory = coil::Factory::forProtocol<OneEcho>(r);
  factory->noisy = false;
  std::shared_ptr<coil::IListeningPort> port;
  endpoint->listen(factory).addCallbacks(
      [&](std::shared_ptr<coil::IListeningPort> p) {
        std::cout << "listening on "
                  << std::visit([](const auto& a) { return coil::toString(a); }, p->getHost())
                  << std::endl;
        port = std::move(p);
      },
      [&](coil::Failure f) {
        std::cout << "listen failed: " << f.getErrorMessage() << std::endl;
        status = 5;
        r->callWhenRunning([r] { r->stop(); });
      });
  auto timeout = reactor->callLater(kTimeoutSeconds, [&] {
    std::cout << "timed out" << std::endl;
    status = 6;
    r->stop();
  });
  reactor->run(false);
  if (timeout->active()) timeout->cancel();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " BACKEND DESCRIPTION [PLUGIN.so...]\n";
    return 2;
  }
  std::cout << "exports coil: " << (coil::plugins::hostExportsCoil() ? "yes" : "no") << std::endl;
  for (int i = 3; i < argc; ++i) {
    coil::plugins::LoadResult result = coil::defaultPluginLoader().loadFile(argv[i]);
    std::cout << (result.ok ? "loaded: " : "refused: ") << result.file.string() << ": "
              << result.message << std::endl;
    if (!result.ok) return 3;
  }
  if (std::string(argv[2]) == "-") return 0;
  try {
    return serve(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::cout << "error: " << e.what() << std::endl;
    return 1;
  }
}
