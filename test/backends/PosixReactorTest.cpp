// PosixReactor on a real backend (the one COIL_REACTOR names): the fd-set operations and the
// dispatch policy over pipes, socket pairs and regular files.
// Tests: backends/PosixReactor.cpp
#include <coil/backends/PosixReactor.hpp>
#include <coil/backends/select/SelectMultiplexer.hpp>
#include <test/backends/BackendTesting.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>

#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

using coil::Failure;
using coil::PosixReactor;
using coil::test::FakeDescriptor;
using coil::test::Pipe;
using coil::test::ReactorBuilder;
using coil::test::SocketPair;
using coil::test::timed;
namespace error = coil::error;

namespace {

class Boom : public std::runtime_error {
 public:
  Boom() : std::runtime_error("boom") {}
};

std::shared_ptr<FakeDescriptor> reader(int fd, std::string name = "reader") {
  auto d = std::make_shared<FakeDescriptor>(fd, std::move(name));
  d->onRead = [fd] { return coil::test::drainOrClose(fd); };
  return d;
}

template <class T>
bool contains(const std::vector<coil::FileDescriptorPtr>& list, const std::shared_ptr<T>& d) {
  return std::find(list.begin(), list.end(), d) != list.end();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(PosixReactorIO, ReactorBuilder)

COIL_TEST_CASE(readersAndWritersAreListed) {
  Pipe p;
  auto r = reader(p.r);
  auto w = std::make_shared<FakeDescriptor>(p.w, "writer");
  BOOST_TEST(reactor().getReaders().empty());  // the waker is not listed
  reactor().addReader(r);
  reactor().addReader(r);  // twice is a no-op
  reactor().addWriter(w);
  BOOST_TEST(reactor().getReaders().size() == 1u);
  BOOST_TEST(contains(reactor().getReaders(), r));
  BOOST_TEST(reactor().getWriters().size() == 1u);
  BOOST_TEST(contains(reactor().getWriters(), w));
  reactor().removeWriter(w.get());
  reactor().removeWriter(w.get());  // removing what is not registered is a no-op
  reactor().removeReader(w.get());
  BOOST_TEST(reactor().getWriters().empty());
  reactor().removeReader(r.get());
  BOOST_TEST(reactor().getReaders().empty());
}

COIL_TEST_CASE(removeAllReturnsEachOnceAndKeepsTheWaker) {
  SocketPair s;
  auto both = std::make_shared<FakeDescriptor>(s.a, "both");
  auto other = std::make_shared<FakeDescriptor>(s.b, "other");
  reactor().addReader(both);
  reactor().addWriter(both);
  reactor().addWriter(other);
  auto removed = reactor().removeAll();
  BOOST_TEST(removed.size() == 2u);
  BOOST_TEST(contains(removed, both));
  BOOST_TEST(contains(removed, other));
  BOOST_TEST(reactor().getReaders().empty());
  BOOST_TEST(reactor().getWriters().empty());
  BOOST_TEST(both->lost == 0);  // removeAll does not disconnect
  reactor().wakeUp();
  BOOST_TEST(timed([&] { reactor().iterate(10.0); }) < 5.0);  // the waker still works
}

COIL_TEST_CASE(aReadableDescriptorIsRead) {
  Pipe p;
  auto r = reader(p.r);
  reactor().addReader(r);
  p.put();
  BOOST_TEST(iterateUntil([&] { return r->reads > 0; }));
  BOOST_TEST(r->lost == 0);
  reactor().removeReader(r.get());
}

COIL_TEST_CASE(aWritableDescriptorIsWritten) {
  Pipe p;
  auto w = std::make_shared<FakeDescriptor>(p.w, "writer");
  reactor().addWriter(w);
  BOOST_TEST(iterateUntil([&] { return w->writes > 0; }));
  reactor().removeWriter(w.get());
}

COIL_TEST_CASE(nothingReadyWaitsForTheDelay) {
  Pipe p;
  auto r = reader(p.r);
  reactor().addReader(r);
  double elapsed = timed([&] { reactor().iterate(0.1); });
  BOOST_TEST(elapsed >= 0.09);
  BOOST_TEST(elapsed < 2.0);
  BOOST_TEST(r->reads == 0);
  reactor().removeReader(r.get());
}

COIL_TEST_CASE(doReadReturningConnectionDoneDisconnectsOnce) {
  Pipe p;
  auto r = reader(p.r);
  reactor().addReader(r);
  p.put();
  coil::test::closeFd(p.w);
  BOOST_TEST(iterateUntil([&] { return r->lost > 0; }));
  for (int i = 0; i < 3; ++i) reactor().iterate(0.01);
  BOOST_TEST(r->lost == 1);
  BOOST_TEST(r->lostWith<error::ConnectionDone>());
  BOOST_TEST(reactor().getReaders().empty());
}

COIL_TEST_CASE(peerClosedSocketPairGivesConnectionDone) {
  SocketPair s;
  auto r = reader(s.a);
  reactor().addReader(r);
  coil::test::closeFd(s.b);
  BOOST_TEST(iterateUntil([&] { return r->lost > 0; }));
  BOOST_TEST(r->lost == 1);
  BOOST_TEST(r->lostWith<error::ConnectionDone>());
}

COIL_TEST_CASE(pipeHangupWithoutDataIsConnectionDone) {
  Pipe p;
  auto r = reader(p.r);
  reactor().addReader(r);
  coil::test::closeFd(p.w);
  BOOST_TEST(iterateUntil([&] { return r->lost > 0; }));
  BOOST_TEST(r->lostWith<error::ConnectionDone>());
  // poll and epoll report a bare hang-up, handled without calling doRead; select reports
  // readability, and doRead finds the end of file.
  if (backend() != "select") BOOST_TEST(r->reads == 0);
}

COIL_TEST_CASE(aWriterWhosePeerClosedIsConnectionLost) {
  SocketPair s;
  auto w = std::make_shared<FakeDescriptor>(s.a, "writer");
  int fd = s.a;
  w->onWrite = [fd]() -> std::optional<Failure> {
    if (::send(fd, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE)
      return Failure(error::ConnectionLost("EPIPE"));
    return std::nullopt;
  };
  reactor().addWriter(w);
  coil::test::closeFd(s.b);
  BOOST_TEST(iterateUntil([&] { return w->lost > 0; }));
  BOOST_TEST(w->lost == 1);
  BOOST_TEST(w->lostWith<error::ConnectionLost>());
  BOOST_TEST(!w->lostWith<error::ConnectionDone>());
}

COIL_TEST_CASE(exceptionInDoReadIsLoggedAndDisconnectsWithIt) {
  coil::test::LogCapture logs;
  Pipe p;
  auto r = std::make_shared<FakeDescriptor>(p.r, "thrower");
  r->onRead = []() -> std::optional<Failure> { throw Boom(); };
  reactor().addReader(r);
  p.put();
  BOOST_TEST(iterateUntil([&] { return r->lost > 0; }));
  BOOST_TEST(r->lostWith<Boom>());
  BOOST_TEST(logs.count("Unhandled error in doRead of thrower") == 1u);
  BOOST_TEST(reactor().getReaders().empty());
}

COIL_TEST_CASE(aRegularFileIsDispatchedEveryIteration) {
  std::FILE* file = std::tmpfile();
  BOOST_REQUIRE(file);
  auto f = std::make_shared<FakeDescriptor>(::fileno(file), "file");
  reactor().addReader(f);
  if (backend() == "epoll") BOOST_TEST(posixReactor()->alwaysReadyCount() == 1u);
  double elapsed = timed([&] {
    for (int i = 0; i < 3; ++i) reactor().iterate(5.0);  // never waits: the file is ready
  });
  BOOST_TEST(f->reads == 3);
  BOOST_TEST(elapsed < 2.0);
  reactor().removeReader(f.get());
  reactor().iterate(0);
  BOOST_TEST(posixReactor()->alwaysReadyCount() == 0u);
  std::fclose(file);
}

COIL_TEST_CASE(aDirectionToggledWithinOneIterationCostsNoSystemCall) {
  auto builtins = coil::builtinBackendNames();
  if (std::find(builtins.begin(), builtins.end(), backend()) == builtins.end()) {
    BOOST_TEST_MESSAGE("skipped: " << backend() << " is not a built-in multiplexer");
    return;
  }
  auto counting =
      std::make_unique<coil::test::CountingMultiplexer>(coil::makeBuiltinMultiplexer(backend()));
  auto* mux = counting.get();
  ReactorBuilder local(std::make_unique<PosixReactor>(std::move(counting)));
  Pipe p;
  auto r = reader(p.r);
  int before = mux->updates;
  local.reactor().addReader(r);
  BOOST_TEST(mux->updates == before + 1);  // the first registration is applied at once
  local.reactor().addWriter(r);
  local.reactor().iterate(0);
  BOOST_TEST(mux->updates == before + 2);
  // One direction toggled while the other stays: batched away.
  local.reactor().removeWriter(r.get());
  local.reactor().addWriter(r);
  local.reactor().removeReader(r.get());
  local.reactor().addReader(r);
  local.reactor().iterate(0);
  BOOST_TEST(mux->updates == before + 2);
  local.reactor().removeWriter(r.get());
  local.reactor().iterate(0);
  BOOST_TEST(mux->updates == before + 3);
  p.put();
  BOOST_TEST(local.iterateUntil([&] { return r->reads > 0; }));  // still watched
  local.reactor().removeReader(r.get());                         // the last direction: at once
  BOOST_TEST(mux->updates == before + 4);
  local.reactor().iterate(0);
  BOOST_TEST(mux->updates == before + 4);
}

COIL_TEST_CASE(aReusedNumberIsWatchedAgain) {
  // Close one descriptor and open another under the same number within one iteration: the
  // kernel (epoll) dropped the first, so the reactor must register the second for real.
  auto first = std::make_unique<Pipe>();
  auto old = reader(first->r, "old");
  reactor().addReader(old);
  reactor().iterate(0);
  int fd = first->r;
  reactor().removeReader(old.get());
  first.reset();
  Pipe second;
  BOOST_REQUIRE(::dup2(second.r, fd) == fd);
  auto fresh = reader(fd, "new");
  reactor().addReader(fresh);
  second.put();
  BOOST_TEST(iterateUntil([&] { return fresh->reads > 0; }));
  BOOST_TEST(old->reads == 0);
  reactor().removeReader(fresh.get());
  ::close(fd);
}

COIL_TEST_CASE(removeThenCloseWhileADuplicateLivesLeavesNoWatchBehind) {
  // A descriptor removed and then closed at once, while a duplicate of its file lives on (a
  // socket passed to another process, a fork): epoll keeps watching a file until its last
  // descriptor closes, and once the number is closed it cannot be told to stop. The removal
  // must therefore reach the kernel before the close, or the old file's readiness arrives
  // under the number and goes to whoever holds it next.
  auto first = std::make_unique<SocketPair>();
  auto old = reader(first->a, "old");
  reactor().addReader(old);
  reactor().iterate(0);
  int fd = first->a;
  int duplicate = ::dup(fd);
  BOOST_REQUIRE(duplicate >= 0);
  reactor().removeReader(old.get());
  ::close(fd);  // as a transport does right after its removal
  first->a = -1;
  reactor().iterate(0);
  Pipe second;
  BOOST_REQUIRE(::dup2(second.r, fd) == fd);
  auto fresh = reader(fd, "new");
  reactor().addReader(fresh);
  char c = 'x';
  BOOST_REQUIRE(::write(first->b, &c, 1) == 1);  // the old file is readable, the pipe is not
  for (int i = 0; i < 5; ++i) reactor().iterate(0.01);
  BOOST_TEST(fresh->reads == 0);
  BOOST_TEST(old->reads == 0);
  reactor().removeReader(fresh.get());
  reactor().iterate(0);
  ::close(fd);
  ::close(duplicate);
}

COIL_TEST_CASE(aForkedChildRemovingBeforeAfterForkLeavesTheParentWatching) {
  // Until the child calls afterFork() it shares the parent's kernel state (epoll): a removal
  // made there must not reach the kernel, or the parent stops hearing about the descriptor.
  Pipe p;
  auto r = reader(p.r);
  reactor().addReader(r);
  reactor().iterate(0);
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    reactor().removeReader(r.get());
    ::_exit(0);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
  p.put();
  BOOST_TEST(iterateUntil([&] { return r->reads > 0; }));
  reactor().removeReader(r.get());
  reactor().iterate(0);
}

COIL_TEST_CASE(removingDuringDispatchOfAnother) {
  Pipe a;
  Pipe b;
  auto ra = reader(a.r, "a");
  auto rb = reader(b.r, "b");
  // Whichever is dispatched first removes the other, which must then not be called.
  ra->onRead = [&] { return reactor().removeReader(rb.get()), std::optional<Failure>(); };
  rb->onRead = [&] { return reactor().removeReader(ra.get()), std::optional<Failure>(); };
  reactor().addReader(ra);
  reactor().addReader(rb);
  a.put();
  b.put();
  BOOST_TEST(iterateUntil([&] { return ra->reads + rb->reads > 0; }));
  BOOST_TEST(ra->reads + rb->reads == 1);
  reactor().removeAll();
}

COIL_TEST_CASE(closedWhileRegisteredNeverReachesAStaleObject) {
  auto p = std::make_unique<Pipe>();
  auto r = reader(p->r, "closed");
  reactor().addReader(r);
  p->put();
  r->setFileno(-1);
  p.reset();  // closed without removing itself
  for (int i = 0; i < 5; ++i) reactor().iterate(0.01);
  BOOST_TEST(r->reads == 0);
  // epoll forgot the descriptor; poll and select report it, and dispatch finds fileno() -1.
  if (r->lost > 0) {
    BOOST_TEST(r->lost == 1);
    BOOST_TEST(r->lostWith<error::ConnectionFdescWentAway>());
  }
  reactor().removeReader(r.get());
  reactor().iterate(0);
}

COIL_TEST_CASE(descriptorsAboveFdSetSize) {
  BOOST_REQUIRE(coil::test::ensureFileLimit(FD_SETSIZE + 600));
  Pipe p;
  int big = ::fcntl(p.r, F_DUPFD_CLOEXEC, FD_SETSIZE + 300);
  BOOST_REQUIRE(big >= FD_SETSIZE);
  auto r = reader(big, "big");
  if (backend() == "select") {
    BOOST_CHECK_EXCEPTION(reactor().addReader(r), std::system_error,
                          [](const std::system_error& e) {
                            return e.code() == std::errc::invalid_argument &&
                                   std::string(e.what()).find("FD_SETSIZE") != std::string::npos;
                          });
    BOOST_TEST(reactor().getReaders().empty());
  } else {
    reactor().addReader(r);
    p.put();
    BOOST_TEST(iterateUntil([&] { return r->reads > 0; }));
    reactor().removeReader(r.get());
  }
  reactor().iterate(0);
  ::close(big);
}

COIL_TEST_CASE(descriptorsAreHeldUntilConnectionLostThenReleased) {
  Pipe p;
  std::weak_ptr<FakeDescriptor> watch;
  {
    auto r = reader(p.r);
    watch = r;
    reactor().addReader(std::move(r));
  }
  reactor().iterate(0);
  BOOST_TEST(!watch.expired());
  coil::test::closeFd(p.w);
  BOOST_TEST(iterateUntil([&] {
    auto r = watch.lock();
    return !r || r->lost > 0;
  }));
  BOOST_REQUIRE(!watch.expired());  // held until connectionLost has run
  BOOST_TEST(watch.lock()->lost == 1);
  reactor().iterate(0);
  BOOST_TEST(watch.expired());
}

COIL_TEST_CASE(stopDisconnectsEveryDescriptor) {
  Pipe p;
  auto r = reader(p.r);
  auto w = std::make_shared<FakeDescriptor>(p.w, "writer");
  reactor().addReader(r);
  reactor().addWriter(w);
  reactor().callWhenRunning([&] { reactor().stop(); });
  reactor().run(false);
  BOOST_TEST(r->lost == 1);
  BOOST_TEST(r->lostWith<error::ConnectionLost>());
  BOOST_TEST(w->lost == 1);
  BOOST_TEST(reactor().getReaders().empty());
  BOOST_TEST(reactor().getWriters().empty());
}

COIL_TEST_CASE(manyDescriptorsAtOnce) {
  std::vector<std::unique_ptr<Pipe>> pipes;
  std::vector<std::shared_ptr<FakeDescriptor>> readers;
  for (int i = 0; i < 300; ++i) {
    pipes.push_back(std::make_unique<Pipe>());
    readers.push_back(reader(pipes.back()->r));
    reactor().addReader(readers.back());
    pipes.back()->put();
  }
  auto allRead = [&] {
    return std::all_of(readers.begin(), readers.end(), [](auto& r) { return r->reads > 0; });
  };
  BOOST_TEST(iterateUntil(allRead));
  BOOST_TEST(reactor().removeAll().size() == 300u);
}

BOOST_AUTO_TEST_SUITE_END()
