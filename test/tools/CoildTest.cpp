// Tests for tools/coild run as a subprocess: --version, help, --list-reactors (with plugins),
// usage errors, unknown backends, and the echo service (TCP, UNIX, flow control, half-close)
// on every backend.
#include <test/support/Testing.hpp>
#include <test/tools/Subprocess.hpp>

#include <boost/test/data/test_case.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
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

/// A loopback TCP (or UNIX stream) client with bounded waits.
class Client {
 public:
  /// Connects to 127.0.0.1:`port`.
  explicit Client(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    open(AF_INET, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  /// Connects to [`ip6`]:`port`.
  Client(const std::string& ip6, int port) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<std::uint16_t>(port));
    BOOST_REQUIRE(::inet_pton(AF_INET6, ip6.c_str(), &addr.sin6_addr) == 1);
    open(AF_INET6, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  /// Connects to the UNIX stream socket `path`.
  explicit Client(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    BOOST_REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.data(), path.size());
    open(AF_UNIX, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
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

  /// Shuts down the sending side (the peer reads EOF).
  void shutdownWrite() { BOOST_TEST(::shutdown(fd_, SHUT_WR) == 0); }

  /// Reads until EOF or `seconds` pass; returns what was read and sets `sawEof`.
  std::string readToEof(bool& sawEof, double seconds = 10) {
    std::string got;
    sawEof = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!sawEof && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[65536];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) sawEof = true;
      if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
      if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    }
    return got;
  }

  /// Closes with a reset (SO_LINGER 0).
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  void open(int family, sockaddr* addr, socklen_t length) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd_ >= 0);
    BOOST_REQUIRE_MESSAGE(::connect(fd_, addr, length) == 0, "connect: " << std::strerror(errno));
    ::fcntl(fd_, F_SETFL, O_NONBLOCK);
  }

  int fd_ = -1;
};

std::string randomBytes(std::size_t n) {
  std::mt19937 gen(12345);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

/// Waits for coild's "echo: listening on <address> (backend <backend>)" line starting with
/// `address` and returns the rest of the address (for TCP: the port).
std::string waitListening(Subprocess& server, const std::string& backend,
                          const std::string& address) {
  const std::string marker = "echo: listening on " + address;
  const std::string suffix = " (backend " + backend + ")";
  BOOST_REQUIRE_MESSAGE(server.waitForStderr(suffix, 15),
                        "no listening line; stderr: " << server.err);
  auto at = server.err.find(marker);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no '" << marker << "' in: " << server.err);
  at += marker.size();
  auto end = server.err.find(suffix, at);
  BOOST_REQUIRE(end != std::string::npos);
  return server.err.substr(at, end - at);
}

/// Starts `coild ... echo --port 0`, waits for its "listening" line on every IPv4 address
/// (coild's default interface) and returns the port.
int startEcho(Subprocess& server, const std::string& backend,
              const std::string& address = "0.0.0.0:") {
  return std::stoi(waitListening(server, backend, address));
}

/// Stops coild with `signal` and checks it exits 0 having said "echo: stopped".
void stopCoild(Subprocess& server, int signal = SIGTERM) {
  server.kill(signal);
  auto status = server.wait(10);
  BOOST_REQUIRE_MESSAGE(status, "coild did not stop on signal " << signal);
  BOOST_TEST(Subprocess::exitCode(*status) == 0, server.err);
  BOOST_TEST(contains(server.err, "echo: stopped"), server.err);
}

/// A fresh path for a UNIX socket, in a new private directory (removed by the caller).
std::string socketPath(const std::string& name) {
  std::string dir = (std::filesystem::temp_directory_path() / "coild-test-XXXXXX").string();
  BOOST_REQUIRE(::mkdtemp(dir.data()) != nullptr);
  return dir + "/" + name;
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
  {
    Subprocess p({kCoild, "echo", "--unix", ""});
    BOOST_TEST(runCoild(p) == 2);
    BOOST_TEST(contains(p.err, "--unix needs a path"));
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
    // Half-close: everything sent before EOF comes back, then the server closes.
    Client halfClose(port);
    std::string tail = randomBytes(1 << 20);
    BOOST_TEST(halfClose.sendUntilStalled(tail) == tail.size());
    halfClose.shutdownWrite();
    bool eof = false;
    BOOST_TEST((halfClose.readToEof(eof, 20) == tail));
    BOOST_TEST(eof);
  }
  stopCoild(server);
}

COIL_TEST_CASE(echoUsesCoilReactorFromEnvironment) {
  Subprocess server({kCoild, "echo", "--port", "0"}, {"COIL_REACTOR=poll"});
  int port = startEcho(server, "poll");
  Client c(port);
  BOOST_TEST(c.echo("abc") == "abc");
  stopCoild(server, SIGINT);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(echoServesUnixSocketOnEveryBackend, bdata::make(backends()), backend) {
  std::string path = socketPath("echo.sock");
  {
    Subprocess server(
        {kCoild, "--plugin-dir", kPluginDir, "--reactor", backend, "echo", "--unix", path});
    BOOST_TEST(waitListening(server, backend, "unix:") == path);
    BOOST_TEST(!contains(server.err, "echo: listening on 0.0.0.0"), "--unix alone is not TCP");
    BOOST_TEST(std::filesystem::is_symlink(path + ".lock"), "coild holds a PID lock");
    {
      Client a(path);
      Client b(path);
      BOOST_TEST(a.echo("over a UNIX socket\n") == "over a UNIX socket\n");
      std::string payload = randomBytes(1 << 20);
      BOOST_TEST((b.echo(payload, 20) == payload));
      BOOST_TEST(a.echo("again") == "again");
    }
    stopCoild(server);
    BOOST_TEST(!std::filesystem::exists(path), "the socket file is removed on shutdown");
    BOOST_TEST(!std::filesystem::exists(std::filesystem::symlink_status(path + ".lock")));
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

COIL_TEST_CASE(echoReplacesASocketLeftByADeadCoild) {
  std::string path = socketPath("stale.sock");
  {
    // What a killed coild leaves: the socket file and a lock naming a process that is gone.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
    std::filesystem::create_symlink("999999999", path + ".lock");  // above any pid_max
    Subprocess server({kCoild, "--reactor", "poll", "echo", "--unix", path});
    BOOST_TEST(waitListening(server, "poll", "unix:") == path);
    Client c(path);
    BOOST_TEST(c.echo("fresh") == "fresh");
    // A second coild on the same path is refused while the first one lives.
    Subprocess second({kCoild, "--reactor", "poll", "echo", "--unix", path});
    BOOST_TEST(runCoild(second) == 1);
    BOOST_TEST(contains(second.err, "Couldn't listen on " + path), second.err);
    BOOST_TEST(c.echo("still mine") == "still mine");
    stopCoild(server);
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

COIL_TEST_CASE(echoServesTcpAndUnixTogether) {
  std::string path = socketPath("both.sock");
  {
    Subprocess server({kCoild, "--reactor", "poll", "echo", "--unix", path, "--port", "0",
                       "--interface", "127.0.0.1"});
    int port = std::stoi(waitListening(server, "poll", "127.0.0.1:"));
    BOOST_TEST(server.waitForStderr("echo: listening on unix:" + path, 5), server.err);
    Client tcp(port);
    Client local(path);
    BOOST_TEST(tcp.echo("tcp") == "tcp");
    BOOST_TEST(local.echo("unix") == "unix");
    stopCoild(server);
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

/// True when this machine can bind the IPv6 loopback address.
bool haveIPv6Loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

COIL_TEST_CASE(echoListensOnIPv6) {
  if (!haveIPv6Loopback()) {
    BOOST_TEST_MESSAGE("skipped: no IPv6 loopback here");
    return;
  }
  Subprocess server({kCoild, "--reactor", "poll", "echo", "--port", "0", "--interface", "::1"});
  int port = std::stoi(waitListening(server, "poll", "[::1]:"));
  Client c("::1", port);
  BOOST_TEST(c.echo("over IPv6") == "over IPv6");
  stopCoild(server);
}

COIL_TEST_CASE(echoOnABusyPortFailsWithCannotListen) {
  Subprocess first({kCoild, "--reactor", "poll", "echo", "--port", "0"});
  int port = startEcho(first, "poll");
  Subprocess second({kCoild, "--reactor", "poll", "echo", "--port", std::to_string(port)});
  BOOST_TEST(runCoild(second) == 1);
  BOOST_TEST(contains(second.err, "Couldn't listen on any:" + std::to_string(port)), second.err);
  Client c(port);
  BOOST_TEST(c.echo("first still serves") == "first still serves");
  stopCoild(first);
}

COIL_TEST_CASE(echoRejectsABadInterface) {
  Subprocess p({kCoild, "--reactor", "poll", "echo", "--port", "0", "--interface", "not-an-ip"});
  BOOST_TEST(runCoild(p) == 1);
  BOOST_TEST(contains(p.err, "coild echo: "), p.err);
  BOOST_TEST(contains(p.err, "not-an-ip"), p.err);
  BOOST_TEST(!contains(p.err, "listening on"));
}

BOOST_AUTO_TEST_SUITE_END()
