// Tests for coil::ReconnectingClientFactory (port of test_factories.py ReconnectingFactoryTests
// plus spec §10's defaults and formula), driven by task::Clock and FakeConnector.
// Tests: core/Protocol.hpp
#include <coil/core/Errors.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/task/Clock.hpp>

#include <test/support/FakeConnector.hpp>
#include <test/support/StringTransport.hpp>
#include <test/support/Testing.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

using namespace coil;
using coil::test::FakeConnector;
using coil::test::LogCapture;
using coil::test::StringTransport;
namespace bdata = boost::unit_test::data;

namespace {

constexpr double kE = 2.7182818284590451;

std::shared_ptr<ReconnectingClientFactory> makeFactory(task::Clock& clock, bool jitter = false) {
  auto f = std::make_shared<ReconnectingClientFactory>(clock);
  f->noisy = false;
  if (!jitter) f->jitter = 0.0;
  f->seed(12345);
  return f;
}

/// The delay of the single pending call, relative to now.
double pendingDelay(task::Clock& clock) {
  auto calls = clock.getDelayedCalls();
  BOOST_REQUIRE_EQUAL(calls.size(), 1u);
  return calls[0]->getTime() - clock.seconds();
}

/// Resets the delay whenever a connection succeeds, as Twisted's docs recommend.
class ResettingFactory : public ReconnectingClientFactory {
 public:
  using ReconnectingClientFactory::ReconnectingClientFactory;
  std::shared_ptr<IProtocol> buildProtocol(const Address& addr) override {
    resetDelay();
    return ReconnectingClientFactory::buildProtocol(addr);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ReconnectingClientFactoryTests)

COIL_TEST_CASE(defaultsAreTwisteds) {
  task::Clock clock;
  ReconnectingClientFactory f(clock);
  BOOST_TEST(f.maxDelay == 3600.0);
  BOOST_TEST(f.initialDelay == 1.0);
  BOOST_TEST(f.factor == 2.7182818284590451);
  BOOST_TEST(f.jitter == 0.119626565582);
  BOOST_TEST(!f.maxRetries.has_value());
  BOOST_TEST(f.delay == 1.0);
  BOOST_TEST(f.retries == 0);
  BOOST_TEST(f.continueTrying);
  BOOST_TEST(f.callID() == nullptr);
  BOOST_TEST(f.connector() == nullptr);
  BOOST_TEST(&f.clock() == &clock);
}

COIL_TEST_CASE(firstRetryIsEulerNotInitialDelay) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  BOOST_TEST(std::abs(pendingDelay(clock) - kE) < 1e-12);
  BOOST_TEST(f->retries == 1);
  BOOST_TEST(f->connector() == c);
}

COIL_TEST_CASE(firstRetryWithJitterIsNear272) {
  task::Clock clock;
  auto f = makeFactory(clock, true);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  double d = pendingDelay(clock);
  BOOST_TEST(d > kE * (1 - 5 * f->jitter));
  BOOST_TEST(d < kE * (1 + 5 * f->jitter));
  BOOST_TEST(d != kE);
}

COIL_TEST_CASE(retryConnectsWhenTheDelayElapses) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  clock.advance(kE - 0.01);
  BOOST_TEST(c->connectCalls == 1);
  clock.advance(0.02);
  BOOST_TEST(c->connectCalls == 2);
  BOOST_TEST(f->callID() == nullptr);
  BOOST_TEST(f->numPorts() == 1);  // stopped after the failure, started again by the retry
  BOOST_TEST((c->state() == FakeConnector::State::connecting));
}

COIL_TEST_CASE(delaysGrowByTheFactorUpToMaxDelay) {
  task::Clock clock;
  auto f = makeFactory(clock);
  f->maxDelay = 100.0;
  auto c = std::make_shared<FakeConnector>(f);
  std::vector<double> delays;
  c->connect();
  for (int i = 0; i < 8; ++i) {
    c->refuse();
    delays.push_back(pendingDelay(clock));
    clock.advance(delays.back());
  }
  double expected = 1.0;
  for (double d : delays) {
    expected = std::min(expected * kE, 100.0);
    BOOST_TEST(std::abs(d - expected) < 1e-9);
  }
  BOOST_TEST(delays.back() == 100.0);
  BOOST_TEST(c->connectCalls == 9);
}

COIL_TEST_CASE(jitterFollowsTheSeededNormalDistribution) {
  task::Clock clock;
  auto f = makeFactory(clock, true);
  auto c = std::make_shared<FakeConnector>(f);
  std::mt19937 reference(12345);
  double delay = 1.0;
  c->connect();
  for (int i = 0; i < 6; ++i) {
    c->refuse();
    double mean = std::min(delay * kE, 3600.0);
    std::normal_distribution<double> normal(mean, mean * f->jitter);
    double expected = normal(reference);
    double got = pendingDelay(clock);
    BOOST_TEST(std::abs(got - expected) < 1e-9 * expected);
    BOOST_TEST(std::abs(got - mean) < 6 * mean * f->jitter);  // within 6 sigma
    delay = f->delay;
    BOOST_TEST(std::abs(delay - got) < 1e-9 * got);
    clock.advance(got);
  }
}

COIL_TEST_CASE(sameSeedGivesSameDelays) {
  task::Clock clock1, clock2;
  auto f1 = makeFactory(clock1, true);
  auto f2 = makeFactory(clock2, true);
  auto c1 = std::make_shared<FakeConnector>(f1);
  auto c2 = std::make_shared<FakeConnector>(f2);
  c1->connect();
  c2->connect();
  for (int i = 0; i < 4; ++i) {
    c1->refuse();
    c2->refuse();
    double d1 = pendingDelay(clock1);
    BOOST_TEST(d1 == pendingDelay(clock2));
    clock1.advance(d1);
    clock2.advance(d1);
  }
}

COIL_TEST_CASE(jitteredDelayMayExceedMaxDelay) {
  task::Clock clock;
  auto f = makeFactory(clock, true);
  f->maxDelay = 10.0;
  f->delay = 10.0;
  auto c = std::make_shared<FakeConnector>(f);
  bool above = false;
  bool below = false;
  for (int i = 0; i < 40; ++i) {
    f->delay = 10.0;
    f->retry(c.get());
    double d = pendingDelay(clock);
    above = above || d > 10.0;
    below = below || d < 10.0;
    f->callID()->cancel();
  }
  BOOST_TEST(above);
  BOOST_TEST(below);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(maxRetriesGivesExactlyThatManyRetries, bdata::make({0, 1, 2, 5, 10}), n) {
  task::Clock clock;
  auto f = makeFactory(clock, true);
  f->maxRetries = n;
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  for (int i = 0; i < n + 5; ++i) {
    if (c->state() == FakeConnector::State::connecting) c->refuse();
    clock.advance(10000.0);
  }
  BOOST_TEST(c->connectCalls == 1 + n);
  BOOST_TEST(clock.getDelayedCalls().empty());
  BOOST_TEST(f->numPorts() == 0);
}

BOOST_TEST_DECORATOR(*boost::unit_test::timeout(COIL_TEST_TIMEOUT))
BOOST_DATA_TEST_CASE(delayAfterNRetriesIsFactorToTheN, bdata::make({1, 2, 3, 8, 9, 12}), n) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  for (int i = 1; i <= n; ++i) {
    f->retry(c.get());
    double expected = std::min(std::pow(kE, i), 3600.0);
    BOOST_TEST(std::abs(pendingDelay(clock) - expected) < 1e-9 * expected);
    f->callID()->cancel();
  }
  BOOST_TEST(f->retries == n);
  double expected = std::min(std::pow(kE, n), 3600.0);
  BOOST_TEST(std::abs(f->delay - expected) < 1e-9 * expected);
}

COIL_TEST_CASE(stopTryingCancelsThePendingRetry) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  auto pending = f->callID();
  BOOST_REQUIRE(pending);
  f->stopTrying();
  BOOST_TEST(!pending->active());
  BOOST_TEST(f->callID() == nullptr);
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(10000.0);
  BOOST_TEST(c->connectCalls == 1);
  BOOST_TEST(!f->continueTrying);
}

COIL_TEST_CASE(stopTryingWhileConnectingStopsTheConnector) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  clock.advance(kE);  // the retry is now connecting
  BOOST_REQUIRE((c->state() == FakeConnector::State::connecting));
  f->stopTrying();
  BOOST_TEST(c->stopConnectingCalls == 1);
  BOOST_TEST((c->state() == FakeConnector::State::disconnected));
  BOOST_TEST(clock.getDelayedCalls().empty());  // the UserError failure did not retry
  BOOST_TEST(f->numPorts() == 0);
}

COIL_TEST_CASE(stopTryingIgnoresNotConnectingError) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  BOOST_REQUIRE((c->state() == FakeConnector::State::disconnected));
  BOOST_CHECK_NO_THROW(f->stopTrying());
  BOOST_TEST(c->stopConnectingCalls == 0);
}

COIL_TEST_CASE(stopTryingWithoutConnectorIsSafe) {
  task::Clock clock;
  auto f = makeFactory(clock);
  BOOST_CHECK_NO_THROW(f->stopTrying());
  BOOST_TEST(!f->continueTrying);
}

COIL_TEST_CASE(stopTryingWhenConnectedPreventsReconnectAfterLoss) {
  task::Clock clock;
  auto f = makeFactory(clock);
  f->protocol = [] { return std::make_shared<Protocol>(); };
  auto c = std::make_shared<FakeConnector>(f);
  StringTransport t;
  c->connect();
  c->connectionMade(t);
  f->stopTrying();
  c->connectionLost(Failure(error::ConnectionDone()));
  BOOST_TEST(clock.getDelayedCalls().empty());
  BOOST_TEST(c->connectCalls == 1);
}

COIL_TEST_CASE(stopTryingThenFailureDoesNotReconnect) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  f->stopTrying();
  f->clientConnectionFailed(*c, Failure(error::ConnectionRefusedError()));
  BOOST_TEST(clock.getDelayedCalls().empty());
  BOOST_TEST(f->retries == 0);
}

COIL_TEST_CASE(retryAfterStopTryingLogsAndDoesNothing) {
  LogCapture capture;
  task::Clock clock;
  auto f = makeFactory(clock);
  f->noisy = true;
  auto c = std::make_shared<FakeConnector>(f);
  f->stopTrying();
  f->retry(c.get());
  BOOST_TEST(clock.getDelayedCalls().empty());
  BOOST_TEST(capture.count("Abandoning") == 1u);
}

COIL_TEST_CASE(retryWithoutAnyConnectorThrows) {
  task::Clock clock;
  auto f = makeFactory(clock);
  BOOST_CHECK_THROW(f->retry(), std::invalid_argument);
  BOOST_TEST(f->retries == 0);
}

COIL_TEST_CASE(retryWithoutArgumentUsesTheRememberedConnector) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  f->callID()->cancel();
  f->retry();
  clock.advance(1000.0);
  BOOST_TEST(c->connectCalls == 2);
}

COIL_TEST_CASE(resetDelayRestoresTheInitialState) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  f->continueTrying = false;
  f->resetDelay();
  BOOST_TEST(f->delay == f->initialDelay);
  BOOST_TEST(f->retries == 0);
  BOOST_TEST(f->continueTrying);
  BOOST_TEST(f->callID() == nullptr);
  BOOST_TEST(clock.getDelayedCalls().size() == 1u);  // like Twisted, the scheduled retry stays
}

COIL_TEST_CASE(resetDelayOnSuccessRestartsBackoff) {
  task::Clock clock;
  auto f = std::make_shared<ResettingFactory>(clock);
  f->noisy = false;
  f->jitter = 0.0;
  f->protocol = [] { return std::make_shared<Protocol>(); };
  auto c = std::make_shared<FakeConnector>(f);
  StringTransport t;
  c->connect();
  for (int i = 0; i < 3; ++i) {
    c->refuse();
    clock.advance(pendingDelay(clock));
  }
  BOOST_TEST(f->retries == 3);
  c->connectionMade(t);
  BOOST_TEST(f->retries == 0);
  c->connectionLost(Failure(error::ConnectionLost()));
  BOOST_TEST(std::abs(pendingDelay(clock) - kE) < 1e-12);
}

COIL_TEST_CASE(withoutResetDelayKeepsGrowingAcrossSuccess) {
  task::Clock clock;
  auto f = makeFactory(clock);
  f->protocol = [] { return std::make_shared<Protocol>(); };
  auto c = std::make_shared<FakeConnector>(f);
  StringTransport t;
  c->connect();
  c->refuse();
  clock.advance(pendingDelay(clock));
  c->connectionMade(t);
  c->connectionLost(Failure(error::ConnectionLost()));
  BOOST_TEST(std::abs(pendingDelay(clock) - kE * kE) < 1e-9);
}

COIL_TEST_CASE(copyResetsTransientStateLikeUnpickling) {
  task::Clock clock;
  auto f = makeFactory(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->connect();
  c->refuse();
  f->continueTrying = false;
  ReconnectingClientFactory copy(*f);
  BOOST_TEST(copy.connector() == nullptr);
  BOOST_TEST(copy.callID() == nullptr);
  BOOST_TEST(copy.retries == 0);
  BOOST_TEST(copy.delay == f->initialDelay);
  BOOST_TEST(copy.continueTrying);
  BOOST_TEST(copy.numPorts() == 0);
  f->stopTrying();
}

COIL_TEST_CASE(copyKeepsConfiguration) {
  task::Clock clock;
  ReconnectingClientFactory f(clock);
  f.maxDelay = 5;
  f.initialDelay = 0.5;
  f.factor = 2;
  f.jitter = 0;
  f.maxRetries = 3;
  f.noisy = false;
  ReconnectingClientFactory copy(f);
  BOOST_TEST(copy.maxDelay == 5.0);
  BOOST_TEST(copy.initialDelay == 0.5);
  BOOST_TEST(copy.delay == 0.5);
  BOOST_TEST(copy.factor == 2.0);
  BOOST_TEST(copy.jitter == 0.0);
  BOOST_TEST((copy.maxRetries == 3));
  BOOST_TEST(!copy.noisy);
  BOOST_TEST(&copy.clock() == &clock);
}

COIL_TEST_CASE(retriesAreScheduledOnTheGivenClock) {
  task::Clock used, unused;
  auto f = makeFactory(used);
  auto c = std::make_shared<FakeConnector>(f);
  f->retry(c.get());
  BOOST_TEST(used.getDelayedCalls().size() == 1u);
  BOOST_TEST(unused.getDelayedCalls().empty());
}

COIL_TEST_CASE(destroyingTheFactoryCancelsThePendingRetry) {
  task::Clock clock;
  auto target = std::make_shared<FakeConnector>(ClientFactory::forProtocol<Protocol>());
  target->factory()->noisy = false;
  {
    ReconnectingClientFactory f(clock);
    f.noisy = false;
    f.retry(target.get());
    BOOST_TEST(clock.getDelayedCalls().size() == 1u);
  }
  BOOST_TEST(clock.getDelayedCalls().empty());
  clock.advance(10000.0);
  BOOST_TEST(target->connectCalls == 0);
}

COIL_TEST_CASE(pendingRetryKeepsTheConnectorAlive) {
  task::Clock clock;
  auto f = makeFactory(clock);
  std::weak_ptr<FakeConnector> weak;
  {
    auto c = std::make_shared<FakeConnector>(f);
    weak = c;
    c->connect();
    c->refuse();
  }
  BOOST_TEST(!weak.expired());
  clock.advance(kE);
  f->stopTrying();  // stops the attempt the retry started
  clock.advance(10000.0);
  BOOST_TEST(weak.expired());  // nothing holds it once the retry ran and nothing is pending
}

COIL_TEST_CASE(noisyRetryLogsTheDelay) {
  LogCapture capture;
  task::Clock clock;
  auto f = makeFactory(clock);
  f->noisy = true;
  auto c = std::make_shared<FakeConnector>(f);
  f->retry(c.get());
  BOOST_TEST(capture.count("will retry in 2 seconds") == 1u);
  f->maxRetries = 1;
  f->retry(c.get());
  BOOST_TEST(capture.count("after 1 retries") == 1u);
  f->stopTrying();
}

BOOST_AUTO_TEST_SUITE_END()
