// Tests for coil::basic::LineOnlyReceiver (Twisted's test_basic.py LineOnlyReceiverTests).
#include <coil/transports/protocols/LineReceiver.hpp>

#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/protocols/FramingTestSupport.hpp>

#include <string>
#include <vector>

using coil::basic::LineOnlyReceiver;
using coil::test::StringTransport;

namespace {

using Lines = std::vector<std::string>;

// Twisted's LineOnlyTester: "\n"-delimited, MAX_LENGTH 64.
class LineOnlyTester : public LineOnlyReceiver {
 public:
  LineOnlyTester() {
    delimiter = "\n";
    MAX_LENGTH = 64;
  }
  void lineReceived(std::string_view line) override { received.emplace_back(line); }
  Lines received;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(LineOnlyReceiverTests)

COIL_TEST_CASE(bufferAtEverySplit) {
  // test_buffer, plus every 2-way split.
  const std::string buffer = "foo\n    bleakness\n    desolation\n    plastic forks\n";
  coil::test::forEveryChunking(buffer, [&](const auto& chunks, const std::string& how) {
    StringTransport t;
    LineOnlyTester a;
    a.makeConnection(t);
    for (const auto& c : chunks) a.dataReceived(c);
    BOOST_TEST(a.received == (Lines{"foo", "    bleakness", "    desolation", "    plastic forks"}),
               how);
  });
}

COIL_TEST_CASE(greaterThanMaximumLineLength) {
  // test_greaterThanMaximumLineLength.
  StringTransport t;
  LineOnlyTester a;
  a.makeConnection(t);
  a.dataReceived(std::string(a.MAX_LENGTH + 1, 'x') + "\n");
  BOOST_TEST(t.disconnecting());
  BOOST_TEST(a.received.empty());
}

COIL_TEST_CASE(partialLineTooLong) {
  // test_lineTooLong: a partial line above MAX_LENGTH loses the connection.
  StringTransport t;
  LineOnlyTester a;
  a.makeConnection(t);
  a.dataReceived(std::string(a.MAX_LENGTH, 'x'));
  BOOST_TEST(!t.disconnecting());
  a.dataReceived("x");
  BOOST_TEST(t.disconnecting());
}

COIL_TEST_CASE(stopsAfterLoseConnectionInsideChunk) {
  struct Quitter : LineOnlyReceiver {
    void lineReceived(std::string_view l) override {
      lines.emplace_back(l);
      if (l == "quit") transport()->loseConnection();
    }
    Lines lines;
  } p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("a\r\nquit\r\nb\r\n");
  BOOST_TEST(p.lines == (Lines{"a", "quit"}));
}

COIL_TEST_CASE(overlappingDelimiterSplitsLikePython) {
  // bytes.split is left to right: "aaa".split("aa") == ["", "a"].
  struct Rec : LineOnlyReceiver {
    void lineReceived(std::string_view l) override { lines.emplace_back(l); }
    Lines lines;
  } p;
  StringTransport t;
  p.makeConnection(t);
  p.delimiter = "aa";
  p.dataReceived("aaab");
  BOOST_TEST(p.lines == (Lines{""}));
  p.dataReceived("aa");
  BOOST_TEST(p.lines == (Lines{"", "ab"}));
}

COIL_TEST_CASE(sendLineWritesLineAndDelimiter) {
  StringTransport t;
  LineOnlyTester a;
  a.makeConnection(t);
  a.sendLine("hi");
  BOOST_TEST(t.value() == "hi\n");
  BOOST_TEST(LineOnlyTester().MAX_LENGTH == 64u);
  struct Plain : LineOnlyReceiver {
    void lineReceived(std::string_view) override {}
  } plain;
  BOOST_TEST(plain.MAX_LENGTH == 16384u);
  BOOST_TEST(plain.delimiter == "\r\n");
}

BOOST_AUTO_TEST_SUITE_END()
