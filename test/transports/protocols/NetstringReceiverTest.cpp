// Tests for coil::basic::NetstringReceiver (Twisted's test_basic.py NetstringReceiverTests).
#include <coil/transports/protocols/NetstringReceiver.hpp>

#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/protocols/FramingTestSupport.hpp>

#include <string>
#include <vector>

using coil::basic::NetstringReceiver;
using coil::test::StringTransport;

namespace {

using Strings = std::vector<std::string>;

class TestNetstring : public NetstringReceiver {
 public:
  void stringReceived(std::string_view s) override { received.emplace_back(s); }
  Strings received;
};

struct Connected {
  StringTransport transport;
  TestNetstring proto;
  Connected() { proto.makeConnection(transport); }
  void feed(const std::string& data) { proto.dataReceived(data); }
};

const Strings kStrings = {
    "hello", "world", "how", "are", "you123", ":today", std::string(515, 'a')};

}  // namespace

BOOST_AUTO_TEST_SUITE(NetstringReceiverTests)

COIL_TEST_CASE(bufferInPackets) {
  // test_buffer (packet sizes 1 to 9).
  for (std::size_t size = 1; size < 10; ++size) {
    Connected c;
    c.proto.MAX_LENGTH = 699;
    for (const auto& s : kStrings) c.proto.sendString(s);
    const std::string out = c.transport.value();
    for (const auto& p : coil::test::packets(out, size)) c.feed(p);
    BOOST_TEST(c.proto.received == kStrings, "packet size " << size);
    BOOST_TEST(!c.proto.brokenPeer);
  }
}

COIL_TEST_CASE(everySplit) {
  const std::string data = "5:hello,0:,3:a:,,12:hello world!,";
  coil::test::forEveryChunking(data, [&](const auto& chunks, const std::string& how) {
    Connected c;
    for (const auto& p : chunks) c.feed(p);
    BOOST_TEST(c.proto.received == (Strings{"hello", "", "a:,", "hello world!"}), how);
    BOOST_TEST(!c.transport.disconnecting(), how);
  });
}

COIL_TEST_CASE(sendString) {
  Connected c;
  c.proto.sendString("hello");
  c.proto.sendString("");
  BOOST_TEST(c.transport.value() == "5:hello,0:,");
}

COIL_TEST_CASE(smallNetstrings) {
  // test_receiveEmptyNetstring / OneCharacter / TwoCharacters / NestedNetstring.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0:,", ""}, {"1:a,", "a"}, {"2:ab,", "ab"}, {"4:1:a,,", "1:a,"}};
  for (const auto& [wire, payload] : cases) {
    Connected c;
    c.feed(wire);
    BOOST_TEST(c.proto.received == (Strings{payload}), wire);
  }
}

COIL_TEST_CASE(malformedMarksBrokenPeer) {
  // test_moreDataThanSpecified(BorderCase), test_missingNumber, test_missingColon,
  // test_missingNumberAndColon, test_onlyData, leading zeros, signs, spaces.
  for (const std::string wire : {"2:aaa,", "0:a,", ":aaa,", "3aaa,", "aaa,", "aaa", "01:a,", "00:,",
                                 "-1:a,", " 1:a,", "1 :a,", "1:a;"}) {
    Connected c;
    c.feed(wire);
    BOOST_TEST(c.proto.brokenPeer, wire);
    BOOST_TEST(c.transport.disconnecting(), wire);
    BOOST_TEST(c.proto.received.empty(), wire);
  }
}

COIL_TEST_CASE(illegalByteByByte) {
  // test_illegal.
  const Strings illegal = {"9999999999999999999999", "abc", "4:abcde",
                           "51:" + std::string(80, 'a') + ","};
  for (const auto& s : illegal) {
    Connected c;
    for (const auto& b : coil::test::packets(s, 1)) c.feed(b);
    BOOST_TEST(c.transport.disconnecting(), s);
    BOOST_TEST(c.proto.brokenPeer, s);
  }
}

COIL_TEST_CASE(receivePortions) {
  // test_receiveNetstringPortions_1/2/3.
  for (const Strings& parts :
       {Strings{"2", ":ab", ","}, Strings{"2:", "ab", ","}, Strings{"2", ":", "a", "b", ","}}) {
    Connected c;
    for (const auto& p : parts) c.feed(p);
    BOOST_TEST(c.proto.received == (Strings{"ab"}));
  }
}

COIL_TEST_CASE(receiveTwoNetstrings) {
  Connected c;
  c.feed("1:a,1");
  BOOST_TEST(c.proto.received == (Strings{"a"}));
  c.feed(":b,");
  BOOST_TEST(c.proto.received == (Strings{"a", "b"}));
}

COIL_TEST_CASE(maxReceiveLimit) {
  // test_maxReceiveLimit: MAX_LENGTH + 1 is refused before any payload arrives.
  Connected c;
  const std::size_t tooLong = c.proto.MAX_LENGTH + 1;
  c.feed(std::to_string(tooLong));
  BOOST_TEST(c.proto.brokenPeer);
  BOOST_TEST(c.transport.disconnecting());
  Connected ok;
  ok.feed(std::to_string(ok.proto.MAX_LENGTH) + ":" + std::string(ok.proto.MAX_LENGTH, 'a') + ",");
  BOOST_TEST(ok.proto.received.size() == 1u);
}

COIL_TEST_CASE(consumeLengthBorderCases) {
  // test_consumeLengthBorderCase1/2/3: MAX_LENGTH 12 accepts "12:", 11 refuses it.
  Connected a;
  a.proto.MAX_LENGTH = 12;
  a.feed("12:");
  BOOST_TEST(!a.proto.brokenPeer);
  Connected b;
  b.proto.MAX_LENGTH = 11;
  b.feed("12:");
  BOOST_TEST(b.proto.brokenPeer);
  Connected huge;  // would overflow 64 bits
  huge.proto.MAX_LENGTH = static_cast<std::size_t>(-1);
  huge.feed("999999999999999999999999:");
  BOOST_TEST(huge.proto.brokenPeer);
}

COIL_TEST_CASE(dataAfterBrokenPeerIsIgnored) {
  Connected c;
  c.feed("x");
  c.feed("1:a,");
  BOOST_TEST(c.proto.brokenPeer);
  BOOST_TEST(c.proto.received.empty());
  BOOST_TEST(c.transport.loseConnectionCalls() == 1);
}

COIL_TEST_CASE(reentrantFeedIsDeliveredAfterCurrent) {
  struct Reentrant : NetstringReceiver {
    void stringReceived(std::string_view s) override {
      got.emplace_back(s);
      if (s == "feed") dataReceived("3:fed,");
    }
    Strings got;
  } p;
  p.dataReceived("4:feed,4:next,");
  BOOST_TEST(p.got == (Strings{"feed", "next", "fed"}));
}

BOOST_AUTO_TEST_SUITE_END()
