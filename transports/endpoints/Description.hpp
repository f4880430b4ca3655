#pragma once
/// @file Description: the endpoint description grammar of serverFromString/clientFromString
/// (Twisted's endpoints._tokenize/_parse and quoteStringArgument), plus typed value helpers for
/// the endpoint parsers.
///
/// Grammar (Twisted's, byte for byte): ':' separates parameters; in a parameter the first '='
/// splits key from value, and after it only ':' is special (`a=b=c` gives a -> "b=c"); '\'
/// escapes the next byte anywhere; a parameter without '=' is positional; the first positional
/// parameter is the endpoint type. Bytes outside ':', '=' and '\' (UTF-8 included) pass through.

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coil::endpoints {

/// A malformed endpoint description or parameter value (Twisted raises ValueError). what()
/// quotes the whole description and names the bad part.
class EndpointSyntaxError : public std::invalid_argument {
 public:
  /// A grammar error: "invalid endpoint description '<description>': <reason>".
  EndpointSyntaxError(std::string description, std::string reason);
  /// A bad parameter value: "bad value for '<name>' in '<description>': <reason>".
  EndpointSyntaxError(std::string description, std::string name, std::string reason);

  /// The whole description as given.
  const std::string& description() const noexcept { return description_; }
  /// The parameter whose value is bad; empty for grammar errors.
  const std::string& parameter() const noexcept { return parameter_; }
  /// What is wrong ("trailing backslash", "expected an integer", …).
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string description_;
  std::string parameter_;
  std::string reason_;
};

/// A parsed endpoint description: type, positional arguments and keyword arguments.
struct EndpointDescription {
  /// The whole description as given (quoted by error messages).
  std::string description;
  /// The endpoint type: the first positional parameter ("tcp"), unescaped, case preserved.
  std::string type;
  /// The other positional parameters, unescaped, in order.
  std::vector<std::string> args;
  /// Keyword parameters, unescaped, in order of first appearance. A repeated key keeps its
  /// first position and takes the last value (Twisted collects them in a dict).
  std::vector<std::pair<std::string, std::string>> kwargs;

  /// The value of keyword `key`, or nullptr when absent.
  const std::string* kwarg(std::string_view key) const noexcept;

  /// The error for a bad value of parameter `name` (for parsers that check more themselves).
  EndpointSyntaxError badValue(std::string_view name, std::string_view reason) const;

  /// `value` as a decimal int (optional sign, ASCII digits, nothing else); throws
  /// EndpointSyntaxError "bad value for '<name>' in '<description>': expected an integer".
  int takeInt(std::string_view name, std::string_view value) const;
  /// takeInt() that also requires min <= result <= max ("expected an integer from min to max").
  int takeInt(std::string_view name, std::string_view value, int min, int max) const;
  /// `value` as an octal integer, as Twisted's int(mode, 8) ("expected an octal integer").
  unsigned takeOctal(std::string_view name, std::string_view value) const;
  /// `value` as a finite decimal number ("expected a number").
  double takeFloat(std::string_view name, std::string_view value) const;
  /// `value` as Twisted's bool(int(value)): an integer, true when non-zero.
  bool takeBool(std::string_view name, std::string_view value) const;
};

/// Parses `description` with Twisted's grammar. Throws EndpointSyntaxError for an empty
/// description, a trailing backslash, an empty key ("=x"), no positional parameter (no type) or
/// an empty type (":80").
EndpointDescription parseEndpointDescription(std::string_view description);

/// Escapes '\' and ':' with '\' so that `argument` survives as one parameter value (Twisted's
/// quoteStringArgument; '=' is not escaped, so a quoted positional must not contain '=').
std::string quoteStringArgument(std::string_view argument);

}  // namespace coil::endpoints
