#pragma once
// Every automatic choice of how work is cut up, in one place: the chunk sizes of the
// automatic and explicit schedules, the first timed claim, the stream window, the MPI deal size
// and the reduce block. Backends, streams, map_reduce and MPI call these; none keeps a number
// of its own. Each constant says why it has its value and what measured it; where no sweep of
// the value itself is recorded yet, the note says so (the harness's chunk sweep, bench/README.md,
// measures user-set chunk sizes, not these defaults).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>

namespace parmap::detail::chunking {

// ---- chunks per thread -----------------------------------------------------------------------

/// Chunks per thread when "automatic" needs a fixed chunk (dynamic schedule without a chunk,
/// the serial backend under a stop/deadline/progress watch, stdpar): late threads and uneven
/// items still find work, and claims stay few. No sweep of this value is recorded.
inline constexpr std::size_t chunks_per_thread = 8;

/// The floor of oneTBB's auto_partitioner, in pieces per thread: below share / 16 it cuts cheap
/// items into more tasks than there is work to balance. No sweep of this value is recorded.
inline constexpr std::size_t tbb_pieces_per_thread = 16;

/// The units OpenMP's guided schedule hands out in shrinking runs, per thread: fine enough that
/// the last claims are small. No sweep of this value is recorded.
inline constexpr std::size_t guided_units_per_thread = 64;

/// `chunk` if set, else about `pieces` chunks per thread (at least one item each).
[[nodiscard]] constexpr std::size_t per_thread_chunk(std::size_t size, std::size_t threads,
                                                     std::size_t chunk,
                                                     std::size_t pieces) noexcept {
  if (chunk != 0) return chunk;
  return std::max<std::size_t>(size / (threads * pieces), 1);
}

/// Items per chunk for the dynamic schedule and other fixed chunks: `chunk` if set, else about
/// chunks_per_thread chunks per thread.
[[nodiscard]] constexpr std::size_t dynamic_chunk(std::size_t size, std::size_t threads,
                                                  std::size_t chunk) noexcept {
  return per_thread_chunk(size, threads, chunk, chunks_per_thread);
}

/// The static schedule's chunk: `chunk` if set, else one contiguous block per thread.
[[nodiscard]] constexpr std::size_t static_chunk(std::size_t size, std::size_t threads,
                                                 std::size_t chunk) noexcept {
  if (chunk != 0) return chunk;
  return (size + threads - 1) / threads;
}

/// The grain of oneTBB's auto_partitioner: `chunk` if set, else tbb_pieces_per_thread.
[[nodiscard]] constexpr std::size_t tbb_grain(std::size_t size, std::size_t threads,
                                              std::size_t chunk) noexcept {
  return per_thread_chunk(size, threads, chunk, tbb_pieces_per_thread);
}

/// The unit of OpenMP's guided schedule: `chunk` if set, else guided_units_per_thread.
[[nodiscard]] constexpr std::size_t guided_unit(std::size_t size, std::size_t threads,
                                                std::size_t chunk) noexcept {
  return per_thread_chunk(size, threads, chunk, guided_units_per_thread);
}

/// Chunks needed for `size` items of `chunk` each (chunk > 0).
[[nodiscard]] constexpr std::size_t chunk_count(std::size_t size, std::size_t chunk) noexcept {
  return size / chunk + (size % chunk != 0 ? 1 : 0);
}

// ---- the automatic schedule's claims (threads and OpenMP backends) ---------------------------

/// A participant's largest claim, as a fraction of its share: cheap items get a few claims per
/// thread, and a thief can still take half of what is left. No sweep of this value is recorded.
inline constexpr std::size_t largest_claim_divisor = 4;
/// Its smallest claim, and the size of the first, timed one: costly items keep claims this
/// small, for balance on the triangular and Mandelbrot workloads. No sweep is recorded.
inline constexpr std::size_t smallest_claim_divisor = 64;
/// What one claim should cost, in nanoseconds: after the first claim is timed, claims grow
/// until each costs about this much, so that a claim's own cost (an atomic exchange, tens of
/// ns) is noise while a thief still finds work on uneven items. No sweep is recorded.
inline constexpr double claim_target_ns = 20'000;

/// The largest and smallest claim for a participant's `share` of items.
[[nodiscard]] constexpr std::size_t largest_claim(std::size_t share) noexcept {
  return std::max<std::size_t>(share / largest_claim_divisor, 1);
}
[[nodiscard]] constexpr std::size_t smallest_claim(std::size_t share) noexcept {
  return std::max<std::size_t>(share / smallest_claim_divisor, 1);
}

/// The claim size after timing the first claim at `ns_per_item`: about claim_target_ns per
/// claim, within [smallest, largest].
[[nodiscard]] inline std::size_t timed_claim(double ns_per_item, std::size_t smallest,
                                             std::size_t largest) noexcept {
  const double items = claim_target_ns / std::max(ns_per_item, 1e-3);
  const double capped = std::min(items, static_cast<double>(largest));
  return std::clamp(static_cast<std::size_t>(capped), smallest, largest);
}

// ---- streams -----------------------------------------------------------------------------------

/// Items read ahead of the consumer per thread and chunk when stream_options::window is 0:
/// every thread finds work while the consumer is busy with a result. No sweep is recorded.
inline constexpr std::size_t stream_items_per_thread = 4;

/// The automatic stream window: stream_items_per_thread * threads * max(chunk, 1).
[[nodiscard]] constexpr std::size_t stream_window(std::size_t threads, std::size_t chunk) noexcept {
  const std::size_t c = std::max<std::size_t>(chunk, 1);
  const std::size_t most = std::numeric_limits<std::size_t>::max();
  return c > most / stream_items_per_thread / threads ? most
                                                      : stream_items_per_thread * threads * c;
}

/// How long an idle stream worker waits for the consumer to make room before its batch ends:
/// starting a new batch for every item the consumer takes would cost more than this short
/// wait. No sweep is recorded.
inline constexpr std::chrono::milliseconds stream_linger{2};

/// How long a stream's consumer waits for the backend to start a batch before it runs items
/// itself, so that a stream always makes progress. No sweep is recorded.
inline constexpr std::chrono::milliseconds stream_start_grace{50};

// ---- map_reduce --------------------------------------------------------------------------------

/// Blocks of a reduction when options::chunk is 0. The blocks must not depend on the thread
/// count or the backend (the result would then change with them), so their number is fixed:
/// 256 keeps 64 threads at 4 blocks each, while the pairwise combine of 256 results costs
/// about a microsecond. No sweep of this value is recorded.
inline constexpr std::size_t reduce_blocks = 256;

/// Items per block of a reduction: `chunk` if set, else size / reduce_blocks (rounded up).
/// Depends only on the input's size and the chunk: never on threads, backend or timing.
[[nodiscard]] constexpr std::size_t reduce_block(std::size_t size, std::size_t chunk) noexcept {
  if (chunk != 0) return chunk;
  return std::max<std::size_t>((size + reduce_blocks - 1) / reduce_blocks, 1);
}

// ---- MPI
// -----------------------------------------------------------------------------------------

/// The automatic MPI deal with several ranks: a claim takes the items left divided by
/// mpi_deal_share * ranks, never fewer than size / (mpi_deal_floor * ranks). Large chunks first
/// keep messages few; small ones at the end let the ranks finish together. No sweep of these
/// values is recorded; bench/mpi measures the deal as a whole.
inline constexpr std::size_t mpi_deal_share = 4;
inline constexpr std::size_t mpi_deal_floor = 64;

/// The smallest automatic MPI deal for `size` items over `ranks` ranks.
[[nodiscard]] constexpr std::size_t mpi_smallest_deal(std::size_t size,
                                                      std::size_t ranks) noexcept {
  return std::max<std::size_t>(size / (mpi_deal_floor * ranks), 1);
}

/// The next automatic MPI deal when `left` items remain, over `ranks` ranks.
[[nodiscard]] constexpr std::size_t mpi_deal(std::size_t left, std::size_t ranks,
                                             std::size_t smallest) noexcept {
  const std::size_t share = mpi_deal_share * ranks;
  return std::max(smallest, left / share + (left % share != 0 ? 1 : 0));
}

}  // namespace parmap::detail::chunking
