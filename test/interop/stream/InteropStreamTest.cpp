// Stream interoperability with peers coil did not write, on the backend COIL_REACTOR names:
// Twisted 22 (Debian's python3-twisted) and socat as servers for coil's clients and as clients
// of coil's servers, over TCP and UNIX sockets, and `coild echo` against a Twisted client. Each
// conversation sends several messages one at a time plus 1 MiB and compares the bytes.
// Peers are spawned processes with bounded waits; a missing peer skips its cases with a message.
#include <test/interop/stream/InteropSupport.hpp>
#include <test/interop/stream/Peer.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>

#include <coil/core/ReactorBase.hpp>

#include <algorithm>
#include <csignal>
#include <string>

namespace coil::test::interop {
namespace {

namespace utf = boost::unit_test;

/// A reactor for the backend under test, plus helpers that drive it while peers run.
struct Fixture : ReactorBuilder {
  /// One reactor iteration: what Peer waits run between checks.
  Peer::Idle idle() {
    return [this](double seconds) { reactor().iterate(seconds); };
  }

  /// Connects a SequentialClient with `connect` and runs until it finishes (bounded).
  std::shared_ptr<ClientState> talk(
      const std::string& bytes,
      const std::function<std::shared_ptr<IConnector>(std::shared_ptr<ClientFactory>)>& connect) {
    auto state = std::make_shared<ClientState>();
    state->messages = messagesOf(bytes);
    auto connector = connect(std::make_shared<SequentialFactory>(state));
    if (!iterateUntil([&] { return state->finished(); }, 30, 0.05)) {
      BOOST_ERROR("the client did not finish; it had " << state->echoed << " echoes");
      connector->disconnect();  // leave the reactor clean for the next case
      iterateUntil([&] { return state->finished(); }, 5);
    }
    return state;
  }

  /// Checks that `state` shows every message echoed intact and a clean close.
  static void checkEchoed(const ClientState& state, const std::string& bytes) {
    BOOST_TEST(!state.failed, state.reason);
    BOOST_TEST(state.echoed == messagesOf(bytes).size());
    BOOST_TEST(!state.mismatch);
    BOOST_TEST(state.received.size() == bytes.size());
    BOOST_TEST((state.received == bytes), "the echoed bytes differ");
    BOOST_TEST(state.reason.find("ConnectionDone") != std::string::npos, state.reason);
  }

  /// stopListening() and wait until it has completed.
  void stop(IListeningPort& port) {
    auto stopped = port.stopListening();
    BOOST_TEST(iterateUntil([&] { return stopped.called(); }, 5));
  }

  /// Runs `client` (which echoes `bytes` through a coil server recording into `record`) to
  /// completion and checks both ends saw exactly `bytes`.
  void runForeignClient(Peer& client, const std::string& out, const std::string& bytes,
                        const EchoRecord& record, int connections = 1) {
    auto rc = client.wait(40, idle());
    BOOST_REQUIRE_MESSAGE(rc, "the peer did not finish in time; stderr: " << client.err);
    BOOST_TEST(*rc == 0, "peer exit status; stderr: " << client.err);
    std::string back = readFile(out);
    BOOST_TEST(back.size() == bytes.size());
    BOOST_TEST((back == bytes), "the bytes the peer got back differ");
    BOOST_TEST(iterateUntil([&] { return record.lost == connections; }, 10));
    BOOST_TEST(record.received.size() == std::size_t(connections));
    bool seen =
        std::find(record.received.begin(), record.received.end(), bytes) != record.received.end();
    BOOST_TEST(seen, "coil did not receive exactly the peer's bytes on one connection");
  }
};

/// The first line echo_server.py prints (its port or socket path), within 30 s.
std::string startTwistedServer(Peer& server) {
  auto line = server.readLine(30);
  BOOST_REQUIRE_MESSAGE(line, "echo_server.py said nothing; stderr: " << server.err);
  return *line;
}

/// Waits for socat's "listening on ..." line (-d -d) and returns what follows the last ':'.
std::string socatListening(Peer& socat) {
  BOOST_REQUIRE_MESSAGE(
      socat.waitFor([&] { return socat.err.find("listening on") != std::string::npos; }, 10),
      "socat did not listen; stderr: " << socat.err);
  auto at = socat.err.find("listening on");
  auto end = socat.err.find('\n', at);
  std::string line = socat.err.substr(at, end - at);
  return line.substr(line.rfind(':') + 1);
}

/// Stops a Python server by closing its stdin and checks it exits cleanly.
void stopTwistedServer(Peer& server) {
  server.closeStdin();
  auto rc = server.wait(10);
  BOOST_TEST((rc && *rc == 0), "echo_server.py exit; stderr: " << server.err);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(InteropStream)

BOOST_FIXTURE_TEST_CASE(coilClientTwistedServerTCP, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedTwisted())) {
  Peer server({kPython, script("echo_server.py"), "tcp"});
  int port = std::stoi(startTwistedServer(server));
  std::string bytes = payload();
  auto state = talk(bytes, [&](std::shared_ptr<ClientFactory> f) {
    return reactor().connectTCP("127.0.0.1", port, std::move(f), 10);
  });
  checkEchoed(*state, bytes);
  stopTwistedServer(server);
}

BOOST_FIXTURE_TEST_CASE(coilClientTwistedServerUNIX, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedTwisted())) {
  TempDir dir;
  Peer server({kPython, script("echo_server.py"), "unix", dir / "twisted.sock"});
  BOOST_TEST(startTwistedServer(server) == dir / "twisted.sock");
  std::string bytes = payload(7);
  auto state = talk(bytes, [&](std::shared_ptr<ClientFactory> f) {
    return reactor().connectUNIX(dir / "twisted.sock", std::move(f), 10);
  });
  checkEchoed(*state, bytes);
  stopTwistedServer(server);
}

BOOST_FIXTURE_TEST_CASE(twistedClientsCoilServerTCP, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedTwisted())) {
  auto record = std::make_shared<EchoRecord>();
  auto port =
      reactor().listenTCP(0, ServerFactory::forProtocol<RecordingEcho>(record), 50, "127.0.0.1");
  std::string portText = std::to_string(std::get<IPv4Address>(port->getHost()).port);
  TempDir dir;
  // Two clients at once, different bytes each.
  std::string a = payload(1), b = payload(2);
  writeFile(dir / "a.in", a);
  writeFile(dir / "b.in", b);
  Peer first({kPython, script("echo_client.py"), "tcp", portText, dir / "a.in", dir / "a.out",
              sizesArgument()});
  Peer second({kPython, script("echo_client.py"), "tcp", portText, dir / "b.in", dir / "b.out",
               sizesArgument()});
  auto rc = first.wait(40, idle());
  BOOST_REQUIRE_MESSAGE(rc, "the first client did not finish; stderr: " << first.err);
  BOOST_TEST(*rc == 0, first.err);
  runForeignClient(second, dir / "b.out", b, *record, 2);
  BOOST_TEST((readFile(dir / "a.out") == a), "the first client's bytes differ");
  BOOST_REQUIRE(record->received.size() == 2u);
  // Accept order is the peers' connect order: whichever it was, each got its own bytes.
  bool inOrder = record->received[0] == a && record->received[1] == b;
  bool swapped = record->received[0] == b && record->received[1] == a;
  BOOST_TEST((inOrder || swapped), "coil received mixed-up bytes");
  stop(*port);
}

BOOST_FIXTURE_TEST_CASE(twistedClientCoilServerUNIX, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedTwisted())) {
  auto record = std::make_shared<EchoRecord>();
  TempDir dir;
  auto port =
      reactor().listenUNIX(dir / "coil.sock", ServerFactory::forProtocol<RecordingEcho>(record));
  std::string bytes = payload(3);
  writeFile(dir / "in", bytes);
  Peer client({kPython, script("echo_client.py"), "unix", dir / "coil.sock", dir / "in",
               dir / "out", sizesArgument()});
  runForeignClient(client, dir / "out", bytes, *record);
  stop(*port);
}

BOOST_FIXTURE_TEST_CASE(socatClientCoilServerTCP, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedSocat())) {
  auto record = std::make_shared<EchoRecord>();
  auto port =
      reactor().listenTCP(0, ServerFactory::forProtocol<RecordingEcho>(record), 50, "127.0.0.1");
  int portNumber = std::get<IPv4Address>(port->getHost()).port;
  TempDir dir;
  std::string bytes = payload(4);
  writeFile(dir / "in", bytes);
  // stdin -> TCP -> stdout; at stdin's EOF socat half-closes and waits (-t) for our EOF.
  Peer socat({socatPath(), "-t", "20", "-", "TCP:127.0.0.1:" + std::to_string(portNumber)},
             {dir / "in", dir / "out"});
  runForeignClient(socat, dir / "out", bytes, *record);
  BOOST_TEST(record->halfClosed == 1, "socat's EOF reached readConnectionLost");
  stop(*port);
}

BOOST_FIXTURE_TEST_CASE(socatClientCoilServerUNIX, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedSocat())) {
  auto record = std::make_shared<EchoRecord>();
  TempDir dir;
  auto port =
      reactor().listenUNIX(dir / "coil.sock", ServerFactory::forProtocol<RecordingEcho>(record));
  std::string bytes = payload(5);
  writeFile(dir / "in", bytes);
  Peer socat({socatPath(), "-t", "20", "-", "UNIX-CONNECT:" + dir / "coil.sock"},
             {dir / "in", dir / "out"});
  runForeignClient(socat, dir / "out", bytes, *record);
  BOOST_TEST(record->halfClosed == 1);
  stop(*port);
}

BOOST_FIXTURE_TEST_CASE(coilClientSocatServerTCP, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedSocat())) {
  // PIPE echoes; port 0 is resolved in socat's -d -d "listening on" line. socat writes the pipe
  // it also reads with blocking writes: -b 4096 (PIPE_BUF) keeps a write from blocking on it.
  Peer socat({socatPath(), "-d", "-d", "-b", "4096", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork",
              "PIPE"});
  int port = std::stoi(socatListening(socat));
  BOOST_REQUIRE(port > 0);
  std::string bytes = payload(6);
  auto state = talk(bytes, [&](std::shared_ptr<ClientFactory> f) {
    return reactor().connectTCP("127.0.0.1", port, std::move(f), 10);
  });
  checkEchoed(*state, bytes);
}

BOOST_FIXTURE_TEST_CASE(coilClientSocatServerUNIX, Fixture,
                        *utf::timeout(60) * utf::precondition(NeedSocat())) {
  TempDir dir;
  Peer socat({socatPath(), "-d", "-d", "-b", "4096", "UNIX-LISTEN:" + dir / "socat.sock" + ",fork",
              "PIPE"});
  socatListening(socat);
  std::string bytes = payload(8);
  auto state = talk(bytes, [&](std::shared_ptr<ClientFactory> f) {
    return reactor().connectUNIX(dir / "socat.sock", std::move(f), 10);
  });
  checkEchoed(*state, bytes);
}

// coild's echo service, on the backend under test, with a Twisted client over TCP and UNIX.
BOOST_AUTO_TEST_CASE(coildEchoTwistedClient, *utf::timeout(60) * utf::precondition(NeedTwisted())) {
  std::string backend = defaultReactorName();
  TempDir dir;
  Peer coild({COIL_TEST_COILD, "--reactor", backend, "echo", "--port", "0", "--interface",
              "127.0.0.1", "--unix", dir / "coild.sock"});
  const std::string marker = "echo: listening on 127.0.0.1:";
  BOOST_REQUIRE_MESSAGE(coild.waitFor(
                            [&] {
                              return coild.err.find("coild.sock (backend " + backend + ")") !=
                                     std::string::npos;
                            },
                            15),
                        "coild did not listen; stderr: " << coild.err);
  auto at = coild.err.find(marker);
  BOOST_REQUIRE(at != std::string::npos);
  std::string port = std::to_string(std::stoi(coild.err.substr(at + marker.size())));

  std::string bytes = payload(9);
  writeFile(dir / "in", bytes);
  for (std::string kind : {"tcp", "unix"}) {
    std::string where = kind == "tcp" ? port : dir / "coild.sock";
    Peer client(
        {kPython, script("echo_client.py"), kind, where, dir / "in", dir / kind, sizesArgument()});
    auto rc = client.wait(40);
    BOOST_REQUIRE_MESSAGE(rc, kind << ": the client did not finish; stderr: " << client.err);
    BOOST_TEST(*rc == 0, kind << ": " << client.err);
    BOOST_TEST((readFile(dir / kind) == bytes), kind << ": the echoed bytes differ");
  }
  coild.kill(SIGTERM);
  auto rc = coild.wait(10);
  BOOST_TEST((rc && *rc == 0), "coild exit; stderr: " << coild.err);
  BOOST_TEST(!std::filesystem::exists(dir / "coild.sock"), "coild removed its socket");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace coil::test::interop
