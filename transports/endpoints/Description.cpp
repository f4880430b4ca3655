// Description: the endpoint description tokenizer/parser and its typed value helpers.
// Tests: test/transports/endpoints/DescriptionTest.cpp
#include <coil/transports/endpoints/Description.hpp>

#include <charconv>
#include <climits>
#include <cmath>
#include <optional>
#include <system_error>

namespace coil::endpoints {

namespace {

std::string grammarMessage(const std::string& description, const std::string& reason) {
  return "invalid endpoint description '" + description + "': " + reason;
}

std::string valueMessage(const std::string& description, const std::string& name,
                         const std::string& reason) {
  return "bad value for '" + name + "' in '" + description + "': " + reason;
}

// One parameter being read: its key (when an '=' was seen) and the text so far.
struct Parameter {
  std::string first;
  std::string second;
  bool keyword = false;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) { result_.description = text; }

  EndpointDescription run() {
    if (text_.empty()) fail("empty description");
    for (std::size_t i = 0; i < text_.size(); ++i) {
      const char c = text_[i];
      if (c == ':') {
        finish();
      } else if (c == '=' && !current_.keyword) {
        current_.keyword = true;
      } else if (c == '\\') {
        if (++i == text_.size()) fail("trailing backslash (escapes nothing)");
        append(text_[i]);
      } else {
        append(c);
      }
    }
    finish();
    return finishType();
  }

 private:
  [[noreturn]] void fail(const std::string& reason) {
    throw EndpointSyntaxError(std::string(text_), reason);
  }

  void append(char c) { (current_.keyword ? current_.second : current_.first) += c; }

  void finish() {
    ++index_;
    if (!current_.keyword) {
      positional_.push_back(std::move(current_.first));
    } else if (current_.first.empty()) {
      fail("empty key in parameter " + std::to_string(index_) + " ('=" + current_.second + "')");
    } else {
      addKeyword(std::move(current_.first), std::move(current_.second));
    }
    current_ = Parameter{};
  }

  void addKeyword(std::string key, std::string value) {
    for (auto& [k, v] : result_.kwargs) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    result_.kwargs.emplace_back(std::move(key), std::move(value));
  }

  EndpointDescription finishType() {
    if (positional_.empty()) fail("no endpoint type (every parameter is key=value)");
    if (positional_.front().empty()) fail("empty endpoint type");
    result_.type = std::move(positional_.front());
    result_.args.assign(std::make_move_iterator(positional_.begin() + 1),
                        std::make_move_iterator(positional_.end()));
    return std::move(result_);
  }

  std::string_view text_;
  EndpointDescription result_;
  std::vector<std::string> positional_;
  Parameter current_;
  std::size_t index_ = 0;
};

// Parses an optionally signed integer in `base` that fills all of `value`.
std::optional<long long> parseInteger(std::string_view value, int base) {
  if (!value.empty() && value.front() == '+') {
    value.remove_prefix(1);
    if (!value.empty() && (value.front() == '-' || value.front() == '+')) return std::nullopt;
  }
  long long out = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, out, base);
  if (value.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

}  // namespace

EndpointSyntaxError::EndpointSyntaxError(std::string description, std::string reason)
    : std::invalid_argument(grammarMessage(description, reason)),
      description_(std::move(description)),
      reason_(std::move(reason)) {}

EndpointSyntaxError::EndpointSyntaxError(std::string description, std::string name,
                                         std::string reason)
    : std::invalid_argument(valueMessage(description, name, reason)),
      description_(std::move(description)),
      parameter_(std::move(name)),
      reason_(std::move(reason)) {}

const std::string* EndpointDescription::kwarg(std::string_view key) const noexcept {
  for (const auto& [k, v] : kwargs)
    if (k == key) return &v;
  return nullptr;
}

EndpointSyntaxError EndpointDescription::badValue(std::string_view name,
                                                  std::string_view reason) const {
  return EndpointSyntaxError(description, std::string(name), std::string(reason));
}

int EndpointDescription::takeInt(std::string_view name, std::string_view value) const {
  return takeInt(name, value, INT_MIN, INT_MAX);
}

int EndpointDescription::takeInt(std::string_view name, std::string_view value, int min,
                                 int max) const {
  auto parsed = parseInteger(value, 10);
  if (!parsed) throw badValue(name, "expected an integer");
  if (*parsed < min || *parsed > max)
    throw badValue(
        name, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return static_cast<int>(*parsed);
}

unsigned EndpointDescription::takeOctal(std::string_view name, std::string_view value) const {
  // Python's int(value, 8) also takes a "0o" prefix.
  std::string_view digits = value;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O'))
    digits.remove_prefix(2);
  auto parsed = parseInteger(digits, 8);
  if (!parsed || *parsed < 0 || *parsed > static_cast<long long>(UINT_MAX))
    throw badValue(name, "expected an octal integer");
  return static_cast<unsigned>(*parsed);
}

double EndpointDescription::takeFloat(std::string_view name, std::string_view value) const {
  std::string_view digits = value;
  if (!digits.empty() && digits.front() == '+') {
    digits.remove_prefix(1);
    if (!digits.empty() && digits.front() == '-') throw badValue(name, "expected a number");
  }
  double out = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, out);
  if (digits.empty() || ec != std::errc() || ptr != end || !std::isfinite(out))
    throw badValue(name, "expected a number");
  return out;
}

bool EndpointDescription::takeBool(std::string_view name, std::string_view value) const {
  auto parsed = parseInteger(value, 10);
  if (!parsed) throw badValue(name, "expected an integer (0 for false)");
  return *parsed != 0;
}

EndpointDescription parseEndpointDescription(std::string_view description) {
  return Parser(description).run();
}

std::string quoteStringArgument(std::string_view argument) {
  std::string out;
  out.reserve(argument.size());
  for (char c : argument) {
    if (c == '\\' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace coil::endpoints
