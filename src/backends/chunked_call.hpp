#pragma once
// What a backend is given: one call's items, checked options and the chunk runner. A backend
// only decides which thread runs which chunk; call_state::run_chunk does the rest.

#include <algorithm>
#include <cstddef>

#include "call_state.hpp"
#include "parmap/detail/chunking.hpp"
#include "placement.hpp"
#include "tsan.hpp"

namespace parmap::detail {

struct chunked_call {
  std::size_t size;  ///< items [0, size), size > 0
  int threads;       ///< >= 1 and never more than there are chunks to run
  std::size_t chunk; ///< items per chunk, 0: automatic
  parmap::schedule schedule;
  parmap::placement placement;
  call_state* state;

  /// Runs items [begin, end) on the call's thread number `participant`, in [0, threads). A
  /// backend may claim several chunks at once (guided claims, TBB's partitioners); they still
  /// run one chunk at a time, since the chunk is the unit of cancellation and progress.
  void run(std::size_t begin, std::size_t end, std::size_t participant) const noexcept {
    if (chunk == 0 || end - begin <= chunk) return state->run_chunk(begin, end, participant);
    for (; begin < end; begin += std::min(chunk, end - begin)) {
      state->run_chunk(begin, begin + std::min(chunk, end - begin), participant);
    }
  }

  /// A backend whose threads come from an uninstrumented runtime (libtbb) brackets each
  /// thread's work with these, so ThreadSanitizer sees the ordering that the runtime's fork
  /// and join provide. No code outside a -fsanitize=thread build.
  void enter() const noexcept { tsan_acquire(state); }
  void leave() const noexcept { tsan_release(state); }

  /// The chunk used where "automatic" needs a size (chunking::dynamic_chunk).
  [[nodiscard]] std::size_t chunk_or_default() const noexcept {
    return chunking::dynamic_chunk(size, static_cast<std::size_t>(threads), chunk);
  }

  /// The static schedule's chunk (chunking::static_chunk).
  [[nodiscard]] std::size_t static_chunk() const noexcept {
    return chunking::static_chunk(size, static_cast<std::size_t>(threads), chunk);
  }
};

using chunking::chunk_count;

void run_serial(const chunked_call& call);
void run_threads(const chunked_call& call);
void run_openmp(const chunked_call& call);
void run_tbb(const chunked_call& call);
void run_stdpar(const chunked_call& call);

}  // namespace parmap::detail
