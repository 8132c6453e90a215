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
#include <type_traits>
#include <utility>
#include <vector>

#include "parmap/detail/chunking.hpp"
#include "parmap/detail/execute.hpp"
#include "parmap/detail/indexed_input.hpp"
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
///    depends only on the input's size and options.chunk;
///  - each block is folded left to right, starting from its first item's map;
///  - the block results are combined in a fixed pairwise tree: the results of blocks [lo, hi)
///    are reduce(combined [lo, mid), combined [mid, hi)) with mid = lo + (hi - lo) / 2;
///  - the result is reduce(init, combined blocks).
/// The pairwise tree is also more accurate than a left fold for floating-point sums: its
/// rounding error grows with the logarithm of the block count, not linearly.
/// T is init's type: pass 0.0, not 0, to sum doubles. on_progress counts items, at block
/// granularity. Same rules as parallel_map otherwise: the exception of the lowest failing item
/// is rethrown; parmap::cancelled, parmap::timeout; std::invalid_argument for bad options.
/// Empty input returns init without calling map or reduce.
template <std::ranges::input_range R, class Map, class T, class Reduce>
requires std::invocable<Map&, std::ranges::range_reference_t<R>> &&
    std::convertible_to<map_result_t<R, Map>, T> && std::invocable<Reduce&, T, T> &&
    std::convertible_to<std::invoke_result_t<Reduce&, T, T>, T> && std::movable<T>
[[nodiscard]] T map_reduce(R&& input, Map map, T init, Reduce reduce, const options& opt = {}) {
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

}  // namespace parmap
