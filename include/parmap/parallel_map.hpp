#pragma once
// parallel_map and parallel_map_into: Pool.map(fn, data, chunksize), done in C++.

#include <concepts>
#include <cstddef>
#include <functional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "parmap/detail/execute.hpp"
#include "parmap/detail/indexed_input.hpp"
#include "parmap/detail/result_slots.hpp"
#include "parmap/options.hpp"

namespace parmap {

/// The result type of mapping F over R: what `fn(*it)` returns for an element of `input`, as a
/// value (detail::call_result_t).
template <class R, class F>
using map_result_t = detail::call_result_t<F, std::ranges::range_reference_t<R>>;

/// Returns {fn(x) for x in input}, in input order, computed in parallel. Equivalent to
///   std::vector<T> out; for (auto&& x : input) out.push_back(std::invoke(fn, x)); return out;
/// except that the calls run concurrently, on the backend and threads that `opt` names.
/// `fn` is any callable (lambda, functor, member pointer); it is called once per element, from
/// any of the call's threads, and must be safe to call concurrently.
/// Accepts any input range: random-access ranges are read in place, others are walked once
/// first. Results need not be default-constructible; move-only results work.
/// Throws: std::invalid_argument for bad options (before any call of fn); the exception of the
/// lowest-index element whose fn threw, with its own type; parmap::cancelled or parmap::timeout.
/// Empty input returns an empty vector without calling fn.
template <std::ranges::input_range R, class F>
  requires std::invocable<F&, std::ranges::range_reference_t<R>>
[[nodiscard]] auto parallel_map(R&& input, F&& fn, const options& opt = {})
    -> std::vector<map_result_t<R, F>> {
  using T = map_result_t<R, F>;
  static_assert(!std::is_void_v<T>, "parmap::parallel_map: fn must return a value");
  static_assert(std::is_move_constructible_v<T>,
                "parmap::parallel_map: fn's result type must be move-constructible");
  const detail::plan p = detail::make_plan(opt);
  detail::indexed_input<std::remove_reference_t<R>> in(input);
  const std::size_t n = in.size();
  detail::result_slots<T> out(n);
  auto body = [item = in.items(), put = out.writer(), &fn](std::size_t i) {
    put(i, std::invoke(fn, item(i)));
  };
  detail::for_each_index(p, opt, n, body);
  return std::move(out).take();
}

/// Writes output[i] = fn(input[i]) for every i < size(input), in parallel, allocating nothing.
/// Same rules as parallel_map. Throws std::invalid_argument, before any call of fn, when
/// `output` has fewer elements than `input`. On an exception, elements before the failing one
/// hold their new values; the others may or may not.
template <std::ranges::input_range R, std::ranges::random_access_range Out, class F>
  requires std::invocable<F&, std::ranges::range_reference_t<R>> &&
           std::ranges::sized_range<Out>
void parallel_map_into(R&& input, Out&& output, F&& fn, const options& opt = {}) {
  static_assert(std::is_lvalue_reference_v<std::ranges::range_reference_t<Out>>,
                "parmap::parallel_map_into: the output's elements must be separate objects "
                "(std::vector<bool> packs them into shared bits that threads cannot write "
                "concurrently)");
  const detail::plan p = detail::make_plan(opt);
  detail::indexed_input<std::remove_reference_t<R>> in(input);
  const std::size_t n = in.size();
  const auto out_size = static_cast<std::size_t>(std::ranges::size(output));
  if (out_size < n) {
    throw std::invalid_argument("parmap::parallel_map_into: output has " +
                                std::to_string(out_size) + " elements but input has " +
                                std::to_string(n));
  }
  auto body = [item = in.items(), dest = std::ranges::begin(output), &fn](std::size_t i) {
    dest[static_cast<std::ranges::range_difference_t<Out>>(i)] = std::invoke(fn, item(i));
  };
  detail::for_each_index(p, opt, n, body);
}

}  // namespace parmap
