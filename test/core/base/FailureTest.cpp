// Tests for coil::Failure (Twisted's test_failure.FailureTests) and the Errors.hpp hierarchy.
#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>

#include <test/support/Testing.hpp>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

using coil::Failure;
using coil::NoCurrentExceptionError;
namespace error = coil::error;

namespace {

struct GenericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// check()'s answer as a printable number: the index, or -1 for no match.
int matchIndex(std::optional<std::size_t> match) {
  return match ? static_cast<int>(*match) : -1;
}

/// A Failure made inside a catch block, as Twisted's getDivisionFailure().
Failure divisionFailure() {
  try {
    throw std::domain_error("division by zero");
  } catch (...) {
    return Failure::current();
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(FailureBasics)

COIL_TEST_CASE(currentInsideACatchBlockHoldsTheHandledException) {
  const void* thrown = nullptr;
  std::optional<Failure> f;
  try {
    throw GenericError("caught");
  } catch (const GenericError& e) {
    thrown = &e;
    f = Failure::current();
  }
  BOOST_REQUIRE(f.has_value());
  BOOST_TEST(f->value<GenericError>() == thrown);
  BOOST_TEST(f->getErrorMessage() == "caught");
}

COIL_TEST_CASE(currentOutsideACatchBlockThrows) {
  // test_ConstructionFails
  BOOST_CHECK_THROW(Failure::current(), NoCurrentExceptionError);
  BOOST_CHECK_THROW(Failure(std::exception_ptr()), NoCurrentExceptionError);
  static_assert(std::is_base_of_v<std::logic_error, NoCurrentExceptionError>);
}

COIL_TEST_CASE(checkReturnsTheFirstMatchInArgumentOrder) {
  Failure f(error::ConnectionAborted("aborted"));
  BOOST_TEST(
      (matchIndex(
           f.check<error::ConnectionDone, error::ConnectionLost, error::ConnectionClosed>()) == 1));
  BOOST_TEST((matchIndex(f.check<error::ConnectionClosed, error::ConnectionLost>()) == 0));
  BOOST_TEST(matchIndex(f.check<error::ConnectionAborted>()) == 0);
  BOOST_TEST(matchIndex(f.check<std::exception>()) == 0);
  BOOST_TEST(matchIndex(f.check<std::system_error>()) == 0);
}

COIL_TEST_CASE(checkWithoutAMatchReturnsNothing) {
  Failure f{error::ConnectionDone()};
  BOOST_TEST(!f.check<error::ConnectionLost>().has_value());
  BOOST_TEST((!f.check<std::logic_error, int>().has_value()));
  BOOST_TEST(!f.check<>().has_value());
}

COIL_TEST_CASE(trapReturnsTheIndexOfTheMatch) {
  // test_failAndTrap
  std::optional<Failure> f;
  try {
    throw std::out_of_range("test");
  } catch (...) {
    f = Failure::current();
  }
  BOOST_TEST((f->trap<std::runtime_error, std::logic_error>() == 1u));
  BOOST_TEST(f->typeName() == "std::out_of_range");
}

COIL_TEST_CASE(trapRethrowsTheOriginalWhenNothingMatches) {
  // test_trapRaisesWrappedException
  Failure f(std::invalid_argument("wrapped"));
  const void* original = f.value<std::invalid_argument>();
  try {
    f.trap<std::overflow_error>();
    BOOST_FAIL("trap did not throw");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(static_cast<const void*>(&e) == original);
  }
}

COIL_TEST_CASE(trapWithAMatchLeavesTheFailureAlone) {
  // test_ExplictPass
  Failure f(std::runtime_error("kept"));
  const void* before = f.value<std::runtime_error>();
  BOOST_TEST(f.trap<std::runtime_error>() == 0u);
  BOOST_TEST(f.value<std::runtime_error>() == before);
}

COIL_TEST_CASE(raiseRethrowsTheSameObject) {
  Failure f = divisionFailure();
  const void* original = f.value<std::domain_error>();
  BOOST_REQUIRE(original != nullptr);
  try {
    f.raise();
  } catch (const std::domain_error& e) {
    BOOST_TEST(static_cast<const void*>(&e) == original);
    BOOST_TEST(std::string(e.what()) == "division by zero");
  }
  BOOST_CHECK_THROW(f.raise(), std::domain_error);
}

COIL_TEST_CASE(getErrorMessageIsTheExceptionsWhat) {
  BOOST_TEST(divisionFailure().getErrorMessage() == "division by zero");
  BOOST_TEST(Failure(error::ConnectionDone()).getErrorMessage() ==
             "Connection was closed cleanly.");
  BOOST_TEST(Failure(42).getErrorMessage() == "exception of type int");
}

COIL_TEST_CASE(getErrorMessageOfANestedFailureIsTheInnerMessage) {
  // Twisted: a Failure of a Failure reports the inner failure's value.
  Failure inner(std::runtime_error("inner message"));
  Failure outer(inner.exception());  // the same exception
  BOOST_TEST(outer.getErrorMessage() == "inner message");
  std::optional<Failure> thrownFailure;
  try {
    throw inner;  // a Failure thrown as an exception object
  } catch (...) {
    thrownFailure = Failure::current();
  }
  BOOST_TEST(thrownFailure->getErrorMessage() == "inner message");
}

COIL_TEST_CASE(typeNameIsDemangled) {
  BOOST_TEST(Failure(error::ConnectionDone()).typeName() == "coil::error::ConnectionDone");
  BOOST_TEST(Failure(coil::CancelledError()).typeName() == "coil::CancelledError");
  BOOST_TEST(Failure(std::runtime_error("x")).typeName() == "std::runtime_error");
  BOOST_TEST(Failure(7).typeName() == "int");
}

COIL_TEST_CASE(describeIsTypeColonMessage) {
  // test_repr: "<type>: <message>"
  BOOST_TEST(divisionFailure().describe() == "std::domain_error: division by zero");
}

COIL_TEST_CASE(valueGivesTheExceptionObjectOrNull) {
  Failure f(
      error::CannotListenError("127.0.0.1", 8080, std::make_error_code(std::errc::address_in_use)));
  const auto* e = f.value<error::CannotListenError>();
  BOOST_REQUIRE(e != nullptr);
  BOOST_TEST(e->port == 8080);
  BOOST_TEST(e->interface == "127.0.0.1");
  BOOST_TEST(f.value<error::BindError>() == static_cast<const error::BindError*>(e));
  BOOST_TEST(f.value<std::exception>() != nullptr);
  BOOST_TEST(f.value<error::ConnectError>() == nullptr);
  BOOST_TEST(f.value<int>() == nullptr);
  Failure number(5);
  BOOST_REQUIRE(number.value<int>() != nullptr);
  BOOST_TEST(*number.value<int>() == 5);
}

COIL_TEST_CASE(copiesShareTheException) {
  Failure f(GenericError("shared"));
  Failure copy = f;
  BOOST_TEST((copy.exception() == f.exception()));
  BOOST_TEST(copy.value<GenericError>() == f.value<GenericError>());
  Failure assigned(std::logic_error("other"));
  assigned = copy;
  BOOST_TEST(assigned.value<GenericError>() == f.value<GenericError>());
  std::vector<Failure> many(3, f);
  for (const Failure& each : many)
    BOOST_TEST(each.value<GenericError>() == f.value<GenericError>());
}

COIL_TEST_CASE(aBaseReferenceToTheHandledExceptionKeepsItsDynamicType) {
  std::optional<Failure> f;
  try {
    throw error::ConnectionLost("reset");
  } catch (const std::exception& e) {
    f.emplace(e);
  }
  BOOST_TEST(f->check<error::ConnectionLost>().has_value());
  BOOST_TEST(f->typeName() == "coil::error::ConnectionLost");
  BOOST_TEST(f->getErrorMessage() ==
             "Connection to the other side was lost in a non-clean fashion: reset.");
}

COIL_TEST_CASE(anExceptionObjectIsCopiedByValue) {
  GenericError original("by value");
  Failure f(original);
  BOOST_TEST(f.value<GenericError>() != &original);
  BOOST_TEST(f.getErrorMessage() == "by value");
}

COIL_TEST_CASE(fromAnExceptionPtr) {
  std::exception_ptr p = std::make_exception_ptr(error::ConnectionDone());
  Failure f(p);
  BOOST_TEST((f.exception() == p));
  BOOST_TEST(f.check<error::ConnectionClosed>().has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Errors.hpp ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(Errors)

COIL_TEST_CASE(connectionClosedFamily) {
  static_assert(std::is_base_of_v<error::ConnectionLost, error::ConnectionAborted>);
  static_assert(std::is_base_of_v<error::ConnectionClosed, error::ConnectionLost>);
  static_assert(std::is_base_of_v<error::ConnectionClosed, error::ConnectionDone>);
  static_assert(!std::is_base_of_v<error::ConnectionLost, error::ConnectionDone>);
  static_assert(std::is_base_of_v<coil::Error, error::ConnectionClosed>);
  static_assert(std::is_base_of_v<std::system_error, coil::Error>);
  Failure aborted{error::ConnectionAborted()};
  BOOST_TEST(aborted.check<error::ConnectionLost>().has_value());
  BOOST_TEST(aborted.check<error::ConnectionClosed>().has_value());
  BOOST_TEST(!aborted.check<error::ConnectionDone>().has_value());
}

COIL_TEST_CASE(timeoutErrorsAreDistinct) {
  // error.TimeoutError is a UserError is a ConnectError; defer.TimeoutError is neither.
  static_assert(std::is_base_of_v<error::UserError, error::TimeoutError>);
  static_assert(std::is_base_of_v<error::ConnectError, error::UserError>);
  Failure connectTimeout{error::TimeoutError()};
  Failure deferTimeout{coil::TimeoutError()};
  BOOST_TEST(connectTimeout.check<error::ConnectError>().has_value());
  BOOST_TEST(!connectTimeout.check<coil::TimeoutError>().has_value());
  BOOST_TEST(!deferTimeout.check<error::TimeoutError>().has_value());
  BOOST_TEST(!deferTimeout.check<error::ConnectError>().has_value());
  BOOST_TEST(connectTimeout.getErrorMessage() == "User timeout caused connection failure.");
  BOOST_TEST(deferTimeout.value<coil::TimeoutError>()->code() ==
             std::make_error_code(std::errc::timed_out));
}

COIL_TEST_CASE(cannotListenErrorNamesInterfaceAndPort) {
  static_assert(std::is_base_of_v<error::BindError, error::CannotListenError>);
  error::CannotListenError any("", 80, std::make_error_code(std::errc::address_in_use));
  BOOST_TEST(any.interface == "");
  BOOST_TEST(any.port == 80);
  BOOST_TEST(any.code() == std::make_error_code(std::errc::address_in_use));
  const std::string expected =
      "Couldn't listen on any:80: " + std::to_string(static_cast<int>(std::errc::address_in_use)) +
      ": " + std::make_error_code(std::errc::address_in_use).message() + ".";
  BOOST_TEST(std::string(any.what()) == expected);
  error::CannotListenError local("127.0.0.1", 8080, {});
  BOOST_TEST(std::string(local.what()) == "Couldn't listen on 127.0.0.1:8080.");
}

COIL_TEST_CASE(messagesAreShapedLikeTwisted) {
  BOOST_TEST(std::string(error::ConnectionDone().what()) == "Connection was closed cleanly.");
  BOOST_TEST(std::string(error::ConnectionLost("peer reset").what()) ==
             "Connection to the other side was lost in a non-clean fashion: peer reset.");
  BOOST_TEST(std::string(error::ConnectionLost("already punctuated.").what()) ==
             "Connection to the other side was lost in a non-clean fashion: already punctuated.");
  auto refused = std::make_error_code(std::errc::connection_refused);
  BOOST_TEST(std::string(error::ConnectionRefusedError("", refused).what()) ==
             "Connection was refused by other side: " + std::to_string(refused.value()) + ": " +
                 refused.message() + ".");
  BOOST_TEST(std::string(error::ConnectError().what()) == "An error occurred while connecting.");
  BOOST_TEST(error::ConnectionLost("peer reset").detail() == "peer reset");
}

COIL_TEST_CASE(firstErrorCarriesTheSubFailureAndIndex) {
  Failure sub(GenericError("from def2"));
  coil::FirstError first(sub, 1);
  BOOST_TEST(first.index == 1u);
  BOOST_TEST((first.subFailure.exception() == sub.exception()));
  BOOST_TEST(first.subFailure.check<GenericError>().has_value());
  std::string what = first.what();
  BOOST_TEST(what.find("FirstError") == 0u);
  BOOST_TEST(what.find("from def2") != std::string::npos);
  Failure wrapped{coil::FirstError(sub, 3)};
  BOOST_TEST(wrapped.value<coil::FirstError>()->index == 3u);
}

COIL_TEST_CASE(deferErrorsKinds) {
  static_assert(std::is_base_of_v<std::logic_error, coil::AlreadyCalledError>);
  static_assert(std::is_base_of_v<std::logic_error, coil::DeferredTypeError>);
  static_assert(!std::is_base_of_v<std::system_error, coil::AlreadyCalledError>);
  static_assert(std::is_base_of_v<std::system_error, coil::CancelledError>);
  BOOST_TEST(std::string(coil::AlreadyCalledError().what()) == "Deferred was already called.");
  BOOST_TEST(coil::CancelledError().code() == std::make_error_code(std::errc::operation_canceled));
  Failure group{coil::FailureGroup({Failure(GenericError("a")), Failure(GenericError("b"))})};
  const auto* g = group.value<coil::FailureGroup>();
  BOOST_REQUIRE(g != nullptr);
  BOOST_REQUIRE_EQUAL(g->failures.size(), 2u);
  BOOST_TEST(g->failures[1].getErrorMessage() == "b");
}

COIL_TEST_CASE(processEndings) {
  static_assert(std::is_base_of_v<error::ConnectionLost, error::ProcessTerminated>);
  static_assert(std::is_base_of_v<error::ConnectionDone, error::ProcessDone>);
  error::ProcessTerminated exited(1, -1, 256);
  BOOST_TEST(exited.exitCode == 1);
  BOOST_TEST(exited.signal == -1);
  BOOST_TEST(std::string(exited.what()).find("process ended with exit code 1") !=
             std::string::npos);
  error::ProcessTerminated killed(-1, 9, 9);
  BOOST_TEST(std::string(killed.what()).find("process ended by signal 9") != std::string::npos);
  error::ProcessDone done;
  BOOST_TEST(done.exitCode == 0);
  BOOST_TEST(Failure(done).check<error::ConnectionDone>().has_value());
}

COIL_TEST_CASE(taskErrors) {
  static_assert(std::is_base_of_v<coil::task::TaskFinished, coil::task::TaskDone>);
  static_assert(std::is_base_of_v<coil::task::TaskFinished, coil::task::TaskStopped>);
  static_assert(std::is_base_of_v<coil::task::TaskFinished, coil::task::TaskFailed>);
  static_assert(std::is_base_of_v<std::logic_error, coil::task::NotPaused>);
  Failure f{coil::task::TaskDone()};
  BOOST_TEST((matchIndex(f.check<coil::task::SchedulerStopped, coil::task::TaskFinished>()) == 1));
}

BOOST_AUTO_TEST_SUITE_END()
