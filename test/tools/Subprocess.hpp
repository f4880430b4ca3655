#pragma once
/// @file Subprocess: runs a program with captured stdout/stderr and bounded waits, for tests of
/// the tools (coild).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace coil::test {

/// A child process whose stdout and stderr are pipes read by the test. Killed (SIGKILL) and
/// reaped at destruction if still running.
class Subprocess {
 public:
  /// Starts `argv[0]` with `argv`, the current environment minus COIL_REACTOR and
  /// COIL_PLUGIN_PATH, plus `extraEnv` ("NAME=value").
  explicit Subprocess(const std::vector<std::string>& argv,
                      const std::vector<std::string>& extraEnv = {}) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe2 failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string_view v = *e;
      if (v.starts_with("COIL_REACTOR=") || v.starts_with("COIL_PLUGIN_PATH=")) continue;
      env.emplace_back(v);
    }
    env.insert(env.end(), extraEnv.begin(), extraEnv.end());
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
    }
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
    ::fcntl(err_, F_SETFL, O_NONBLOCK);
  }

  ~Subprocess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
    ::close(out_);
    ::close(err_);
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  /// Sends `signal` to the child.
  void kill(int signal) {
    if (pid_ > 0) ::kill(pid_, signal);
  }

  /// Reads output until `stderrText` appears in stderr or `seconds` pass; true if it appeared.
  bool waitForStderr(const std::string& stderrText, double seconds) {
    auto deadline = deadlineIn(seconds);
    while (err.find(stderrText) == std::string::npos) {
      if (!pump(deadline)) return err.find(stderrText) != std::string::npos;
    }
    return true;
  }

  /// Waits (reading output) up to `seconds` for the child to exit; its wait status, or nullopt
  /// on timeout (the child is then still running).
  std::optional<int> wait(double seconds) {
    auto deadline = deadlineIn(seconds);
    for (;;) {
      int status;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        drain();
        return status;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      pump(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
    }
  }

  /// Exit code after wait(), or -1 when killed by a signal.
  static int exitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

  /// Everything read from stdout so far.
  std::string out;
  /// Everything read from stderr so far.
  std::string err;

 private:
  using Clock = std::chrono::steady_clock;
  static Clock::time_point deadlineIn(double seconds) {
    return Clock::now() +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  // Reads what is available, waiting at most until `deadline`; false once the deadline passed.
  bool pump(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n <= 0) return n < 0 || Clock::now() < deadline;
    bool any = false;
    any |= readInto(out_, out);
    any |= readInto(err_, err);
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // both at EOF
    return true;
  }

  void drain() {
    readInto(out_, out);
    readInto(err_, err);
  }

  static bool readInto(int fd, std::string& into) {
    bool any = false;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      into.append(buffer, static_cast<std::size_t>(n));
      any = true;
    }
    return any;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
};

}  // namespace coil::test
