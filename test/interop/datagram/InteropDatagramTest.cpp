// Datagram interop with peers coil did not write, on every backend: Twisted's DatagramProtocol
// (UDP, UNIX datagram, IPv4 multicast) and socat, in both directions, plus multicast between two
// coil processes. Peers are child processes with bounded waits; a missing peer skips its cases,
// saying why.
// Tests: transports/udp/*, transports/unix/UNIXDatagramPort.cpp
#include <test/support/DeferredTesting.hpp>
#include <test/tools/Subprocess.hpp>
#include <test/transports/datagram/DatagramTesting.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using coil::Address;
using coil::IPv4Address;
using coil::UNIXAddress;
using coil::test::portOf;
using coil::test::ReactorBuilder;
using coil::test::RecordingConnected;
using coil::test::RecordingDatagram;
using coil::test::stopAndWait;
using coil::test::Subprocess;
using coil::test::tempSocketPath;

namespace {

const std::string kPython = "/usr/bin/python3";

std::string peerScript() {
  return std::string(COIL_INTEROP_DATAGRAM_DIR) + "/udp_peer.py";
}

std::string socatPath() {
  for (const char* candidate : {"/usr/bin/socat", "/usr/local/bin/socat", "/bin/socat"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return {};
}

const std::string& twistedMissing() {
  static const std::string reason = [] {
    if (::access(kPython.c_str(), X_OK) != 0)
      return kPython + " is missing (tools/setup installs python3-twisted)";
    Subprocess probe({kPython, "-c", "import twisted"});
    auto rc = probe.wait(30);
    if (!rc || Subprocess::exitCode(*rc) != 0)
      return kPython + " cannot import twisted (tools/setup installs python3-twisted)";
    return std::string();
  }();
  return reason;
}

struct NeedTwisted {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result ok(twistedMissing().empty());
    ok.message() << "skipped: " << twistedMissing();
    return ok;
  }
};

struct NeedSocat {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result ok(!socatPath().empty());
    ok.message() << "skipped: socat is not installed (tools/setup installs it)";
    return ok;
  }
};

// An echoing DatagramProtocol.
class Echo : public RecordingDatagram {
 public:
  Echo() {
    onDatagram = [this](std::string_view data, const Address& from) {
      transport()->write(data, from);
    };
  }
};

// The port a peer announced with "READY <port>" on stderr, or -1.
int readyPort(Subprocess& peer) {
  if (!peer.waitForStderr("READY", 15)) return -1;
  std::size_t at = peer.err.find("READY ");
  if (at == std::string::npos) return 0;
  return std::atoi(peer.err.c_str() + at + 6);
}

// Iterates until `peer` exits (at most 15 s); its exit code, or -2 on timeout.
int runUntilExit(ReactorBuilder& b, Subprocess& peer) {
  std::optional<int> status;
  b.iterateUntil(
      [&] {
        status = peer.wait(0);
        return status.has_value();
      },
      15.0, 0.01);
  return status ? Subprocess::exitCode(*status) : -2;
}

// A group of this process's own (other backends' suites may run at the same time).
std::string groupText() {
  return "225.2." + std::to_string((::getpid() >> 8) & 255) + "." +
         std::to_string(::getpid() & 255);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(InteropDatagramTwisted, ReactorBuilder,
                         *boost::unit_test::precondition(NeedTwisted()))

COIL_TEST_CASE(twistedClientAgainstCoilServer) {
  for (const char* host : {"127.0.0.1", "::1"}) {
    auto server = std::make_shared<Echo>();
    auto s = reactor().listenUDP(0, server, host);
    Subprocess peer(
        {kPython, peerScript(), "client", host, std::to_string(portOf(s->getHost())), "20"});
    BOOST_TEST(runUntilExit(*this, peer) == 0, "twisted client: " << peer.err);
    BOOST_TEST(server->received.size() >= 20u);
    stopAndWait(*this, *s);
  }
}

COIL_TEST_CASE(coilClientAgainstTwistedServer) {
  for (const char* host : {"127.0.0.1", "::1"}) {
    Subprocess peer({kPython, peerScript(), "echo", host});
    int port = readyPort(peer);
    BOOST_TEST_REQUIRE(port > 0, "twisted echo did not start: " << peer.err);
    auto client = std::make_shared<RecordingDatagram>();
    auto c = reactor().listenUDP(0, client, host);
    Address to = std::string(host) == "::1" ? Address(coil::IPv6Address{"UDP", host, port})
                                            : Address(IPv4Address{"UDP", host, port});
    for (int i = 0; i < 10; ++i) c->write("coil-" + std::to_string(i), to);
    BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 10; }));
    BOOST_TEST(client->received[0].from == to);
    stopAndWait(*this, *c);
  }
}

COIL_TEST_CASE(twistedUnixClientAgainstCoilServer) {
  std::string path = tempSocketPath("tw-server");
  std::string bind = tempSocketPath("tw-client");
  auto server = std::make_shared<Echo>();
  auto s = reactor().listenUNIXDatagram(path, server);
  Subprocess peer({kPython, peerScript(), "unix-client", path, bind, "10"});
  BOOST_TEST(runUntilExit(*this, peer) == 0, "twisted unix client: " << peer.err);
  BOOST_TEST_REQUIRE(server->received.size() >= 10u);
  BOOST_TEST(server->received[0].from == Address(UNIXAddress{bind}));
  stopAndWait(*this, *s);
  ::unlink(bind.c_str());
}

COIL_TEST_CASE(coilUnixClientAgainstTwistedServer) {
  std::string path = tempSocketPath("tw-echo");
  std::string bind = tempSocketPath("coil-client");
  Subprocess peer({kPython, peerScript(), "unix-echo", path});
  BOOST_TEST_REQUIRE(readyPort(peer) >= 0, "twisted unix echo did not start: " << peer.err);
  auto client = std::make_shared<RecordingConnected>();
  auto c = reactor().connectUNIXDatagram(path, client, 8192, 0666, bind);
  BOOST_TEST_REQUIRE(client->failures.empty());
  for (int i = 0; i < 10; ++i) c->write("coil-unix-" + std::to_string(i));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 10; }));
  BOOST_TEST(client->received[9] == "coil-unix-9");
  stopAndWait(*this, *c);
  peer.kill(SIGTERM);
  peer.wait(5);
  ::unlink(path.c_str());
}

COIL_TEST_CASE(multicastFromCoilToTwisted) {
  std::string group = groupText();
  Subprocess peer({kPython, peerScript(), "mcast-listen", group});
  int port = readyPort(peer);
  BOOST_TEST_REQUIRE(port > 0, "twisted multicast listener did not start: " << peer.err);
  auto proto = std::make_shared<RecordingDatagram>();
  auto m = reactor().listenMulticast(port, proto, "", 8192, true);
  coil::test::successResultOf(m->setOutgoingInterface("127.0.0.1"));
  coil::test::successResultOf(m->joinGroup(group, "127.0.0.1"));
  m->write("hello twisted", IPv4Address{"UDP", group, port});
  BOOST_TEST_REQUIRE(iterateUntil([&] {
    for (const auto& r : proto->received)
      if (r.data == "twisted:hello twisted") return true;
    return false;
  }));
  BOOST_TEST(runUntilExit(*this, peer) == 0);
  stopAndWait(*this, *m);
}

COIL_TEST_CASE(multicastFromTwistedToCoil) {
  std::string group = groupText();
  auto proto = std::make_shared<RecordingDatagram>();
  auto m = reactor().listenMulticast(0, proto);
  coil::test::successResultOf(m->joinGroup(group, "127.0.0.1"));
  Subprocess peer(
      {kPython, peerScript(), "mcast-send", group, std::to_string(portOf(m->getHost()))});
  BOOST_TEST_REQUIRE(iterateUntil([&] { return !proto->received.empty(); }, 15.0));
  BOOST_TEST(proto->received[0].data == "from-twisted");
  m->write("ack", proto->received[0].from);
  BOOST_TEST(runUntilExit(*this, peer) == 0, "twisted sender: " << peer.err);
  stopAndWait(*this, *m);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(InteropDatagramSocat, ReactorBuilder,
                         *boost::unit_test::precondition(NeedSocat()))

COIL_TEST_CASE(socatClientAgainstCoilServer) {
  auto server = std::make_shared<Echo>();
  auto s = reactor().listenUDP(0, server, "127.0.0.1");
  Subprocess peer({"/bin/sh", "-c",
                   "printf 'from socat' | " + socatPath() +
                       " -t 2 - UDP4:127.0.0.1:" + std::to_string(portOf(s->getHost()))});
  BOOST_TEST(runUntilExit(*this, peer) == 0, peer.err);
  BOOST_TEST_REQUIRE(server->received.size() == 1u);
  BOOST_TEST(server->received[0].data == "from socat");
  BOOST_TEST(peer.out == "from socat");
  stopAndWait(*this, *s);
}

COIL_TEST_CASE(coilClientAgainstSocatServer) {
  // socat answers the first datagram's sender (RECVFROM) through PIPE, i.e. echoes it.
  auto probe = reactor().listenUDP(0, std::make_shared<RecordingDatagram>(), "127.0.0.1");
  int port = portOf(probe->getHost());
  stopAndWait(*this, *probe);
  Subprocess peer({socatPath(), "-d", "-d", "-T", "5",
                   "UDP4-RECVFROM:" + std::to_string(port) + ",bind=127.0.0.1", "PIPE"});
  BOOST_TEST_REQUIRE(peer.waitForStderr("receiving on", 10), peer.err);
  auto client = std::make_shared<RecordingDatagram>();
  auto c = reactor().listenUDP(0, client, "127.0.0.1");
  c->write("to socat", IPv4Address{"UDP", "127.0.0.1", port});
  BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 1; }));
  BOOST_TEST(client->received[0].data == "to socat");
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(socatUnixClientAgainstCoilServer) {
  std::string path = tempSocketPath("socat-server");
  std::string bind = tempSocketPath("socat-client");
  auto server = std::make_shared<Echo>();
  auto s = reactor().listenUNIXDatagram(path, server);
  Subprocess peer({"/bin/sh", "-c",
                   "printf 'unix from socat' | " + socatPath() + " -t 2 - UNIX-SENDTO:" + path +
                       ",bind=" + bind});
  BOOST_TEST(runUntilExit(*this, peer) == 0, peer.err);
  BOOST_TEST_REQUIRE(server->received.size() == 1u);
  BOOST_TEST(server->received[0].from == Address(UNIXAddress{bind}));
  BOOST_TEST(peer.out == "unix from socat");
  stopAndWait(*this, *s);
  ::unlink(bind.c_str());
}

COIL_TEST_CASE(coilUnixClientAgainstSocatServer) {
  std::string path = tempSocketPath("socat-echo");
  std::string bind = tempSocketPath("coil-to-socat");
  Subprocess peer({socatPath(), "-d", "-d", "-T", "5", "UNIX-RECVFROM:" + path, "PIPE"});
  BOOST_TEST_REQUIRE(peer.waitForStderr("receiving on", 10), peer.err);
  auto client = std::make_shared<RecordingConnected>();
  auto c = reactor().connectUNIXDatagram(path, client, 8192, 0666, bind);
  BOOST_TEST_REQUIRE(client->failures.empty());
  c->write("unix to socat");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 1; }));
  BOOST_TEST(client->received[0] == "unix to socat");
  stopAndWait(*this, *c);
  ::unlink(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(InteropDatagramCoil, ReactorBuilder)

// A second coil process (forked, with its own reactor) joins the group, answers the first
// datagram with a multicast of its own, and exits.
COIL_TEST_CASE(multicastBetweenTwoCoilProcesses) {
  std::string group = groupText();
  auto proto = std::make_shared<RecordingDatagram>();
  auto m = reactor().listenMulticast(0, proto, "", 8192, true);
  int port = portOf(m->getHost());
  coil::test::successResultOf(m->setOutgoingInterface("127.0.0.1"));
  coil::test::successResultOf(m->joinGroup(group, "127.0.0.1"));
  int ready[2];
  BOOST_TEST_REQUIRE(::pipe(ready) == 0);
  pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[0]);
    int code = 1;
    try {
      auto reactor = coil::test::makeTestReactor();
      auto child = std::make_shared<RecordingDatagram>();
      auto p = reactor->listenMulticast(port, child, "", 8192, true);
      p->setOutgoingInterface("127.0.0.1");
      bool joined = false;
      p->joinGroup(group, "127.0.0.1").addCallback([&] { joined = true; });
      if (joined && ::write(ready[1], "R", 1) == 1) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        bool answered = false;
        while (!answered && std::chrono::steady_clock::now() < deadline) {
          reactor->iterate(0.05);
          for (const auto& r : child->received)
            if (r.data == "from parent") answered = true;
        }
        if (answered) {
          p->write("from child", IPv4Address{"UDP", group, port});
          code = 0;
        }
      }
    } catch (...) {
    }
    ::_exit(code);
  }
  ::close(ready[1]);
  char byte = 0;
  BOOST_TEST_REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  m->write("from parent", IPv4Address{"UDP", group, port});
  BOOST_TEST(iterateUntil([&] {
    for (const auto& r : proto->received)
      if (r.data == "from child") return true;
    return false;
  }));
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  stopAndWait(*this, *m);
}

BOOST_AUTO_TEST_SUITE_END()
