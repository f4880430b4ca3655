// bench_deferred: the cost of coil's Deferred chains, coroutines and DeferredList.
// Prints JSON lines; run with --quick for a smoke run (CI builds this, never times it).
#include "../common/BenchUtil.hpp"

#include <coil/core/Deferred.hpp>
#include <coil/core/DeferredList.hpp>

#include <cstring>
#include <optional>
#include <vector>

using coil::Deferred;
using coil::bench::measure;
using coil::bench::report;

namespace {

volatile long gSink = 0;

void threeCallbacks(std::uint64_t ops) {
  long sink = 0;
  for (std::uint64_t i = 0; i < ops; ++i) {
    Deferred<int> d;
    d.addCallback([](int x) { return x + 1; })
        .addCallback([](int x) { return x * 2; })
        .addCallback([&sink](int x) { sink += x; });
    d.callback(static_cast<int>(i));
  }
  gSink = sink;
}

// Each of 8 callbacks returns an already-fired Deferred: the chain takes its result at once.
constexpr int kLinks = 8;
void chainOfFired(std::uint64_t ops) {
  long sink = 0;
  for (std::uint64_t i = 0; i < ops / kLinks; ++i) {
    Deferred<int> d;
    Deferred<int> tail = d;
    for (int k = 0; k < kLinks; ++k)
      tail = tail.addCallback([](int x) { return coil::succeed(x + 1); });
    tail.addCallback([&sink](int x) { sink += x; });
    d.callback(static_cast<int>(i));
  }
  gSink = sink;
}

Deferred<long> awaitFired(std::uint64_t ops) {
  long sum = 0;
  for (std::uint64_t i = 0; i < ops; ++i) sum += co_await coil::succeed(static_cast<long>(i));
  co_return sum;
}

Deferred<long> awaitLater(std::optional<Deferred<long>>& slot, std::uint64_t ops) {
  long sum = 0;
  for (std::uint64_t i = 0; i < ops; ++i) {
    slot.emplace();
    sum += co_await *slot;
  }
  co_return sum;
}

void runAwaitLater(std::uint64_t ops) {
  std::optional<Deferred<long>> slot;
  Deferred<long> done = awaitLater(slot, ops);
  for (std::uint64_t i = 0; i < ops; ++i) {
    Deferred<long> d = std::move(*slot);
    d.callback(static_cast<long>(i));
  }
  done.addCallback([](long v) { gSink = v; });
}

// A DeferredList over 1,000 unfired Deferreds, then each fired: what gathering many results
// costs. Reported per input Deferred (creating it included).
constexpr std::size_t kListSize = 1000;
void deferredList(std::uint64_t ops) {
  long sink = 0;
  for (std::uint64_t i = 0; i < ops / kListSize; ++i) {
    std::vector<Deferred<int>> inputs(kListSize);
    coil::DeferredList list(inputs);
    list.addCallback([&sink](std::vector<coil::Result<int>> results) {
      for (auto& r : results) sink += r.value();
    });
    for (std::size_t k = 0; k < kListSize; ++k) inputs[k].callback(static_cast<int>(k));
  }
  gSink = sink;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::uint64_t n = quick ? 10'000 : 2'000'000;
  int rounds = quick ? 1 : 5;

  report("deferred_3_callbacks", "coil", measure(n, rounds, threeCallbacks),
         "\"goal_ns\":100,\"goal_allocs\":1");
  report("deferred_chain_of_fired", "coil", measure(n, rounds, chainOfFired), "\"unit\":\"link\"");
  report("coawait_fired", "coil",
         measure(n, rounds,
                 [](std::uint64_t ops) { awaitFired(ops).addCallback([](long v) { gSink = v; }); }),
         "\"note\":\"includes creating the fired Deferred\"");
  report("coawait_later_fired", "coil", measure(n / 2, rounds, runAwaitLater));
  report("deferred_list_1000", "coil", measure(quick ? kListSize : n / 2, rounds, deferredList),
         "\"unit\":\"input Deferred\"");
  return 0;
}
