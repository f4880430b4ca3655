// Tests for the uring example backend's io_uring poll Multiplexer, used directly: level-triggered
// readiness, interest changes, timeouts, hang-ups, more descriptors than ring entries.
#ifdef COIL_HAVE_URING

#include <coil/plugins/examples/uring/UringMultiplexer.hpp>

#include <test/support/Testing.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <set>

using coil::ReadyList;
using coil::uring::UringMultiplexer;
namespace io = coil::io;

namespace {

/// A connected, non-blocking AF_UNIX stream pair, closed at the end.
struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() {
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  }
  ~SocketPair() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  void closeEnd(int i) {
    ::close(fds[i]);
    fds[i] = -1;
  }
};

std::uint8_t eventsFor(const ReadyList& ready, int fd) {
  std::uint8_t bits = 0;
  for (const auto& e : ready)
    if (e.fd == fd) bits |= e.events;
  return bits;
}

/// Waits (up to `seconds`) until `fd` shows up in the ready list.
std::uint8_t waitFor(UringMultiplexer& mux, int fd, double seconds = 2.0) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    ReadyList ready;
    BOOST_REQUIRE(!mux.wait(0.1, ready));
    if (std::uint8_t bits = eventsFor(ready, fd)) return bits;
  }
  return 0;
}

bool available() {
  if (auto reason = coil::uring::probe()) {
    BOOST_TEST_MESSAGE("io_uring unavailable, skipped: " << *reason);
    return false;
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(UringTests)

COIL_TEST_CASE(nameAndFeatures) {
  if (!available()) return;
  UringMultiplexer mux;
  BOOST_TEST(mux.name() == "uring");
  BOOST_TEST((mux.features() & coil::feature::kEdgeTriggered) == 0u);
  BOOST_TEST((mux.features() & coil::feature::kRegularFiles) != 0u);
}

COIL_TEST_CASE(readableIsReportedLevelTriggered) {
  if (!available()) return;
  UringMultiplexer mux;
  SocketPair sp;
  BOOST_REQUIRE(!mux.update(sp.fds[0], 0, io::kRead));
  ReadyList ready;
  BOOST_REQUIRE(!mux.wait(0.0, ready));
  BOOST_TEST(eventsFor(ready, sp.fds[0]) == 0);
  BOOST_REQUIRE(::write(sp.fds[1], "x", 1) == 1);
  BOOST_TEST((waitFor(mux, sp.fds[0]) & io::kRead) != 0);
  // Not read: still readable on the next wait (the poll is re-armed).
  BOOST_TEST((waitFor(mux, sp.fds[0]) & io::kRead) != 0);
  char c;
  BOOST_REQUIRE(::read(sp.fds[0], &c, 1) == 1);
  ready.clear();
  BOOST_REQUIRE(!mux.wait(0.05, ready));
  BOOST_TEST(eventsFor(ready, sp.fds[0]) == 0);
}

COIL_TEST_CASE(interestChangesTakeEffect) {
  if (!available()) return;
  UringMultiplexer mux;
  SocketPair sp;
  BOOST_REQUIRE(!mux.update(sp.fds[0], 0, io::kRead));
  ReadyList ready;
  BOOST_REQUIRE(!mux.wait(0.0, ready));  // armed for reading, nothing to read
  BOOST_REQUIRE(!mux.update(sp.fds[0], io::kRead, io::kWrite));
  std::uint8_t bits = waitFor(mux, sp.fds[0]);
  BOOST_TEST((bits & io::kWrite) != 0);
  BOOST_TEST((bits & io::kRead) == 0);
  BOOST_REQUIRE(::write(sp.fds[1], "x", 1) == 1);
  BOOST_REQUIRE(!mux.update(sp.fds[0], io::kWrite, io::kRead | io::kWrite));
  bits = waitFor(mux, sp.fds[0]);
  BOOST_TEST((bits & io::kRead) != 0);
  BOOST_REQUIRE(!mux.update(sp.fds[0], io::kRead | io::kWrite, 0));
  ready.clear();
  BOOST_REQUIRE(!mux.wait(0.05, ready));
  BOOST_TEST(eventsFor(ready, sp.fds[0]) == 0);  // removed: nothing, stale polls ignored
}

COIL_TEST_CASE(timeoutIsHonoured) {
  if (!available()) return;
  UringMultiplexer mux;
  SocketPair sp;
  BOOST_REQUIRE(!mux.update(sp.fds[0], 0, io::kRead));
  auto start = std::chrono::steady_clock::now();
  ReadyList ready;
  BOOST_REQUIRE(!mux.wait(0.15, ready));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(ready.empty());
  BOOST_TEST(elapsed >= 0.12);
  BOOST_TEST(elapsed < 2.0);
}

COIL_TEST_CASE(peerCloseIsReported) {
  if (!available()) return;
  UringMultiplexer mux;
  SocketPair sp;
  BOOST_REQUIRE(!mux.update(sp.fds[0], 0, io::kRead));
  sp.closeEnd(1);
  std::uint8_t bits = waitFor(mux, sp.fds[0]);
  BOOST_TEST((bits & (io::kRead | io::kHangup)) != 0);
}

COIL_TEST_CASE(badDescriptorIsRefused) {
  if (!available()) return;
  UringMultiplexer mux;
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ::close(fd);
  std::error_code ec = mux.update(fd, 0, io::kRead);
  BOOST_TEST(ec.value() == EBADF);
}

COIL_TEST_CASE(manyDescriptors) {
  if (!available()) return;
  UringMultiplexer mux(8);  // fewer ring entries than descriptors: the SQ is flushed on demand
  std::vector<std::unique_ptr<SocketPair>> pairs;
  for (int i = 0; i < 40; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    BOOST_REQUIRE(!mux.update(pairs.back()->fds[0], 0, io::kRead));
  }
  for (auto& p : pairs) BOOST_REQUIRE(::write(p->fds[1], "x", 1) == 1);
  std::set<int> seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.size() < pairs.size() && std::chrono::steady_clock::now() < deadline) {
    ReadyList ready;
    BOOST_REQUIRE(!mux.wait(0.1, ready));
    for (const auto& e : ready)
      if (e.events & io::kRead) seen.insert(e.fd);
  }
  BOOST_TEST(seen.size() == pairs.size());
}

BOOST_AUTO_TEST_SUITE_END()

#endif  // COIL_HAVE_URING
