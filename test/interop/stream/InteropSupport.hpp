#pragma once
/// @file InteropSupport: what the stream interop tests share — where the foreign peers are (and
/// preconditions that skip a case, saying why, when one is missing), the payload, temporary
/// directories, and coil's side of the conversation (a recording echo server and a client that
/// sends messages one at a time).

#include <coil/core/IHalfCloseableProtocol.hpp>
#include <coil/core/Protocol.hpp>
#include <test/interop/stream/Peer.hpp>

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace coil::test::interop {

/// The Python that has Twisted (Debian's python3-twisted); never /usr/bin/env python3.
inline const std::string kPython = "/usr/bin/python3";

/// The folder holding the Python peer scripts.
inline std::string script(const std::string& name) {
  return std::string(COIL_INTEROP_STREAM_DIR) + "/" + name;
}

/// socat's full path, or "" when it is not installed.
inline std::string socatPath() {
  for (const char* candidate : {"/usr/bin/socat", "/usr/local/bin/socat", "/bin/socat"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return {};
}

/// Why the Twisted peers cannot run here, or "" when they can (checked once).
inline const std::string& twistedMissing() {
  static const std::string reason = [] {
    if (::access(kPython.c_str(), X_OK) != 0)
      return kPython + " is missing (tools/setup installs python3-twisted)";
    Peer probe({kPython, "-c", "import twisted"});
    auto rc = probe.wait(30);
    if (!rc || *rc != 0)
      return kPython +
             " cannot import twisted (install python3-twisted: tools/setup): " + probe.err;
    return std::string();
  }();
  return reason;
}

/// Precondition: skips the case with a message when Twisted is unavailable.
struct NeedTwisted {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result ok(twistedMissing().empty());
    ok.message() << twistedMissing();
    return ok;
  }
};

/// Precondition: skips the case with a message when socat is not installed.
struct NeedSocat {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result ok(!socatPath().empty());
    ok.message() << "socat is not installed (tools/setup installs it)";
    return ok;
  }
};

/// The sizes of the messages sent one at a time; what follows them is one more, 1 MiB.
inline const std::vector<std::size_t> kSizes{1, 13, 1000, 65536, 100000};

/// The comma-separated kSizes, as echo_client.py takes them.
inline std::string sizesArgument() {
  std::string out;
  for (std::size_t s : kSizes) out += (out.empty() ? "" : ",") + std::to_string(s);
  return out;
}

/// The deterministic bytes sent: kSizes' messages then 1 MiB, all byte values present.
inline std::string payload(unsigned seed = 2024) {
  std::size_t total = std::size_t{1} << 20;
  for (std::size_t s : kSizes) total += s;
  std::mt19937 gen(seed);
  std::string bytes(total, '\0');
  for (auto& c : bytes) c = static_cast<char>(gen());
  return bytes;
}

/// `bytes` split as echo_client.py splits it.
inline std::vector<std::string> messagesOf(const std::string& bytes) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (std::size_t s : kSizes) {
    out.push_back(bytes.substr(at, s));
    at += s;
  }
  if (at < bytes.size()) out.push_back(bytes.substr(at));
  return out;
}

/// A private temporary directory, removed with its contents at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/coil-interop-XXXXXX";  // short: UNIX paths are limited
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// `name` inside the directory.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes `bytes` to `path`.
inline void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

/// The contents of `path` ("" if missing).
inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// What a RecordingEcho server saw, one entry per connection in accept order.
struct EchoRecord {
  /// Bytes received per connection.
  std::vector<std::string> received;
  /// Connections whose peer half-closed (readConnectionLost).
  int halfClosed = 0;
  /// Connections lost (connectionLost ran).
  int lost = 0;
};

/// coil's echo for the foreign clients: records what it receives, and when the peer sends EOF
/// flushes what is queued before closing (as socat expects). Thread: reactor.
class RecordingEcho : public Protocol, public IHalfCloseableProtocol {
 public:
  /// Records into `record`.
  explicit RecordingEcho(std::shared_ptr<EchoRecord> record) : record_(std::move(record)) {}
  /// Starts this connection's entry.
  void connectionMade() override {
    index_ = record_->received.size();
    record_->received.emplace_back();
  }
  /// Records and echoes.
  void dataReceived(std::string_view data) override {
    record_->received[index_].append(data);
    transport()->write(data);
  }
  /// Flushes, then closes.
  void readConnectionLost() override {
    ++record_->halfClosed;
    transport()->loseConnection();
  }
  /// Not used.
  void writeConnectionLost() override {}
  /// Counts the loss.
  void connectionLost(const Failure&) override { ++record_->lost; }

 private:
  std::shared_ptr<EchoRecord> record_;
  std::size_t index_ = 0;
};

/// What a SequentialClient did.
struct ClientState {
  /// The messages to send, in order.
  std::vector<std::string> messages;
  /// Every byte received.
  std::string received;
  /// Messages echoed so far.
  std::size_t echoed = 0;
  /// An echo differed from its message.
  bool mismatch = false;
  /// connectionLost ran (with this reason).
  bool lost = false;
  /// The loss reason, or clientConnectionFailed's.
  std::string reason;
  /// clientConnectionFailed ran.
  bool failed = false;
  /// True once the client is finished, well or badly.
  bool finished() const { return lost || failed; }
};

/// coil's client for the foreign servers: sends each message once the previous one came back
/// whole, then closes. Thread: reactor.
class SequentialClient : public Protocol {
 public:
  /// Reports into `state`.
  explicit SequentialClient(std::shared_ptr<ClientState> state) : state_(std::move(state)) {}
  /// Sends the first message.
  void connectionMade() override { transport()->write(state_->messages.front()); }
  /// Checks each echo; sends the next message or closes.
  void dataReceived(std::string_view data) override {
    state_->received.append(data);
    pending_ += data.size();
    while (state_->echoed < state_->messages.size()) {
      const std::string& message = state_->messages[state_->echoed];
      if (pending_ < message.size()) return;
      std::string_view back(state_->received.data() + start_, message.size());
      if (back != message) state_->mismatch = true;
      start_ += message.size();
      pending_ -= message.size();
      if (++state_->echoed < state_->messages.size())
        transport()->write(state_->messages[state_->echoed]);
    }
    transport()->loseConnection();
  }
  /// Records the loss.
  void connectionLost(const Failure& reason) override {
    state_->lost = true;
    state_->reason = reason.describe();
  }

 private:
  std::shared_ptr<ClientState> state_;
  std::size_t start_ = 0;    // where the current message's echo starts in received
  std::size_t pending_ = 0;  // bytes received from start_ on
};

/// Builds SequentialClients and records a failure to connect. Thread: reactor.
class SequentialFactory : public ClientFactory {
 public:
  /// Clients report into `state`.
  explicit SequentialFactory(std::shared_ptr<ClientState> state) : state_(std::move(state)) {
    noisy = false;
    protocol = [s = state_] { return std::make_shared<SequentialClient>(s); };
  }
  /// Records the failure.
  void clientConnectionFailed(IConnector&, const Failure& reason) override {
    state_->failed = true;
    state_->reason = reason.describe();
  }

 private:
  std::shared_ptr<ClientState> state_;
};

}  // namespace coil::test::interop
