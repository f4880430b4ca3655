// Example: a coroutine over Deferreds, driven by task::Clock (the README's "taste").
#include <coil/core/Deferred.hpp>
#include <coil/core/Log.hpp>
#include <coil/core/task/Clock.hpp>
#include <coil/core/task/DeferLater.hpp>

#include <cstdio>
#include <string>

using namespace coil;

// A coroutine returning Deferred<T> may co_await any Deferred — Twisted's inlineCallbacks.
Deferred<std::string> greet(IReactorTime& clock) {
  int n = co_await task::deferLater(clock, 1.0, [] { return 41; });
  co_return "answer: " + std::to_string(n + 1);
}

int main() {
  task::Clock clock;  // a reactor works the same way
  std::size_t length = 0;
  greet(clock)
      .addCallback([](std::string s) {
        std::printf("%s\n", s.c_str());
        return s.size();
      })  // Deferred<std::string> -> Deferred<std::size_t>
      .addErrback([](Failure f) {
        log::failure("greet failed", f);
        return std::size_t{0};
      })
      .addCallback([&](std::size_t n) { length = n; });
  clock.advance(1.0);  // fires the chain
  return length == 10 ? 0 : 1;
}
