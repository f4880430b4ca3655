// LibevDispatch: the dispatch workload on libev, on a loop made for one backend.
#include "DispatchPeers.hpp"

#include <ev.h>

#include <stdexcept>

namespace coil::bench::dispatch {

namespace {

struct Watcher {
  ev_io io;  // first: the callback casts back
  Chain* chain;
  long idx;
};

void onRead(struct ev_loop*, ev_io* w, int) {
  auto* watcher = reinterpret_cast<Watcher*>(w);
  onReadable(*watcher->chain, w->fd, watcher->idx);
}

unsigned flagOf(std::string_view backend) {
  if (backend == "epoll") return EVBACKEND_EPOLL;
  if (backend == "poll") return EVBACKEND_POLL;
  if (backend == "select") return EVBACKEND_SELECT;
  throw std::runtime_error("libev: no backend named " + std::string(backend));
}

class LibevDriver final : public Driver {
 public:
  LibevDriver(std::string_view backend, const std::vector<int>& readFds, Chain& chain)
      : fds_(readFds), watchers_(readFds.size()), name_(backend) {
    const unsigned flag = flagOf(backend);
    if (!(ev_supported_backends() & flag))
      throw std::runtime_error("libev was built without " + std::string(backend));
    loop_ = ev_loop_new(flag | EVFLAG_NOENV);
    if (!loop_) throw std::runtime_error("libev cannot use " + std::string(backend));
    if (ev_backend(loop_) != flag) {
      ev_loop_destroy(loop_);
      throw std::runtime_error("libev gave another backend than " + std::string(backend));
    }
    for (std::size_t i = 0; i < watchers_.size(); ++i) {
      watchers_[i].chain = &chain;
      watchers_[i].idx = static_cast<long>(i);
    }
  }
  ~LibevDriver() override {
    for (Watcher& w : watchers_) ev_io_stop(loop_, &w.io);
    ev_loop_destroy(loop_);
  }
  LibevDriver(const LibevDriver&) = delete;
  LibevDriver& operator=(const LibevDriver&) = delete;

  std::string backend() const override { return name_; }

  void addAll() override {
    for (std::size_t i = 0; i < watchers_.size(); ++i) {
      ev_io_init(&watchers_[i].io, onRead, fds_[i], EV_READ);
      ev_io_start(loop_, &watchers_[i].io);
    }
  }

  void readdAll() override {
    for (std::size_t i = 0; i < watchers_.size(); ++i) {
      ev_io_stop(loop_, &watchers_[i].io);
      ev_io_set(&watchers_[i].io, fds_[i], EV_READ);
      ev_io_start(loop_, &watchers_[i].io);
    }
  }

  void once() override { ev_run(loop_, EVRUN_NOWAIT); }

 private:
  const std::vector<int>& fds_;
  std::vector<Watcher> watchers_;
  std::string name_;
  struct ev_loop* loop_ = nullptr;
};

}  // namespace

std::unique_ptr<Driver> makeLibevDriver(std::string_view backend, const std::vector<int>& readFds,
                                        Chain& chain) {
  return std::make_unique<LibevDriver>(backend, readFds, chain);
}

}  // namespace coil::bench::dispatch
