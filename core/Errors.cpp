// Errors: Twisted-shaped messages for coil's exception hierarchy.
// Tests: test/core/FailureTest.cpp
#include <coil/core/Errors.hpp>

namespace coil::detail {

std::string formatError(std::string_view doc, const std::string& detail, std::error_code ec) {
  std::string out(doc);
  if (ec) out += ": " + std::to_string(ec.value()) + ": " + ec.message();
  if (!detail.empty()) out += ": " + detail;
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

}  // namespace coil::detail
