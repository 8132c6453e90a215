#pragma once
// What is wrong with the functions and values a call was given, found at compile time, so that
// each algorithm states a misuse in one static_assert of its own words ("parmap::parallel_map:
// fn returns void; ...") instead of failing deep inside <vector> or in a list of unsatisfied
// constraints. The checks run in order and report the first problem only, and the algorithms
// declare their return types through checked_result, which never fails, so a misuse gives one
// error line.

#include <concepts>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "parmap/detail/result_slots.hpp"

namespace parmap::detail {

/// The first problem found with a function (or an accumulator), or none.
enum class misuse {
  none,
  not_callable,        ///< it cannot be called with the arguments the algorithm passes
  returns_void,        ///< it returns nothing where the algorithm needs a value
  result_not_movable,  ///< its result type cannot be moved into the output
};

/// The first problem with calling F with Args where the call's value is needed.
template <class F, class... Args>
[[nodiscard]] consteval misuse value_fn_misuse() {
  if constexpr (!std::invocable<F&, Args...>) {
    return misuse::not_callable;
  } else if constexpr (std::is_void_v<std::invoke_result_t<F&, Args...>>) {
    return misuse::returns_void;
  } else if constexpr (!std::is_move_constructible_v<call_result_t<F, Args...>>) {
    return misuse::result_not_movable;
  } else {
    return misuse::none;
  }
}

/// What a misused algorithm returns instead of fn's result (a vector of them, a stream of
/// them): after the algorithm's static_assert, code that uses the result still compiles, so
/// the misuse stays the one error, and the type's name says what happened to a reader.
struct misused_call {};

/// call_result_t<F, Args...> when F can be called with Args and returns a value; misused_call
/// otherwise. Never ill-formed: the algorithms declare their results with it, so that a misuse
/// reaches their static_assert instead of failing in the declaration (std::vector<void>).
template <class F, class... Args>
struct checked_result {
  using type = misused_call;
};
template <class F, class... Args>
  requires(value_fn_misuse<F, Args...>() == misuse::none)
struct checked_result<F, Args...> {
  using type = call_result_t<F, Args...>;
};
template <class F, class... Args>
using checked_result_t = typename checked_result<F, Args...>::type;

// ---- accumulators --------------------------------------------------------------------------

/// What converting each value of type From into an accumulator of type To does to it.
enum class accumulation {
  exact,      ///< nothing is lost (or To is not arithmetic, where parmap cannot tell)
  truncates,  ///< a floating-point value into an integer: 0.5 becomes 0
  narrows,    ///< into a type that cannot hold every value (int64 into int, double into float)
};

template <class T>
concept tuple_like = requires {
  std::tuple_size<T>::value;
};

template <class From, class To>
[[nodiscard]] consteval accumulation accumulation_of();

template <class From, class To, std::size_t... I>
[[nodiscard]] consteval accumulation worst_element(std::index_sequence<I...>) {
  const accumulation each[] = {
      accumulation::exact,
      accumulation_of<std::tuple_element_t<I, From>, std::tuple_element_t<I, To>>()...};
  accumulation worst = accumulation::exact;
  for (accumulation a : each) {
    if (a == accumulation::truncates) return a;
    if (a == accumulation::narrows) worst = a;
  }
  return worst;
}

/// How a value of type From fares in an accumulator of type To: truncated (floating point into
/// an integer), narrowed (any other conversion that list-initialization rejects as narrowing),
/// or exact. An integer into a floating-point accumulator counts as exact: summing integers
/// into a double is the usual way to a mean. Tuple-like types (std::tuple, std::pair,
/// std::array) of the same size are judged element by element; other types are exact.
template <class From, class To>
[[nodiscard]] consteval accumulation accumulation_of() {
  using F = std::remove_cvref_t<From>;
  using T = std::remove_cvref_t<To>;
  if constexpr (std::is_arithmetic_v<F> && std::is_arithmetic_v<T>) {
    if constexpr (std::is_floating_point_v<F> && std::is_integral_v<T>) {
      return accumulation::truncates;
    } else if constexpr (std::is_integral_v<F> && std::is_floating_point_v<T>) {
      return accumulation::exact;
    } else if constexpr (requires(F f) { T{f}; }) {
      return accumulation::exact;
    } else {
      return accumulation::narrows;
    }
  } else if constexpr (tuple_like<F> && tuple_like<T>) {
    if constexpr (std::tuple_size_v<F> == std::tuple_size_v<T>) {
      return worst_element<F, T>(std::make_index_sequence<std::tuple_size_v<T>>{});
    } else {
      return accumulation::exact;
    }
  } else {
    return accumulation::exact;
  }
}

/// What map_reduce checks, in order; the first that fails is the one it reports.
enum class reduce_misuse {
  none,
  map_not_callable,
  map_returns_void,
  map_result_not_convertible,  ///< map's result does not convert to init's type
  truncating_init,             ///< init is an integer, map returns floating point (write 0.0)
  narrowing_init,              ///< init's type cannot hold map's values
  reduce_not_callable,         ///< reduce(T, T) does not compile
  reduce_result_not_convertible,
  init_not_movable,
};

/// The first problem with map_reduce's map (called with Arg), init of type T and reduce.
template <class Map, class Arg, class T, class Reduce>
[[nodiscard]] consteval reduce_misuse map_reduce_misuse() {
  if constexpr (!std::invocable<Map&, Arg>) {
    return reduce_misuse::map_not_callable;
  } else if constexpr (std::is_void_v<std::invoke_result_t<Map&, Arg>>) {
    return reduce_misuse::map_returns_void;
  } else if constexpr (!std::convertible_to<call_result_t<Map, Arg>, T>) {
    return reduce_misuse::map_result_not_convertible;
  } else if constexpr (accumulation_of<call_result_t<Map, Arg>, T>() == accumulation::truncates) {
    return reduce_misuse::truncating_init;
  } else if constexpr (accumulation_of<call_result_t<Map, Arg>, T>() == accumulation::narrows) {
    return reduce_misuse::narrowing_init;
  } else if constexpr (!std::invocable<Reduce&, T, T>) {
    return reduce_misuse::reduce_not_callable;
  } else if constexpr (!std::convertible_to<std::invoke_result_t<Reduce&, T, T>, T>) {
    return reduce_misuse::reduce_result_not_convertible;
  } else if constexpr (!std::movable<T>) {
    return reduce_misuse::init_not_movable;
  } else {
    return reduce_misuse::none;
  }
}

/// A false that depends on T: the condition of a static_assert that must fire only when the
/// template around it is used.
template <class...>
inline constexpr bool always_false = false;

}  // namespace parmap::detail
