// DeferredList: the untyped part of DeferredList/race cancellation (cancel inputs, log errors).
// Tests: test/core/deferred/DeferredListTest.cpp
#include <coil/core/DeferredList.hpp>

#include <coil/core/Log.hpp>

namespace coil::detail {

void cancelEach(std::vector<WeakStateRef> inputs, std::size_t skip) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (i == skip) continue;
    StateRef input = inputs[i].lock();
    if (!input) continue;  // nobody can fire it any more
    try {
      input->cancel();
    } catch (...) {
      log::currentException("Exception raised from user supplied canceller", "coil.deferred");
    }
  }
}

}  // namespace coil::detail
