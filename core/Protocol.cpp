// Protocol, Factory, ReconnectingClientFactory and datagram protocol bases (protocol.py).
// Tests: test/core/base/ProtocolTest.cpp, FactoryTest.cpp, ReconnectingClientFactoryTest.cpp

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/core/Protocol.hpp>

#include <algorithm>
#include <stdexcept>

namespace coil {

namespace {
constexpr std::string_view kSystem = "coil.protocol";
}  // namespace

// ---- Protocol ---------------------------------------------------------------------------------

void Protocol::makeConnection(ITransport& transport) {
  connected = true;
  transport_ = &transport;
  connectionMade();
}

// ---- Factory ----------------------------------------------------------------------------------

void Factory::doStart() {
  if (numPorts_ == 0) {
    if (noisy) log::info(kSystem, "Starting factory " + logPrefix());
    startFactory();
  }
  ++numPorts_;
}

void Factory::doStop() {
  if (numPorts_ == 0) return;  // already stopped
  --numPorts_;
  if (numPorts_ == 0) {
    if (noisy) log::info(kSystem, "Stopping factory " + logPrefix());
    stopFactory();
  }
}

std::shared_ptr<IProtocol> Factory::buildProtocol(const Address& /*addr*/) {
  if (!protocol) return nullptr;
  std::shared_ptr<IProtocol> p = protocol();
  if (auto* base = dynamic_cast<Protocol*>(p.get())) base->factory = weak_from_this();
  return p;
}

// ---- ReconnectingClientFactory ----------------------------------------------------------------

ReconnectingClientFactory::ReconnectingClientFactory(IReactorTime& clock)
    : clock_(&clock), rng_(std::random_device{}()) {}

ReconnectingClientFactory::ReconnectingClientFactory(const ReconnectingClientFactory& other)
    : ClientFactory(other),
      maxDelay(other.maxDelay),
      initialDelay(other.initialDelay),
      factor(other.factor),
      jitter(other.jitter),
      maxRetries(other.maxRetries),
      delay(other.initialDelay),
      clock_(other.clock_),
      rng_(other.rng_) {}

ReconnectingClientFactory::~ReconnectingClientFactory() {
  if (callID_ && callID_->active()) callID_->cancel();
}

void ReconnectingClientFactory::clientConnectionFailed(IConnector& connector,
                                                       const Failure& /*reason*/) {
  if (continueTrying) {
    connector_ = connector.weak_from_this();
    retry(&connector);
  }
}

void ReconnectingClientFactory::clientConnectionLost(IConnector& connector,
                                                     const Failure& /*reason*/) {
  if (continueTrying) {
    connector_ = connector.weak_from_this();
    retry(&connector);
  }
}

void ReconnectingClientFactory::retry(IConnector* connector) {
  if (!continueTrying) {
    if (noisy) log::info(kSystem, "Abandoning " + logPrefix() + " on explicit request");
    return;
  }
  std::shared_ptr<IConnector> target;
  if (connector) {
    target = connector->shared_from_this();  // connectors are shared_ptr-owned (IConnector)
  } else {
    target = connector_.lock();
    if (!target) throw std::invalid_argument("no connector to retry with");
  }
  ++retries;
  if (maxRetries && retries > *maxRetries) {
    if (noisy)
      log::info(kSystem, "Abandoning " + logPrefix() + " after " + std::to_string(*maxRetries) +
                             " retries.");
    return;
  }
  delay = std::min(delay * factor, maxDelay);
  if (jitter != 0.0) {
    std::normal_distribution<double> normal(delay, delay * jitter);
    delay = normal(rng_);
  }
  delay = std::max(delay, 0.0);  // a normal variate can (very rarely) be negative
  if (noisy)
    log::info(kSystem, logPrefix() + " will retry in " +
                           std::to_string(static_cast<long long>(delay)) + " seconds");
  std::weak_ptr<int> alive = alive_;
  // The pending call keeps the connector alive (as Twisted's bound method does); the factory is
  // reached only while `alive` says it still exists.
  callID_ = clock_->callLater(delay, [this, alive, target] {
    std::shared_ptr<IConnector> c = target;  // resetting callID_ may destroy this closure
    if (alive.lock()) callID_.reset();
    c->connect();
  });
}

void ReconnectingClientFactory::stopTrying() {
  if (callID_) {
    if (callID_->active()) callID_->cancel();
    callID_.reset();
  }
  continueTrying = false;
  if (auto c = connector_.lock()) {
    try {
      c->stopConnecting();
    } catch (const error::NotConnectingError&) {
      // not connecting: nothing to stop
    }
  }
}

void ReconnectingClientFactory::resetDelay() {
  delay = initialDelay;
  retries = 0;
  callID_.reset();
  continueTrying = true;
}

// ---- AbstractDatagramProtocol -----------------------------------------------------------------

void AbstractDatagramProtocol::makeConnection(IDatagramTransport& transport) {
  if (transport_ != nullptr)
    throw std::logic_error("DatagramProtocol::makeConnection: already has a transport");
  transport_ = &transport;
  doStart();
}

void AbstractDatagramProtocol::doStart() {
  if (numPorts_ == 0) {
    if (noisy) log::info(kSystem, "Starting protocol " + logPrefix());
    startProtocol();
  }
  ++numPorts_;
}

void AbstractDatagramProtocol::doStop() {
  if (numPorts_ <= 0) throw std::logic_error("DatagramProtocol::doStop: not started");
  --numPorts_;
  transport_ = nullptr;
  if (numPorts_ == 0) {
    if (noisy) log::info(kSystem, "Stopping protocol " + logPrefix());
    stopProtocol();
  }
}

}  // namespace coil
