// Endpoint parsers in a Registry: types added by a test are found by serverFromString and
// clientFromString, with their arguments; prefix rules; the default registry has the built-ins.
#include <coil/core/Registry.hpp>
#include <coil/plugins/Reactors.hpp>
#include <coil/transports/endpoints/ClientEndpoints.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/ServerEndpoints.hpp>
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/MemoryReactor.hpp>
#include <test/support/Testing.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace coil;
using namespace coil::endpoints;
using coil::test::MemoryReactor;

namespace {

// A server endpoint type for the tests: "fake:NAME" listens on TCP port len(NAME).
struct Seen {
  ReactorBase* reactor = nullptr;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> kwargs;
};

ServerEndpointParserEntry fakeServer(Seen& seen) {
  return {"fake", "a test server type",
          [&seen](ReactorBase& reactor, const EndpointDescription& d) {
            seen = {&reactor, d.args, d.kwargs};
            return std::make_shared<TCP4ServerEndpoint>(
                reactor, static_cast<int>(d.args.empty() ? 0 : d.args[0].size()));
          }};
}

// A client type: "echo:PATH" connects over UNIX to PATH.
ClientEndpointParserEntry echoClient(Seen& seen) {
  return {"echo", "a test client type",
          [&seen](ReactorBase& reactor, const EndpointDescription& d) {
            seen = {&reactor, d.args, d.kwargs};
            return std::make_shared<UNIXClientEndpoint>(reactor, d.args.at(0));
          }};
}

bool throwsInvalid(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    BOOST_TEST_MESSAGE(e.what());
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(RegistryParsers)

COIL_TEST_CASE(registeredServerTypeIsFoundIgnoringCase) {
  MemoryReactor r;
  Registry registry;
  Seen seen;
  registry.addServerParser(fakeServer(seen));
  auto e = std::dynamic_pointer_cast<TCP4ServerEndpoint>(
      serverFromString(r, "FaKe:abcd:k=v\\:w", registry));
  BOOST_REQUIRE(e);
  BOOST_TEST(e->port() == 4);
  BOOST_TEST(seen.reactor == &r);
  BOOST_TEST(seen.args == std::vector<std::string>{"abcd"}, boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(seen.kwargs.size(), 1u);
  BOOST_TEST(seen.kwargs[0].first == "k");
  BOOST_TEST(seen.kwargs[0].second == "v:w");
  // This registry has no built-ins.
  BOOST_TEST(throwsInvalid([&] { serverFromString(r, "tcp:80", registry); },
                           "Unknown endpoint type: 'tcp'"));
  BOOST_TEST(throwsInvalid([&] { serverFromString(r, "fake:1"); }, "Unknown endpoint type"));
}

COIL_TEST_CASE(registeredClientTypeIsFound) {
  MemoryReactor r;
  Registry registry;
  registerBuiltinParsers(registry);
  Seen seen;
  registry.addClientParser(echoClient(seen));
  auto e = std::dynamic_pointer_cast<UNIXClientEndpoint>(
      clientFromString(r, "ECHO:/run/echo", registry));
  BOOST_REQUIRE(e);
  BOOST_TEST(e->path() == "/run/echo");
  BOOST_TEST(seen.reactor == &r);
  // The built-ins are still there.
  BOOST_TEST(
      std::dynamic_pointer_cast<TCP4ClientEndpoint>(clientFromString(r, "tcp:h:1", registry)));
}

COIL_TEST_CASE(prefixesAreUniqueIgnoringCase) {
  Registry registry;
  registerBuiltinParsers(registry);
  Seen seen;
  auto server = fakeServer(seen);
  server.prefix = "TCP";
  server.origin = "/plugins/x.so";
  BOOST_TEST(
      throwsInvalid([&] { registry.addServerParser(server); },
                    "prefix 'TCP' from /plugins/x.so is already taken by 'tcp' from built-in"));
  auto client = echoClient(seen);
  client.prefix = "Unix";
  BOOST_TEST(throwsInvalid([&] { registry.addClientParser(client); }, "already taken"));
  client.prefix = "";
  BOOST_TEST(throwsInvalid([&] { registry.addClientParser(client); }, "needs a prefix"));
  client.prefix = "ok";
  client.parse = nullptr;
  BOOST_TEST(throwsInvalid([&] { registry.addClientParser(client); }, "has no parse()"));
  BOOST_TEST(registry.serverParsers().size() == 3u);
  BOOST_TEST(registry.clientParsers().size() == 2u);
}

COIL_TEST_CASE(exactCaseEntriesMatchExactly) {
  Registry registry;
  registerBuiltinParsers(registry);
  BOOST_TEST(registry.findServerParser("tcp") != nullptr);
  BOOST_TEST(registry.findServerParser("Tcp") == nullptr);
  BOOST_TEST(registry.findServerParser("TCP6") != nullptr);
  BOOST_TEST(registry.findClientParser("TCP") != nullptr);
  BOOST_TEST(registry.findClientParser("tcp6") == nullptr);
}

COIL_TEST_CASE(aParserThatMakesNothingIsAnError) {
  MemoryReactor r;
  Registry registry;
  registry.addServerParser({"none", "makes nothing", [](ReactorBase&, const EndpointDescription&) {
                              return std::shared_ptr<IStreamServerEndpoint>();
                            }});
  BOOST_TEST(throwsInvalid([&] { serverFromString(r, "none:1", registry); },
                           "the 'none' parser from built-in made no endpoint"));
}

COIL_TEST_CASE(defaultRegistryHasTheBuiltins) {
  MemoryReactor r;
  const Registry& registry = defaultRegistry();
  BOOST_TEST(
      std::dynamic_pointer_cast<TCP6ServerEndpoint>(serverFromString(r, "tcp6:1", registry)));
  BOOST_TEST(
      std::dynamic_pointer_cast<UNIXServerEndpoint>(serverFromString(r, "unix:/x", registry)));
  BOOST_TEST(
      std::dynamic_pointer_cast<UNIXClientEndpoint>(clientFromString(r, "unix:/x", registry)));
}

BOOST_AUTO_TEST_SUITE_END()
