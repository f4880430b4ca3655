// Tests for coil::basic::Int32/16/8StringReceiver (Twisted's test_basic.py IntNTestCaseMixin).
#include <coil/transports/protocols/IntNStringReceiver.hpp>

#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/protocols/FramingTestSupport.hpp>

#include <boost/mpl/list.hpp>

#include <cstdint>

using namespace std::string_literals;
#include <string>
#include <vector>

using coil::basic::Int16StringReceiver;
using coil::basic::Int32StringReceiver;
using coil::basic::Int8StringReceiver;
using coil::basic::StringTooLongError;
using coil::test::StringTransport;

namespace {

using Strings = std::vector<std::string>;

template <class Base>
class Tester : public Base {
 public:
  void stringReceived(std::string_view s) override { received.emplace_back(s); }
  void lengthLimitExceeded(std::uint64_t length) override {
    exceeded.push_back(length);
    if (callBase) Base::lengthLimitExceeded(length);
  }
  Strings received;
  std::vector<std::uint64_t> exceeded;
  bool callBase = true;
};

template <class Base>
struct Connected {
  StringTransport transport;
  Tester<Base> proto;
  Connected() { proto.makeConnection(transport); }
};

// Big-endian prefix of `n` in `width` bytes (struct.pack("!I"/"!H"/"!B")).
std::string pack(std::uint64_t n, std::size_t width) {
  std::string out(width, '\0');
  for (std::size_t i = 0; i < width; ++i)
    out[width - 1 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

using Receivers = boost::mpl::list<Int32StringReceiver, Int16StringReceiver, Int8StringReceiver>;

}  // namespace

BOOST_AUTO_TEST_SUITE(IntNStringReceiverTests)

BOOST_AUTO_TEST_CASE_TEMPLATE(receiveByteByByte, R, Receivers) {
  // test_receive.
  Connected<R> c;
  const Strings strings = {"a", std::string(16, 'b'), ""};
  for (const auto& s : strings)
    for (const auto& b : coil::test::packets(pack(s.size(), c.proto.prefixLength()) + s, 1))
      c.proto.dataReceived(b);
  BOOST_TEST(c.proto.received == strings);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(everySplit, R, Receivers) {
  const std::size_t w = Tester<R>().prefixLength();
  const std::string data =
      pack(3, w) + "abc" + pack(0, w) + pack(5, w) + "\x00\x01\xff\n:"s + pack(1, w) + "z";
  coil::test::forEveryChunking(data, [&](const auto& chunks, const std::string& how) {
    Connected<R> c;
    for (const auto& p : chunks) c.proto.dataReceived(p);
    BOOST_TEST(c.proto.received == (Strings{"abc", "", "\x00\x01\xff\n:"s, "z"}), how);
  });
}

BOOST_AUTO_TEST_CASE_TEMPLATE(partialDeliversNothing, R, Receivers) {
  // test_partial: a prefix promising more than arrives delivers nothing.
  const std::size_t w = Tester<R>().prefixLength();
  for (const std::string& s :
       {pack(8, w).substr(0, w - 1), pack(8, w) + "dzadz", std::string(), pack(200, w) + "x"}) {
    Connected<R> c;
    for (const auto& b : coil::test::packets(s, 1)) c.proto.dataReceived(b);
    BOOST_TEST(c.proto.received.empty());
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(data, R, Receivers) {
  // test_data.
  Connected<R> c;
  c.proto.dataReceived(pack(4, c.proto.prefixLength()) + "abcd");
  BOOST_TEST(c.proto.received == (Strings{"abcd"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(send, R, Receivers) {
  // test_send.
  Connected<R> c;
  c.proto.sendString(std::string(16, 'b'));
  BOOST_TEST(c.transport.value() == pack(16, c.proto.prefixLength()) + std::string(16, 'b'));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(lengthLimitExceeded, R, Receivers) {
  // test_lengthLimitExceeded / test_longStringNotDelivered.
  Connected<R> c;
  c.proto.MAX_LENGTH = 10;
  c.proto.dataReceived(pack(11, c.proto.prefixLength()));
  BOOST_TEST(c.proto.exceeded == (std::vector<std::uint64_t>{11}));
  BOOST_TEST(c.transport.disconnecting());
  Connected<R> d;
  d.proto.MAX_LENGTH = 10;
  d.proto.callBase = false;
  d.proto.dataReceived(pack(11, d.proto.prefixLength()) + std::string(11, 'x'));
  BOOST_TEST(d.proto.received.empty());
  BOOST_TEST(!d.transport.disconnecting());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(exactlyMaxLengthIsDelivered, R, Receivers) {
  Connected<R> c;
  c.proto.MAX_LENGTH = 10;
  c.proto.dataReceived(pack(10, c.proto.prefixLength()) + std::string(10, 'x'));
  BOOST_TEST(c.proto.received.size() == 1u);
  BOOST_TEST(c.proto.exceeded.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(stringsBeforeTheOversizedPrefixAreDelivered, R, Receivers) {
  Connected<R> c;
  c.proto.MAX_LENGTH = 5;
  const std::size_t w = c.proto.prefixLength();
  c.proto.dataReceived(pack(1, w) + "a" + pack(6, w) + "bbbbbb" + pack(1, w) + "c");
  BOOST_TEST(c.proto.received == (Strings{"a"}));
  BOOST_TEST(c.proto.exceeded == (std::vector<std::uint64_t>{6}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pauseAndResume, R, Receivers) {
  struct Pauser : Tester<R> {
    void stringReceived(std::string_view s) override {
      Tester<R>::stringReceived(s);
      if (s == "p") this->pauseProducing();
    }
  } p;
  StringTransport t;
  p.makeConnection(t);
  const std::size_t w = p.prefixLength();
  p.dataReceived(pack(1, w) + "p" + pack(1, w) + "x");
  BOOST_TEST(p.received == (Strings{"p"}));
  BOOST_TEST(p.paused());
  BOOST_TEST((t.producerState() == StringTransport::ProducerState::paused));
  p.resumeProducing();
  BOOST_TEST(p.received == (Strings{"p", "x"}));
  p.stopProducing();
  BOOST_TEST((t.producerState() == StringTransport::ProducerState::stopped));
}

COIL_TEST_CASE(defaults) {
  BOOST_TEST(Tester<Int32StringReceiver>().MAX_LENGTH == 99999u);
  BOOST_TEST(Tester<Int32StringReceiver>().prefixLength() == 4u);
  BOOST_TEST(Tester<Int16StringReceiver>().prefixLength() == 2u);
  BOOST_TEST(Tester<Int8StringReceiver>().prefixLength() == 1u);
}

COIL_TEST_CASE(illegalInt32LengthLosesConnection) {
  // test_illegal (Int32): 0x10000000 > MAX_LENGTH.
  Connected<Int32StringReceiver> c;
  c.proto.dataReceived("\x10\x00\x00\x00"s + "aaaaaa");
  BOOST_TEST(c.transport.disconnecting());
  BOOST_TEST(c.proto.received.empty());
}

COIL_TEST_CASE(tooLongSend) {
  // test_tooLongSend: 2^(8 * prefixLength) bytes or more throws; one less is sent.
  Connected<Int8StringReceiver> c8;
  BOOST_CHECK_THROW(c8.proto.sendString(std::string(256, 'b')), StringTooLongError);
  BOOST_TEST(c8.transport.value().empty());
  c8.proto.sendString(std::string(255, 'b'));
  BOOST_TEST(c8.transport.value().size() == 256u);
  Connected<Int16StringReceiver> c16;
  BOOST_CHECK_THROW(c16.proto.sendString(std::string(65537, 'b')), StringTooLongError);
  BOOST_CHECK_THROW(c16.proto.sendString(std::string(65536, 'b')), StringTooLongError);
  try {
    c8.proto.sendString(std::string(300, 'b'));
  } catch (const StringTooLongError& e) {
    BOOST_TEST(std::string(e.what()).find("Try to send 300 bytes whereas maximum is 256") !=
               std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
