// serverFromString/clientFromString over MemoryReactor: each built-in type, its parameters and
// defaults, errors, case rules, and types added to a Registry.
#include <coil/core/Errors.hpp>
#include <coil/core/Registry.hpp>
#include <coil/transports/endpoints/ClientEndpoints.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/ServerEndpoints.hpp>
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/MemoryReactor.hpp>
#include <test/support/Testing.hpp>

#include <memory>
#include <string>

using namespace coil;
using namespace coil::endpoints;
using coil::test::MemoryReactor;

namespace {

template <class E>
std::shared_ptr<E> server(MemoryReactor& r, const std::string& text) {
  auto endpoint = std::dynamic_pointer_cast<E>(serverFromString(r, text));
  BOOST_REQUIRE_MESSAGE(endpoint, text << " made another endpoint type");
  return endpoint;
}

template <class E>
std::shared_ptr<E> client(MemoryReactor& r, const std::string& text) {
  auto endpoint = std::dynamic_pointer_cast<E>(clientFromString(r, text));
  BOOST_REQUIRE_MESSAGE(endpoint, text << " made another endpoint type");
  return endpoint;
}

// The message of the EndpointSyntaxError `f` throws; fails the test when it throws nothing.
template <class F>
std::string syntaxError(F&& f) {
  try {
    f();
  } catch (const EndpointSyntaxError& e) {
    return e.what();
  }
  BOOST_ERROR("no EndpointSyntaxError");
  return {};
}

std::string serverError(const std::string& text) {
  MemoryReactor r;
  return syntaxError([&] { serverFromString(r, text); });
}

std::string clientError(const std::string& text) {
  MemoryReactor r;
  return syntaxError([&] { clientFromString(r, text); });
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(StringEndpoints)

COIL_TEST_CASE(tcpServerDefaults) {
  MemoryReactor r;
  auto e = server<TCP4ServerEndpoint>(r, "tcp:80");
  BOOST_TEST(!dynamic_cast<TCP6ServerEndpoint*>(e.get()));
  BOOST_TEST(e->port() == 80);
  BOOST_TEST(e->backlog() == 50);
  BOOST_TEST(e->interface() == "");
  auto factory = std::make_shared<Factory>();
  test::successResultOf(e->listen(factory));
  BOOST_REQUIRE_EQUAL(r.tcpServers.size(), 1u);
  BOOST_TEST(r.tcpServers[0].port == 80);
  BOOST_TEST(r.tcpServers[0].factory == factory);
  BOOST_TEST(r.tcpServers[0].backlog == 50);
  BOOST_TEST(r.tcpServers[0].interface == "");
}

COIL_TEST_CASE(tcpServerPositionalAndKeywordParameters) {
  MemoryReactor r;
  auto positional = server<TCP4ServerEndpoint>(r, "tcp:8080:127.0.0.1:7");
  BOOST_TEST(positional->port() == 8080);
  BOOST_TEST(positional->interface() == "127.0.0.1");
  BOOST_TEST(positional->backlog() == 7);
  auto keywords = server<TCP4ServerEndpoint>(r, "tcp:backlog=9:port=0:interface=10.0.0.1");
  BOOST_TEST(keywords->port() == 0);
  BOOST_TEST(keywords->interface() == "10.0.0.1");
  BOOST_TEST(keywords->backlog() == 9);
  // An escaped colon stays in the value (an IPv6 interface on a tcp port).
  auto escaped = server<TCP4ServerEndpoint>(r, "tcp:81:interface=\\:\\:1");
  BOOST_TEST(escaped->interface() == "::1");
}

COIL_TEST_CASE(tcp6ServerDefaultsAndOrder) {
  MemoryReactor r;
  auto e = server<TCP6ServerEndpoint>(r, "tcp6:443");
  BOOST_TEST(e->port() == 443);
  BOOST_TEST(e->backlog() == 50);
  BOOST_TEST(e->interface() == "::");
  // Positional order is port, backlog, interface (Twisted's tcp6 parser).
  auto p = server<TCP6ServerEndpoint>(r, "tcp6:443:12:\\:\\:1");
  BOOST_TEST(p->backlog() == 12);
  BOOST_TEST(p->interface() == "::1");
  test::successResultOf(p->listen(std::make_shared<Factory>()));
  BOOST_REQUIRE_EQUAL(r.tcpServers.size(), 1u);
  BOOST_TEST(r.tcpServers[0].interface == "::1");
  BOOST_TEST(r.tcpServers[0].backlog == 12);
}

COIL_TEST_CASE(unixServerDefaults) {
  MemoryReactor r;
  auto e = server<UNIXServerEndpoint>(r, "unix:/var/run/x.sock");
  BOOST_TEST(e->address() == "/var/run/x.sock");
  BOOST_TEST(e->mode() == 0666);
  BOOST_TEST(e->backlog() == 50);
  BOOST_TEST(e->wantPID() == true);  // lockfile defaults to on, unlike listenUNIX
  test::successResultOf(e->listen(std::make_shared<Factory>()));
  BOOST_REQUIRE_EQUAL(r.unixServers.size(), 1u);
  BOOST_TEST(r.unixServers[0].address == "/var/run/x.sock");
  BOOST_TEST(r.unixServers[0].mode == 0666);
  BOOST_TEST(r.unixServers[0].backlog == 50);
  BOOST_TEST(r.unixServers[0].wantPID == true);
}

COIL_TEST_CASE(unixServerParameters) {
  MemoryReactor r;
  auto e = server<UNIXServerEndpoint>(r, "unix:address=/tmp/s:mode=600:backlog=3:lockfile=0");
  BOOST_TEST(e->address() == "/tmp/s");
  BOOST_TEST(e->mode() == 0600);  // octal
  BOOST_TEST(e->backlog() == 3);
  BOOST_TEST(e->wantPID() == false);
  auto positional = server<UNIXServerEndpoint>(r, "unix:/tmp/t:0o640:4:1");
  BOOST_TEST(positional->mode() == 0640);
  BOOST_TEST(positional->backlog() == 4);
  BOOST_TEST(positional->wantPID() == true);
}

COIL_TEST_CASE(tcpClientHostAndPort) {
  MemoryReactor r;
  auto e = client<TCP4ClientEndpoint>(r, "tcp:example.com:80");
  BOOST_TEST(e->host() == "example.com");
  BOOST_TEST(e->port() == 80);
  BOOST_TEST(e->timeout() == 30.0);
  BOOST_TEST(!e->bindAddress().has_value());
  auto keywords = client<TCP4ClientEndpoint>(r, "tcp:host=h:port=81");
  BOOST_TEST(keywords->host() == "h");
  BOOST_TEST(keywords->port() == 81);
  // One positional fills whichever of host and port is missing.
  auto portOnly = client<TCP4ClientEndpoint>(r, "tcp:82:host=h2");
  BOOST_TEST(portOnly->host() == "h2");
  BOOST_TEST(portOnly->port() == 82);
  auto hostOnly = client<TCP4ClientEndpoint>(r, "tcp:h3:port=83");
  BOOST_TEST(hostOnly->host() == "h3");
  BOOST_TEST(hostOnly->port() == 83);
}

COIL_TEST_CASE(tcpClientTimeoutAndBindAddress) {
  MemoryReactor r;
  auto e = client<TCP4ClientEndpoint>(r, "tcp:10.0.0.2:80:timeout=5:bindAddress=10.0.0.1");
  BOOST_TEST(e->timeout() == 5.0);
  BOOST_REQUIRE(e->bindAddress().has_value());
  BOOST_TEST(e->bindAddress()->host == "10.0.0.1");
  BOOST_TEST(e->bindAddress()->port == 0);
  auto d = e->connect(std::make_shared<Factory>());
  BOOST_REQUIRE_EQUAL(r.tcpClients.size(), 1u);
  BOOST_TEST(r.tcpClients[0].host == "10.0.0.2");
  BOOST_TEST(r.tcpClients[0].port == 80);
  BOOST_TEST(r.tcpClients[0].timeout == 5.0);
  BOOST_REQUIRE(r.tcpClients[0].bindAddress.has_value());
  BOOST_TEST(r.tcpClients[0].bindAddress->host == "10.0.0.1");
  r.connectors[0]->refuse();
  test::failureResultOf<error::ConnectionRefusedError>(d);
}

COIL_TEST_CASE(unixClientParameters) {
  MemoryReactor r;
  auto e = client<UNIXClientEndpoint>(r, "unix:/tmp/sock");
  BOOST_TEST(e->path() == "/tmp/sock");
  BOOST_TEST(e->timeout() == 30.0);
  BOOST_TEST(e->checkPID() == false);
  auto k = client<UNIXClientEndpoint>(r, "unix:path=/tmp/other:lockfile=1:timeout=2.5");
  BOOST_TEST(k->path() == "/tmp/other");
  BOOST_TEST(k->timeout() == 2.5);
  BOOST_TEST(k->checkPID() == true);
  auto d = k->connect(std::make_shared<Factory>());
  BOOST_REQUIRE_EQUAL(r.unixClients.size(), 1u);
  BOOST_TEST(r.unixClients[0].address == "/tmp/other");
  BOOST_TEST(r.unixClients[0].timeout == 2.5);
  BOOST_TEST(r.unixClients[0].checkPID == true);
  r.connectors[0]->refuse();
  test::failureResultOf<error::ConnectionRefusedError>(d);
}

COIL_TEST_CASE(caseRules) {
  MemoryReactor r;
  // Built-in server types are lowercase only; tcp6 (a plugin in Twisted) ignores case.
  BOOST_TEST(contains(serverError("TCP:80"), "Unknown endpoint type: 'TCP'"));
  BOOST_TEST(contains(serverError("Unix:/x"), "Unknown endpoint type: 'Unix'"));
  server<TCP6ServerEndpoint>(r, "TCP6:80");
  // Client types ignore case.
  client<TCP4ClientEndpoint>(r, "TCP:h:1");
  client<UNIXClientEndpoint>(r, "uNiX:/p");
}

COIL_TEST_CASE(unknownTypes) {
  BOOST_TEST(serverError("x:1") ==
             "invalid endpoint description 'x:1': Unknown endpoint type: 'x'");
  BOOST_TEST(contains(clientError("tcp6:h:1"), "Unknown endpoint type: 'tcp6'"));  // server only
  BOOST_TEST(contains(clientError("ssl:h:1"), "Unknown endpoint type: 'ssl'"));
}

COIL_TEST_CASE(badValuesQuoteTheDescriptionAndNameTheParameter) {
  BOOST_TEST(serverError("tcp:port=abc") ==
             "bad value for 'port' in 'tcp:port=abc': expected an integer");
  BOOST_TEST(serverError("tcp:70000") ==
             "bad value for 'port' in 'tcp:70000': expected an integer from 0 to 65535");
  BOOST_TEST(contains(serverError("tcp:80:backlog=x"), "'backlog' in 'tcp:80:backlog=x'"));
  BOOST_TEST(contains(serverError("tcp6:80:backlog=-1"), "'backlog' in 'tcp6:80:backlog=-1'"));
  BOOST_TEST(contains(serverError("unix:/s:mode=999"), "'mode' in 'unix:/s:mode=999'"));
  BOOST_TEST(contains(serverError("unix:/s:mode=17777"), "'mode' in 'unix:/s:mode=17777'"));
  BOOST_TEST(contains(serverError("unix:/s:lockfile=yes"), "'lockfile' in 'unix:/s:lockfile=yes'"));
  BOOST_TEST(contains(clientError("tcp:h:port=x"), "'port' in 'tcp:h:port=x'"));
  BOOST_TEST(contains(clientError("tcp:h:1:timeout=soon"), "'timeout' in 'tcp:h:1:timeout=soon'"));
  BOOST_TEST(contains(clientError("tcp:h:1:timeout=-1"), "'timeout' in 'tcp:h:1:timeout=-1'"));
  BOOST_TEST(contains(clientError("unix:/p:lockfile=x"), "'lockfile' in 'unix:/p:lockfile=x'"));
}

COIL_TEST_CASE(missingUnknownAndRepeatedParameters) {
  BOOST_TEST(serverError("tcp") == "bad value for 'port' in 'tcp': missing (a required parameter)");
  BOOST_TEST(contains(serverError("unix:mode=600"), "'address' in 'unix:mode=600'"));
  BOOST_TEST(contains(clientError("tcp:h"), "'port' in 'tcp:h'"));
  BOOST_TEST(contains(clientError("tcp:port=1"), "'host' in 'tcp:port=1'"));
  BOOST_TEST(contains(clientError("unix:timeout=1"), "'path' in 'unix:timeout=1'"));
  BOOST_TEST(serverError("tcp:80:colour=red") ==
             "bad value for 'colour' in 'tcp:80:colour=red': unknown parameter (tcp takes port, "
             "interface, backlog)");
  BOOST_TEST(contains(clientError("tcp:h:1:interface=x"), "'interface' in 'tcp:h:1:interface=x'"));
  BOOST_TEST(contains(serverError("tcp:80:port=81"), "'port' in 'tcp:80:port=81'"));
  BOOST_TEST(contains(clientError("tcp:1:host=h:port=2"), "'port' in 'tcp:1:host=h:port=2'"));
  BOOST_TEST(contains(serverError("tcp:80:lo:5:extra"), "too many positional parameters"));
  BOOST_TEST(clientError("tcp:h:1:2") ==
             "invalid endpoint description 'tcp:h:1:2': too many positional parameters for 'tcp' "
             "(it takes host, port, timeout=, bindAddress=)");
  BOOST_TEST(contains(clientError("unix:/a:/b"), "too many positional parameters for 'unix'"));
}

COIL_TEST_CASE(malformedDescriptions) {
  BOOST_TEST(contains(serverError(""), "empty description"));
  BOOST_TEST(contains(serverError("tcp:80\\"), "'tcp:80\\'"));
  BOOST_TEST(contains(clientError(":80"), "empty endpoint type"));
}

BOOST_AUTO_TEST_SUITE_END()
