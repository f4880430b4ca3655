// bench_dispatch: libevent's test/bench.c — chains of one-byte writes over n socketpairs — on
// coil's epoll, poll and select backends against libevent and libev forced onto the same backend.
// Prints JSON lines; --quick for a smoke run (CI builds this, never times it).
//
// Per row (n pairs, a active, w writes) and backend, each library runs `rounds` times (the
// libraries interleaved); a round registers the n watchers on a fresh loop (setup_us: the adds
// plus one non-blocking pass), then runs `iterations` iterations of bench.c's run_once():
// remove and re-add all n watchers (readd_us, again with one pass), write to `a` evenly spaced
// pairs, and loop non-blocking until the a + w bytes are read (ns_per_event = that time / a+w).
// A round reports its median iteration; the best round is kept. The read ends are given the
// lowest descriptor numbers, so select can take rows with n < FD_SETSIZE - 16.
#include "DispatchPeers.hpp"

#include "../common/BenchUtil.hpp"

#include <coil/backends/Backends.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/ReactorBase.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace coil::bench::dispatch {

namespace {

using coil::bench::nowNs;

// ---- coil -------------------------------------------------------------------------------------

class Reader final : public IFileDescriptor {
 public:
  Reader(int fd, long idx, Chain& chain) : fd_(fd), idx_(idx), chain_(chain) {}
  int fileno() const override { return fd_; }
  std::optional<Failure> doRead() override {
    onReadable(chain_, fd_, idx_);
    return std::nullopt;
  }
  void connectionLost(const Failure&) override {}

 private:
  int fd_;
  long idx_;
  Chain& chain_;
};

class CoilDriver final : public Driver {
 public:
  CoilDriver(std::string_view backend, const std::vector<int>& readFds, Chain& chain)
      : reactor_(makeBuiltinReactor(backend)) {
    readers_.reserve(readFds.size());
    for (std::size_t i = 0; i < readFds.size(); ++i)
      readers_.push_back(std::make_shared<Reader>(readFds[i], static_cast<long>(i), chain));
  }
  ~CoilDriver() override {
    reactor_->removeAll();
    reactor_->iterate(0);  // applies the removals
  }
  CoilDriver(const CoilDriver&) = delete;
  CoilDriver& operator=(const CoilDriver&) = delete;

  std::string backend() const override { return std::string(reactor_->backendName()); }
  void addAll() override {
    for (const auto& r : readers_) reactor_->addReader(r);
  }
  void readdAll() override {
    for (const auto& r : readers_) {
      reactor_->removeReader(r.get());
      reactor_->addReader(r);
    }
  }
  void once() override { reactor_->iterate(0); }

 private:
  std::unique_ptr<ReactorBase> reactor_;
  std::vector<std::shared_ptr<Reader>> readers_;
};

std::unique_ptr<Driver> makeCoilDriver(std::string_view backend, const std::vector<int>& readFds,
                                       Chain& chain) {
  return std::make_unique<CoilDriver>(backend, readFds, chain);
}

// ---- the pairs --------------------------------------------------------------------------------

// n socketpairs, read ends on the lowest free numbers (consecutive), write ends above them.
struct Pairs {
  std::vector<int> readFds, writeFds;
  Pairs() = default;
  Pairs(const Pairs&) = delete;
  Pairs& operator=(const Pairs&) = delete;
  ~Pairs() {
    for (int fd : readFds) ::close(fd);
    for (int fd : writeFds) ::close(fd);
  }
  void open(int n) {
    readFds.reserve(n);
    writeFds.reserve(n);
    for (int i = 0; i < n; ++i) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
      readFds.push_back(sv[0]);
      // Keep the write end clear of the read ends: the next pair's read end takes its number.
      int high = ::fcntl(sv[1], F_DUPFD_CLOEXEC, sv[0] + n + 32);
      if (high < 0) {
        ::close(sv[1]);
        throw std::runtime_error(std::string("fcntl(F_DUPFD): ") + std::strerror(errno));
      }
      ::close(sv[1]);
      writeFds.push_back(high);
    }
  }
  int maxReadFd() const { return readFds.empty() ? -1 : readFds.back(); }
};

// Raises the soft descriptor limit to the hard one; returns the limit in force.
rlim_t raiseFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

// ---- measuring --------------------------------------------------------------------------------

struct Row {
  int n, a, w;
};

struct Figures {
  double setupUs = 0, readdUs = 0, nsPerEvent = 0;
  long events = 0;
};

// bench.c's run_once() after the re-registration: seeds `a` chains and loops until every byte
// written has been read. Returns the loop's nanoseconds.
std::uint64_t runChains(Driver& d, Chain& chain, const Row& row) {
  chain.fired = 0;
  chain.failures = 0;
  const long space = row.n / row.a;
  for (long i = 0; i < row.a; ++i, ++chain.fired) {
    if (::send(chain.writeFds[i * space], "e", 1, 0) != 1) ++chain.failures;
  }
  chain.count = 0;
  chain.writes = row.w;
  const std::uint64_t t0 = nowNs();
  std::uint64_t passes = 0;
  do {
    d.once();
    // A loop that stops dispatching would spin here forever: give up after 10 s.
    if ((++passes & 0xffff) == 0 && nowNs() - t0 > 10'000'000'000ull)
      throw std::runtime_error("no progress: " + std::to_string(chain.count) + " of " +
                               std::to_string(chain.fired) + " events after 10 s");
  } while (chain.count != chain.fired);
  const std::uint64_t t1 = nowNs();
  if (chain.failures) throw std::runtime_error(std::to_string(chain.failures) + " failed calls");
  return t1 - t0;
}

// One round: a fresh loop, setup, one warm-up iteration, `iterations` measured ones.
Figures runRound(DriverFactory factory, std::string_view backend, const Pairs& pairs, Chain& chain,
                 const Row& row, int iterations) {
  Figures f;
  std::unique_ptr<Driver> d = factory(backend, pairs.readFds, chain);
  if (d->backend() != backend)
    throw std::runtime_error("runs on " + d->backend() + ", not " + std::string(backend));
  std::uint64_t t0 = nowNs();
  d->addAll();
  d->once();
  f.setupUs = static_cast<double>(nowNs() - t0) / 1e3;
  std::vector<double> readd, perEvent;
  for (int it = -1; it < iterations; ++it) {
    t0 = nowNs();
    d->readdAll();
    d->once();
    const double readdUs = static_cast<double>(nowNs() - t0) / 1e3;
    const std::uint64_t ns = runChains(*d, chain, row);
    if (it < 0) continue;  // warm-up
    readd.push_back(readdUs);
    perEvent.push_back(static_cast<double>(ns) / static_cast<double>(chain.count));
    f.events = chain.count;
  }
  f.readdUs = median(readd);
  f.nsPerEvent = median(perEvent);
  return f;
}

struct Impl {
  const char* name;
  DriverFactory factory;  // null: not built
  const char* missing;
  std::optional<Figures> best;
  std::string error;
};

void printLine(const Impl& impl, std::string_view backend, const Row& row, int iterations,
               const std::optional<double>& bestPeerNs,
               const std::optional<double>& bestPeerSetup) {
  std::printf(
      "{\"bench\":\"dispatch\",\"impl\":\"%s\",\"backend\":\"%.*s\",\"n\":%d,\"a\":%d,"
      "\"w\":%d",
      impl.name, static_cast<int>(backend.size()), backend.data(), row.n, row.a, row.w);
  if (!impl.factory) {
    std::printf(",\"skipped\":\"%s\"}\n", impl.missing);
    return;
  }
  if (!impl.error.empty() || !impl.best) {
    std::string error = impl.error;
    for (char& c : error)
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '\'';
    std::printf(",\"error\":\"%s\"}\n", error.c_str());
    return;
  }
  const Figures& f = *impl.best;
  std::printf(
      ",\"setup_us\":%.1f,\"readd_us\":%.1f,\"ns_per_event\":%.1f,\"events\":%ld,"
      "\"iterations\":%d",
      f.setupUs, f.readdUs, f.nsPerEvent, f.events, iterations);
  if (std::strcmp(impl.name, "coil") == 0) {
    if (bestPeerNs)
      std::printf(",\"ratio_vs_best_peer\":%.3f,\"setup_ratio_vs_best_peer\":%.3f",
                  f.nsPerEvent / *bestPeerNs, f.setupUs / *bestPeerSetup);
    else
      std::printf(",\"ratio_vs_best_peer\":null");
  }
  std::printf("}\n");
}

}  // namespace

}  // namespace coil::bench::dispatch

int main(int argc, char** argv) {
  using namespace coil::bench::dispatch;
  bool quick = false;
  std::string_view only, onlyBackend;  // --only IMPL, --backend NAME: a subset (for profiling)
  int onlyN = 0;                       // --n N: only the row with n == N
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--backend" && i + 1 < argc) {
      onlyBackend = argv[++i];
    } else if (arg == "--n" && i + 1 < argc) {
      onlyN = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--only coil|libevent|libev] [--backend epoll|poll|select] "
                   "[--n N]\n",
                   argv[0]);
      return 2;
    }
  }
  const std::vector<Row> rows =
      quick ? std::vector<Row>{{10, 1, 50}, {64, 8, 100}}
            : std::vector<Row>{{100, 1, 1000}, {1000, 100, 1000}, {9000, 100, 1000}};
  const int rounds = quick ? 1 : 5;
  const int iterations = quick ? 2 : 10;
  const rlim_t limit = raiseFdLimit();
  int status = 0;

  for (const Row& row : rows) {
    if (onlyN && row.n != onlyN) continue;
    const auto needed = static_cast<rlim_t>(2 * row.n + 64);
    if (limit < needed) {
      std::printf(
          "{\"bench\":\"dispatch\",\"impl\":\"*\",\"n\":%d,\"a\":%d,\"w\":%d,"
          "\"skipped\":\"RLIMIT_NOFILE %llu < %llu descriptors needed\"}\n",
          row.n, row.a, row.w, static_cast<unsigned long long>(limit),
          static_cast<unsigned long long>(needed));
      continue;
    }
    Pairs pairs;
    pairs.open(row.n);
    Chain chain;
    chain.writeFds = pairs.writeFds.data();
    chain.n = row.n;
    for (std::string_view backend : {"epoll", "poll", "select"}) {
      if (!onlyBackend.empty() && backend != onlyBackend) continue;
      // Room for the loops' own descriptors (epoll, eventfd, …) above the read ends.
      if (backend == "select" && pairs.maxReadFd() + 16 >= FD_SETSIZE) {
        std::printf(
            "{\"bench\":\"dispatch\",\"impl\":\"*\",\"backend\":\"select\",\"n\":%d,"
            "\"a\":%d,\"w\":%d,\"skipped\":\"read descriptors reach %d; select takes "
            "only fds < FD_SETSIZE (%d)\"}\n",
            row.n, row.a, row.w, pairs.maxReadFd(), FD_SETSIZE);
        continue;
      }
      Impl impls[] = {
          {"coil", makeCoilDriver, nullptr, std::nullopt, {}},
#ifdef COIL_BENCH_HAVE_LIBEVENT
          {"libevent", makeLibeventDriver, nullptr, std::nullopt, {}},
#else
          {"libevent", nullptr, "libevent not found at configure time", std::nullopt, {}},
#endif
#ifdef COIL_BENCH_HAVE_LIBEV
          {"libev", makeLibevDriver, nullptr, std::nullopt, {}},
#else
          {"libev", nullptr, "libev not found at configure time", std::nullopt, {}},
#endif
      };
      if (!only.empty()) {
        for (Impl& impl : impls)
          if (impl.name != only) {
            impl.factory = nullptr;
            impl.missing = "not selected (--only)";
          }
      }
      for (int r = 0; r < rounds; ++r) {
        for (Impl& impl : impls) {
          if (!impl.factory || !impl.error.empty()) continue;
          try {
            Figures f = runRound(impl.factory, backend, pairs, chain, row, iterations);
            if (!impl.best || f.nsPerEvent < impl.best->nsPerEvent) {
              double setup = impl.best ? std::min(impl.best->setupUs, f.setupUs) : f.setupUs;
              impl.best = f;
              impl.best->setupUs = setup;
            } else {
              impl.best->setupUs = std::min(impl.best->setupUs, f.setupUs);
            }
          } catch (const std::exception& e) {
            impl.error = e.what();
          }
        }
      }
      std::optional<double> bestPeerNs, bestPeerSetup;
      for (const Impl& impl : impls) {
        if (std::strcmp(impl.name, "coil") == 0 || !impl.best || !impl.error.empty()) continue;
        if (!bestPeerNs || impl.best->nsPerEvent < *bestPeerNs) bestPeerNs = impl.best->nsPerEvent;
        if (!bestPeerSetup || impl.best->setupUs < *bestPeerSetup)
          bestPeerSetup = impl.best->setupUs;
      }
      for (const Impl& impl : impls) {
        printLine(impl, backend, row, iterations, bestPeerNs, bestPeerSetup);
        if (impl.factory && !impl.error.empty()) status = 1;
      }
      std::fflush(stdout);
    }
  }
  return status;
}
