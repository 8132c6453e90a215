#pragma once
// The one primitive every parmap algorithm reduces to: run a body over the items [0, size) in
// chunks, on the backend, thread count, chunk size and schedule of a checked plan. Backends only
// know this; the public algorithms (map, map-into, zip, reduce, streams) are written once on top.

#include <cstddef>
#include <exception>
#include <type_traits>

#include "parmap/options.hpp"

namespace parmap::detail {

/// Options checked and resolved for one call.
struct plan {
  parmap::backend backend;
  int threads;        ///< >= 1
  std::size_t chunk;  ///< items per chunk; 0: the backend's automatic choice
  parmap::schedule schedule;
};

/// Checks `opt` (see options) and resolves its automatic values. Throws std::invalid_argument.
[[nodiscard]] plan make_plan(const options& opt);

/// One call in flight: where a chunk reports that one of its items threw.
class call_state;

/// Records that item `index` threw the exception being handled. Call it from a catch block.
void record_error(call_state& state, std::size_t index) noexcept;

/// Items [begin, end) of one call, type-erased once per chunk, never per item. Returns how
/// many of them completed (end - begin unless one threw).
using chunk_body = std::size_t (*)(void* ctx, std::size_t begin, std::size_t end,
                                   call_state& state);

/// Runs `body` over [0, size) in chunks as `p` says and returns when every started chunk has
/// finished. Then, like a serial loop would: rethrows the exception of the lowest item that
/// threw; else throws parmap::timeout or parmap::cancelled if the deadline or stop request cut
/// the work short. `opt` supplies the stop token, progress callback, deadline and report (filled
/// before it returns or throws, also for size 0).
void execute(const plan& p, const options& opt, std::size_t size, chunk_body body, void* ctx);

/// Calls f(i) for every i in [0, size): the loop body of parallel_map and its relatives.
/// Each chunk works on its own copy of `f`, so `f` should be small and hold references or
/// pointers to shared state, not the state itself. When f returns std::size_t, that is the
/// number of items index i stands for in options::report (map_reduce's blocks); otherwise
/// each index is one item.
template <std::copy_constructible F>
void for_each_index(const plan& p, const options& opt, std::size_t size, const F& f) {
  constexpr chunk_body body = [](void* ctx, std::size_t begin, std::size_t end,
                                 call_state& state) -> std::size_t {
    // A copy of the (small, by-value) loop body lets the compiler keep its state in
    // registers and vectorize the loop.
    F fn = *static_cast<const F*>(ctx);
    std::size_t i = begin;
    if constexpr (std::is_same_v<std::invoke_result_t<F&, std::size_t>, std::size_t>) {
      std::size_t items = 0;
      try {
        for (; i < end; ++i) items += fn(i);
      } catch (...) {
        record_error(state, i);
      }
      return items;
    } else {
      try {
        for (; i < end; ++i) fn(i);
      } catch (...) {
        record_error(state, i);
      }
      return i - begin;
    }
  };
  execute(p, opt, size, body, const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace parmap::detail
