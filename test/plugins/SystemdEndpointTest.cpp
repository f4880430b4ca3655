// Tests for the systemd example endpoint plugin (plugins/examples/systemd), a USES_COIL plugin:
// it loads from its .so into a coil_plugin_host() program and adds the `systemd:` server type;
// a daemon started with inherited sockets (as systemd starts one) serves on them through
// serverFromString() on every backend; malformed strings quote the string and name the
// parameter; a second copy is refused; an ordinary program refuses the plugin, naming why.
#include <coil/plugins/PluginLoader.hpp>
#include <coil/plugins/Reactors.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/ServerEndpoints.hpp>
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <test/plugins/PluginTesting.hpp>
#include <test/plugins/SocketActivation.hpp>
#include <test/support/MemoryReactor.hpp>
#include <test/support/Testing.hpp>

namespace fs = std::filesystem;
using coil::Registry;
using coil::endpoints::EndpointSyntaxError;
using coil::plugins::LoadResult;
using coil::plugins::PluginLoader;
using coil::test::ActivatedProcess;
using coil::test::EnvGuard;
using coil::test::LogCapture;
using coil::test::ScratchDir;
using coil::test::Socket;

namespace {

const fs::path kPlugin = fs::path(COIL_TEST_USES_COIL_PLUGIN_DIR) / "coil_systemd.so";
const std::string kHost = COIL_TEST_ENDPOINT_HOST;
const std::string kPlainHost = COIL_TEST_PLAIN_HOST;
constexpr double kWaitSeconds = 15;
constexpr int kTimedOut = -100;  // what the exit-code checks see when wait() timed out

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A registry with the built-in endpoint types and the systemd plugin, loaded with LISTEN_PID,
// LISTEN_FDS and LISTEN_FDNAMES set as given (nullopt: unset) — the plugin reads them on load.
struct Loaded {
  Registry registry;
  PluginLoader loader{registry};
  LoadResult result;

  Loaded(std::optional<std::string> pid, std::optional<std::string> fds,
         std::optional<std::string> names) {
    EnvGuard p("LISTEN_PID", std::move(pid)), f("LISTEN_FDS", std::move(fds)),
        n("LISTEN_FDNAMES", std::move(names));
    coil::endpoints::registerBuiltinParsers(registry);
    result = loader.loadFile(kPlugin);
  }
};

std::string thisPid() {
  return std::to_string(::getpid());
}

// What parsing `description` with `registry` throws: {parameter, what()}.
std::pair<std::string, std::string> parseError(const Registry& registry,
                                               const std::string& description) {
  coil::test::MemoryReactor reactor;
  try {
    coil::endpoints::serverFromString(reactor, description, registry);
  } catch (const EndpointSyntaxError& e) {
    return {e.parameter(), e.what()};
  }
  return {"(no error)", "(no error)"};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(SystemdEndpoint)

COIL_TEST_CASE(loadsFromItsSharedLibraryAndAddsTheServerType) {
  BOOST_TEST(coil::plugins::hostExportsCoil());  // plugins_tests is a coil_plugin_host()
  Loaded l(std::nullopt, std::nullopt, std::nullopt);
  BOOST_TEST_MESSAGE(l.result.message);
  BOOST_REQUIRE(l.result.ok);
  BOOST_TEST((l.result.serverParsers == std::vector<std::string>{"systemd"}));
  BOOST_TEST(l.result.backends.empty());
  BOOST_TEST(l.result.message == "registered server endpoint types: systemd");
  const coil::ServerEndpointParserEntry* entry = l.registry.findServerParser("systemd");
  BOOST_REQUIRE(entry);
  BOOST_TEST(entry->origin == kPlugin.string());
  BOOST_TEST(!entry->exactCase);
  BOOST_TEST(l.registry.findServerParser("SystemD") == entry);  // plugin types ignore case
  BOOST_TEST(l.registry.findClientParser("systemd") == nullptr);
  BOOST_TEST(l.registry.findServerParser("tcp")->origin == "built-in");
}

COIL_TEST_CASE(logsThroughTheHostsObserversWhatItInherited) {
  // The plugin calls coil::log itself (not the host's LogFn): the event reaches this
  // program's observers only because the plugin uses the host's one copy of coil's globals.
  LogCapture logs;
  Loaded l(thisPid(), "2", "control:web");
  BOOST_REQUIRE(l.result.ok);
  BOOST_TEST(logs.count("2 descriptors inherited from systemd: 3 ('control'), 4 ('web')") == 1u);
  Loaded quiet(std::nullopt, std::nullopt, std::nullopt);
  BOOST_TEST(logs.count("inherited from systemd") == 1u);  // nothing inherited: nothing logged
}

COIL_TEST_CASE(malformedStringsQuoteTheStringAndNameTheParameter) {
  LogCapture logs;
  Loaded l(thisPid(), "1", "web");
  BOOST_REQUIRE(l.result.ok);
  struct Case {
    std::string description, parameter, reason;
  };
  const std::vector<Case> cases = {
      {"systemd:index=0", "domain", "missing (a required parameter)"},
      {"systemd:domain=inet:index=0", "domain", "expected INET, INET6 or UNIX"},
      {"systemd:domain=AF_INET:index=0", "domain", "expected INET, INET6 or UNIX"},
      {"systemd:domain=INET", "index", "missing (give index= or name=)"},
      {"systemd:domain=INET:index=0:name=web", "name", "give either index= or name=, not both"},
      {"systemd:domain=INET:index=zero", "index", "expected an integer"},
      {"systemd:domain=INET:index=1", "index",
       "no descriptor inherited at index 1 (LISTEN_FDS passed 1: indexes 0 to 0)"},
      {"systemd:domain=INET:index=-1", "index", "no descriptor inherited at index -1"},
      {"systemd:domain=INET:name=api", "name",
       "no descriptor inherited with name 'api': LISTEN_FDNAMES has 'web'"},
      {"systemd:domain=INET:port=80", "port",
       "unknown parameter (systemd takes domain, index, name)"},
      {"systemd:INET:0:web:extra", "", "too many positional parameters for 'systemd'"},
      {"systemd:INET:index=0:domain=UNIX", "domain", "given both by position and by keyword"},
      {"SYSTEMD:INET", "index", "missing (give index= or name=)"},
  };
  for (const auto& c : cases) {
    auto [parameter, what] = parseError(l.registry, c.description);
    BOOST_TEST_CONTEXT(c.description << " -> " << what) {
      BOOST_TEST(parameter == c.parameter);
      BOOST_TEST(contains(what, "'" + c.description + "'"));
      if (!c.parameter.empty()) BOOST_TEST(contains(what, "bad value for '" + c.parameter + "'"));
      BOOST_TEST(contains(what, c.reason));
    }
  }
}

COIL_TEST_CASE(withoutActivationEveryIndexOrNameSaysWhy) {
  LogCapture logs;
  Loaded none(std::nullopt, std::nullopt, std::nullopt);
  auto [parameter, what] = parseError(none.registry, "systemd:domain=INET:index=0");
  BOOST_TEST(parameter == "index");
  BOOST_TEST(contains(what, "LISTEN_PID is not set (not socket-activated)"), what);

  Loaded other("1", "2", "a:b");  // meant for process 1, not this one
  std::tie(parameter, what) = parseError(other.registry, "systemd:domain=INET:index=0");
  BOOST_TEST(contains(what, "LISTEN_PID is 1, not this process (" + thisPid() + ")"), what);

  Loaded unnamed(thisPid(), "2", std::nullopt);
  std::tie(parameter, what) = parseError(unnamed.registry, "systemd:domain=INET:name=web");
  BOOST_TEST(parameter == "name");
  BOOST_TEST(contains(what, "no descriptor inherited with name 'web': LISTEN_FDNAMES is not set"),
             what);

  Loaded mismatched(thisPid(), "2", "only-one");
  std::tie(parameter, what) = parseError(mismatched.registry, "systemd:domain=INET:name=only-one");
  BOOST_TEST(contains(what, "LISTEN_FDNAMES has 1 names for 2 descriptors"), what);
  std::tie(parameter, what) = parseError(mismatched.registry, "systemd:domain=INET:index=2");
  BOOST_TEST(contains(what, "indexes 0 to 1"), what);  // the descriptors stand without names

  Loaded garbage(thisPid(), "two", std::nullopt);
  std::tie(parameter, what) = parseError(garbage.registry, "systemd:domain=INET:index=0");
  BOOST_TEST(contains(what, "LISTEN_FDS 'two' is not a count"), what);
}

COIL_TEST_CASE(aSecondCopyIsRefusedAsADuplicateType) {
  LogCapture logs;
  ScratchDir dir;
  fs::path copy = dir.path() / "coil_systemd_copy.so";
  fs::copy_file(kPlugin, copy);
  Loaded l(std::nullopt, std::nullopt, std::nullopt);
  BOOST_REQUIRE(l.result.ok);
  LoadResult second = l.loader.loadFile(copy);
  BOOST_TEST_MESSAGE(second.message);
  BOOST_TEST(!second.ok);
  BOOST_TEST(second.file == copy);
  BOOST_TEST(contains(second.message,
                      "server endpoint type 'systemd' is already taken by "
                      "'systemd' from " +
                          kPlugin.string()));
  BOOST_TEST(logs.count("coil_systemd_copy.so refused") == 1u);
  BOOST_TEST(l.registry.findServerParser("systemd")->origin == kPlugin.string());
  BOOST_TEST(l.registry.serverParsers().size() == 4u);  // tcp, tcp6, unix, systemd
}

COIL_TEST_CASE(anOrdinaryProgramRefusesItNamingTheFileAndTheSymbol) {
  // coil_test_plain_host is linked like any coil program: it does not export coil's symbols.
  ActivatedProcess p({kPlainHost, "poll", "-", kPlugin.string()}, {});
  std::optional<int> code = p.wait(kWaitSeconds);
  BOOST_TEST_MESSAGE(p.output);
  BOOST_TEST(code.value_or(kTimedOut) == 3);
  BOOST_TEST(contains(p.output, "exports coil: no"));
  BOOST_TEST(contains(p.output, "refused: " + kPlugin.string() + ": dlopen failed: "));
  BOOST_TEST(contains(p.output, "undefined symbol: _Z"));  // the first coil symbol it lacks
  BOOST_TEST(contains(p.output, "coil::"));                // and its demangled name
  BOOST_TEST(contains(p.output, "this program does not export coil's symbols"));
  BOOST_TEST(contains(p.output, "coil_plugin_host()"));
  // The same plugin loads into the coil_plugin_host() build of the same program.
  ActivatedProcess host({kHost, "poll", "-", kPlugin.string()}, {});
  BOOST_TEST(host.wait(kWaitSeconds).value_or(kTimedOut) == 0);
  BOOST_TEST(contains(host.output, "exports coil: yes"), host.output);
  BOOST_TEST(contains(host.output, "loaded: " + kPlugin.string()), host.output);
}

// Starts the daemon with `fds` inherited (named `names`) serving on `description` with
// `backend`; connects with `address` and checks the echo, the port it reports and the plugin's
// log line.
void serveOneConnection(const std::string& backend, const std::string& description,
                        std::vector<Socket>& fds, const std::vector<std::string>& names, int family,
                        const sockaddr* address, socklen_t size, const std::string& expectedHost,
                        const std::string& expectedLabel) {
  std::vector<int> numbers;
  for (const auto& s : fds) numbers.push_back(s.fd());
  ActivatedProcess p({kHost, backend, description, kPlugin.string()}, numbers, names);
  for (auto& s : fds) s.close();  // only the daemon holds them now
  BOOST_TEST_CONTEXT(backend << " " << description) {
    BOOST_REQUIRE_MESSAGE(p.waitForOutput("listening on", kWaitSeconds), p.output);
    const std::string message = "hello through " + description + " on " + backend + "\n";
    BOOST_TEST(coil::test::echoThrough(family, address, size, message) == message);
    std::optional<int> code = p.wait(kWaitSeconds);
    BOOST_TEST_MESSAGE(p.output);
    BOOST_TEST(code.value_or(kTimedOut) == 0);
    BOOST_TEST(contains(p.output, "loaded: " + kPlugin.string()));
    BOOST_TEST(contains(p.output, "listening on " + expectedHost));
    BOOST_TEST(contains(p.output, "coil.systemd"));
    BOOST_TEST(contains(p.output, "listening on " + expectedLabel + ": " + expectedHost));
    BOOST_TEST(contains(p.output, "closed"));
  }
}

BOOST_AUTO_TEST_CASE(servesOnInheritedSocketsOnEveryBackend, *boost::unit_test::timeout(120)) {
  std::vector<std::string> backends = coil::availableReactors();
  BOOST_TEST_MESSAGE("backends: " << backends.size());
  BOOST_REQUIRE(backends.size() >= 3u);
  for (const auto& backend : backends) {
    ScratchDir dir;
    const std::string path = (dir.path() / "control.sock").string();
    {  // INET by index: descriptor 4, the second one
      int port = 0;
      std::vector<Socket> fds;
      fds.push_back(coil::test::listeningUNIX(path));
      fds.push_back(coil::test::listeningTCP(port));
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      serveOneConnection(
          backend, "systemd:domain=INET:index=1", fds, {"control", "web"}, AF_INET,
          reinterpret_cast<sockaddr*>(&a), sizeof a,
          "IPv4Address(type='TCP', host='127.0.0.1', port=" + std::to_string(port) + ")",
          "descriptor 4 (index 1)");
    }
    ::unlink(path.c_str());
    {  // UNIX by name (positional domain): descriptor 3
      int port = 0;
      std::vector<Socket> fds;
      fds.push_back(coil::test::listeningUNIX(path));
      fds.push_back(coil::test::listeningTCP(port));
      sockaddr_un a = coil::test::unixAddress(path);
      serveOneConnection(backend, "systemd:UNIX:name=control", fds, {"control", "web"}, AF_UNIX,
                         reinterpret_cast<sockaddr*>(&a), sizeof a, "UNIXAddress('" + path + "')",
                         "descriptor 3 ('control')");
    }
  }
}

COIL_TEST_CASE(theInheritedDescriptorMustBeAStreamSocketOfTheDomain) {
  int port = 0;
  ScratchDir dir;
  int pipeFds[2];
  BOOST_REQUIRE(::pipe2(pipeFds, O_CLOEXEC) == 0);
  Socket readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  Socket udp(AF_INET, SOCK_DGRAM);
  Socket tcp = coil::test::listeningTCP(port);
  Socket unixSocket = coil::test::listeningUNIX((dir.path() / "s").string());
  const std::vector<int> fds = {readEnd.fd(), udp.fd(), tcp.fd(), unixSocket.fd()};
  const std::vector<std::string> names = {"pipe", "udp", "tcp", "unix"};
  struct Case {
    std::string description, parameter, reason;
  };
  const std::vector<Case> cases = {
      {"systemd:domain=UNIX:index=0", "index", "descriptor 3 is not a socket"},
      {"systemd:domain=INET:name=udp", "name", "descriptor 4 is not a stream socket"},
      {"systemd:domain=INET6:index=2", "domain", "descriptor 5 is an AF_INET socket, not AF_INET6"},
      {"systemd:domain=INET:name=unix", "domain", "descriptor 6 is an AF_UNIX socket, not AF_INET"},
  };
  for (const auto& c : cases) {
    ActivatedProcess p({kHost, "poll", c.description, kPlugin.string()}, fds, names);
    std::optional<int> code = p.wait(kWaitSeconds);
    BOOST_TEST_CONTEXT(c.description << ": " << p.output) {
      BOOST_TEST(code.value_or(kTimedOut) == 4);
      BOOST_TEST(contains(p.output, "parse error: bad value for '" + c.parameter + "' in '" +
                                        c.description + "': " + c.reason));
      BOOST_TEST(contains(p.output, "parameter: " + c.parameter + "\n"));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
