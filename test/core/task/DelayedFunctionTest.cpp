// Tests for coil::DelayedFunction (the callable callLater() stores) and coil::DelayedCallPtr (the
// counted handle it returns).
#include <coil/core/DelayedCall.hpp>
#include <coil/core/DelayedFunction.hpp>
#include <coil/core/IDelayedCall.hpp>
#include <coil/core/task/Clock.hpp>

#include <test/support/Testing.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

using coil::DelayedCallPtr;
using coil::DelayedFunction;

namespace {

/// Counts live instances, moves and calls.
struct Counted {
  static inline int alive = 0;
  static inline int moves = 0;
  int* calls;
  explicit Counted(int* c) : calls(c) { ++alive; }
  Counted(Counted&& o) noexcept : calls(o.calls) {
    ++alive;
    ++moves;
  }
  Counted(const Counted& o) : calls(o.calls) { ++alive; }
  Counted& operator=(const Counted&) = delete;
  ~Counted() { --alive; }
  void operator()() { ++*calls; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(DelayedFunctionTests)

COIL_TEST_CASE(emptyByDefaultAndFromNullThings) {
  BOOST_TEST(!DelayedFunction());
  BOOST_TEST(!DelayedFunction(nullptr));
  BOOST_TEST(!DelayedFunction(std::function<void()>()));
  void (*none)() = nullptr;
  BOOST_TEST(!DelayedFunction(none));
  BOOST_TEST(static_cast<bool>(DelayedFunction([] {})));
}

COIL_TEST_CASE(callsAndDiscardsTheResult) {
  int n = 0;
  DelayedFunction f([&n] {
    ++n;
    return std::string("ignored");
  });
  f();
  f();
  BOOST_TEST(n == 2);
}

COIL_TEST_CASE(acceptsMoveOnlyCallables) {
  auto box = std::make_unique<int>(41);
  int seen = 0;
  DelayedFunction f([box = std::move(box), &seen] { seen = ++*box; });
  DelayedFunction g = std::move(f);
  BOOST_TEST(!f);  // NOLINT: checking the moved-from state on purpose
  g();
  BOOST_TEST(seen == 42);
}

COIL_TEST_CASE(smallCallablesAreInlineLargeOnesOnTheHeapBothWork) {
  int calls = 0;
  {
    DelayedFunction small(Counted{&calls});
    BOOST_TEST(Counted::alive == 1);
    DelayedFunction moved = std::move(small);  // relocated by its move constructor
    BOOST_TEST(Counted::alive == 1);
    moved();
  }
  BOOST_TEST(Counted::alive == 0);
  std::array<char, 100> big{};
  big[99] = 'z';
  char last = 0;
  {
    DelayedFunction large([big, &last] { last = big[99]; });
    DelayedFunction moved = std::move(large);
    moved();
  }
  BOOST_TEST(last == 'z');
  BOOST_TEST(calls == 1);
}

COIL_TEST_CASE(aStdFunctionIsKeptAndCalled) {
  int n = 0;
  std::function<void()> fn = [&n] { n += 5; };
  DelayedFunction f(fn);  // copied in
  f();
  fn();
  BOOST_TEST(n == 10);
}

COIL_TEST_CASE(resetDestroysTheCallableAndLeavesItEmpty) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  DelayedFunction f([token] {});
  token.reset();
  BOOST_TEST(!watch.expired());
  f.reset();
  BOOST_TEST(watch.expired());
  BOOST_TEST(!f);
  f.reset();  // idempotent
  BOOST_TEST(!f);
}

COIL_TEST_CASE(moveAssignmentReleasesTheOldCallable) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  DelayedFunction f([token] {});
  token.reset();
  int n = 0;
  f = DelayedFunction([&n] { ++n; });
  BOOST_TEST(watch.expired());
  f();
  BOOST_TEST(n == 1);
}

COIL_TEST_CASE(callLaterTakesMoveOnlyLambdasAndBoundArguments) {
  coil::task::Clock clock;
  auto box = std::make_unique<int>(1);
  int seen = 0;
  clock.callLater(1, [box = std::move(box), &seen] { seen = *box; });
  std::string joined;
  clock.callLater(
      2, [&joined](const std::string& a, int b) { joined = a + std::to_string(b); },
      std::string("x"), 7);
  clock.advance(2);
  BOOST_TEST(seen == 1);
  BOOST_TEST(joined == "x7");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(DelayedCallPtrTests)

COIL_TEST_CASE(nullHandlesCompareAndPrint) {
  DelayedCallPtr p;
  BOOST_TEST(!p);
  BOOST_TEST((p == nullptr));
  BOOST_TEST((nullptr == p));
  BOOST_TEST((p == DelayedCallPtr(nullptr)));
  BOOST_TEST(p.get() == nullptr);
  std::ostringstream os;
  os << DelayedCallPtr(p);
  BOOST_TEST(!os.str().empty());
}

COIL_TEST_CASE(copiesShareTheCallAndTheLastOneFreesIt) {
  coil::task::Clock clock;
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  DelayedCallPtr a = clock.callLater(1, [token] {});
  token.reset();
  DelayedCallPtr b = a;
  BOOST_TEST((a == b));
  BOOST_TEST(!(a != b));
  BOOST_TEST((!(a < b) && !(b < a)));
  DelayedCallPtr c = std::move(b);
  BOOST_TEST(!b);  // NOLINT: checking the moved-from state on purpose
  BOOST_TEST((c == a));
  c.reset();
  BOOST_TEST(!c);
  BOOST_TEST(a->active());
  a->cancel();
  BOOST_TEST(watch.expired());  // cancelling released the function; `a` still holds the call
  BOOST_TEST(!a->active());
  BOOST_TEST(coil::DelayedCall::from(a)->cancelled());
}

COIL_TEST_CASE(aHandleOutlivesItsScheduler) {
  DelayedCallPtr kept;
  {
    coil::task::Clock clock;
    kept = clock.callLater(5, [] {});
  }
  BOOST_TEST(!kept->active());
  BOOST_TEST(kept->getTime() == 5.0);
}

COIL_TEST_CASE(handlesHashAndSortByAddress) {
  coil::task::Clock clock;
  std::vector<DelayedCallPtr> calls;
  for (int i = 0; i < 10; ++i) calls.push_back(clock.callLater(i, [] {}));
  std::unordered_set<DelayedCallPtr> set(calls.begin(), calls.end());
  set.insert(calls[3]);
  BOOST_TEST(set.size() == 10u);
  BOOST_TEST(set.count(calls[7]) == 1u);
  std::vector<DelayedCallPtr> sorted = calls;
  std::sort(sorted.begin(), sorted.end());
  BOOST_TEST(std::is_sorted(sorted.begin(), sorted.end(),
                            [](const auto& a, const auto& b) { return a.get() < b.get(); }));
}

COIL_TEST_CASE(selfAssignmentAndSwapKeepTheCount) {
  coil::task::Clock clock;
  DelayedCallPtr a = clock.callLater(1, [] {});
  DelayedCallPtr b = clock.callLater(2, [] {});
  DelayedCallPtr* alias = &a;
  a = *alias;
  a = std::move(*alias);
  BOOST_TEST(a->getTime() == 1.0);
  a.swap(b);
  BOOST_TEST(a->getTime() == 2.0);
  BOOST_TEST(b->getTime() == 1.0);
  clock.advance(2);
  BOOST_TEST(!a->active());
  BOOST_TEST(!b->active());
}

BOOST_AUTO_TEST_SUITE_END()
