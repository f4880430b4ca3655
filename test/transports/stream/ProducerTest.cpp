// Producers on stream transports (spec §3.4), for every stream kind, on every backend.
#include <coil/core/Errors.hpp>

#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/stream/StreamTesting.hpp>

#include <stdexcept>
#include <string>

using namespace coil;
using namespace coil::test;

namespace {

// Writes `chunk` repeatedly while not paused, up to `total` bytes, then unregisters and closes.
class PushProducer : public IProducer {
 public:
  PushProducer(ITransport& t, std::size_t total, std::size_t chunk)
      : t_(t), total_(total), chunk_(chunk, 'p') {}
  void pump() {
    while (!paused && sent < total_ && !stopped) {
      std::size_t n = std::min(chunk_.size(), total_ - sent);
      sent += n;
      t_.write(std::string_view(chunk_).substr(0, n));
      maxBuffered = std::max(maxBuffered, dynamic_cast<stream::Connection&>(t_).bufferedBytes());
    }
    if (sent == total_ && !finished) {
      finished = true;
      t_.unregisterProducer();
      t_.loseConnection();
    }
  }
  void pauseProducing() override {
    paused = true;
    ++pauses;
  }
  void resumeProducing() override {
    paused = false;
    ++resumes;
    pump();
  }
  void stopProducing() override { stopped = true; }

  std::size_t sent = 0;
  std::size_t maxBuffered = 0;
  int pauses = 0;
  int resumes = 0;
  bool paused = false;
  bool stopped = false;
  bool finished = false;

 private:
  ITransport& t_;
  std::size_t total_;
  std::string chunk_;
};

// Writes one chunk per resumeProducing(), `count` times, then unregisters and closes.
class PullProducer : public IProducer {
 public:
  PullProducer(ITransport& t, int count) : t_(t), count_(count) {}
  void pauseProducing() override { ++pauses; }
  void resumeProducing() override {
    ++resumes;
    if (written == count_) return;
    t_.write("chunk" + std::to_string(written++) + ";");
    if (written == count_) {
      t_.unregisterProducer();
      t_.loseConnection();
    }
  }
  void stopProducing() override { ++stops; }
  int written = 0;
  int pauses = 0;
  int resumes = 0;
  int stops = 0;

 private:
  ITransport& t_;
  int count_;
};

class Idle : public IProducer {
 public:
  void pauseProducing() override {}
  void resumeProducing() override {}
  void stopProducing() override { ++stops; }
  int stops = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(StreamProducer)

COIL_TEST_CASE(push_producer_is_paused_at_64KiB_and_resumed_when_drained) {
  const std::size_t total = 4 * 1024 * 1024;
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      pair.clientFactory->setup = [](Recorder& p) {
        p.onMade = [](Recorder& self) { self.transport()->pauseProducing(); };
      };
      if (!pair.open(b, kind)) continue;
      auto producer = std::make_shared<PushProducer>(*pair.server().transport(), total, 16384);
      pair.server().transport()->registerProducer(producer, true);
      producer->pump();
      // The peer does not read: the producer is paused and the buffer stays bounded.
      BOOST_CHECK(b.iterateUntil([&] { return producer->paused; }));
      int passes = 0;
      b.iterateUntil([&] { return ++passes > 10; }, 0.5, 0.02);
      BOOST_CHECK(producer->paused);
      BOOST_CHECK_LT(producer->sent, total);
      BOOST_CHECK_LE(producer->maxBuffered, stream::kHighWaterMark + 16384);
      BOOST_CHECK_GT(pair.server().connection().bufferedBytes(), stream::kHighWaterMark);
      // The peer reads: everything arrives, with pauses and resumes along the way.
      pair.client().transport()->resumeProducing();
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().lostCount == 1; }, 15));
      BOOST_CHECK_EQUAL(pair.client().received.size(), total);
      BOOST_CHECK_GE(producer->resumes, 1);
      BOOST_CHECK_EQUAL(producer->pauses, producer->resumes + (producer->paused ? 1 : 0));
      BOOST_CHECK(pair.client().lost->check<error::ConnectionDone>());
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(pull_producer_is_asked_for_more_whenever_the_buffer_drains) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      auto producer = std::make_shared<PullProducer>(*pair.server().transport(), 5);
      pair.server().transport()->registerProducer(producer, false);
      BOOST_CHECK_EQUAL(producer->resumes, 1);  // at once
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().lostCount == 1; }));
      BOOST_CHECK_EQUAL(pair.client().received, "chunk0;chunk1;chunk2;chunk3;chunk4;");
      BOOST_CHECK_EQUAL(producer->pauses, 0);
      BOOST_CHECK_EQUAL(producer->stops, 0);  // unregistered before the loss
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(registering_twice_throws_and_loss_stops_the_producer) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      ITransport& t = *pair.server().transport();
      auto first = std::make_shared<Idle>();
      t.registerProducer(first, true);
      BOOST_CHECK_THROW(t.registerProducer(std::make_shared<Idle>(), true), std::logic_error);
      pair.client().transport()->abortConnection();
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().lostCount == 1; }));
      BOOST_CHECK_EQUAL(first->stops, 1);
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(loseConnection_waits_for_the_producer_to_unregister) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      ITransport& t = *pair.server().transport();
      auto producer = std::make_shared<Idle>();
      t.registerProducer(producer, true);
      t.write("before");
      t.loseConnection();
      t.write(" and after");  // a producer may still write while the close waits for it
      int passes = 0;
      b.iterateUntil([&] { return ++passes > 10; }, 0.5, 0.02);
      BOOST_CHECK_EQUAL(pair.server().lostCount, 0);
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().received == "before and after"; }));
      t.unregisterProducer();
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().lostCount == 1; }));
      BOOST_CHECK(pair.server().lost->check<error::ConnectionDone>());
      BOOST_CHECK_EQUAL(producer->stops, 0);
      pair.close(b);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
