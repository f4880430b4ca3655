// LibeventDispatch: the dispatch workload on libevent, forced onto one backend.
#include "DispatchPeers.hpp"

#include <event2/event.h>
#include <event2/event_struct.h>

#include <stdexcept>

namespace coil::bench::dispatch {

namespace {

struct Slot {
  event ev;
  Chain* chain;
  long idx;
};

void onRead(evutil_socket_t fd, short, void* arg) {
  auto* slot = static_cast<Slot*>(arg);
  onReadable(*slot->chain, fd, slot->idx);
}

class LibeventDriver final : public Driver {
 public:
  LibeventDriver(std::string_view backend, const std::vector<int>& readFds, Chain& chain)
      : fds_(readFds), slots_(readFds.size()) {
    event_config* cfg = event_config_new();
    if (!cfg) throw std::runtime_error("event_config_new failed");
    // Avoid every other method, so only `backend` is left (libevent's own test runs do this).
    for (const char** m = event_get_supported_methods(); m && *m; ++m)
      if (backend != *m) event_config_avoid_method(cfg, *m);
    base_ = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!base_)
      throw std::runtime_error("libevent cannot use the " + std::string(backend) + " method");
    if (backend != event_base_get_method(base_)) {
      std::string got = event_base_get_method(base_);
      event_base_free(base_);
      throw std::runtime_error("libevent gave " + got + " instead of " + std::string(backend));
    }
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].chain = &chain;
      slots_[i].idx = static_cast<long>(i);
    }
  }
  ~LibeventDriver() override {
    if (added_)
      for (Slot& s : slots_) event_del(&s.ev);
    event_base_free(base_);
  }
  LibeventDriver(const LibeventDriver&) = delete;
  LibeventDriver& operator=(const LibeventDriver&) = delete;

  std::string backend() const override { return event_base_get_method(base_); }

  void addAll() override {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      event_assign(&slots_[i].ev, base_, fds_[i], EV_READ | EV_PERSIST, onRead, &slots_[i]);
      event_add(&slots_[i].ev, nullptr);
    }
    added_ = true;
  }

  void readdAll() override {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      event_del(&slots_[i].ev);
      event_assign(&slots_[i].ev, base_, fds_[i], EV_READ | EV_PERSIST, onRead, &slots_[i]);
      event_add(&slots_[i].ev, nullptr);
    }
  }

  void once() override { event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK); }

 private:
  const std::vector<int>& fds_;
  std::vector<Slot> slots_;
  event_base* base_ = nullptr;
  bool added_ = false;
};

}  // namespace

std::unique_ptr<Driver> makeLibeventDriver(std::string_view backend,
                                           const std::vector<int>& readFds, Chain& chain) {
  return std::make_unique<LibeventDriver>(backend, readFds, chain);
}

}  // namespace coil::bench::dispatch
