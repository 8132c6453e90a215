#pragma once
// Keep going past failures: parmap::outcome<T> (a value, or the exception fn threw for that
// item), parmap::catching(fn) (fn, returning an outcome instead of throwing) and
// parmap::failures(results) (which items failed, and why).
//
//   auto results = parmap::parallel_map(files, parmap::catching(convert));
//   for (const parmap::failure& f : parmap::failures(results))
//     std::printf("#%zu: %s\n", f.index, f.what.c_str());
//
// Because catching(fn) is just a callable, every algorithm takes it: parallel_map,
// parallel_map_into, parallel_zip_map, imap, imap_unordered, parmap::mpi::parallel_map.

#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "parmap/errors.hpp"

// The two things only the C++ ABI (Itanium: GCC, Clang) can tell, kept to this one place.
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
namespace parmap::detail {
/// The type of the exception being handled; call it in a catch block. Any type, including
/// ones that derive from nothing.
[[nodiscard]] inline const std::type_info* handled_exception_type() noexcept {
  return abi::__cxa_current_exception_type();
}
/// `type`'s name demangled ("bad_header", "std::runtime_error", "int").
[[nodiscard]] inline std::string readable_type_name(const std::type_info& type) {
  int status = 0;
  // __cxa_demangle returns a malloc'ed buffer (or null on failure), which we own.
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}
}  // namespace parmap::detail
#else
namespace parmap::detail {
[[nodiscard]] inline const std::type_info* handled_exception_type() noexcept {
  return nullptr;
}
[[nodiscard]] inline std::string readable_type_name(const std::type_info& type) {
  return type.name();
}
}  // namespace parmap::detail
#endif

namespace parmap {

/// The tag that selects an outcome's error constructor: `outcome<int>(parmap::unexpect, e)`.
/// std::expected's std::unexpect_t, which C++20 lacks.
struct unexpect_t {
  explicit unexpect_t() = default;
};
/// See unexpect_t.
inline constexpr unexpect_t unexpect{};

template <class T>
class outcome;

namespace detail {

template <class T>
inline constexpr bool is_outcome = false;
template <class T>
inline constexpr bool is_outcome<outcome<T>> = true;

}  // namespace detail

/// True when T is some parmap::outcome<U> (cv-qualifiers ignored).
template <class T>
inline constexpr bool is_outcome_v = detail::is_outcome<std::remove_cv_t<T>>;

namespace detail {

/// The dynamic type of the exception `e` holds, readable (see readable_type_name); "" for a
/// null `e`.
[[nodiscard]] inline std::string exception_type_name(const std::exception_ptr& e) {
  if (!e) return {};
  // An exception_ptr does not expose its type: rethrow it and ask the handler.
  try {
    std::rethrow_exception(e);
  } catch (...) {
    if (const std::type_info* type = handled_exception_type()) return readable_type_name(*type);
  }
  // Without the ABI's help only std::exception's dynamic type can be named.
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return readable_type_name(typeid(x));
  } catch (...) {
    return "an unknown type";
  }
}

/// The text the exception `e` carries, if it has one: what() of a std::exception, or a thrown
/// string (`throw "bad header"`, a std::string). std::nullopt for other types and a null `e`.
[[nodiscard]] inline std::optional<std::string> exception_text(const std::exception_ptr& e) {
  if (!e) return std::nullopt;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return std::string(x.what());
  } catch (const char* text) {
    if (text != nullptr) return std::string(text);
  } catch (const std::string& text) {
    return text;
  } catch (...) {
  }
  return std::nullopt;
}

/// A readable message for the exception `e` holds: its text (see exception_text), else
/// "exception of type NAME" (`throw 42`: "exception of type int"). "" for a null `e`.
[[nodiscard]] inline std::string exception_message(const std::exception_ptr& e) {
  if (!e) return {};
  if (auto text = exception_text(e)) return std::move(*text);
  return "exception of type " + exception_type_name(e);
}

/// The result of construction with a callable, for catching (see outcome's private constructor).
struct invoke_tag {
  explicit invoke_tag() = default;
};

/// Lets catching build an outcome straight from fn's result, with no move in between.
struct outcome_access;

}  // namespace detail

/// The outcome of one item: either the value fn returned for it, or the exception fn threw for
/// it, held as a std::exception_ptr with its original type. What parmap::catching(fn) returns.
/// Follows std::expected<T, std::exception_ptr>'s vocabulary (has_value, value, error,
/// value_or, operator*, operator->, unexpect), with these differences: value() on an error
/// rethrows the stored exception itself (not bad_expected_access); error() of a value is a null
/// exception_ptr; what() and error_type_name() describe the error in words.
///
/// T is an object type (a function returning a reference gives an outcome of a copy, as
/// parallel_map does); outcome<void> holds no value. An outcome is as large as T and one
/// pointer (rounded up to T's alignment), allocates nothing on the success path, and is
/// default-constructible (holding T{}) when T is, so parallel_map writes it in place.
template <class T>
class outcome {
  static_assert(std::is_object_v<T> && !std::is_array_v<T>,
                "parmap::outcome<T>: T must be an object type that is not an array "
                "(a reference result is copied: use outcome<std::remove_cvref_t<R>>)");
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T>,
                "parmap::outcome<T>: T must not be const or volatile");
  static_assert(!std::is_same_v<T, unexpect_t> && !std::is_same_v<T, std::in_place_t>,
                "parmap::outcome<T>: T must not be a tag type");

  // What T allows, named once for the constraints and noexcept specifications below.
  static constexpr bool copyable = std::copy_constructible<T> && std::is_copy_assignable_v<T>;
  static constexpr bool movable = std::move_constructible<T> && std::is_move_assignable_v<T>;
  static constexpr bool nothrow_copy =
      std::is_nothrow_copy_constructible_v<T> && std::is_nothrow_copy_assignable_v<T>;
  static constexpr bool nothrow_move =
      std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>;
  template <class U>
  static constexpr bool value_from =
      std::constructible_from<T, U> && !std::is_same_v<std::remove_cvref_t<U>, outcome> &&
      !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> &&
      !std::is_same_v<std::remove_cvref_t<U>, unexpect_t>;

 public:
  using value_type = T;
  using error_type = std::exception_ptr;

  /// Holds a value-initialized T (0 for numbers), as std::expected's default does.
  outcome() noexcept(
      std::is_nothrow_default_constructible_v<T>) requires std::default_initializable<T>
      : value_() {}

  /// Holds T(std::forward<U>(v)). Explicit when U does not convert to T implicitly.
  template <class U = T>
  requires value_from<U>
  explicit(!std::is_convertible_v<U, T>)
      outcome(U&& v) noexcept(std::is_nothrow_constructible_v<T, U>)
      : value_(std::forward<U>(v)) {}

  /// Holds T(std::forward<Args>(args)...).
  template <class... Args>
  requires std::constructible_from<T, Args...>
  explicit outcome(std::in_place_t,
                   Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>)
      : value_(std::forward<Args>(args)...) {}

  /// Holds the error `e`. Throws std::invalid_argument when `e` is null: an outcome without a
  /// value holds an exception.
  outcome(unexpect_t, std::exception_ptr e) : error_(checked(std::move(e))) {}

  outcome(const outcome& other) noexcept(
      std::is_nothrow_copy_constructible_v<T>) requires std::copy_constructible<T>
      : error_(other.error_) {
    if (!error_) std::construct_at(std::addressof(value_), other.value_);
  }

  // Moving leaves the source's error in place (a copy of the pointer): a moved-from outcome
  // keeps its state, a moved-from value or the same error, as std::expected's does.
  outcome(outcome&& other) noexcept(
      std::is_nothrow_move_constructible_v<T>) requires std::move_constructible<T>
      : error_(other.error_) {
    if (!error_) std::construct_at(std::addressof(value_), std::move(other.value_));
  }

  outcome& operator=(const outcome& other) noexcept(nothrow_copy) requires copyable {
    if (!error_ && !other.error_) [[likely]] {
      value_ = other.value_;
    } else {
      assign_slow(other.value_, other.error_);
    }
    return *this;
  }

  outcome& operator=(outcome&& other) noexcept(nothrow_move) requires movable {
    if (!error_ && !other.error_) [[likely]] {
      value_ = std::move(other.value_);
    } else {
      assign_slow(std::move(other.value_), other.error_);
    }
    return *this;
  }

  ~outcome() {
    if (!error_) std::destroy_at(std::addressof(value_));
  }

  /// True when the outcome holds a value (fn returned), false when it holds an error.
  [[nodiscard]] bool has_value() const noexcept { return !error_; }
  /// has_value().
  explicit operator bool() const noexcept { return has_value(); }

  /// The value. When the outcome holds an error, rethrows that exception, with its own type.
  T& value() & {
    if (error_) std::rethrow_exception(error_);
    return value_;
  }
  const T& value() const& {
    if (error_) std::rethrow_exception(error_);
    return value_;
  }
  T&& value() && {
    if (error_) std::rethrow_exception(error_);
    return std::move(value_);
  }
  const T&& value() const&& {
    if (error_) std::rethrow_exception(error_);
    return std::move(value_);
  }

  /// The value, unchecked: has_value() must be true.
  [[nodiscard]] T& operator*() & noexcept { return value_; }
  [[nodiscard]] const T& operator*() const& noexcept { return value_; }
  [[nodiscard]] T&& operator*() && noexcept { return std::move(value_); }
  [[nodiscard]] const T&& operator*() const&& noexcept { return std::move(value_); }
  [[nodiscard]] T* operator->() noexcept { return std::addressof(value_); }
  [[nodiscard]] const T* operator->() const noexcept { return std::addressof(value_); }

  /// The value, or T(std::forward<U>(fallback)) when the outcome holds an error.
  template <class U>
  [[nodiscard]] T value_or(U&& fallback) const& {
    return error_ ? static_cast<T>(std::forward<U>(fallback)) : value_;
  }
  template <class U>
  [[nodiscard]] T value_or(U&& fallback) && {
    return error_ ? static_cast<T>(std::forward<U>(fallback)) : std::move(value_);
  }

  /// The exception fn threw, as std::current_exception() caught it; null when the outcome holds
  /// a value. std::rethrow_exception(error()) throws the original object, type and all.
  [[nodiscard]] const std::exception_ptr& error() const noexcept { return error_; }

  /// The error in words: what() of a std::exception; the text of a thrown string
  /// (`throw "bad header"` or a std::string); "exception of type NAME" for any other type
  /// (`throw 42`: "exception of type int"). "" when the outcome holds a value.
  [[nodiscard]] std::string what() const { return detail::exception_message(error_); }

  /// The dynamic type of the error, demangled ("std::runtime_error", "bad_header", "int");
  /// "" when the outcome holds a value.
  [[nodiscard]] std::string error_type_name() const { return detail::exception_type_name(error_); }

 private:
  friend struct detail::outcome_access;

  // Holds std::invoke(fn, args...) with no move in between (guaranteed copy elision of the
  // prvalue into the member); if fn throws, no outcome was made.
  template <class F, class... Args>
  outcome(detail::invoke_tag, F& fn, Args&&... args)
      : value_(std::invoke(fn, std::forward<Args>(args)...)) {}

  static std::exception_ptr checked(std::exception_ptr e) {
    if (!e) {
      throw std::invalid_argument(
          "parmap::outcome: an error outcome needs an exception (the exception_ptr is null)");
    }
    return e;
  }

  // Assignment where either side holds an error: rare, and kept out of line so that the loop
  // of parallel_map, which assigns fn's outcome to each slot, stays small.
  template <class V>
  [[gnu::noinline]] void assign_slow(V&& value, const std::exception_ptr& error) {
    if (!error_ && !error) {
      value_ = std::forward<V>(value);
    } else if (!error_) {
      std::destroy_at(std::addressof(value_));
      error_ = error;
    } else if (!error) {
      // Strong guarantee: if T's constructor throws, this still holds its error.
      std::construct_at(std::addressof(value_), std::forward<V>(value));
      error_ = nullptr;
    } else {
      error_ = error;
    }
  }

  // The error is the discriminator: null means value_ is alive. No flag besides it, so an
  // outcome<double> is 16 bytes, the double and the pointer.
  union {
    T value_;
  };
  std::exception_ptr error_;
};

/// The outcome of a function that returns nothing: success, or the exception it threw.
/// The same members as outcome<T> without the ones that return a value; value() returns
/// nothing or rethrows. As large as a std::exception_ptr; default-constructible (success).
template <>
class outcome<void> {
 public:
  using value_type = void;
  using error_type = std::exception_ptr;

  /// Success.
  outcome() noexcept = default;
  /// Success.
  explicit outcome(std::in_place_t) noexcept {}
  /// Holds the error `e`. Throws std::invalid_argument when `e` is null.
  outcome(unexpect_t, std::exception_ptr e) : error_(std::move(e)) {
    if (!error_) {
      throw std::invalid_argument(
          "parmap::outcome: an error outcome needs an exception (the exception_ptr is null)");
    }
  }

  /// True when fn returned, false when it threw.
  [[nodiscard]] bool has_value() const noexcept { return !error_; }
  /// has_value().
  explicit operator bool() const noexcept { return has_value(); }
  /// Returns when the outcome is a success; rethrows its exception otherwise.
  void value() const {
    if (error_) std::rethrow_exception(error_);
  }
  /// Nothing (std::expected<void, E>'s unchecked access).
  void operator*() const noexcept {}
  /// See outcome<T>::error().
  [[nodiscard]] const std::exception_ptr& error() const noexcept { return error_; }
  /// See outcome<T>::what().
  [[nodiscard]] std::string what() const { return detail::exception_message(error_); }
  /// See outcome<T>::error_type_name().
  [[nodiscard]] std::string error_type_name() const { return detail::exception_type_name(error_); }

 private:
  std::exception_ptr error_;
};

namespace detail {

/// What catching makes of fn's result type R: outcome<R> for a value (a reference is copied),
/// outcome<void> for void, and R itself when R is already an outcome (no outcome of an outcome).
template <class R>
struct outcome_for {
  using type = outcome<std::remove_cvref_t<R>>;
};
template <class R>
requires is_outcome_v<std::remove_cvref_t<R>>
struct outcome_for<R> {
  using type = std::remove_cvref_t<R>;
};
template <>
struct outcome_for<void> {
  using type = outcome<void>;
};

struct outcome_access {
  template <class O, class F, class... Args>
  static O make(F& fn, Args&&... args) {
    return O(invoke_tag{}, fn, std::forward<Args>(args)...);
  }
};

}  // namespace detail

/// The type parmap::catching(fn) returns when called with Args: outcome<R> for fn's result R
/// (by value), outcome<void> when fn returns nothing, R itself when R is already an outcome.
template <class F, class... Args>
using catching_result_t = typename detail::outcome_for<std::invoke_result_t<F&, Args...>>::type;

/// The callable parmap::catching(fn) returns: calls fn with the same arguments and returns an
/// outcome instead of throwing. Copyable when F is, movable when F is (a stream keeps its own
/// copy of its function; parallel_map and zip call it where it is).
template <class F>
class catching_fn {
  // G can initialize the wrapped function, and is not a catching_fn being copied.
  template <class G>
  static constexpr bool wraps =
      std::constructible_from<F, G> && !std::is_same_v<std::remove_cvref_t<G>, catching_fn>;

 public:
  /// Wraps `fn` (stored by value).
  template <class G>
  requires wraps<G>
  explicit catching_fn(G&& fn) noexcept(std::is_nothrow_constructible_v<F, G>)
      : fn_(std::forward<G>(fn)) {}

  /// Returns std::invoke(fn, args...) as an outcome holding the value; if that throws, returns
  /// an outcome holding the exception, except parmap::cancelled (and parmap::timeout, a
  /// cancelled), which propagates: a call that is being stopped still stops. fn is invoked as
  /// an lvalue, args are forwarded as they came (so zip's several arguments and member
  /// pointers work as they do without catching).
  template <class... Args>
  auto operator()(Args&&... args) -> catching_result_t<F, Args...>
  requires std::invocable<F&, Args...> {
    return call<catching_result_t<F, Args...>>(fn_, std::forward<Args>(args)...);
  }
  /// The same, through a const wrapper (fn invoked as a const lvalue).
  template <class... Args>
  auto operator()(Args&&... args) const -> catching_result_t<const F, Args...>
  requires std::invocable<const F&, Args...> {
    return call<catching_result_t<const F, Args...>>(fn_, std::forward<Args>(args)...);
  }

  /// The wrapped function.
  [[nodiscard]] const F& function() const noexcept { return fn_; }

 private:
  template <class O, class G, class... Args>
  static O call(G& fn, Args&&... args) {
    using R = std::invoke_result_t<G&, Args...>;
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(fn, std::forward<Args>(args)...);
        return O();
      } else if constexpr (is_outcome_v<std::remove_cvref_t<R>>) {
        return std::invoke(fn, std::forward<Args>(args)...);
      } else {
        return detail::outcome_access::make<O>(fn, std::forward<Args>(args)...);
      }
    } catch (const parmap::cancelled&) {
      throw;  // stopping is not a failure of the item: the call must still stop
    } catch (...) {
      return O(unexpect, std::current_exception());
    }
  }

  F fn_;
};

/// Wraps `fn` (any callable: lambda, function, functor, member pointer; copied or moved into
/// the wrapper) so that it returns parmap::outcome<R> instead of throwing: catching(fn)(args...)
/// is std::invoke(fn, args...) as an outcome, or the exception it threw as one (see
/// catching_fn). So every algorithm keeps going past failures:
///   parallel_map(files, catching(convert))  -> std::vector<outcome<R>>, one per file, in order;
///   imap / imap_unordered(xs, catching(fn)) -> a stream of outcomes that does not stop at one;
///   parallel_zip_map(catching(f), xs, ys)   -> std::vector<outcome<R>>.
/// parmap::cancelled and parmap::timeout are not caught: a stop still ends the call.
template <class F>
[[nodiscard]] catching_fn<std::decay_t<F>> catching(F&& fn) {
  return catching_fn<std::decay_t<F>>(std::forward<F>(fn));
}

/// One failed item: where it is and what went wrong.
struct failure {
  /// The item's index in the results (the input's index, for results in input order).
  std::size_t index;
  /// outcome::what() of its error.
  std::string what;
};

/// The failed items of `results`, in index order: for each outcome that holds an error, its
/// index and its what(). Empty when every item succeeded.
template <class T>
[[nodiscard]] std::vector<failure> failures(const std::vector<outcome<T>>& results) {
  std::vector<failure> out;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].has_value()) out.push_back(failure{i, results[i].what()});
  }
  return out;
}

}  // namespace parmap
