#pragma once
// parallel_zip_map: map an n-ary function over several ranges of equal length, item by item;
// Python's Pool.starmap over zip(a, b, ...).
//
//   auto sums = parmap::parallel_zip_map([k](int a, int b) { return (a + b) * k; }, xs, ys);
//   auto same = parmap::parallel_zip_map(f, xs, ys, parmap::options{.threads = 8});

#include <concepts>
#include <cstddef>
#include <functional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "parmap/detail/execute.hpp"
#include "parmap/detail/indexed_input.hpp"
#include "parmap/detail/result_slots.hpp"
#include "parmap/options.hpp"

namespace parmap {
namespace detail {

template <class... Args>
struct last_argument {
  using type = void;
};
template <class First, class... Rest>
struct last_argument<First, Rest...> {
  using type = std::tuple_element_t<sizeof...(Rest), std::tuple<First, Rest...>>;
};

/// True when the last argument is the call's options.
template <class... Args>
inline constexpr bool ends_with_options =
    std::is_same_v<std::remove_cvref_t<typename last_argument<Args...>::type>, options>;

/// How many of the arguments are input ranges.
template <class... Args>
inline constexpr std::size_t zip_arity = sizeof...(Args) - (ends_with_options<Args...> ? 1 : 0);

template <class F, class... Rs>
concept zip_invocable = (sizeof...(Rs) >= 1) && (std::ranges::input_range<Rs> && ...) &&
                        std::invocable<F&, std::ranges::range_reference_t<Rs>...>;

template <class F, class Tuple, class Indices>
inline constexpr bool zip_invocable_at = false;
template <class F, class Tuple, std::size_t... I>
inline constexpr bool zip_invocable_at<F, Tuple, std::index_sequence<I...>> =
    zip_invocable<F, std::tuple_element_t<I, Tuple>...>;

/// The arguments after fn are one or more input ranges, maybe followed by options, and fn can
/// be called with one item of each range.
template <class F, class... Args>
concept zip_arguments =
    zip_invocable_at<F, std::tuple<Args...>, std::make_index_sequence<zip_arity<Args...>>>;

template <class F, class Tuple, std::size_t... I>
auto zip_map(F& fn, const options& opt, Tuple& args, std::index_sequence<I...>) {
  using T = call_result_t<F, std::ranges::range_reference_t<std::tuple_element_t<I, Tuple>>...>;
  static_assert(!std::is_void_v<T>, "parmap::parallel_zip_map: fn must return a value");
  static_assert(std::is_move_constructible_v<T>,
                "parmap::parallel_zip_map: fn's result type must be move-constructible");
  const plan p = make_plan(opt);
  std::tuple<indexed_input<std::remove_reference_t<std::tuple_element_t<I, Tuple>>>...> inputs(
      std::get<I>(args)...);
  const std::size_t sizes[] = {std::get<I>(inputs).size()...};
  const std::size_t n = sizes[0];
  for (std::size_t s : sizes) {
    if (s == n) continue;
    std::string list;
    for (std::size_t t : sizes) list += (list.empty() ? "" : ", ") + std::to_string(t);
    throw std::invalid_argument("parmap::parallel_zip_map: the inputs differ in length (" + list +
                                " items); zip needs ranges of equal length");
  }
  result_slots<T> out(n);
  auto body = [items = std::make_tuple(std::get<I>(inputs).items()...), put = out.writer(),
               &fn](std::size_t i) { put(i, std::invoke(fn, std::get<I>(items)(i)...)); };
  for_each_index(p, opt, n, body);
  return std::move(out).take();
}

}  // namespace detail

/// Returns {fn(a[i], b[i], ...) for i < n}, in order, computed in parallel, for input ranges
/// a, b, ... of n items each; optionally followed by the call's options. Equivalent to
///   for (std::size_t i = 0; i < n; ++i) out.push_back(std::invoke(fn, a[i], b[i], ...));
/// with the same rules as parallel_map: any callable, any input ranges (single-pass ones are
/// read once first), results in order, the lowest failing index's exception rethrown.
/// Throws std::invalid_argument, before any call of fn, for bad options or when the inputs
/// differ in length. Empty inputs return an empty vector without calling fn.
template <class F, class... Args>
requires detail::zip_arguments<F, Args...>
[[nodiscard]] auto parallel_zip_map(F&& fn, Args&&... args) {
  auto all = std::forward_as_tuple(std::forward<Args>(args)...);
  constexpr std::size_t ranges = detail::zip_arity<Args...>;
  if constexpr (detail::ends_with_options<Args...>) {
    const options& opt = std::get<ranges>(all);
    return detail::zip_map(fn, opt, all, std::make_index_sequence<ranges>{});
  } else {
    return detail::zip_map(fn, options{}, all, std::make_index_sequence<ranges>{});
  }
}

}  // namespace parmap
