#pragma once
/// @file Peer: a foreign program (a Twisted script, socat, coild) run as a peer of an interop
/// test, with bounded waits. Its stdin is a pipe the test holds (closing it tells the Python
/// peers to exit) or a file; its stdout is a pipe or a file; its stderr is a pipe. Every wait
/// takes an `idle` step (usually one reactor iteration) so that coil keeps serving meanwhile.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace coil::test {

/// One running peer process; killed (SIGKILL) and reaped when destroyed. Thread: the test's.
class Peer {
 public:
  /// Where the peer's stdin comes from and its stdout goes: "" = a pipe, else a file path.
  struct Files {
    /// stdin: "" = a pipe held by the test (closed by closeStdin() or destruction).
    std::string in;
    /// stdout: "" = a pipe read into `out`; else the file is created/truncated.
    std::string out;
  };

  /// Starts `argv[0]` (a full path) with `argv` and the test's environment.
  explicit Peer(const std::vector<std::string>& argv, const Files& files = {}) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2];
    if (::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    if (files.in.empty() && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    if (files.out.empty() && ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (files.in.empty())
      posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    else
      posix_spawn_file_actions_addopen(&actions, 0, files.in.c_str(), O_RDONLY, 0);
    if (files.out.empty())
      posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    else
      posix_spawn_file_actions_addopen(&actions, 1, files.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0600);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    for (int fd : {in[0], out[1], err[1]})
      if (fd >= 0) ::close(fd);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
    if (rc != 0) {
      pid_ = -1;
      closeAll();
      throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
    }
    for (int fd : {stdout_, stderr_})
      if (fd >= 0) ::fcntl(fd, F_SETFL, O_NONBLOCK);
  }

  ~Peer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
    closeAll();
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  /// A step run between checks while waiting (usually one reactor iteration); `seconds` is
  /// the most it may block. Empty: just wait for the peer's output.
  using Idle = std::function<void(double seconds)>;

  /// Closes the pipe to the peer's stdin (the Python peers exit on EOF).
  void closeStdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  /// Sends `signal` to the peer.
  void kill(int signal) {
    if (pid_ > 0) ::kill(pid_, signal);
  }

  /// Waits until `done()` (checked after reading output) or `seconds` pass; returns done().
  bool waitFor(const std::function<bool()>& done, double seconds, const Idle& idle = {}) {
    auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      readOutput(idle ? 0 : 10);
      if (done()) return true;
      if (Clock::now() >= deadline) return false;
      if (idle) {
        idle(0.01);
      } else if (exited()) {  // nothing else will change
        readOutput(0);
        return done();
      }
    }
  }

  /// Waits for one complete line on stdout; returns it without the newline, or nullopt.
  std::optional<std::string> readLine(double seconds, const Idle& idle = {}) {
    bool got =
        waitFor([this] { return out.find('\n') != std::string::npos || exited(); }, seconds, idle);
    auto nl = out.find('\n');
    if (!got || nl == std::string::npos) return std::nullopt;
    std::string line = out.substr(0, nl);
    out.erase(0, nl + 1);
    return line;
  }

  /// Waits for the peer to exit; its exit code (-1: killed by a signal), or nullopt if it was
  /// still running after `seconds`.
  std::optional<int> wait(double seconds, const Idle& idle = {}) {
    if (!waitFor([this] { return exited(); }, seconds, idle)) return std::nullopt;
    readOutput(0);
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

  /// True once the peer exited (and was reaped).
  bool exited() {
    reap();
    return pid_ < 0;
  }

  /// Everything read from stdout (when it is a pipe) and not consumed by readLine().
  std::string out;
  /// Everything read from stderr.
  std::string err;

 private:
  using Clock = std::chrono::steady_clock;

  void reap() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
  }

  // Reads what is available, waiting at most `ms` milliseconds for something to arrive.
  void readOutput(int ms) {
    pollfd fds[2] = {{stdout_, POLLIN, 0}, {stderr_, POLLIN, 0}};
    if (::poll(fds, 2, ms) <= 0) return;
    readInto(stdout_, out);
    readInto(stderr_, err);
  }

  // Appends what `fd` has; closes it (and sets it to -1) at EOF.
  static void readInto(int& fd, std::string& into) {
    if (fd < 0) return;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
      into.append(buffer, static_cast<std::size_t>(n));
    if (n == 0) {
      ::close(fd);
      fd = -1;
    }
  }

  void closeAll() {
    for (int* fd : {&stdin_, &stdout_, &stderr_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  pid_t pid_ = -1;
  int status_ = 0;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
};

}  // namespace coil::test
