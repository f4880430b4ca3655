// Tests for tools/coild run as a subprocess: --version, help, --list-reactors (with plugins),
// usage errors, unknown backends, and the echo service on every backend.
#include <test/support/Testing.hpp>
#include <test/tools/Subprocess.hpp>

#include <boost/test/data/test_case.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <random>
#include <sstream>

namespace bdata = boost::unit_test::data;
using coil::test::Subprocess;

namespace {

const std::string kCoild = COIL_TEST_COILD;
const std::string kPluginDir = COIL_TEST_PLUGIN_DIR;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Runs coild to completion (bounded); returns the exit code (-1: signal, -2: timed out).
int runCoild(Subprocess& p, double seconds = 20) {
  auto status = p.wait(seconds);
  if (!status) return -2;
  return Subprocess::exitCode(*status);
}

/// The line of `text` that starts with `prefix`, or "".
std::string lineStarting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return {};
}

/// A loopback TCP client with bounded waits.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::fcntl(fd_, F_SETFL, O_NONBLOCK);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends `data` from offset `sent` on while reading the echo; returns what came back within
  /// `seconds`.
  std::string echo(const std::string& data, double seconds = 10, std::size_t sent = 0) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (got.size() < data.size() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if ((p.revents & POLLOUT) && sent < data.size()) {
        ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
      }
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        char buffer[65536];
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n == 0) break;
        if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
      }
    }
    return got;
  }

  /// Sends `data` without reading until the socket stays full for 200 ms (the server stopped
  /// reading) or everything is sent; returns the number of bytes sent.
  std::size_t sendUntilStalled(const std::string& data, double seconds = 10) {
    std::size_t sent = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (sent < data.size() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 200) <= 0) break;
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    return sent;
  }

  /// Sends without reading.
  void sendOnly(const std::string& data) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    BOOST_TEST(n > 0);
  }

  /// Closes with a reset (SO_LINGER 0).
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string randomBytes(std::size_t n) {
  std::mt19937 gen(12345);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

/// Starts `coild ... echo --port 0`, waits for its "listening" line and returns the port.
int startEcho(Subprocess& server, const std::string& backend) {
  const std::string marker = "echo: listening on 127.0.0.1:";
  BOOST_REQUIRE_MESSAGE(server.waitForStderr(" (backend " + backend + ")", 15),
                        "no listening line; stderr: " << server.err);
  auto at = server.err.find(marker);
  BOOST_REQUIRE(at != std::string::npos);
  return std::stoi(server.err.substr(at + marker.size()));
}

std::vector<std::string> backends() {
  std::vector<std::string> names{"epoll", "poll", "select"};
#ifdef COIL_HAVE_URING
  names.push_back("uring");
#endif
  return names;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(CoildTests)

COIL_TEST_CASE(versionIsPrinted) {
  Subprocess p({kCoild, "--version"});
  BOOST_TEST(runCoild(p) == 0);
  BOOST_TEST(contains(p.out, "coild (coil) "));
}

COIL_TEST_CASE(noCommandPrintsHelp) {
  Subprocess p({kCoild});
  BOOST_TEST(runCoild(p) == 0);
  BOOST_TEST(contains(p.out, "Usage: coild"));
  BOOST_TEST(contains(p.out, "--list-reactors"));
  BOOST_TEST(contains(p.out, "--plugin-dir"));
  BOOST_TEST(contains(p.out, "echo"));
}

COIL_TEST_CASE(listReactorsWithPluginDir) {
  Subprocess p({kCoild, "--plugin-dir", kPluginDir, "--list-reactors"});
  BOOST_TEST(runCoild(p) == 0);
  BOOST_TEST_MESSAGE(p.out);
  for (const std::string name : {"epoll", "poll", "select"}) {
    std::string line = lineStarting(p.out, name + " ");
    BOOST_TEST(contains(line, "available"), name << ": " << line);
    BOOST_TEST(contains(line, "built-in"), name << ": " << line);
  }
#ifdef COIL_HAVE_URING
  std::string uring = lineStarting(p.out, "uring ");
  BOOST_TEST(contains(uring, "io_uring"));
  BOOST_TEST(contains(uring, kPluginDir + "/coil_uring.so"));
#endif
}

COIL_TEST_CASE(listReactorsWithPluginPath) {
  Subprocess p({kCoild, "--list-reactors"}, {"COIL_PLUGIN_PATH=/nonexistent:" + kPluginDir});
  BOOST_TEST(runCoild(p) == 0);
#ifdef COIL_HAVE_URING
  BOOST_TEST(!lineStarting(p.out, "uring ").empty(), p.out);
#endif
  BOOST_TEST(!lineStarting(p.out, "select ").empty(), p.out);
}

COIL_TEST_CASE(refusedPluginIsLoggedNotFatal) {
  Subprocess p({kCoild, "--plugin-dir", COIL_TEST_FIXTURE_DIR, "--list-reactors"});
  BOOST_TEST(runCoild(p) == 0);
  BOOST_TEST(contains(p.err, "coil_test_wrongabi.so refused: ABI version mismatch"), p.err);
  BOOST_TEST(contains(p.err, "coil_test_duplicate.so refused"), p.err);
  BOOST_TEST(!lineStarting(p.out, "poll ").empty());
}

COIL_TEST_CASE(unknownBackendExits2WithTheList) {
  Subprocess p({kCoild, "--reactor", "bogus", "echo", "--port", "0"});
  BOOST_TEST(runCoild(p) == 2);
  BOOST_TEST_MESSAGE(p.err);
  BOOST_TEST(contains(p.err, "'bogus'"));
  BOOST_TEST(contains(p.err, "unknown backend"));
  BOOST_TEST(contains(p.err, "available: epoll, poll, select"));
  BOOST_TEST(!contains(p.err, "listening"));
}

COIL_TEST_CASE(unknownBackendFromEnvironmentExits2) {
  Subprocess p({kCoild, "echo", "--port", "0"}, {"COIL_REACTOR=bogus"});
  BOOST_TEST(runCoild(p) == 2);
  BOOST_TEST(contains(p.err, "'bogus' (from COIL_REACTOR)"));
  BOOST_TEST(contains(p.err, "available:"));
}

COIL_TEST_CASE(badOptionsExit2WithUsage) {
  {
    Subprocess p({kCoild, "--no-such-option"});
    BOOST_TEST(runCoild(p) == 2);
    BOOST_TEST(contains(p.err, "Usage: coild"));
  }
  {
    Subprocess p({kCoild, "--reactor"});
    BOOST_TEST(runCoild(p) == 2);
  }
  {
    Subprocess p({kCoild, "frobnicate"});
    BOOST_TEST(runCoild(p) == 2);
    BOOST_TEST(contains(p.err, "unknown command 'frobnicate'"));
  }
  {
    Subprocess p({kCoild, "echo", "--port", "eighty"});
    BOOST_TEST(runCoild(p) == 2);
  }
  {
    Subprocess p({kCoild, "echo", "--port", "70000"});
    BOOST_TEST(runCoild(p) == 2);
  }
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(90))
BOOST_DATA_TEST_CASE(echoAnswersOnEveryBackend, bdata::make(backends()), backend) {
  Subprocess server(
      {kCoild, "--plugin-dir", kPluginDir, "--reactor", backend, "echo", "--port", "0"});
  int port = startEcho(server, backend);
  BOOST_TEST_MESSAGE(backend << " listening on " << port);
  BOOST_REQUIRE(port > 0);
  {
    Client small(port);
    BOOST_TEST(small.echo("hello, coil\n") == "hello, coil\n");
    Client big(port);
    std::string payload = randomBytes(3 << 20);  // above the server's high-water mark
    Client rude(port);
    rude.sendOnly("some bytes never read back");
    rude.reset();  // a misbehaving peer: only its own connection goes
    BOOST_TEST((big.echo(payload, 20) == payload));
    BOOST_TEST(small.echo("still here") == "still here");
    // A peer that sends without reading: the server stops reading it above its high-water
    // mark, keeps serving others, and echoes everything once the peer reads again.
    Client hog(port);
    std::string flood = randomBytes(32 << 20);
    std::size_t sent = hog.sendUntilStalled(flood);
    BOOST_TEST_MESSAGE(backend << ": " << sent << " bytes sent before the server stopped reading");
    BOOST_TEST(small.echo("not starved") == "not starved");
    BOOST_TEST((hog.echo(flood, 30, sent) == flood));
  }
  server.kill(SIGTERM);
  auto status = server.wait(10);
  BOOST_REQUIRE_MESSAGE(status, "coild did not stop on SIGTERM");
  BOOST_TEST(Subprocess::exitCode(*status) == 0, server.err);
  BOOST_TEST(contains(server.err, "echo: stopped"));
}

COIL_TEST_CASE(echoUsesCoilReactorFromEnvironment) {
  Subprocess server({kCoild, "echo", "--port", "0"}, {"COIL_REACTOR=poll"});
  int port = startEcho(server, "poll");
  Client c(port);
  BOOST_TEST(c.echo("abc") == "abc");
  server.kill(SIGINT);
  auto status = server.wait(10);
  BOOST_REQUIRE(status);
  BOOST_TEST(Subprocess::exitCode(*status) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
