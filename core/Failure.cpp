// Failure: message and type-name extraction from an exception_ptr.
// Tests: test/core/base/FailureTest.cpp
#include <coil/core/Failure.hpp>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#if defined(__GNUG__)
#include <cxxabi.h>
#endif

namespace coil {

namespace {

std::string demangle(const char* name) {
#if defined(__GNUG__)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  if (status == 0 && out) return out.get();
#endif
  return name;
}

std::string currentTypeName() {
#if defined(__GNUG__)
  if (const std::type_info* t = abi::__cxa_current_exception_type()) return demangle(t->name());
#endif
  return "unknown exception";
}

}  // namespace

std::string Failure::getErrorMessage() const {
  try {
    std::rethrow_exception(ptr_);
  } catch (const Failure& nested) {
    return nested.getErrorMessage();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "exception of type " + currentTypeName();
  }
}

std::string Failure::typeName() const {
  try {
    std::rethrow_exception(ptr_);
  } catch (...) {
    return currentTypeName();
  }
}

}  // namespace coil
