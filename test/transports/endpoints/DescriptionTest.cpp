// Tests for coil::endpoints' description grammar (Twisted's test_endpoints.py parsing cases).
#include <coil/transports/endpoints/Description.hpp>

#include <test/support/Testing.hpp>

#include <string>
#include <utility>
#include <vector>

using coil::endpoints::EndpointDescription;
using coil::endpoints::EndpointSyntaxError;
using coil::endpoints::parseEndpointDescription;
using coil::endpoints::quoteStringArgument;

namespace {

using Args = std::vector<std::string>;
using Kwargs = std::vector<std::pair<std::string, std::string>>;

void check(const std::string& text, const std::string& type, const Args& args,
           const Kwargs& kwargs) {
  EndpointDescription d = parseEndpointDescription(text);
  BOOST_TEST(d.description == text);
  BOOST_TEST(d.type == type);
  BOOST_TEST(d.args == args, boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(d.kwargs.size(), kwargs.size());
  for (std::size_t i = 0; i < kwargs.size(); ++i) {
    BOOST_TEST(d.kwargs[i].first == kwargs[i].first);
    BOOST_TEST(d.kwargs[i].second == kwargs[i].second);
  }
}

// The message of the EndpointSyntaxError that parsing `text` throws ("" if none).
std::string syntaxError(const std::string& text) {
  try {
    parseEndpointDescription(text);
  } catch (const EndpointSyntaxError& e) {
    BOOST_TEST(e.description() == text);
    return e.what();
  }
  return "";
}

template <typename F>
std::string valueError(F&& f) {
  try {
    f();
  } catch (const EndpointSyntaxError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Description)

COIL_TEST_CASE(simpleType) {
  check("tcp", "tcp", {}, {});
}

COIL_TEST_CASE(multiplePositional) {
  check("tcp:80:127.0.0.1", "tcp", {"80", "127.0.0.1"}, {});
}

COIL_TEST_CASE(simpleKeyword) {
  check("tcp:port=80", "tcp", {}, {{"port", "80"}});
}

COIL_TEST_CASE(multipleKeywordsKeepOrder) {
  check("tcp:port=80:interface=127.0.0.1:backlog=5", "tcp", {},
        {{"port", "80"}, {"interface", "127.0.0.1"}, {"backlog", "5"}});
}

COIL_TEST_CASE(positionalAndKeywordMixed) {
  check("tcp:80:backlog=50:127.0.0.1", "tcp", {"80", "127.0.0.1"}, {{"backlog", "50"}});
}

COIL_TEST_CASE(typeIsFirstPositionalEvenAfterKeywords) {
  // Twisted: args.pop(0) after _parse, whatever came before it.
  check("port=80:tcp:x", "tcp", {"x"}, {{"port", "80"}});
}

COIL_TEST_CASE(caseIsPreserved) {
  check("TCP:Host=A", "TCP", {}, {{"Host", "A"}});
}

COIL_TEST_CASE(impliedEscapeEqualsInValue) {
  // test_impliedEscape: unix:address=foo=bar.
  check("unix:address=foo=bar", "unix", {}, {{"address", "foo=bar"}});
  check("a:x=b=c", "a", {}, {{"x", "b=c"}});
  check("a:x===", "a", {}, {{"x", "=="}});
}

COIL_TEST_CASE(escapeColonEqualsBackslash) {
  // test_escape: unix:foo\:bar\=baz\:qux\\ -> one positional "foo:bar=baz:qux\".
  check(R"(unix:foo\:bar\=baz\:qux\\)", "unix", {"foo:bar=baz:qux\\"}, {});
}

COIL_TEST_CASE(escapeInKeyAndValue) {
  check(R"(t:k\:ey\=x=v\:a\\l)", "t", {}, {{"k:ey=x", "v:a\\l"}});
}

COIL_TEST_CASE(escapeOrdinaryCharacterKeepsIt) {
  check(R"(t:\a\b\c)", "t", {"abc"}, {});
  check(R"(\t\c\p:1)", "tcp", {"1"}, {});
}

COIL_TEST_CASE(emptyValues) {
  check("tcp:", "tcp", {""}, {});
  check("tcp::", "tcp", {"", ""}, {});
  check("tcp:interface=", "tcp", {}, {{"interface", ""}});
  check("tcp:80::x", "tcp", {"80", "", "x"}, {});
}

COIL_TEST_CASE(repeatedKeywordLastValueWins) {
  check("tcp:a=1:b=2:a=3", "tcp", {}, {{"a", "3"}, {"b", "2"}});
}

COIL_TEST_CASE(unicodeBytesPassThrough) {
  const std::string host = "\xc3\xa9t\xc3\xa9.example";  // "été.example" in UTF-8
  check("tcp:" + host + ":80:name=\xe2\x98\x83", "tcp", {host, "80"}, {{"name", "\xe2\x98\x83"}});
  check(std::string("t:a\0b", 5), "t", {std::string("a\0b", 3)}, {});
}

COIL_TEST_CASE(quoteStringArgumentEscapesBackslashAndColon) {
  // test_quoteStringArgument.
  BOOST_TEST(quoteStringArgument("some : stuff \\") == "some \\: stuff \\\\");
  BOOST_TEST(quoteStringArgument("a=b") == "a=b");
  BOOST_TEST(quoteStringArgument("") == "");
}

COIL_TEST_CASE(quoteStringArgumentRoundTripsEveryByte) {
  for (int c = 0; c < 256; ++c) {
    const std::string s = std::string("x") + static_cast<char>(c) + "y" + static_cast<char>(c);
    EndpointDescription d = parseEndpointDescription("t:k=" + quoteStringArgument(s));
    BOOST_REQUIRE_EQUAL(d.kwargs.size(), 1u);
    BOOST_TEST(d.kwargs[0].second == s, "byte " << c);
    if (c != '=') {
      EndpointDescription p = parseEndpointDescription("t:" + quoteStringArgument(s) + ":z");
      BOOST_TEST(p.args == (Args{s, "z"}), boost::test_tools::per_element());
    }
  }
}

COIL_TEST_CASE(quotedPositionalWithEqualsBecomesKeyword) {
  // quoteStringArgument leaves '=' alone (as Twisted does).
  check("t:" + quoteStringArgument("a=b"), "t", {}, {{"a", "b"}});
}

COIL_TEST_CASE(quoteStringArgumentNestsDescriptions) {
  // tls:...:endpoint=<escaped nested description>.
  const std::string inner = R"(unix:path=/tmp/a\:b:timeout=3)";
  EndpointDescription d =
      parseEndpointDescription("tls:h:443:endpoint=" + quoteStringArgument(inner));
  BOOST_REQUIRE(d.kwarg("endpoint") != nullptr);
  BOOST_TEST(*d.kwarg("endpoint") == inner);
  EndpointDescription nested = parseEndpointDescription(*d.kwarg("endpoint"));
  BOOST_TEST(*nested.kwarg("path") == "/tmp/a:b");
}

COIL_TEST_CASE(trailingBackslashIsAnError) {
  BOOST_TEST(syntaxError("tcp:80\\") ==
             "invalid endpoint description 'tcp:80\\': trailing backslash (escapes nothing)");
  BOOST_TEST(syntaxError("\\") != "");
  BOOST_TEST(syntaxError("tcp:80\\\\") == "");  // an escaped backslash is fine
}

COIL_TEST_CASE(emptyDescriptionIsAnError) {
  BOOST_TEST(syntaxError("") == "invalid endpoint description '': empty description");
}

COIL_TEST_CASE(emptyTypeIsAnError) {
  BOOST_TEST(syntaxError(":80") == "invalid endpoint description ':80': empty endpoint type");
  BOOST_TEST(syntaxError(":") != "");
}

COIL_TEST_CASE(noPositionalIsAnError) {
  BOOST_TEST(syntaxError("port=80") ==
             "invalid endpoint description 'port=80': no endpoint type (every parameter is "
             "key=value)");
}

COIL_TEST_CASE(emptyKeyIsAnError) {
  const std::string message = syntaxError("tcp:=80");
  BOOST_TEST(message.find("'tcp:=80'") != std::string::npos);
  BOOST_TEST(message.find("empty key in parameter 2") != std::string::npos);
}

COIL_TEST_CASE(isAnInvalidArgument) {
  BOOST_CHECK_THROW(parseEndpointDescription(""), std::invalid_argument);
}

COIL_TEST_CASE(kwargLookup) {
  EndpointDescription d = parseEndpointDescription("tcp:80:backlog=7");
  BOOST_REQUIRE(d.kwarg("backlog") != nullptr);
  BOOST_TEST(*d.kwarg("backlog") == "7");
  BOOST_TEST(d.kwarg("interface") == nullptr);
}

COIL_TEST_CASE(takeIntParsesAndNamesBadValues) {
  EndpointDescription d = parseEndpointDescription("tcp:80:backlog=x");
  BOOST_TEST(d.takeInt("port", d.args[0]) == 80);
  BOOST_TEST(d.takeInt("n", "-12") == -12);
  BOOST_TEST(d.takeInt("n", "+7") == 7);
  BOOST_TEST(valueError([&] { d.takeInt("backlog", *d.kwarg("backlog")); }) ==
             "bad value for 'backlog' in 'tcp:80:backlog=x': expected an integer");
  for (const char* bad : {"", "1.5", " 1", "1 ", "0x10", "+-1", "++1", "99999999999999999999"})
    BOOST_TEST(valueError([&] { d.takeInt("n", bad); }) != "", bad);
}

COIL_TEST_CASE(takeIntWithBounds) {
  EndpointDescription d = parseEndpointDescription("tcp:70000");
  BOOST_TEST(d.takeInt("port", "65535", 0, 65535) == 65535);
  BOOST_TEST(valueError([&] { d.takeInt("port", d.args[0], 0, 65535); }) ==
             "bad value for 'port' in 'tcp:70000': expected an integer from 0 to 65535");
}

COIL_TEST_CASE(takeOctalAsTwistedMode) {
  EndpointDescription d = parseEndpointDescription("unix:/var/run/finger:mode=0660");
  BOOST_TEST(d.takeOctal("mode", *d.kwarg("mode")) == 0660u);
  BOOST_TEST(d.takeOctal("mode", "666") == 0666u);
  BOOST_TEST(d.takeOctal("mode", "0o644") == 0644u);
  BOOST_TEST(valueError([&] { d.takeOctal("mode", "0698"); }) ==
             "bad value for 'mode' in 'unix:/var/run/finger:mode=0660': expected an octal "
             "integer");
  BOOST_TEST(valueError([&] { d.takeOctal("mode", "-1"); }) != "");
}

COIL_TEST_CASE(takeFloatAndBool) {
  EndpointDescription d = parseEndpointDescription("unix:/p:timeout=2.5:lockfile=0");
  BOOST_TEST(d.takeFloat("timeout", *d.kwarg("timeout")) == 2.5);
  BOOST_TEST(d.takeFloat("timeout", "30") == 30.0);
  BOOST_TEST(valueError([&] { d.takeFloat("timeout", "soon"); }) ==
             "bad value for 'timeout' in 'unix:/p:timeout=2.5:lockfile=0': expected a number");
  BOOST_TEST(valueError([&] { d.takeFloat("timeout", "inf"); }) != "");
  BOOST_TEST(valueError([&] { d.takeFloat("timeout", "+-1"); }) != "");
  BOOST_TEST(d.takeBool("lockfile", *d.kwarg("lockfile")) == false);
  BOOST_TEST(d.takeBool("lockfile", "1") == true);
  BOOST_TEST(d.takeBool("lockfile", "2") == true);
  BOOST_TEST(valueError([&] { d.takeBool("lockfile", "yes"); }) != "");
}

COIL_TEST_CASE(badValueCarriesParts) {
  EndpointDescription d = parseEndpointDescription("tcp:80");
  EndpointSyntaxError e = d.badValue("interface", "expected an address");
  BOOST_TEST(e.description() == "tcp:80");
  BOOST_TEST(e.parameter() == "interface");
  BOOST_TEST(e.reason() == "expected an address");
  BOOST_TEST(std::string(e.what()) == "bad value for 'interface' in 'tcp:80': expected an address");
}

BOOST_AUTO_TEST_SUITE_END()
