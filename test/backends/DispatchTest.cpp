// PosixReactor's dispatch policy, interest batching and registration rules, driven through a
// scripted Multiplexer (deterministic: no kernel, no timing).
// Tests: backends/PosixReactor.cpp
#include <coil/backends/PosixReactor.hpp>
#include <test/backends/BackendTesting.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using coil::Failure;
using coil::PosixReactor;
using coil::ReadyList;
using coil::test::FakeDescriptor;
using coil::test::ScriptedMultiplexer;
namespace error = coil::error;
namespace io = coil::io;

namespace {

class Boom : public std::runtime_error {
 public:
  Boom() : std::runtime_error("boom") {}
};

// Descriptor numbers far above anything the test process has open.
constexpr int kA = 900;
constexpr int kB = 901;
constexpr int kC = 902;

/// A PosixReactor over a ScriptedMultiplexer, checked clean at the end like any other.
struct Scripted {
  Scripted() {
    auto owned = std::make_unique<ScriptedMultiplexer>();
    mux = owned.get();
    builder = std::make_unique<coil::test::ReactorBuilder>(
        std::make_unique<PosixReactor>(std::move(owned)));
    reactor = builder->posixReactor();
  }
  /// Runs one iteration whose wait reports `events`.
  void step(ReadyList events = {}) {
    mux->script.push_back(std::move(events));
    reactor->iterate(0);
  }
  std::shared_ptr<FakeDescriptor> fake(int fd, std::string name = "fake") {
    return std::make_shared<FakeDescriptor>(fd, std::move(name));
  }
  ScriptedMultiplexer* mux = nullptr;
  std::unique_ptr<coil::test::ReactorBuilder> builder;
  PosixReactor* reactor = nullptr;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(Dispatch, Scripted)

COIL_TEST_CASE(hangupWithoutReadDisconnectsAReaderCleanly) {
  auto x = fake(kA);
  reactor->addReader(x);
  step({{kA, io::kHangup}});
  BOOST_TEST(x->reads == 0);
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<error::ConnectionDone>());
  BOOST_TEST(reactor->getReaders().empty());
}

COIL_TEST_CASE(errorOnAWriterIsConnectionLost) {
  auto x = fake(kA);
  reactor->addWriter(x);
  step({{kA, io::kError | io::kWrite}});
  BOOST_TEST(x->writes == 0);
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<error::ConnectionLost>());
  BOOST_TEST(!x->lostWith<error::ConnectionDone>());
  BOOST_TEST(reactor->getWriters().empty());
}

COIL_TEST_CASE(hangupWithDataStillReads) {
  auto x = fake(kA);
  reactor->addReader(x);
  step({{kA, io::kRead | io::kHangup}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(x->lost == 0);
  reactor->removeReader(x.get());
}

COIL_TEST_CASE(readThenWriteInOneDispatch) {
  auto x = fake(kA);
  std::vector<std::string> order;
  x->onRead = [&] { return order.push_back("read"), std::optional<Failure>(); };
  x->onWrite = [&] { return order.push_back("write"), std::optional<Failure>(); };
  reactor->addReader(x);
  reactor->addWriter(x);
  step({{kA, io::kRead | io::kWrite}});
  BOOST_TEST((order == std::vector<std::string>{"read", "write"}));
  BOOST_TEST(reactor->removeAll().size() == 1u);
}

COIL_TEST_CASE(aFailedReadSkipsTheWrite) {
  auto x = fake(kA);
  x->onRead = [] { return Failure(error::ConnectionDone()); };
  reactor->addReader(x);
  reactor->addWriter(x);
  step({{kA, io::kRead | io::kWrite}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(x->writes == 0);
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<error::ConnectionDone>());
  BOOST_TEST(reactor->getWriters().empty());
}

COIL_TEST_CASE(noWriteAfterDoReadStopsWriting) {
  auto x = fake(kA);
  x->onRead = [&] { return reactor->removeWriter(x.get()), std::optional<Failure>(); };
  reactor->addReader(x);
  reactor->addWriter(x);
  step({{kA, io::kRead | io::kWrite}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(x->writes == 0);
  BOOST_TEST(x->lost == 0);
  reactor->removeReader(x.get());
}

COIL_TEST_CASE(filenoMinusOneIsConnectionFdescWentAway) {
  auto x = fake(kA);
  reactor->addReader(x);
  x->setFileno(-1);
  step({{kA, io::kRead}});
  BOOST_TEST(x->reads == 0);
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<error::ConnectionFdescWentAway>());
  BOOST_TEST(reactor->getReaders().empty());
}

COIL_TEST_CASE(exceptionInDoReadIsLoggedAndDisconnects) {
  coil::test::LogCapture logs;
  auto x = fake(kA, "thrower");
  auto y = fake(kB);
  x->onRead = []() -> std::optional<Failure> { throw Boom(); };
  reactor->addReader(x);
  reactor->addReader(y);
  step({{kA, io::kRead}, {kB, io::kRead}});
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<Boom>());
  BOOST_TEST(logs.count("doRead of thrower") == 1u);
  BOOST_TEST(y->reads == 1);  // the loop went on
  BOOST_TEST(reactor->getReaders().size() == 1u);
  reactor->removeReader(y.get());
}

COIL_TEST_CASE(exceptionInDoWriteIsLoggedAndDisconnects) {
  coil::test::LogCapture logs;
  auto x = fake(kA, "writer");
  x->onWrite = []() -> std::optional<Failure> { throw Boom(); };
  reactor->addWriter(x);
  step({{kA, io::kWrite}});
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<Boom>());
  BOOST_TEST(logs.count("doWrite of writer") == 1u);
}

COIL_TEST_CASE(aThrowingConnectionLostIsLogged) {
  coil::test::LogCapture logs;
  auto x = fake(kA, "bad");
  x->onLost = [](const Failure&) { throw Boom(); };
  reactor->addReader(x);
  step({{kA, io::kHangup}});
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(logs.count("connectionLost of bad") == 1u);
}

COIL_TEST_CASE(removedDuringDispatchOfAnotherIsNotCalled) {
  auto x = fake(kA);
  auto y = fake(kB);
  x->onRead = [&] { return reactor->removeReader(y.get()), std::optional<Failure>(); };
  reactor->addReader(x);
  reactor->addReader(y);
  step({{kA, io::kRead}, {kB, io::kRead}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(y->reads == 0);
  reactor->removeReader(x.get());
}

COIL_TEST_CASE(removedAndReAddedDuringDispatchOfAnotherKeepsItsEvent) {
  // The same object back on its number: the event reported for it in this wait is its own.
  auto x = fake(kA);
  auto y = fake(kB);
  x->onRead = [&] {
    reactor->removeReader(y.get());
    reactor->addReader(y);
    return std::optional<Failure>();
  };
  reactor->addReader(x);
  reactor->addReader(y);
  step({{kA, io::kRead}, {kB, io::kRead}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(y->reads == 1);
  BOOST_TEST(mux->interest[kB] == io::kRead);
  reactor->removeReader(x.get());
  reactor->removeReader(y.get());
}

COIL_TEST_CASE(aNumberReusedDuringDispatchWaitsForTheNextWait) {
  auto x = fake(kA);
  auto y = fake(kB, "old");
  auto z = fake(kB, "new");
  x->onRead = [&] {
    reactor->removeReader(y.get());
    reactor->addReader(z);  // the same number, another file: the events were not for it
    return std::optional<Failure>();
  };
  reactor->addReader(x);
  reactor->addReader(y);
  step({{kA, io::kRead}, {kB, io::kRead}});
  BOOST_TEST(y->reads == 0);
  BOOST_TEST(z->reads == 0);
  step({{kB, io::kRead}});
  BOOST_TEST(z->reads == 1);
  reactor->removeAll();
}

COIL_TEST_CASE(eventsForUnknownDescriptorsAreIgnored) {
  step({{kC, io::kRead | io::kHangup}, {-1, io::kRead}, {1 << 20, io::kWrite}});
  BOOST_TEST(reactor->getReaders().empty());
}

COIL_TEST_CASE(aFailedWaitIsLoggedAndTheLoopGoesOn) {
  coil::test::LogCapture logs;
  auto x = fake(kA);
  reactor->addReader(x);
  mux->waitError = std::make_error_code(std::errc::io_error);
  step({{kA, io::kRead}});
  BOOST_TEST(logs.count("wait failed") == 1u);
  BOOST_TEST(x->reads == 1);
  reactor->removeReader(x.get());
}

COIL_TEST_CASE(firstRegistrationAndLastRemovalAreAppliedAtOnce) {
  auto x = fake(kA);
  std::size_t before = mux->updates.size();
  reactor->addReader(x);
  BOOST_TEST(mux->updates.size() == before + 1);
  BOOST_TEST(mux->interest[kA] == io::kRead);
  reactor->addWriter(x);
  BOOST_TEST(mux->interest[kA] == io::kRead);  // batched: applied before the next wait
  step();
  BOOST_TEST(mux->interest[kA] == (io::kRead | io::kWrite));
  reactor->removeWriter(x.get());
  BOOST_TEST(mux->interest[kA] == (io::kRead | io::kWrite));  // batched too
  step();
  BOOST_TEST(mux->interest[kA] == io::kRead);
  before = mux->updates.size();
  reactor->removeReader(x.get());  // the last direction: the caller may close it next
  BOOST_TEST(mux->interest.count(kA) == 0u);
  BOOST_TEST(mux->updates.size() == before + 1);
  step();
  BOOST_TEST(mux->updates.size() == before + 1);
}

COIL_TEST_CASE(aDirectionRemovedAndReAddedInOneIterationCostsNothing) {
  auto x = fake(kA);
  reactor->addReader(x);
  step();
  std::size_t before = mux->updates.size();
  reactor->addWriter(x);
  reactor->removeWriter(x.get());
  step();
  BOOST_TEST(mux->updates.size() == before);
  reactor->addWriter(x);
  step();
  BOOST_TEST(mux->updates.size() == before + 1);  // one MOD for the new direction
  reactor->removeReader(x.get());
  reactor->addReader(x);
  reactor->removeWriter(x.get());
  step();
  BOOST_TEST(mux->updates.size() == before + 2);  // one MOD: read only again
  BOOST_TEST(mux->interest[kA] == io::kRead);
  reactor->removeAll();
  BOOST_TEST(mux->interest.count(kA) == 0u);
  // The last direction removed and re-added: dropped at once, then registered afresh.
  reactor->addReader(x);
  step();
  before = mux->updates.size();
  reactor->removeReader(x.get());
  reactor->addReader(x);
  step();
  BOOST_TEST(mux->updates.size() == before + 2);
  BOOST_TEST(mux->interest[kA] == io::kRead);
  reactor->removeAll();
}

COIL_TEST_CASE(anotherObjectOnAPendingNumberIsRegisteredAfresh) {
  auto x = fake(kA, "old");
  auto y = fake(kA, "new");
  reactor->addReader(x);
  step();
  std::size_t before = mux->updates.size();
  reactor->removeReader(x.get());
  reactor->addReader(y);  // may be a different file with the same number: drop, then add
  BOOST_TEST(mux->updates.size() == before + 2);
  BOOST_TEST(mux->updates[before].newMask == 0);
  BOOST_TEST(mux->updates[before + 1].oldMask == 0);
  BOOST_TEST(mux->interest[kA] == io::kRead);
  reactor->removeReader(y.get());
  step();
}

COIL_TEST_CASE(aRefusedFirstRegistrationThrows) {
  mux->refuse[kA] = std::make_error_code(std::errc::invalid_argument);
  auto x = fake(kA, "refused");
  BOOST_CHECK_EXCEPTION(reactor->addReader(x), std::system_error, [](const std::system_error& e) {
    std::string what = e.what();
    return e.code() == std::errc::invalid_argument &&
           what.find("addReader: the scripted backend cannot watch fd 900") != std::string::npos;
  });
  BOOST_TEST(reactor->getReaders().empty());
  step();
  BOOST_TEST(x->lost == 0);
  mux->refuse.clear();
  reactor->addReader(x);  // the reactor is still usable for that number
  BOOST_TEST(reactor->getReaders().size() == 1u);
  reactor->removeReader(x.get());
  step();
}

COIL_TEST_CASE(epermMakesADescriptorAlwaysReady) {
  mux->refuse[kA] = std::make_error_code(std::errc::operation_not_permitted);
  auto x = fake(kA, "file");
  reactor->addReader(x);
  BOOST_TEST(reactor->alwaysReadyCount() == 1u);
  reactor->iterate(5.0);
  reactor->iterate(5.0);
  BOOST_TEST(x->reads == 2);
  BOOST_TEST((mux->timeouts.back() == std::optional<double>(0.0)));
  reactor->addWriter(x);
  reactor->iterate(5.0);
  BOOST_TEST(x->reads == 3);
  BOOST_TEST(x->writes == 1);
  reactor->removeAll();
  reactor->iterate(0.5);
  BOOST_TEST(reactor->alwaysReadyCount() == 0u);
  reactor->iterate(0.5);
  BOOST_TEST((mux->timeouts.back() == std::optional<double>(0.5)));
  BOOST_TEST(x->reads == 3);
}

COIL_TEST_CASE(aRefusedChangeDisconnectsWithTheError) {
  coil::test::LogCapture logs;
  auto x = fake(kA, "x");
  reactor->addReader(x);
  mux->refuse[kA] = std::make_error_code(std::errc::no_space_on_device);
  reactor->addWriter(x);  // not a first registration: applied (and refused) before the wait
  step();
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<error::ConnectionLost>());
  BOOST_TEST(
      (x->reasons.back().value<error::ConnectionLost>()->code() == std::errc::no_space_on_device));
  BOOST_TEST(logs.count("refused fd 900") == 1u);
  BOOST_TEST(reactor->getReaders().empty());
  mux->refuse.clear();
  step();
  BOOST_TEST(mux->interest.count(kA) == 0u);
}

COIL_TEST_CASE(aStaleHolderIsEvictedWhenItsNumberIsReused) {
  auto x = fake(kA, "stale");
  auto y = fake(kA, "fresh");
  reactor->addReader(x);
  x->setFileno(-1);  // closed without removing itself
  reactor->addReader(y);
  BOOST_TEST(x->lost == 0);  // told at the next iteration, not inside addReader
  step();
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<error::ConnectionFdescWentAway>());
  BOOST_TEST(reactor->getReaders().size() == 1u);
  BOOST_TEST(reactor->getReaders().front() == y);
  reactor->removeReader(y.get());
}

COIL_TEST_CASE(twoLiveObjectsCannotShareADirection) {
  auto x = fake(kA, "first");
  auto y = fake(kA, "second");
  reactor->addReader(x);
  BOOST_CHECK_THROW(reactor->addReader(y), std::invalid_argument);
  BOOST_CHECK_THROW(reactor->addReader(fake(-1)), std::invalid_argument);
  BOOST_CHECK_THROW(reactor->addReader(nullptr), std::invalid_argument);
  reactor->addWriter(y);  // the other direction may be another object
  step({{kA, io::kRead | io::kWrite}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(y->writes == 1);
  BOOST_TEST(reactor->removeAll().size() == 2u);
}

COIL_TEST_CASE(aDescriptorThatChangedItsNumberMoves) {
  auto x = fake(kA);
  reactor->addReader(x);
  x->setFileno(kB);
  reactor->addReader(x);
  step({{kA, io::kRead}, {kB, io::kRead}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(mux->interest.count(kA) == 0u);
  BOOST_TEST(mux->interest[kB] == io::kRead);
  reactor->removeReader(x.get());
}

COIL_TEST_CASE(bothDirectionsMoveWithTheDescriptor) {
  auto x = fake(kA);
  reactor->addReader(x);
  reactor->addWriter(x);
  x->setFileno(kB);
  reactor->addWriter(x);
  step({{kB, io::kRead | io::kWrite}});
  BOOST_TEST(x->reads == 1);
  BOOST_TEST(x->writes == 1);
  BOOST_TEST(mux->interest.count(kA) == 0u);
  BOOST_TEST(mux->interest[kB] == (io::kRead | io::kWrite));
  reactor->removeReader(x.get());
  reactor->removeWriter(x.get());
  BOOST_TEST(reactor->getReaders().empty());
  BOOST_TEST(reactor->getWriters().empty());
  step();
}

COIL_TEST_CASE(removeReaderWorksAfterFilenoBecameMinusOne) {
  auto x = fake(kA);
  reactor->addReader(x);
  reactor->addWriter(x);
  x->setFileno(-1);
  reactor->removeReader(x.get());
  reactor->removeWriter(x.get());
  BOOST_TEST(reactor->getReaders().empty());
  BOOST_TEST(reactor->getWriters().empty());
  step();
  BOOST_TEST(mux->interest.count(kA) == 0u);
}

COIL_TEST_CASE(descriptorsAreHeldUntilConnectionLostThenReleased) {
  auto x = fake(kA);
  std::weak_ptr<FakeDescriptor> watch = x;
  x->onRead = [] { return Failure(error::ConnectionDone()); };
  reactor->addReader(std::move(x));
  step();
  BOOST_TEST(!watch.expired());  // the reactor holds it while registered
  step({{kA, io::kRead}});
  BOOST_REQUIRE(!watch.expired());  // still pinned: released at the next iteration
  BOOST_TEST(watch.lock()->lost == 1);
  step();
  BOOST_TEST(watch.expired());  // released once connectionLost has run
}

COIL_TEST_CASE(removingItselfInsideDoReadIsSafe) {
  auto x = fake(kA);
  std::weak_ptr<FakeDescriptor> watch = x;
  FakeDescriptor* raw = x.get();
  x->onRead = [this, raw] {
    reactor->removeReader(raw);  // drops the reactor's reference: the dispatch pin keeps it
    raw->setFileno(-1);
    return std::optional<Failure>();
  };
  reactor->addReader(std::move(x));
  step({{kA, io::kRead}});
  BOOST_TEST(!watch.expired());  // destruction is deferred to the next iteration
  step();
  BOOST_TEST(watch.expired());
}

COIL_TEST_CASE(afterForkReRegistersInterestAndReplacesTheWaker) {
  auto x = fake(kA);
  reactor->addReader(x);
  step();
  std::vector<int> before;
  for (const auto& [fd, mask] : mux->interest)
    if (fd != kA) before.push_back(fd);
  BOOST_REQUIRE(before.size() == 1u);  // the waker
  reactor->afterFork();
  BOOST_TEST(mux->forked.size() == 2u);
  BOOST_TEST(mux->interest[kA] == io::kRead);
  BOOST_TEST(mux->interest.count(before[0]) == 0u);  // the parent's waker is no longer watched
  BOOST_TEST(mux->interest.size() == 2u);            // a new one is
  reactor->removeReader(x.get());
  step();
}

COIL_TEST_CASE(aDescriptorDroppedDuringItsOwnReadLivesUntilTheNextIteration) {
  auto x = fake(kA, "self-removing");
  std::weak_ptr<FakeDescriptor> watch = x;
  int writes = 0;
  x->onRead = [&] {
    reactor->removeReader(x.get());
    reactor->removeWriter(x.get());
    x.reset();  // the reactor's reference, now pending release, is the last one
    return std::optional<Failure>();
  };
  x->onWrite = [&] { return ++writes, std::optional<Failure>(); };
  reactor->addReader(x);
  reactor->addWriter(x);
  step({{kA, io::kRead | io::kWrite}});
  BOOST_TEST(writes == 0);
  BOOST_TEST(!watch.expired());
  BOOST_TEST(mux->interest.count(kA) == 0u);  // the last direction went at once
  step();
  BOOST_TEST(watch.expired());
  BOOST_TEST(mux->interest.count(kA) == 0u);
}

COIL_TEST_CASE(oneDescriptorWatchedByTwoReactorsUnderTwoNumbers) {
  Scripted other;
  auto x = fake(kA, "shared");
  reactor->addReader(x);
  x->setFileno(kB);
  other.reactor->addReader(x);  // the number x carries is now kB
  x->setFileno(-1);
  reactor->removeReader(x.get());  // still found: registered here under kA
  BOOST_TEST(reactor->getReaders().empty());
  BOOST_TEST(other.reactor->getReaders().size() == 1u);
  other.reactor->removeReader(x.get());
  BOOST_TEST(other.reactor->getReaders().empty());
  step();
  other.step();
  BOOST_TEST(mux->interest.count(kA) == 0u);
  BOOST_TEST(other.mux->interest.count(kB) == 0u);
}

COIL_TEST_CASE(aCopyOfAWatchedDescriptorIsNotWatched) {
  auto x = fake(kA, "original");
  reactor->addReader(x);
  auto copy = std::make_shared<FakeDescriptor>(*x);
  reactor->removeReader(copy.get());  // a no-op: the copy was never added
  BOOST_TEST(reactor->getReaders().size() == 1u);
  BOOST_TEST(reactor->getReaders().front() == x);
  reactor->removeReader(x.get());
  BOOST_TEST(reactor->getReaders().empty());
  step();
}

COIL_TEST_CASE(anIterationNestedInACallbackKeepsTheDispatchedDescriptorAlive) {
  auto x = fake(kA, "nesting");
  std::weak_ptr<FakeDescriptor> watch = x;
  bool aliveAfterNested = false;
  x->onRead = [&] {
    reactor->removeReader(x.get());
    x.reset();
    step();  // applies the removal; the outer dispatch still uses the descriptor
    aliveAfterNested = !watch.expired();
    return std::optional<Failure>(Failure(error::ConnectionDone()));
  };
  reactor->addReader(x);
  step({{kA, io::kRead}});
  BOOST_TEST(aliveAfterNested);
  BOOST_TEST(!watch.expired());
  step();
  BOOST_TEST(watch.expired());
}

COIL_TEST_CASE(aNewWakerTakingAStaleEntrysNumberEvictsItsHolder) {
  int n = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  BOOST_REQUIRE(n >= 0);
  ::close(n);  // the number the next eventfd or pipe gets
  auto x = fake(n, "stale");
  reactor->addReader(x);
  x->setFileno(-1);      // closed without removing itself
  reactor->afterFork();  // the new waker takes number n
  BOOST_TEST(reactor->getReaders().empty());
  BOOST_TEST(!coil::detail::DescriptorSlot::watched(*x));
  BOOST_TEST(x->lost == 0);  // told on the next iteration, not inside afterFork()
  step();
  BOOST_TEST(x->lost == 1);
  BOOST_TEST(x->lostWith<error::ConnectionFdescWentAway>());
  reactor->wakeUp();  // the waker on number n still works
  step({{n, io::kRead}});
}

BOOST_AUTO_TEST_SUITE_END()
