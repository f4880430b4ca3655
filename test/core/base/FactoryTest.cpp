// Tests for coil::Factory, ServerFactory and ClientFactory (port of test_protocol.py's factory
// tests). Tests: core/Protocol.hpp
#include <coil/core/Errors.hpp>
#include <coil/core/Protocol.hpp>

#include <test/support/FakeConnector.hpp>
#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace coil;
using coil::test::FakeConnector;
using coil::test::LogCapture;
using coil::test::StringTransport;

namespace {

class CountingFactory : public Factory {
 public:
  void startFactory() override { ++starts; }
  void stopFactory() override { ++stops; }
  int starts = 0;
  int stops = 0;
};

class WithArgs : public Protocol {
 public:
  WithArgs(std::string name, int number) : name(std::move(name)), number(number) {}
  std::string name;
  int number;
};

/// Records the connector callbacks; optionally reconnects from inside them.
class RecordingClientFactory : public ClientFactory {
 public:
  void startFactory() override { events.push_back("start"); }
  void stopFactory() override { events.push_back("stop"); }
  void startedConnecting(IConnector& c) override {
    events.push_back("started");
    lastConnector = &c;
  }
  void clientConnectionFailed(IConnector& c, const Failure& reason) override {
    events.push_back("failed:" + reason.typeName());
    if (reconnects > 0) {
      --reconnects;
      c.connect();
    }
  }
  void clientConnectionLost(IConnector& c, const Failure& reason) override {
    events.push_back("lost:" + reason.typeName());
    if (reconnects > 0) {
      --reconnects;
      c.connect();
    }
  }
  std::vector<std::string> events;
  IConnector* lastConnector = nullptr;
  int reconnects = 0;
};

class LossRecorder : public Protocol {
 public:
  explicit LossRecorder(std::vector<std::string>* log) : log(log) {}
  void connectionLost(const Failure&) override { log->push_back("protocol-lost"); }
  std::vector<std::string>* log;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(FactoryBase)

COIL_TEST_CASE(doStartCallsStartFactoryOnlyForTheFirstPort) {
  CountingFactory f;
  f.noisy = false;
  f.doStart();
  f.doStart();
  f.doStart();
  BOOST_TEST(f.starts == 1);
  BOOST_TEST(f.numPorts() == 3);
}

COIL_TEST_CASE(doStopCallsStopFactoryWhenTheLastPortStops) {
  CountingFactory f;
  f.noisy = false;
  f.doStart();
  f.doStart();
  f.doStop();
  BOOST_TEST(f.stops == 0);
  f.doStop();
  BOOST_TEST(f.stops == 1);
  BOOST_TEST(f.numPorts() == 0);
}

COIL_TEST_CASE(doStopAtZeroIsANoOp) {
  CountingFactory f;
  f.noisy = false;
  f.doStop();
  BOOST_TEST(f.stops == 0);
  BOOST_TEST(f.numPorts() == 0);
  f.doStart();
  f.doStop();
  f.doStop();
  BOOST_TEST(f.starts == 1);
  BOOST_TEST(f.stops == 1);
}

COIL_TEST_CASE(restartAfterFullStopStartsAgain) {
  CountingFactory f;
  f.noisy = false;
  f.doStart();
  f.doStop();
  f.doStart();
  BOOST_TEST(f.starts == 2);
  BOOST_TEST(f.stops == 1);
}

COIL_TEST_CASE(noisyFactoryLogsStartAndStop) {
  LogCapture capture;
  CountingFactory f;
  f.doStart();
  f.doStart();
  f.doStop();
  f.doStop();
  BOOST_TEST(capture.count("Starting factory") == 1u);
  BOOST_TEST(capture.count("Stopping factory") == 1u);
}

COIL_TEST_CASE(quietFactoryDoesNotLog) {
  LogCapture capture;
  CountingFactory f;
  f.noisy = false;
  f.doStart();
  f.doStop();
  BOOST_TEST(capture.count("factory") == 0u);
}

COIL_TEST_CASE(forProtocolBuildsThatProtocolWithArguments) {
  auto f = Factory::forProtocol<WithArgs>(std::string("alice"), 7);
  auto p = f->buildProtocol(IPv4Address{"TCP", "127.0.0.1", 1});
  auto* w = dynamic_cast<WithArgs*>(p.get());
  BOOST_REQUIRE(w != nullptr);
  BOOST_TEST(w->name == "alice");
  BOOST_TEST(w->number == 7);
  auto second = f->buildProtocol(IPv4Address{});
  BOOST_TEST(second.get() != p.get());  // a fresh protocol per connection
}

COIL_TEST_CASE(forProtocolKeepsTheFactoryType) {
  std::shared_ptr<ServerFactory> s = ServerFactory::forProtocol<Protocol>();
  std::shared_ptr<ClientFactory> c = ClientFactory::forProtocol<Protocol>();
  BOOST_TEST(s->buildProtocol(IPv4Address{}) != nullptr);
  BOOST_TEST(c->buildProtocol(IPv4Address{}) != nullptr);
}

COIL_TEST_CASE(buildProtocolSetsTheFactoryBackReference) {
  auto f = ClientFactory::forProtocol<Protocol>();
  auto p = std::dynamic_pointer_cast<Protocol>(f->buildProtocol(IPv4Address{}));
  BOOST_REQUIRE(p);
  BOOST_TEST(p->factory.lock() == f);
  BOOST_TEST(p->factoryAs<ClientFactory>() == f);
  BOOST_TEST(p->factoryAs<ServerFactory>() == nullptr);
}

COIL_TEST_CASE(protocolsDoNotKeepTheirFactoryAlive) {
  auto f = Factory::forProtocol<Protocol>();
  auto p = std::dynamic_pointer_cast<Protocol>(f->buildProtocol(IPv4Address{}));
  std::weak_ptr<Factory> weak = f;
  f.reset();
  BOOST_TEST(weak.expired());
  BOOST_TEST(p->factoryAs<Factory>() == nullptr);
}

COIL_TEST_CASE(factoryWithoutProtocolRefusesConnections) {
  Factory f;
  BOOST_TEST(f.buildProtocol(IPv4Address{}) == nullptr);
}

COIL_TEST_CASE(buildProtocolOnAStackFactoryLeavesNoBackReference) {
  Factory f;
  f.protocol = [] { return std::make_shared<Protocol>(); };
  auto p = std::dynamic_pointer_cast<Protocol>(f.buildProtocol(IPv4Address{}));
  BOOST_REQUIRE(p);
  BOOST_TEST(p->factory.expired());
}

COIL_TEST_CASE(buildProtocolAcceptsNonProtocolIProtocols) {
  struct Bare : IProtocol {
    void makeConnection(ITransport&) override {}
    void connectionMade() override {}
    void dataReceived(std::string_view) override {}
    void connectionLost(const Failure&) override {}
  };
  auto f = std::make_shared<Factory>();
  f->protocol = [] { return std::make_shared<Bare>(); };
  BOOST_TEST(f->buildProtocol(IPv4Address{}) != nullptr);
}

COIL_TEST_CASE(copiedFactoryKeepsConfigurationButNotPortCount) {
  Factory f;
  f.noisy = false;
  f.protocol = [] { return std::make_shared<Protocol>(); };
  f.doStart();
  Factory copy(f);
  BOOST_TEST(copy.numPorts() == 0);
  BOOST_TEST(!copy.noisy);
  BOOST_TEST(copy.buildProtocol(IPv4Address{}) != nullptr);
}

// ---- ClientFactory with a connector ----

COIL_TEST_CASE(connectorStartsTheFactoryAndReportsStartedConnecting) {
  auto f = std::make_shared<RecordingClientFactory>();
  f->noisy = false;
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  BOOST_TEST(f->numPorts() == 1);
  BOOST_TEST((f->events == std::vector<std::string>{"start", "started"}));
  BOOST_TEST(f->lastConnector == c.get());
}

COIL_TEST_CASE(failedAttemptStopsTheFactoryWhenNotReconnecting) {
  auto f = std::make_shared<RecordingClientFactory>();
  f->noisy = false;
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  BOOST_TEST(f->events.back() == "stop");
  BOOST_TEST(f->events[2].find("failed:") == 0u);
  BOOST_TEST(f->numPorts() == 0);
}

COIL_TEST_CASE(reconnectingInsideClientConnectionFailedWorks) {
  auto f = std::make_shared<RecordingClientFactory>();
  f->noisy = false;
  f->reconnects = 1;
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  BOOST_TEST(c->connectCalls == 2);
  BOOST_TEST((c->state() == FakeConnector::State::connecting));
  BOOST_TEST(f->numPorts() == 1);  // doStart once per cycle, no doStop in between
  BOOST_TEST((f->events.size() == 4u && f->events[3] == "started"));
}

COIL_TEST_CASE(reconnectingInsideClientConnectionLostWorks) {
  auto f = std::make_shared<RecordingClientFactory>();
  f->noisy = false;
  std::vector<std::string> order;
  f->protocol = [&order] { return std::make_shared<LossRecorder>(&order); };
  f->reconnects = 1;
  auto c = std::make_shared<FakeConnector>(f);
  StringTransport t;
  c->connect();
  BOOST_REQUIRE(c->connectionMade(t) != nullptr);
  c->connectionLost(Failure(error::ConnectionLost()));
  BOOST_TEST(order.size() == 1u);  // the protocol heard first
  BOOST_TEST(c->connectCalls == 2);
  BOOST_TEST(f->numPorts() == 1);
  BOOST_TEST(f->events[2].find("lost:") == 0u);
}

COIL_TEST_CASE(stopConnectingFailsTheAttemptWithUserError) {
  auto f = std::make_shared<RecordingClientFactory>();
  f->noisy = false;
  auto c = std::make_shared<FakeConnector>(f);
  BOOST_CHECK_THROW(c->stopConnecting(), error::NotConnectingError);
  c->connect();
  c->stopConnecting();
  BOOST_TEST(f->events[2] == "failed:" + Failure(error::UserError()).typeName());
}

BOOST_AUTO_TEST_SUITE_END()
