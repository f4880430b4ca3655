// Smoke test of the uring backend loaded as a plugin: a PosixReactor over its Multiplexer
// dispatches a reader on a socketpair, wakeUp() ends a blocked iteration, run()/stop() work.
#ifdef COIL_HAVE_URING

#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/PluginLoader.hpp>
#include <coil/plugins/Reactors.hpp>

#include <test/support/Testing.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

const std::filesystem::path kUring = std::filesystem::path(COIL_TEST_PLUGIN_DIR) / "coil_uring.so";

/// Reads whatever arrives into `data`.
class Reader final : public coil::IFileDescriptor {
 public:
  explicit Reader(int fd) : fd_(fd) {}
  int fileno() const override { return fd_; }
  std::optional<coil::Failure> doRead() override {
    char buffer[256];
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) data.append(buffer, static_cast<std::size_t>(n));
    ++reads;
    return std::nullopt;
  }
  void connectionLost(const coil::Failure&) override { ++lost; }
  std::string data;
  int reads = 0;
  int lost = 0;

 private:
  int fd_;
};

/// A registry holding only the uring plugin's backend, or nothing when io_uring is unusable.
struct UringRegistry {
  coil::Registry registry;
  bool usable = false;
  UringRegistry() {
    coil::plugins::PluginLoader loader(registry);
    auto result = loader.loadFile(kUring);
    BOOST_REQUIRE_MESSAGE(result.ok, result.message);
    const coil::BackendEntry* entry = registry.findBackend("uring");
    BOOST_REQUIRE(entry);
    if (auto reason = entry->probe()) {
      BOOST_TEST_MESSAGE("uring unavailable, skipped: " << *reason);
      return;
    }
    usable = true;
  }
};

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(UringReactorTests)

COIL_TEST_CASE(readerOnSocketpairIsDispatched) {
  UringRegistry u;
  if (!u.usable) return;
  auto reactor = coil::makeReactor(u.registry, "uring");
  BOOST_TEST(reactor->backendName() == "uring");
  int fds[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  auto reader = std::make_shared<Reader>(fds[0]);
  reactor->addReader(reader);
  BOOST_TEST(reactor->getReaders().size() == 1u);
  reactor->iterate(0);
  BOOST_TEST(reader->reads == 0);
  BOOST_REQUIRE(::write(fds[1], "hello", 5) == 5);
  for (int i = 0; i < 50 && reader->data.size() < 5; ++i) reactor->iterate(0.1);
  BOOST_TEST(reader->data == "hello");
  reactor->removeReader(reader.get());
  BOOST_TEST(reactor->getReaders().empty());
  BOOST_REQUIRE(::write(fds[1], "more", 4) == 4);
  int readsBefore = reader->reads;
  reactor->iterate(0.05);
  BOOST_TEST(reader->reads == readsBefore);  // removed: no longer dispatched
  BOOST_TEST(reader->lost == 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

COIL_TEST_CASE(wakeUpEndsABlockedIteration) {
  UringRegistry u;
  if (!u.usable) return;
  auto reactor = coil::makeReactor(u.registry, "uring");
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reactor->wakeUp();
  });
  auto start = std::chrono::steady_clock::now();
  reactor->iterate(5.0);
  double elapsed = since(start);
  waker.join();
  BOOST_TEST(elapsed < 3.0);
}

COIL_TEST_CASE(runStopsFromAnotherThreadAndTimersFire) {
  UringRegistry u;
  if (!u.usable) return;
  auto reactor = coil::makeReactor(u.registry, "uring");
  bool fired = false;
  reactor->callLater(0.01, [&] { fired = true; });
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    reactor->callFromThread([&] { reactor->stop(); });
  });
  auto start = std::chrono::steady_clock::now();
  reactor->run(false);
  stopper.join();
  BOOST_TEST(fired);
  BOOST_TEST(since(start) < 5.0);
}

BOOST_AUTO_TEST_SUITE_END()

#endif  // COIL_HAVE_URING
