// Tests for coil::basic::LineReceiver (Twisted's test_basic.py LineReceiverTests).
#include <coil/core/task/Clock.hpp>
#include <coil/transports/protocols/LineReceiver.hpp>

#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/protocols/FramingTestSupport.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using coil::basic::LineReceiver;
using coil::test::StringTransport;

namespace {

using Lines = std::vector<std::string>;

// Twisted's LineTester: "\n"-delimited, MAX_LENGTH 64, switches modes on command lines.
class LineTester : public LineReceiver, public std::enable_shared_from_this<LineTester> {
 public:
  explicit LineTester(coil::task::Clock* clock = nullptr) : clock_(clock) {
    delimiter = "\n";
    MAX_LENGTH = 64;
  }

  void lineReceived(std::string_view view) override {
    std::string line(view);
    received.push_back(line);
    if (line.empty()) {
      setRawMode();
    } else if (line == "pause") {
      pauseProducing();
      resumeLater();
    } else if (line == "rawpause") {
      pauseProducing();
      setRawMode();
      received.emplace_back();
      resumeLater();
    } else if (line == "stop") {
      stopProducing();
    } else if (line.rfind("len ", 0) == 0) {
      length = std::stoul(line.substr(4));
    } else if (line.rfind("produce", 0) == 0) {
      transport()->registerProducer(shared_from_this(), false);
    } else if (line.rfind("unproduce", 0) == 0) {
      transport()->unregisterProducer();
    }
  }

  void rawDataReceived(std::string_view data) override {
    const std::size_t n = std::min(length, data.size());
    length -= n;
    received.back().append(data.substr(0, n));
    if (length == 0) setLineMode(data.substr(n));
  }

  void lineLengthExceeded(std::string_view line) override {
    if (line.size() > MAX_LENGTH + 1) setLineMode(line.substr(MAX_LENGTH + 1));
  }

  Lines received;
  std::size_t length = 0;

 private:
  void resumeLater() {
    auto self = shared_from_this();
    clock_->callLater(0, [self] { self->resumeProducing(); });
  }

  coil::task::Clock* clock_;
};

// Records lines; the default lineLengthExceeded (loseConnection) is kept.
class Recorder : public LineReceiver {
 public:
  void lineReceived(std::string_view line) override { received.emplace_back(line); }
  Lines received;
};

struct Connected {
  StringTransport transport;
  std::shared_ptr<LineTester> proto;
  explicit Connected(coil::task::Clock* clock = nullptr)
      : proto(std::make_shared<LineTester>(clock)) {
    proto->makeConnection(transport);
  }
};

const std::string kBuffer =
    "len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\n"
    "foo 5\n\n1234567890123456789012345678901234567890123456789012345678901234567890\n"
    "len 1\n\na";
const Lines kOutput = {
    "len 10", "0123456789", "len 5", "1234\n", "len 20", "foo 123", "0123456789\n012345678",
    "len 0",  "foo 5",      "",      "67890",  "len 1",  "a"};

}  // namespace

BOOST_AUTO_TEST_SUITE(LineReceiverTests)

COIL_TEST_CASE(bufferInPacketsOfOneToNine) {
  // test_buffer: line mode, raw mode, and an over-long line re-fed by lineLengthExceeded.
  for (std::size_t size = 1; size < 10; ++size) {
    Connected c;
    for (const auto& p : coil::test::packets(kBuffer, size)) c.proto->dataReceived(p);
    BOOST_TEST(c.proto->received == kOutput, boost::test_tools::per_element());
  }
}

COIL_TEST_CASE(linesAndRawModeAtEverySplit) {
  const std::string data = "len 4\n\nabcdefg\nlen 0\n\nh\nlast\n";
  const Lines expected = {"len 4", "abcd", "efg", "len 0", "", "h", "last"};
  coil::test::forEveryChunking(data, [&](const auto& chunks, const std::string& how) {
    Connected c;
    for (const auto& p : chunks) c.proto->dataReceived(p);
    BOOST_TEST(c.proto->received == expected, how);
  });
}

COIL_TEST_CASE(defaultDelimiterAtEverySplit) {
  const std::string data = "one\r\ntwo\r\n\r\nthree\r\nfour";
  coil::test::forEveryChunking(data, [&](const auto& chunks, const std::string& how) {
    StringTransport t;
    Recorder r;
    r.makeConnection(t);
    for (const auto& p : chunks) r.dataReceived(p);
    BOOST_TEST(r.received == (Lines{"one", "two", "", "three"}), how);
    BOOST_TEST(r.clearLineBuffer() == "four", how);
  });
}

COIL_TEST_CASE(multiByteDelimiterSplitInsideDelimiter) {
  StringTransport t;
  coil::test::forEveryChunking("a<END>b<EN<END>", [&](const auto& chunks, const std::string& how) {
    Recorder x;
    x.delimiter = "<END>";
    x.makeConnection(t);
    for (const auto& p : chunks) x.dataReceived(p);
    BOOST_TEST(x.received == (Lines{"a", "b<EN"}), how);
  });
}

COIL_TEST_CASE(pausing) {
  // test_pausing: delivery stops at "pause" until the clock resumes the protocol.
  const std::string buf = "twiddle1\ntwiddle2\npause\ntwiddle3\n";
  for (std::size_t size = 1; size < 10; ++size) {
    coil::task::Clock clock;
    Connected c(&clock);
    for (const auto& p : coil::test::packets(buf, size)) c.proto->dataReceived(p);
    BOOST_TEST(c.proto->received == (Lines{"twiddle1", "twiddle2", "pause"}));
    BOOST_TEST(c.proto->paused());
    BOOST_TEST((c.transport.producerState() == StringTransport::ProducerState::paused));
    clock.advance(0);
    BOOST_TEST(c.proto->received == (Lines{"twiddle1", "twiddle2", "pause", "twiddle3"}));
    BOOST_TEST((c.transport.producerState() == StringTransport::ProducerState::producing));
  }
}

COIL_TEST_CASE(rawPausing) {
  // test_rawPausing: pausing in line mode then switching to raw mode.
  const std::string buf = "twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n";
  for (std::size_t size = 1; size < 10; ++size) {
    coil::task::Clock clock;
    Connected c(&clock);
    for (const auto& p : coil::test::packets(buf, size)) c.proto->dataReceived(p);
    BOOST_TEST(c.proto->received == (Lines{"twiddle1", "twiddle2", "len 5", "rawpause", ""}));
    clock.advance(0);
    BOOST_TEST(c.proto->received ==
               (Lines{"twiddle1", "twiddle2", "len 5", "rawpause", "12345", "twiddle3"}));
  }
}

COIL_TEST_CASE(stopProducing) {
  // test_stopProducing: nothing after "stop" is delivered, and the transport is stopped.
  const std::string buf = "twiddle1\ntwiddle2\nstop\nmore\nstuff\n";
  for (std::size_t size = 1; size < 10; ++size) {
    Connected c;
    for (const auto& p : coil::test::packets(buf, size)) c.proto->dataReceived(p);
    BOOST_TEST(c.proto->received == (Lines{"twiddle1", "twiddle2", "stop"}));
    BOOST_TEST((c.transport.producerState() == StringTransport::ProducerState::stopped));
  }
}

COIL_TEST_CASE(lineReceiverAsProducer) {
  // test_lineReceiverAsProducer: registering itself as a producer mid-chunk changes nothing.
  Connected c;
  c.proto->dataReceived("produce\nhello world\nunproduce\ngoodbye\n");
  BOOST_TEST(c.proto->received == (Lines{"produce", "hello world", "unproduce", "goodbye"}));
  BOOST_TEST(!c.transport.producer());
}

COIL_TEST_CASE(clearLineBuffer) {
  // test_clearLineBuffer: clearing inside lineReceived drops the rest of the chunk.
  struct Clearing : LineReceiver {
    void lineReceived(std::string_view l) override {
      line = l;
      rest = clearLineBuffer();
    }
    std::string line, rest;
  } p;
  p.dataReceived("foo\r\nbar\r\nbaz");
  BOOST_TEST(p.line == "foo");
  BOOST_TEST(p.rest == "bar\r\nbaz");
  p.dataReceived("quux\r\n");
  BOOST_TEST(p.line == "quux");
  BOOST_TEST(p.rest == "");
}

COIL_TEST_CASE(stackRecursionManyModeSwitches) {
  // test_stackRecursion: switching modes many times on one chunk does not recurse.
  Connected c;
  std::string data;
  const int n = 2000;
  for (int i = 0; i < n; ++i) data += "len 1\n\nx";
  c.proto->dataReceived(data);
  BOOST_REQUIRE_EQUAL(c.proto->received.size(), static_cast<std::size_t>(2 * n));
  BOOST_TEST(c.proto->received.back() == "x");
}

COIL_TEST_CASE(maximumLineLength) {
  // test_maximumLineLength: a finished line of MAX_LENGTH + 1 loses the connection.
  StringTransport t;
  Recorder r;
  r.makeConnection(t);
  r.dataReceived(std::string(r.MAX_LENGTH + 1, 'x') + "\r\nr");
  BOOST_TEST(t.disconnecting());
  BOOST_TEST(r.received.empty());
  BOOST_TEST(r.clearLineBuffer() == "");  // the buffer was cleared
}

COIL_TEST_CASE(lineOfExactlyMaxLengthIsDelivered) {
  StringTransport t;
  Recorder r;
  r.makeConnection(t);
  r.dataReceived(std::string(r.MAX_LENGTH, 'x') + "\r\n");
  BOOST_TEST(!t.disconnecting());
  BOOST_REQUIRE_EQUAL(r.received.size(), 1u);
  BOOST_TEST(r.received[0].size() == r.MAX_LENGTH);
}

COIL_TEST_CASE(maximumLineLengthPartialDelimiter) {
  // test_maximumLineLengthPartialDelimiter: MAX_LENGTH bytes plus part of the delimiter wait.
  StringTransport t;
  Recorder r;
  r.makeConnection(t);
  r.dataReceived(std::string(r.MAX_LENGTH, 'x') + "\r");
  BOOST_TEST(!t.disconnecting());
  r.dataReceived("\n");
  BOOST_TEST(r.received.size() == 1u);
}

COIL_TEST_CASE(unfinishedLineLimitIsMaxPlusDelimiter) {
  // test_notQuiteMaximumLineLengthUnfinished / test_maximumLineLengthRemaining.
  StringTransport t1, t2;
  Recorder a, b;
  a.makeConnection(t1);
  b.makeConnection(t2);
  a.dataReceived(std::string(a.MAX_LENGTH + a.delimiter.size() - 1, 'x'));
  BOOST_TEST(!t1.disconnecting());
  b.dataReceived(std::string(b.MAX_LENGTH + b.delimiter.size(), 'x'));
  BOOST_TEST(t2.disconnecting());
  BOOST_TEST(b.clearLineBuffer() == "");
}

COIL_TEST_CASE(maxLengthIsPerInstanceAndExceededGetsLineDelimiterAndRest) {
  struct Long : LineReceiver {
    void lineReceived(std::string_view l) override { lines.emplace_back(l); }
    void lineLengthExceeded(std::string_view l) override { exceeded.emplace_back(l); }
    Lines lines, exceeded;
  } p;
  p.MAX_LENGTH = 3;
  p.dataReceived("abc\r\nabcd\r\nxy\r\n");
  BOOST_TEST(p.lines == (Lines{"abc"}));
  BOOST_TEST(p.exceeded == (Lines{"abcd\r\nxy\r\n"}));
  p.dataReceived("ok\r\n");
  BOOST_TEST(p.lines == (Lines{"abc", "ok"}));
  p.dataReceived("12345");  // 5 >= 3 + 2, no delimiter: the whole buffer
  BOOST_TEST(p.exceeded.back() == "12345");
  Recorder other;
  BOOST_TEST(other.MAX_LENGTH == 16384u);
  BOOST_TEST(other.delimiter == "\r\n");
}

COIL_TEST_CASE(stopsWhenTransportDisconnects) {
  struct Quitter : LineReceiver {
    void lineReceived(std::string_view l) override {
      lines.emplace_back(l);
      if (l == "quit") transport()->loseConnection();
    }
    Lines lines;
  } p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("a\r\nquit\r\nb\r\nc\r\n");
  BOOST_TEST(p.lines == (Lines{"a", "quit"}));
}

COIL_TEST_CASE(throwingLineReceivedStopsAndKeepsTheRest) {
  // coil's counterpart of "lineReceived returns a truthy value".
  struct Thrower : LineReceiver {
    void lineReceived(std::string_view l) override {
      lines.emplace_back(l);
      if (l == "bad") throw std::runtime_error("bad line");
    }
    Lines lines;
  } p;
  BOOST_CHECK_THROW(p.dataReceived("a\r\nbad\r\nb\r\n"), std::runtime_error);
  BOOST_TEST(p.lines == (Lines{"a", "bad"}));
  p.dataReceived("c\r\n");  // not stuck "busy"; the kept line comes first
  BOOST_TEST(p.lines == (Lines{"a", "bad", "b", "c"}));
}

COIL_TEST_CASE(rawDataReceivedDefaultThrowsNotImplemented) {
  // test_rawDataError.
  Recorder r;
  r.setRawMode();
  BOOST_TEST(!r.lineMode());
  BOOST_CHECK_THROW(r.dataReceived("foo"), coil::basic::NotImplementedError);
  r.setLineMode("x\r\n");
  BOOST_TEST(r.received == (Lines{"x"}));
}

COIL_TEST_CASE(reentrantDataReceivedOnlyBuffers) {
  struct Reentrant : LineReceiver {
    void lineReceived(std::string_view l) override {
      lines.emplace_back(l);
      if (l == "feed") dataReceived("fed\r\n");
      lines.push_back("after " + lines.back());
    }
    Lines lines;
  } p;
  p.dataReceived("feed\r\nnext\r\n");
  BOOST_TEST(p.lines == (Lines{"feed", "after feed", "next", "after next", "fed", "after fed"}));
}

COIL_TEST_CASE(setRawModeSendsRestInOneChunk) {
  struct Raw : LineReceiver {
    void lineReceived(std::string_view l) override {
      lines.emplace_back(l);
      if (l == "raw") setRawMode();
    }
    void rawDataReceived(std::string_view d) override { raw.emplace_back(d); }
    Lines lines, raw;
  } p;
  p.dataReceived("a\r\nraw\r\nb\r\nc");
  BOOST_TEST(p.lines == (Lines{"a", "raw"}));
  BOOST_TEST(p.raw == (Lines{"b\r\nc"}));
  p.dataReceived("more");
  BOOST_TEST(p.raw == (Lines{"b\r\nc", "more"}));
  p.setLineMode("d\r\ne");
  BOOST_TEST(p.lines == (Lines{"a", "raw", "d"}));
  BOOST_TEST(p.clearLineBuffer() == "e");
}

COIL_TEST_CASE(sendLineAppendsDelimiter) {
  StringTransport t;
  Recorder r;
  r.makeConnection(t);
  r.sendLine("hello");
  r.delimiter = "\n";
  r.sendLine("");
  BOOST_TEST(t.value() == "hello\r\n\n");
}

COIL_TEST_CASE(resumeProducingReprocessesBuffer) {
  struct Pauser : LineReceiver {
    void lineReceived(std::string_view l) override {
      lines.emplace_back(l);
      if (l == "p") pauseProducing();
    }
    Lines lines;
  } p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("p\r\nx\r\n");
  p.dataReceived("y\r\n");
  BOOST_TEST(p.lines == (Lines{"p"}));
  p.resumeProducing();
  BOOST_TEST(p.lines == (Lines{"p", "x", "y"}));
}

BOOST_AUTO_TEST_SUITE_END()
