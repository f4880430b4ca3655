// HostnameEndpoint: resolve a host name, then race staggered TCP attempts to its addresses.
// Tests: test/transports/endpoints/HostnameEndpointTest.cpp
#include <coil/transports/endpoints/HostnameEndpoint.hpp>

#include <coil/core/Errors.hpp>
#include <coil/transports/endpoints/ClientEndpoints.hpp>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace coil::endpoints {

namespace {

using ProtocolPtr = std::shared_ptr<IProtocol>;
using ProtocolDeferred = Deferred<ProtocolPtr>;

// What the attempts share (Twisted's startConnectionAttempts closure). Owned by the pending
// attempts' callbacks and the pending timer: it lives while something can still happen.
class Race : public std::enable_shared_from_this<Race> {
 public:
  struct Settings {
    ReactorBase* reactor;
    std::shared_ptr<Factory> factory;
    double timeout;
    std::optional<BindAddress> bindAddress;
    double attemptDelay;
  };

  Race(Settings settings, std::vector<Address> addresses, const HostnameAddress& where)
      : settings_(std::move(settings)),
        addresses_(std::move(addresses)),
        winner_([where](ProtocolDeferred& d) {
          d.errback(error::ConnectingCancelledError(toString(where)));
        }) {}

  // Starts the first attempt; the Deferred fires with the winner or the last failure.
  ProtocolDeferred start() {
    std::weak_ptr<Race> weak = weak_from_this();
    winner_.addBoth([weak](Result<ProtocolPtr> r) {
      if (auto self = weak.lock()) self->finish();
      return r;
    });
    ProtocolDeferred result = winner_;
    attempt();
    return result;
  }

 private:
  static bool isIP(const Address& a) {
    return std::holds_alternative<IPv4Address>(a) || std::holds_alternative<IPv6Address>(a);
  }

  std::shared_ptr<IStreamClientEndpoint> endpointFor(const Address& a) const {
    ReactorBase& reactor = *settings_.reactor;
    if (const auto* v4 = std::get_if<IPv4Address>(&a))
      return std::make_shared<TCP4ClientEndpoint>(reactor, v4->host, v4->port, settings_.timeout,
                                                  settings_.bindAddress);
    const auto& v6 = std::get<IPv6Address>(a);
    return std::make_shared<TCP6ClientEndpoint>(reactor, v6.host, v6.port, settings_.timeout,
                                                settings_.bindAddress);
  }

  // One tick of Twisted's LoopingCall: start the next attempt, schedule the tick after it.
  void attempt() {
    timer_ = nullptr;
    if (completed_) return;
    while (next_ < addresses_.size() && !isIP(addresses_[next_])) ++next_;  // unknown: skipped
    if (next_ == addresses_.size()) {
      endpointsLeft_ = false;
      checkDone();
      return;
    }
    ProtocolDeferred d = endpointFor(addresses_[next_++])->connect(settings_.factory);
    const int id = nextId_++;
    pending_.emplace_back(id, d);
    d.addBoth([self = shared_from_this(), id](Result<ProtocolPtr> r) {
      self->settled(id, std::move(r));
    });
    if (completed_) return;  // that attempt won (or everything ended) synchronously
    bool more = false;
    for (std::size_t i = next_; i < addresses_.size() && !more; ++i) more = isIP(addresses_[i]);
    if (!more) {
      endpointsLeft_ = false;
      checkDone();
      return;
    }
    timer_ = settings_.reactor->callLater(settings_.attemptDelay,
                                          [self = shared_from_this()] { self->attempt(); });
  }

  void settled(int id, Result<ProtocolPtr> r) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first == id) {
        pending_.erase(it);
        break;
      }
    }
    if (r.ok()) {
      if (!winner_.called()) winner_.callback(std::move(r).value());
      return;
    }
    lastFailure_ = r.failure();
    checkDone();
  }

  void checkDone() {
    if (!pending_.empty() || completed_ || endpointsLeft_) return;
    if (lastFailure_ && !winner_.called()) winner_.errback(*lastFailure_);
  }

  // The winner fired (success, last failure, or cancel): stop everything else.
  void finish() {
    completed_ = true;
    if (timer_ && timer_->active()) timer_->cancel();
    timer_ = nullptr;
    auto remaining = pending_;
    for (auto& [id, d] : remaining) d.cancel();
  }

  Settings settings_;
  std::vector<Address> addresses_;
  std::size_t next_ = 0;
  ProtocolDeferred winner_;
  std::vector<std::pair<int, ProtocolDeferred>> pending_;
  int nextId_ = 0;
  std::optional<Failure> lastFailure_;
  DelayedCallPtr timer_;
  bool completed_ = false;
  bool endpointsLeft_ = true;
};

}  // namespace

HostnameEndpoint::HostnameEndpoint(ReactorBase& reactor, std::string host, int port, double timeout,
                                   std::optional<BindAddress> bindAddress, double attemptDelay)
    : reactor_(reactor),
      host_(std::move(host)),
      port_(port),
      timeout_(timeout),
      bindAddress_(std::move(bindAddress)),
      attemptDelay_(attemptDelay) {
  if (!(attemptDelay_ >= 0) || !std::isfinite(attemptDelay_))
    throw std::invalid_argument("HostnameEndpoint: attemptDelay must be a finite number >= 0");
}

ProtocolDeferred HostnameEndpoint::connect(std::shared_ptr<Factory> factory) {
  if (!factory)
    return fail<ProtocolPtr>(std::invalid_argument("a client endpoint needs a factory"));
  Deferred<std::vector<Address>> resolved;
  try {
    resolved = reactor_.nameResolver().resolveHostName(host_, port_, AddressTypes::any, "TCP");
  } catch (...) {
    return fail<ProtocolPtr>(Failure::current());
  }
  const HostnameAddress where{host_, port_};
  Race::Settings settings{&reactor_, std::move(factory), timeout_, bindAddress_, attemptDelay_};
  return resolved
      .addErrback([where](Failure f) {
        if (f.check<CancelledError>())
          return Failure(error::ConnectingCancelledError(toString(where)));
        return Failure(
            error::DNSLookupError("Couldn't find the hostname '" + where.hostname + "'"));
      })
      .addCallback([where, settings](std::vector<Address> found) -> ProtocolDeferred {
        if (found.empty())
          return fail<ProtocolPtr>(
              error::DNSLookupError("no results for hostname lookup: " + where.hostname));
        return std::make_shared<Race>(settings, std::move(found), where)->start();
      });
}

}  // namespace coil::endpoints
