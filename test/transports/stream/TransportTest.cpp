// Stream transports (spec §3.1–3.3), written once and run for TCP4, TCP6, UNIX and UNIX
// abstract names, on every backend.
#include <coil/core/Errors.hpp>

#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/stream/StreamTesting.hpp>

#include <stdexcept>
#include <string>

using namespace coil;
using namespace coil::test;

namespace {

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(StreamTransport)

COIL_TEST_CASE(write_and_writeSequence_arrive_in_order) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      ITransport& t = *pair.client().transport();
      t.write("one ");
      std::string_view pieces[] = {"two ", "", "three ", "four "};
      t.writeSequence(pieces);
      t.write("five");
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().received.size() == 23; }));
      BOOST_CHECK_EQUAL(pair.server().received, "one two three four five");
      pair.server().transport()->write("back");
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().received == "back"; }));
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(addresses_match_between_the_ends) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      ITransport& client = *pair.client().transport();
      ITransport& server = *pair.server().transport();
      BOOST_CHECK(client.getPeer() == pair.port->getHost());
      BOOST_CHECK(server.getHost() == pair.port->getHost());
      if (kind.family != AF_UNIX) {
        BOOST_CHECK(client.getHost() == server.getPeer());
        BOOST_CHECK(pair.serverFactory->peers.at(0) == server.getPeer());
        BOOST_CHECK(pair.clientFactory->peers.at(0) == client.getPeer());
      } else {
        BOOST_CHECK(server.getPeer() == Address(UNIXAddress{}));
      }
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(large_writes_arrive_intact) {
  const std::string big = pattern(6 * 1024 * 1024 + 17);
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      pair.server().transport()->write(big);
      pair.client().transport()->write(big);
      BOOST_CHECK(b.iterateUntil(
          [&] {
            return pair.client().received.size() >= big.size() &&
                   pair.server().received.size() >= big.size();
          },
          15));
      BOOST_CHECK(pair.client().received == big);
      BOOST_CHECK(pair.server().received == big);
      BOOST_CHECK_EQUAL(pair.server().connection().bufferedBytes(), 0u);
      BOOST_CHECK(b.reactor().getWriters().empty());  // drained: no write interest left
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(loseConnection_flushes_then_reports_ConnectionDone) {
  const std::string big = pattern(2 * 1024 * 1024);
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      Recorder& server = pair.server();
      server.transport()->write(big);
      BOOST_CHECK(!server.transport()->disconnecting());
      server.transport()->loseConnection();
      BOOST_CHECK(server.transport()->disconnecting());
      server.transport()->loseConnection();    // a second call is a no-op
      BOOST_CHECK_EQUAL(server.lostCount, 0);  // never synchronous
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().lostCount == 1; }, 15));
      BOOST_CHECK(pair.client().received == big);
      BOOST_CHECK(pair.client().lost && pair.client().lost->check<error::ConnectionDone>());
      BOOST_CHECK(b.iterateUntil([&] { return server.lostCount == 1; }));
      BOOST_CHECK(server.lost && server.lost->check<error::ConnectionDone>());
      // clientConnectionLost after the protocol's connectionLost, with the same connector.
      BOOST_CHECK(pair.clientFactory->lostWith == pair.connector.get());
      BOOST_CHECK(pair.clientFactory->startedWith == pair.connector.get());
      std::vector<std::string> expected{"built", "connectionLost", "clientConnectionLost"};
      BOOST_CHECK(pair.client().events == expected);
      pair.close(b);
      BOOST_CHECK_EQUAL(server.lostCount, 1);
      BOOST_CHECK_EQUAL(pair.client().lostCount, 1);
    }
  }
}

COIL_TEST_CASE(abortConnection_is_not_reentrant_and_the_peer_sees_ConnectionLost) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      pair.serverFactory->setup = [](Recorder& p) {
        p.onData = [](Recorder& self, std::string_view) {
          self.transport()->write("unsent data is discarded");
          self.transport()->abortConnection();
          BOOST_CHECK_EQUAL(self.lostCount, 0);  // not inside dataReceived
          BOOST_CHECK(self.transport()->disconnecting());
          self.transport()->abortConnection();  // idempotent
          self.transport()->loseConnection();   // after abort: no-op
        };
      };
      if (!pair.open(b, kind)) continue;
      std::weak_ptr<Recorder> weakServer = pair.serverFactory->built[0];
      pair.client().transport()->write("hello");
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().lostCount == 1; }));
      BOOST_CHECK(pair.server().lost->check<error::ConnectionAborted>());
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().lostCount == 1; }));
      if (kind.family != AF_UNIX) {
        // TCP: the RST reaches the peer. (UNIX sockets have no RST: the peer sees EOF.)
        BOOST_CHECK(pair.client().lost->check<error::ConnectionLost>());
        BOOST_CHECK(!pair.client().lost->check<error::ConnectionDone>());
      }
      // Afterwards nothing but the test holds the protocol.
      pair.serverFactory->built.clear();
      b.reactor().iterate(0);
      BOOST_CHECK(weakServer.expired());
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(exception_in_dataReceived_loses_only_that_connection) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      LogCapture logs;
      ReactorBuilder b;
      StreamPair<> pair;
      pair.serverFactory->setup = [](Recorder& p) {
        p.onData = [](Recorder&, std::string_view data) {
          if (data.find("boom") != std::string_view::npos) throw std::runtime_error("kaboom");
        };
      };
      if (!pair.open(b, kind)) continue;
      // A second client on the same port.
      auto other = std::make_shared<RecordingClientFactory<>>();
      auto otherConnector = kind.connect(b.reactor(), *pair.port, other, 30);
      BOOST_REQUIRE(b.iterateUntil([&] {
        return pair.serverFactory->built.size() == 2 && !other->built.empty() &&
               other->built[0]->made == 1;
      }));
      pair.client().transport()->write("boom");
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().lostCount == 1; }));
      BOOST_REQUIRE(pair.server().lost);
      BOOST_CHECK(pair.server().lost->check<std::runtime_error>());
      BOOST_CHECK_EQUAL(pair.server().lost->getErrorMessage(), "kaboom");
      BOOST_CHECK_GE(logs.count("kaboom"), 1u);
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().lostCount == 1; }));
      // The other connection still works.
      other->built[0]->transport()->write("still here");
      BOOST_CHECK(
          b.iterateUntil([&] { return pair.serverFactory->built[1]->received == "still here"; }));
      other->built[0]->transport()->loseConnection();
      BOOST_CHECK(b.iterateUntil([&] { return other->built[0]->lostCount == 1; }));
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(half_close_in_both_directions) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<HalfCloseRecorder, HalfCloseRecorder> pair;
      pair.serverFactory->setup = [](HalfCloseRecorder& p) {
        p.onReadLost = [](HalfCloseRecorder& self) {
          self.transport()->write("reply after EOF:" + self.received);
          self.transport()->loseConnection();
        };
      };
      if (!pair.open(b, kind)) continue;
      auto& client = pair.client();
      auto* tcp = dynamic_cast<ITCPTransport*>(client.transport());
      BOOST_REQUIRE(tcp);
      tcp->write("request");
      tcp->loseWriteConnection();
      tcp->write("dropped");  // after a write half-close
      BOOST_CHECK(b.iterateUntil([&] { return client.writeLost == 1; }));
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().readLost == 1; }));
      BOOST_CHECK(b.iterateUntil([&] { return client.readLost == 1; }));
      BOOST_CHECK_EQUAL(client.received, "reply after EOF:request");
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().lostCount == 1; }));
      BOOST_CHECK(pair.server().lost->check<error::ConnectionDone>());
      BOOST_CHECK_EQUAL(client.lostCount, 0);  // half-closeable: it must close itself
      client.transport()->loseConnection();
      BOOST_CHECK(b.iterateUntil([&] { return client.lostCount == 1; }));
      BOOST_CHECK(client.lost->check<error::ConnectionDone>());
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(peer_eof_without_half_close_support_is_ConnectionDone) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<Recorder, HalfCloseRecorder> pair;
      if (!pair.open(b, kind)) continue;
      dynamic_cast<ITCPTransport&>(*pair.client().transport()).loseWriteConnection();
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().lostCount == 1; }));
      BOOST_CHECK(pair.server().lost->check<error::ConnectionDone>());
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(pauseProducing_stops_reading_until_resumed) {
  for (const StreamKind& kind : streamKinds()) {
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      pair.clientFactory->setup = [](Recorder& p) {
        p.onMade = [](Recorder& self) { self.transport()->pauseProducing(); };  // sticks
      };
      if (!pair.open(b, kind)) continue;
      pair.server().transport()->write("queued while paused");
      int passes = 0;
      b.iterateUntil([&] { return ++passes > 10; }, 0.5, 0.02);
      BOOST_CHECK(pair.client().received.empty());
      pair.client().transport()->resumeProducing();
      BOOST_CHECK(b.iterateUntil([&] { return pair.client().received == "queued while paused"; }));
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(socket_options_round_trip) {
  for (const StreamKind& kind : streamKinds()) {
    if (kind.family == AF_UNIX) continue;
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<> pair;
      if (!pair.open(b, kind)) continue;
      auto& t = dynamic_cast<ITCPTransport&>(*pair.client().transport());
      t.setTcpNoDelay(true);
      BOOST_CHECK(t.getTcpNoDelay());
      t.setTcpNoDelay(false);
      BOOST_CHECK(!t.getTcpNoDelay());
      t.setTcpKeepAlive(true);
      BOOST_CHECK(t.getTcpKeepAlive());
      t.setTcpKeepAlive(false);
      BOOST_CHECK(!t.getTcpKeepAlive());
      pair.close(b);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
