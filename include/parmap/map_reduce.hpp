#pragma once
// map_reduce: reduce(init, map(x0), map(x1), ...) in parallel, deterministically.
//
//   double sum_sq = parmap::map_reduce(xs, [](double x) { return x * x; }, 0.0, std::plus<>{});

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "parmap/detail/chunking.hpp"
#include "parmap/detail/execute.hpp"
#include "parmap/detail/indexed_input.hpp"
#include "parmap/detail/misuse.hpp"
#include "parmap/options.hpp"
#include "parmap/parallel_map.hpp"
#include "parmap/report.hpp"

namespace parmap {
namespace detail {

/// The results of blocks [lo, hi) (hi > lo) combined in the fixed pairwise tree of map_reduce:
/// reduce(combined [lo, mid), combined [mid, hi)), mid = lo + (hi - lo) / 2. Moves the results
/// out of `partial`.
template <class T, class Reduce>
T combine_pairwise(std::vector<std::optional<T>>& partial, std::size_t lo, std::size_t hi,
                   Reduce& reduce) {
  if (hi - lo == 1) return std::move(*partial[lo]);
  const std::size_t mid = lo + (hi - lo) / 2;
  T left = combine_pairwise(partial, lo, mid, reduce);
  T right = combine_pairwise(partial, mid, hi, reduce);
  return static_cast<T>(std::invoke(reduce, std::move(left), std::move(right)));
}

}  // namespace detail
/// Returns the reduction of init and {map(x) for x in input} by `reduce`, computed in parallel
/// and bit-for-bit reproducible: the same input and options.chunk give the same result on any
/// thread count, any backend and any run. For an associative `reduce` it equals the serial loop
///   T acc = init; for (auto&& x : input) acc = reduce(std::move(acc), T(map(x))); return acc;
/// up to floating-point reassociation. Exactly:
///  - the input is cut into blocks of consecutive items: options.chunk items each, or, when
///    chunk is 0, size / 256 items (rounded up; fewer blocks when the input is small). The cut
///    depends only on the input's size and options.chunk; each block is one chunk of the call;
///  - each block is folded left to right, starting from its first item's map;
///  - the block results are combined in a fixed pairwise tree: the results of blocks [lo, hi)
///    are reduce(combined [lo, mid), combined [mid, hi)) with mid = lo + (hi - lo) / 2;
///  - the result is reduce(init, combined blocks).
/// The pairwise tree is also more accurate than a left fold for floating-point sums: its
/// rounding error grows with the logarithm of the block count, not linearly.
/// T, the accumulator's type, is init's: pass 0.0, not 0, to sum doubles. A T that would lose
/// map's values does not compile: an integer init where map returns floating point (write
/// 0.0), or any other narrowing conversion (std::int64_t into int, double into float, ...;
/// element by element for tuples). An integer map into a floating-point init is allowed.
/// Several reductions at once: reduce a tuple with reduce_each (below).
/// on_progress counts items, at block granularity. Same rules as parallel_map otherwise: the
/// exception of the lowest failing item is rethrown; parmap::cancelled, parmap::timeout;
/// std::invalid_argument for bad options. Empty input returns init without calling map or
/// reduce.
template <std::ranges::input_range R, class Map, class T, class Reduce>
[[nodiscard]] T map_reduce(R&& input, Map map, T init, Reduce reduce, const options& opt = {}) {
  using detail::reduce_misuse;
  constexpr reduce_misuse problem =
      detail::map_reduce_misuse<Map, std::ranges::range_reference_t<R>, T, Reduce>();
  static_assert(problem != reduce_misuse::map_not_callable,
                "parmap::map_reduce: map cannot be called with an element of the input");
  static_assert(problem != reduce_misuse::map_returns_void,
                "parmap::map_reduce: map returns void; it must return the value to reduce");
  static_assert(problem != reduce_misuse::map_result_not_convertible,
                "parmap::map_reduce: map's result does not convert to init's type (the "
                "accumulator has init's type)");
  static_assert(problem != reduce_misuse::truncating_init,
                "parmap::map_reduce: init is an integer but map returns floating-point values, "
                "which the integer accumulator would truncate; write init as 0.0 (the "
                "accumulator has init's type)");
  static_assert(problem != reduce_misuse::narrowing_init,
                "parmap::map_reduce: init's type cannot hold map's values (a narrowing "
                "conversion); give init map's result type, e.g. std::int64_t{0} or "
                "std::size_t{0} (the accumulator has init's type)");
  static_assert(problem != reduce_misuse::reduce_not_callable,
                "parmap::map_reduce: reduce cannot be called with two values of init's type");
  static_assert(problem != reduce_misuse::reduce_result_not_convertible,
                "parmap::map_reduce: reduce's result does not convert to init's type");
  static_assert(problem != reduce_misuse::init_not_movable,
                "parmap::map_reduce: init's type must be movable");
  if constexpr (problem != reduce_misuse::none) {
    return init;
  } else {
    (void)detail::make_plan(opt);  // bad options fail before the input is read
    detail::indexed_input<std::remove_reference_t<R>> in(input);
    const std::size_t n = in.size();
    const std::size_t block = n == 0 ? 0 : detail::chunking::reduce_block(n, opt.chunk);
    const std::size_t blocks = n == 0 ? 0 : detail::chunking::chunk_count(n, block);

    // The primitive runs blocks, one per chunk; progress and the report are told in items.
    options block_opt = opt;
    block_opt.chunk = 1;
    struct report_in_items {
      call_report* report;
      std::size_t block;
      bool automatic;
      ~report_in_items() {
        if (report == nullptr) return;
        report->chunk = block;  // a chunk is one block
        report->automatic_chunk = automatic;
      }
    } const in_items{opt.report, block, opt.chunk == 0};
    if (opt.on_progress) {
      block_opt.on_progress = [&](std::size_t done, std::size_t) {
        opt.on_progress(done == blocks ? n : std::min(n, done * block), n);
      };
    }
    const detail::plan bp = detail::make_plan(block_opt);

    std::vector<std::optional<T>> partial(blocks);
    auto body = [item = in.items(), &partial, &map, &reduce, block, n](std::size_t b) {
      const std::size_t first = b * block, last = std::min(n, first + block);
      T acc = static_cast<T>(std::invoke(map, item(first)));
      for (std::size_t i = first + 1; i < last; ++i) {
        acc = static_cast<T>(
            std::invoke(reduce, std::move(acc), static_cast<T>(std::invoke(map, item(i)))));
      }
      partial[b].emplace(std::move(acc));
      return last - first;  // the items this block stands for (see for_each_index)
    };
    detail::for_each_index(bp, block_opt, blocks, body);
    if (n == 0) return init;

    return static_cast<T>(std::invoke(
        reduce, std::move(init), detail::combine_pairwise(partial, 0, blocks, reduce)));
  }
}

namespace detail {

/// The callable reduce_each returns: combines two tuple-like values element by element.
template <class... Ops>
class reduce_each_fn {
 public:
  explicit constexpr reduce_each_fn(Ops... ops) : ops_(std::move(ops)...) {}

  /// {op_i(get<i>(a), get<i>(b)) for each element i}, as a Tuple.
  template <class Tuple>
    requires tuple_like<Tuple>
  constexpr Tuple operator()(Tuple a, Tuple b) const {
    constexpr std::size_t size = std::tuple_size_v<Tuple>;
    static_assert(sizeof...(Ops) == 1 || sizeof...(Ops) == size,
                  "parmap::reduce_each: give one operation for every element of the tuple, or "
                  "a single one for all of them");
    if constexpr (sizeof...(Ops) == 1 || sizeof...(Ops) == size) {
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return Tuple{static_cast<std::tuple_element_t<I, Tuple>>(
            std::invoke(std::get<sizeof...(Ops) == 1 ? 0 : I>(ops_), std::get<I>(std::move(a)),
                        std::get<I>(std::move(b))))...};
      }(std::make_index_sequence<size>{});
    } else {
      return a;
    }
  }

 private:
  std::tuple<Ops...> ops_;
};

}  // namespace detail

/// A reduce operation for map_reduce that runs several reductions at once over a tuple-like
/// accumulator (std::tuple, std::pair, std::array): reduce_each(op0, op1, ...)(a, b) is the
/// tuple {op0(get<0>(a), get<0>(b)), op1(get<1>(a), get<1>(b)), ...}; reduce_each(op) applies
/// the one op to every element. Each op is called as reduce would be, with two elements of
/// the accumulator's type at that position, and its result is converted back to it.
///   auto [sum, max] = parmap::map_reduce(
///       xs, [](double x) { return std::tuple{x, x}; },
///       std::tuple{0.0, -std::numeric_limits<double>::infinity()},
///       parmap::reduce_each(std::plus<>{}, [](double a, double b) { return std::max(a, b); }));
///   std::array<std::size_t, 10> counts = parmap::map_reduce(
///       digits, one_hot, std::array<std::size_t, 10>{}, parmap::reduce_each(std::plus<>{}));
template <class... Ops>
  requires(sizeof...(Ops) >= 1)
[[nodiscard]] constexpr auto reduce_each(Ops... ops) {
  return detail::reduce_each_fn<Ops...>(std::move(ops)...);
}

}  // namespace parmap
