#pragma once
/// @file SocketActivation: starts a program the way systemd starts a socket-activated service
/// (descriptors 3, 4, … and LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES), with its output captured
/// and bounded waits; plus small blocking socket helpers for the client side.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace coil::test {

/// A child process started with inherited listening descriptors. Its stdout and stderr go to
/// one pipe read into `output`. Killed (SIGKILL) and reaped at destruction if still running.
class ActivatedProcess {
 public:
  /// Starts `argv[0]` with `argv`. `fds` become descriptors 3, 4, … in the child (the caller's
  /// stay open). LISTEN_PID is the child's pid, LISTEN_FDS fds.size(), LISTEN_FDNAMES the
  /// `names` joined by ':' (unset when empty). COIL_REACTOR and COIL_PLUGIN_PATH are removed.
  ActivatedProcess(const std::vector<std::string>& argv, const std::vector<int>& fds,
                   const std::vector<std::string>& names = {}) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string_view v = *e;
      if (v.starts_with("LISTEN_") || v.starts_with("COIL_REACTOR=") ||
          v.starts_with("COIL_PLUGIN_PATH="))
        continue;
      env.emplace_back(v);
    }
    env.push_back("LISTEN_FDS=" + std::to_string(fds.size()));
    if (!names.empty()) {
      std::string joined;
      for (const auto& n : names) joined += (joined.empty() ? "" : ":") + n;
      env.push_back("LISTEN_FDNAMES=" + joined);
    }
    char pidVariable[32] = "LISTEN_PID=";  // the digits are written by the child
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(pidVariable);
    envp.push_back(nullptr);

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) runChild(out[1], fds, pidVariable, args.data(), envp.data());
    ::close(out[1]);
    out_ = out[0];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
  }

  /// Kills (SIGKILL) and reaps the child if it still runs.
  ~ActivatedProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
    ::close(out_);
  }
  ActivatedProcess(const ActivatedProcess&) = delete;
  ActivatedProcess& operator=(const ActivatedProcess&) = delete;

  /// Reads output until `text` appears or `seconds` pass; true if it appeared.
  bool waitForOutput(const std::string& text, double seconds) {
    const auto deadline = Clock::now() + toDuration(seconds);
    while (output.find(text) == std::string::npos) {
      if (!pump(deadline)) return false;
    }
    return true;
  }

  /// Waits up to `seconds` for the child to exit (reading its output); its exit code (-1 when
  /// killed by a signal), or nullopt on timeout.
  std::optional<int> wait(double seconds) {
    const auto deadline = Clock::now() + toDuration(seconds);
    while (pump(deadline)) {
    }  // until EOF: the child closed its output (it exited)
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (Clock::now() >= deadline) return std::nullopt;
      ::poll(nullptr, 0, 10);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  /// Everything the child wrote so far (stdout and stderr, interleaved).
  std::string output;

 private:
  using Clock = std::chrono::steady_clock;
  static Clock::duration toDuration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  // In the child: only async-signal-safe calls until execve.
  [[noreturn]] static void runChild(int out, const std::vector<int>& fds, char* pidVariable,
                                    char** argv, char** envp) {
    ::dup2(out, 1);
    ::dup2(out, 2);
    // First out of the way (close-on-exec copies above every target), then into place.
    std::vector<int>::size_type n = fds.size();
    int moved[16];
    if (n > 16) ::_exit(126);
    for (std::size_t i = 0; i < n; ++i) moved[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
    for (std::size_t i = 0; i < n; ++i) ::dup2(moved[i], 3 + static_cast<int>(i));
    char digits[16];
    int length = 0;
    for (pid_t pid = ::getpid(); pid > 0; pid /= 10)
      digits[length++] = static_cast<char>('0' + pid % 10);
    char* end = pidVariable + std::strlen(pidVariable);
    while (length > 0) *end++ = digits[--length];
    *end = '\0';
    ::execve(argv[0], argv, envp);
    ::_exit(127);
  }

  // Reads what is available, waiting at most until `deadline`; false at EOF or the deadline.
  bool pump(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    ssize_t n = ::read(out_, buffer, sizeof buffer);
    if (n == 0) return false;
    if (n > 0) output.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
};

/// A close-on-exec socket, closed at destruction.
class Socket {
 public:
  /// socket(family, type | SOCK_CLOEXEC); throws on failure.
  Socket(int family, int type) : fd_(::socket(family, type | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  /// Adopts `fd`.
  explicit Socket(int fd) : fd_(fd) {}
  /// Closes it.
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  /// Takes `other`'s descriptor.
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  /// The descriptor.
  int fd() const { return fd_; }
  /// Closes it now.
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

/// A TCP socket listening on 127.0.0.1 (ephemeral port); `port` receives the port.
inline Socket listeningTCP(int& port) {
  Socket s(AF_INET, SOCK_STREAM);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof a;
  if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s.fd(), 8) != 0 ||
      ::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&a), &size) != 0)
    throw std::runtime_error(std::string("TCP listen: ") + std::strerror(errno));
  port = ntohs(a.sin_port);
  return s;
}

/// The sockaddr_un for `path`.
inline sockaddr_un unixAddress(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) throw std::runtime_error("UNIX path too long");
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

/// A UNIX stream socket listening on `path`.
inline Socket listeningUNIX(const std::string& path) {
  Socket s(AF_UNIX, SOCK_STREAM);
  sockaddr_un a = unixAddress(path);
  if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s.fd(), 8) != 0)
    throw std::runtime_error(std::string("UNIX listen: ") + std::strerror(errno));
  return s;
}

/// Connects a blocking client to `address`, sends `message`, and reads until as many bytes came
/// back or `seconds` (per call) passed; what came back.
inline std::string echoThrough(int family, const sockaddr* address, socklen_t size,
                               const std::string& message, int seconds = 5) {
  // Boost.Test handles SIGCHLD, and the daemons of earlier cases exit while this runs: with
  // SO_SNDTIMEO/SO_RCVTIMEO set, connect(), send() and recv() are then not restarted but fail
  // with EINTR (signal(7)), so each is resumed here.
  Socket s(family, SOCK_STREAM);
  timeval tv{seconds, 0};
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(s.fd(), address, size) != 0) {
    if (errno != EINTR) return "connect: " + std::string(std::strerror(errno));
    // The connection goes on without us: wait for its outcome.
    pollfd p{s.fd(), POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&p, 1, seconds * 1000);
    } while (ready < 0 && errno == EINTR);
    int error = ready == 1 ? 0 : ETIMEDOUT;
    socklen_t length = sizeof error;
    if (ready == 1 && ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
      error = errno;
    if (error != 0) return "connect: " + std::string(std::strerror(error));
  }
  std::size_t sent = 0;
  while (sent < message.size()) {
    ssize_t n = ::send(s.fd(), message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "send failed";
    sent += static_cast<std::size_t>(n);
  }
  std::string back;
  char buffer[256];
  while (back.size() < message.size()) {
    ssize_t n = ::recv(s.fd(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    back.append(buffer, static_cast<std::size_t>(n));
  }
  return back;
}

}  // namespace coil::test
