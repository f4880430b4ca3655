// The Multiplexer contract, checked on every built-in multiplexer (Twisted's test_fdset.py at
// the seam): readiness, interest changes, timeouts, closed and large descriptors, scale, fork.
// Tests: backends/select/SelectMultiplexer.cpp, backends/poll/PollMultiplexer.cpp,
//        backends/epoll/EpollMultiplexer.cpp
#include <coil/backends/Backends.hpp>
#include <coil/backends/select/SelectMultiplexer.hpp>
#ifdef __linux__
#include <sys/eventfd.h>
#include <coil/backends/epoll/EpollMultiplexer.hpp>
#endif
#include <test/backends/BackendTesting.hpp>
#include <test/support/Testing.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <thread>

namespace data = boost::unit_test::data;
using coil::ReadyList;
using coil::test::eventsFor;
using coil::test::Pipe;
using coil::test::SocketPair;
using coil::test::timed;
namespace io = coil::io;

namespace {

std::unique_ptr<coil::Multiplexer> make(const std::string& name) {
  return coil::makeBuiltinMultiplexer(name);
}

// Waits until `fd` is reported (at most ~2 s), accumulating its events.
std::uint8_t waitFor(coil::Multiplexer& mux, int fd, double seconds = 2.0) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    ReadyList ready;
    BOOST_TEST(!mux.wait(0.1, ready));
    if (std::uint8_t events = eventsFor(ready, fd)) return events;
  }
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(MultiplexerContract)

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(readableIsReported, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  Pipe p;
  BOOST_TEST(!mux->update(p.r, 0, io::kRead));
  p.put();
  std::uint8_t events = waitFor(*mux, p.r);
  BOOST_TEST((events & io::kRead));
  BOOST_TEST(!(events & io::kWrite));
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(writableIsReported, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  Pipe p;
  BOOST_TEST(!mux->update(p.w, 0, io::kWrite));
  ReadyList ready;
  BOOST_TEST(!mux->wait(2.0, ready));
  BOOST_TEST(eventsFor(ready, p.w) == io::kWrite);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(readAndWriteReportedTogether, data::make(coil::test::testedBackends()),
                     backend) {
  auto mux = make(backend);
  SocketPair s;
  BOOST_REQUIRE(::write(s.b, "x", 1) == 1);
  BOOST_TEST(!mux->update(s.a, 0, io::kRead | io::kWrite));
  std::uint8_t events = waitFor(*mux, s.a);
  BOOST_TEST((events & io::kRead));
  BOOST_TEST((events & io::kWrite));
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(nothingReadyWaitsForTheTimeout, data::make(coil::test::testedBackends()),
                     backend) {
  auto mux = make(backend);
  Pipe p;
  BOOST_TEST(!mux->update(p.r, 0, io::kRead));
  ReadyList ready;
  double elapsed = timed([&] { BOOST_TEST(!mux->wait(0.1, ready)); });
  BOOST_TEST(ready.empty());
  BOOST_TEST(elapsed >= 0.09);
  BOOST_TEST(elapsed < 2.0);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(zeroTimeoutDoesNotBlock, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  Pipe p;
  BOOST_TEST(!mux->update(p.r, 0, io::kRead));
  ReadyList ready;
  double elapsed = timed([&] {
    for (int i = 0; i < 100; ++i) BOOST_TEST(!mux->wait(0.0, ready));
  });
  BOOST_TEST(ready.empty());
  BOOST_TEST(elapsed < 1.0);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(interestChangesApply, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  SocketPair s;
  BOOST_REQUIRE(::write(s.b, "x", 1) == 1);
  BOOST_TEST(!mux->update(s.a, 0, io::kRead | io::kWrite));
  BOOST_TEST(!mux->update(s.a, io::kRead | io::kWrite, io::kWrite));
  ReadyList ready;
  BOOST_TEST(!mux->wait(2.0, ready));
  BOOST_TEST(eventsFor(ready, s.a) == io::kWrite);
  BOOST_TEST(!mux->update(s.a, io::kWrite, io::kRead));
  ready.clear();
  BOOST_TEST(!mux->wait(2.0, ready));
  BOOST_TEST(eventsFor(ready, s.a) == io::kRead);
  BOOST_TEST(!mux->update(s.a, io::kRead, 0));
  ready.clear();
  BOOST_TEST(!mux->wait(0.05, ready));
  BOOST_TEST(eventsFor(ready, s.a) == 0);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(removingOneDuringDispatchOfAnother, data::make(coil::test::testedBackends()),
                     backend) {
  auto mux = make(backend);
  Pipe first;
  auto second = std::make_unique<Pipe>();
  first.put();
  second->put();
  BOOST_TEST(!mux->update(first.r, 0, io::kRead));
  BOOST_TEST(!mux->update(second->r, 0, io::kRead));
  ReadyList ready;
  BOOST_TEST(!mux->wait(2.0, ready));
  BOOST_TEST(ready.size() == 2u);
  // "Dispatching" the first removes and closes the second.
  int secondFd = second->r;
  BOOST_TEST(!mux->update(secondFd, io::kRead, 0));
  second.reset();
  ready.clear();
  BOOST_TEST(!mux->wait(0.5, ready));
  BOOST_TEST(eventsFor(ready, first.r) == io::kRead);
  BOOST_TEST(eventsFor(ready, secondFd) == 0);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(hangupIsReported, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  Pipe p;
  BOOST_TEST(!mux->update(p.r, 0, io::kRead));
  coil::test::closeFd(p.w);
  std::uint8_t events = waitFor(*mux, p.r);
  // poll/epoll: hang-up without data; select: readable (read() then sees end of file).
  BOOST_TEST((events & (io::kHangup | io::kRead)));
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(closedWhileRegistered, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  auto p = std::make_unique<Pipe>();
  int fd = p->r;
  BOOST_TEST(!mux->update(fd, 0, io::kRead));
  p.reset();  // closed behind the multiplexer's back
  ReadyList ready;
  BOOST_TEST(!mux->wait(0.05, ready));  // no error: epoll forgot it, poll/select report it
  std::uint8_t events = eventsFor(ready, fd);
  BOOST_TEST((events == 0 || (events & io::kError)));
  // Removing it succeeds, and the number works again for a new descriptor.
  BOOST_TEST(!mux->update(fd, io::kRead, 0));
  Pipe fresh;
  BOOST_REQUIRE(::dup2(fresh.r, fd) == fd);
  BOOST_TEST(!mux->update(fd, 0, io::kRead));
  fresh.put();
  BOOST_TEST((waitFor(*mux, fd) & io::kRead));
  BOOST_TEST(!mux->update(fd, io::kRead, 0));
  ::close(fd);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(descriptorAboveFdSetSize, data::make(coil::test::testedBackends()), backend) {
  BOOST_REQUIRE(coil::test::ensureFileLimit(FD_SETSIZE + 600));
  auto mux = make(backend);
  Pipe p;
  int big = ::fcntl(p.r, F_DUPFD_CLOEXEC, FD_SETSIZE + 476);
  BOOST_REQUIRE(big >= FD_SETSIZE);
  std::error_code ec = mux->update(big, 0, io::kRead);
  if (backend == "select") {
    BOOST_TEST((ec == std::errc::invalid_argument));
    BOOST_TEST(ec == coil::SelectMultiplexer::fdTooLarge());
    BOOST_TEST(ec.message().find("FD_SETSIZE") != std::string::npos);
    ReadyList ready;
    BOOST_TEST(!mux->wait(0.0, ready));  // nothing was written past the set
  } else {
    BOOST_TEST(!ec);
    p.put();
    BOOST_TEST((waitFor(*mux, big) & io::kRead));
    BOOST_TEST(!mux->update(big, io::kRead, 0));
  }
  ::close(big);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(60))
BOOST_DATA_TEST_CASE(fiveThousandDescriptors, data::make(coil::test::testedBackends()), backend) {
  if (backend == "select") {
    BOOST_TEST_MESSAGE("select: skipped, it cannot watch descriptors >= FD_SETSIZE");
    return;
  }
  constexpr int kCount = 5000;
  if (!coil::test::ensureFileLimit(2 * kCount + 256)) {
    BOOST_TEST_MESSAGE(backend << ": skipped, RLIMIT_NOFILE is below " << 2 * kCount + 256);
    return;
  }
  auto mux = make(backend);
  std::vector<std::unique_ptr<Pipe>> pipes;
  for (int i = 0; i < kCount; ++i) pipes.push_back(std::make_unique<Pipe>());
  for (auto& p : pipes) BOOST_REQUIRE(!mux->update(p->r, 0, io::kRead));
  std::set<int> expected;
  for (int i = 0; i < kCount; i += 10) {
    pipes[i]->put();
    expected.insert(pipes[i]->r);
  }
  std::set<int> seen;
  for (int round = 0; round < 50 && seen.size() < expected.size(); ++round) {
    ReadyList ready;
    BOOST_REQUIRE(!mux->wait(1.0, ready));
    for (const auto& e : ready) {
      BOOST_TEST(e.events == io::kRead);
      seen.insert(e.fd);
      char c;
      BOOST_TEST(::read(e.fd, &c, 1) == 1);  // level-triggered: consume, or it stays ready
      BOOST_TEST(!mux->update(e.fd, io::kRead, 0));
    }
  }
  BOOST_TEST((seen == expected));
  for (auto& p : pipes)
    if (!expected.count(p->r)) BOOST_TEST(!mux->update(p->r, io::kRead, 0));
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(waitForeverIsWokenByTheWaker, data::make(coil::test::testedBackends()),
                     backend) {
  auto mux = make(backend);
  Pipe waker;
  BOOST_TEST(!mux->update(waker.r, 0, io::kRead));
  std::atomic<bool> done{false};
  // Pokes until the wait has returned, so it cannot matter whether it blocked first.
  std::thread poker([&] {
    while (!done.load()) {
      char c = 1;
      [[maybe_unused]] auto n = ::write(waker.w, &c, 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  ReadyList ready;
  double elapsed = timed([&] { BOOST_TEST(!mux->wait(std::nullopt, ready)); });
  done = true;
  poker.join();
  BOOST_TEST(eventsFor(ready, waker.r) == io::kRead);
  BOOST_TEST(elapsed < 5.0);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(regularFiles, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  std::FILE* file = std::tmpfile();
  BOOST_REQUIRE(file);
  int fd = ::fileno(file);
  std::error_code ec = mux->update(fd, 0, io::kRead);
  if (mux->features() & coil::feature::kRegularFiles) {
    BOOST_TEST(!ec);
    BOOST_TEST((waitFor(*mux, fd) & io::kRead));  // always ready
    BOOST_TEST(!mux->update(fd, io::kRead, 0));
  } else {
    BOOST_TEST((ec == std::errc::operation_not_permitted));  // PosixReactor polls these itself
  }
  std::fclose(file);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(nameAndFeatures, data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  BOOST_TEST(mux->name() == backend);
  if (backend == "epoll") {
    BOOST_TEST((mux->features() & coil::feature::kConstantTime));
    BOOST_TEST(!(mux->features() & coil::feature::kRegularFiles));
  } else {
    BOOST_TEST(!(mux->features() & coil::feature::kConstantTime));
    BOOST_TEST((mux->features() & coil::feature::kRegularFiles));
  }
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(manyReadyAtOnceAreAllReported, data::make(coil::test::testedBackends()),
                     backend) {
  auto mux = make(backend);
  std::vector<std::unique_ptr<Pipe>> pipes;
  std::set<int> expected;
  for (int i = 0; i < 200; ++i) {
    pipes.push_back(std::make_unique<Pipe>());
    pipes.back()->put();
    BOOST_REQUIRE(!mux->update(pipes.back()->r, 0, io::kRead));
    expected.insert(pipes.back()->r);
  }
  // Level-triggered: a descriptor left unread is reported again; waits that fill the event
  // buffer make it grow, so a few waits see them all.
  std::set<int> seen;
  for (int round = 0; round < 10; ++round) {
    ReadyList ready;
    BOOST_REQUIRE(!mux->wait(1.0, ready));
    for (const auto& e : ready) seen.insert(e.fd);
  }
  BOOST_TEST((seen == expected));
#ifdef __linux__
  if (auto* epoll = dynamic_cast<coil::EpollMultiplexer*>(mux.get()))
    BOOST_TEST(epoll->capacity() >= 200u);
#endif
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(afterForkTheChildHasItsOwnInterestSet,
                     data::make(coil::test::testedBackends()), backend) {
  auto mux = make(backend);
  Pipe p;
  BOOST_TEST(!mux->update(p.r, 0, io::kRead));
  p.put();
  mux->beforeFork();
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    // The child: its own kernel state, with the interest re-registered; then it drops the
    // descriptor — which must not change what the parent watches.
    int status = mux->afterFork({{p.r, io::kRead}}) ? 1 : 0;
    ReadyList ready;
    if (mux->wait(1.0, ready) || eventsFor(ready, p.r) != io::kRead) status |= 2;
    if (mux->update(p.r, io::kRead, 0)) status |= 4;
    ::_exit(status);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  ReadyList ready;
  BOOST_TEST(!mux->wait(1.0, ready));
  BOOST_TEST(eventsFor(ready, p.r) == io::kRead);
}

BOOST_AUTO_TEST_SUITE_END()
