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

namespace parmap {
/// Returns the fold of `reduce` over init and {map(x) for x in input}, computed in parallel:
/// for an associative `reduce`, the result of the serial loop
///   T acc = init; for (auto&& x : input) acc = reduce(std::move(acc), T(map(x))); return acc;
/// up to floating-point reassociation. The input is split into blocks of consecutive items
/// (options.chunk items each, or about 8 blocks per thread when chunk is 0); each block is
/// folded in order by one thread, then init and the block results are folded in block order.
/// The blocks depend only on the input's size, options.chunk and the thread count, so the same
/// input and options give a bit-identical result on every run and every backend.
/// T is init's type: pass 0.0, not 0, to sum doubles. on_progress counts items, at block
/// granularity. Same rules as parallel_map otherwise: the exception of the lowest failing item
/// is rethrown; parmap::cancelled, parmap::timeout; std::invalid_argument for bad options.
/// Empty input returns init without calling map or reduce.
template <std::ranges::input_range R, class Map, class T, class Reduce>
requires std::invocable<Map&, std::ranges::range_reference_t<R>> &&
    std::convertible_to<map_result_t<R, Map>, T> && std::invocable<Reduce&, T, T> &&
    std::convertible_to<std::invoke_result_t<Reduce&, T, T>, T> && std::movable<T>
[[nodiscard]] T map_reduce(R&& input, Map map, T init, Reduce reduce, const options& opt = {}) {
  const detail::plan p = detail::make_plan(opt);
  detail::indexed_input<std::remove_reference_t<R>> in(input);
  const std::size_t n = in.size();
  if (n == 0) return init;
  const std::size_t block =
      detail::chunking::reduce_block(n, static_cast<std::size_t>(p.threads), opt.chunk);
  const std::size_t blocks = n / block + (n % block != 0 ? 1 : 0);

  // The primitive runs blocks, one per chunk; progress is told in items.
  options block_opt = opt;
  block_opt.chunk = 1;
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
  };
  detail::for_each_index(bp, block_opt, blocks, body);

  T acc = std::move(init);
  for (auto& x : partial) acc = static_cast<T>(std::invoke(reduce, std::move(acc), std::move(*x)));
  return acc;
}

}  // namespace parmap
