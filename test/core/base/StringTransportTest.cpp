// Tests for the StringTransport test fake (Twisted's internet/testing.StringTransport).
// Tests: test/support/StringTransport.hpp
#include <coil/core/Errors.hpp>
#include <coil/core/Protocol.hpp>

#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

using namespace coil;
using coil::test::StringTransport;
using State = StringTransport::ProducerState;

namespace {

class CountingProducer : public IProducer {
 public:
  void pauseProducing() override { ++pauses; }
  void resumeProducing() override { ++resumes; }
  void stopProducing() override { ++stops; }
  int pauses = 0;
  int resumes = 0;
  int stops = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(StringTransportTests)

COIL_TEST_CASE(writeAccumulatesAndClearEmpties) {
  StringTransport t;
  t.write("abc");
  t.write("");
  t.write(std::string_view("d\0e", 3));
  BOOST_TEST(t.value() == std::string("abcd\0e", 6));
  t.clear();
  BOOST_TEST(t.value().empty());
  t.write("x");
  BOOST_TEST(t.value() == "x");
}

COIL_TEST_CASE(writeSequenceAppendsEveryPieceInOrder) {
  StringTransport t;
  std::array<std::string_view, 3> pieces{"a", "bc", "def"};
  t.writeSequence(pieces);
  BOOST_TEST(t.value() == "abcdef");
  ITransport& base = t;
  base.writeSequence(std::span<const std::string_view>(pieces.data(), 1));
  BOOST_TEST(t.value() == "abcdefa");
}

COIL_TEST_CASE(writeCopiesTheBytes) {
  StringTransport t;
  std::string data = "hello";
  t.write(data);
  data[0] = 'J';
  BOOST_TEST(t.value() == "hello");
}

COIL_TEST_CASE(loseConnectionOnlyRecords) {
  StringTransport t;
  BOOST_TEST(!t.disconnecting());
  t.loseConnection();
  BOOST_TEST(t.disconnecting());
  BOOST_TEST(!t.aborted());
  BOOST_TEST(t.loseConnectionCalls() == 1);
  t.write("late");  // like Twisted's fake, still recorded
  BOOST_TEST(t.value() == "late");
}

COIL_TEST_CASE(abortConnectionRecordsAbortedAndDisconnecting) {
  StringTransport t;
  t.abortConnection();
  t.abortConnection();
  BOOST_TEST(t.aborted());
  BOOST_TEST(t.disconnecting());
  BOOST_TEST(t.abortConnectionCalls() == 2);
  BOOST_TEST(t.loseConnectionCalls() == 0);
}

COIL_TEST_CASE(defaultAddressesAreTwisteds) {
  StringTransport t;
  BOOST_TEST((t.getHost() == Address(IPv4Address{"TCP", "10.0.0.1", 12345})));
  BOOST_TEST((t.getPeer() == Address(IPv4Address{"TCP", "192.168.1.1", 54321})));
}

COIL_TEST_CASE(addressesAreConfigurable) {
  StringTransport t(UNIXAddress{"/tmp/a"}, UNIXAddress{"/tmp/b"});
  BOOST_TEST((t.getHost() == Address(UNIXAddress{"/tmp/a"})));
  BOOST_TEST((t.getPeer() == Address(UNIXAddress{"/tmp/b"})));
  t.setPeer(IPv6Address{"TCP", "::1", 1, 0, 0});
  t.setHost(HostnameAddress{"h", 2});
  BOOST_TEST((t.getPeer() == Address(IPv6Address{"TCP", "::1", 1, 0, 0})));
  BOOST_TEST((t.getHost() == Address(HostnameAddress{"h", 2})));
}

COIL_TEST_CASE(registerProducerRecordsItAndItsKind) {
  StringTransport t;
  auto p = std::make_shared<CountingProducer>();
  BOOST_TEST(!t.streaming().has_value());
  t.registerProducer(p, true);
  BOOST_TEST(t.producer() == p);
  BOOST_TEST((t.streaming() == true));
  BOOST_TEST(p->resumes == 0);
  t.unregisterProducer();
  BOOST_TEST(t.producer() == nullptr);
  BOOST_TEST(!t.streaming().has_value());
  t.registerProducer(p, false);
  BOOST_TEST((t.streaming() == false));
}

COIL_TEST_CASE(registeringTwoProducersThrows) {
  StringTransport t;
  t.registerProducer(std::make_shared<CountingProducer>(), true);
  BOOST_CHECK_THROW(t.registerProducer(std::make_shared<CountingProducer>(), false),
                    std::logic_error);
}

COIL_TEST_CASE(unregisterWithoutProducerThrows) {
  StringTransport t;
  BOOST_CHECK_THROW(t.unregisterProducer(), std::logic_error);
}

COIL_TEST_CASE(pushProducerPausedAboveBufferSizeAndResumedOnDrain) {
  StringTransport t;
  auto p = std::make_shared<CountingProducer>();
  t.registerProducer(p, true);
  t.write(std::string(65536, 'x'));
  t.applyBackpressure();
  BOOST_TEST(p->pauses == 0);  // at the threshold, not above it
  t.write("y");
  t.applyBackpressure();
  t.applyBackpressure();
  BOOST_TEST(p->pauses == 1);
  BOOST_TEST(t.producerPaused());
  BOOST_TEST(t.pendingBytes() == 65537u);
  t.drain();
  BOOST_TEST(p->resumes == 1);
  BOOST_TEST(!t.producerPaused());
  BOOST_TEST(t.pendingBytes() == 0u);
  BOOST_TEST(t.value().size() == 65537u);  // draining does not forget what was written
  t.drain();
  BOOST_TEST(p->resumes == 1);  // resumed only if it was paused
}

COIL_TEST_CASE(bufferSizeIsAdjustable) {
  StringTransport t;
  BOOST_TEST(t.bufferSize == 65536u);
  t.bufferSize = 4;
  auto p = std::make_shared<CountingProducer>();
  t.registerProducer(p, true);
  t.write("12345");
  t.applyBackpressure();
  BOOST_TEST(p->pauses == 1);
}

COIL_TEST_CASE(pullProducerIsNeverPausedAndResumedOnEveryDrain) {
  StringTransport t;
  auto p = std::make_shared<CountingProducer>();
  t.registerProducer(p, false);
  t.write(std::string(100000, 'x'));
  t.applyBackpressure();
  BOOST_TEST(p->pauses == 0);
  t.drain();
  t.drain();
  BOOST_TEST(p->resumes == 2);
}

COIL_TEST_CASE(producerThatUnregistersWhileResumedIsSafe) {
  struct Finishing : IProducer {
    explicit Finishing(StringTransport& t) : t(t) {}
    void pauseProducing() override {}
    void resumeProducing() override { t.unregisterProducer(); }
    void stopProducing() override {}
    StringTransport& t;
  };
  StringTransport t;
  t.registerProducer(std::make_shared<Finishing>(t), false);
  t.drain();
  BOOST_TEST(t.producer() == nullptr);
}

COIL_TEST_CASE(transportReadingSideStates) {
  StringTransport t;
  BOOST_TEST((t.producerState() == State::producing));
  t.pauseProducing();
  BOOST_TEST((t.producerState() == State::paused));
  t.resumeProducing();
  BOOST_TEST((t.producerState() == State::producing));
  t.stopProducing();
  BOOST_TEST((t.producerState() == State::stopped));
  BOOST_CHECK_THROW(t.resumeProducing(), std::logic_error);
  BOOST_CHECK_THROW(t.pauseProducing(), std::logic_error);
}

COIL_TEST_CASE(cannotPauseOrResumeAfterLoseConnection) {
  StringTransport t;
  t.loseConnection();
  BOOST_CHECK_THROW(t.pauseProducing(), std::logic_error);
  BOOST_CHECK_THROW(t.resumeProducing(), std::logic_error);
}

COIL_TEST_CASE(tcpOptionsRoundTrip) {
  StringTransport t;
  ITCPTransport& tcp = t;
  BOOST_TEST(!tcp.getTcpNoDelay());
  BOOST_TEST(!tcp.getTcpKeepAlive());
  tcp.setTcpNoDelay(true);
  tcp.setTcpKeepAlive(true);
  BOOST_TEST(tcp.getTcpNoDelay());
  BOOST_TEST(tcp.getTcpKeepAlive());
  tcp.setTcpNoDelay(false);
  BOOST_TEST(!tcp.getTcpNoDelay());
}

COIL_TEST_CASE(loseWriteConnectionIsRecorded) {
  StringTransport t;
  BOOST_TEST(!t.writeDisconnected());
  t.loseWriteConnection();
  BOOST_TEST(t.writeDisconnected());
  BOOST_TEST(!t.disconnecting());
}

COIL_TEST_CASE(withDisconnectionWithoutProtocolOnlyFlips) {
  coil::test::StringTransportWithDisconnection t;
  t.loseConnection();
  BOOST_TEST(!t.connected);
  BOOST_TEST(t.disconnecting());
}

BOOST_AUTO_TEST_SUITE_END()
