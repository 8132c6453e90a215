#pragma once
// What parmap::mpi's messages mean: the tags, the head of a worker's result, the outcome every
// rank learns at the end, and the broadcast of all results. The root's side is dealer.hpp, the
// other ranks' worker.hpp; the bytes travel through transport.hpp.
//
// Root -> worker, tag_chunk:  u64 begin, u64 end, the items [begin, end)
// Worker -> root, tag_result: u64 begin, u64 end, u8 seen, u8 status, then by status:
//   status_ok: the results; status_failed: u8 failure_kind, u64 index, string what;
//   status_skipped, status_stopped: nothing.
//   `seen` is 0, or the failure_kind (cancelled or timeout) of a stop or deadline this rank has
//   seen: the root then deals no further chunk anywhere.
// Root -> worker, tag_final:  the outcome (see outcome::write); with all_gather and success,
//   then two broadcasts of the results (send_all_results).

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "parmap/detail/call_rules.hpp"
#include "parmap/detail/mpi_engine.hpp"

namespace parmap::mpi::detail {

// Message tags on the call's private (duplicated) communicator.
inline constexpr int tag_chunk = 1;
inline constexpr int tag_result = 2;
inline constexpr int tag_final = 3;

/// Chunks a worker holds at once: the one it maps and the one waiting behind it, so that it
/// finds its next chunk waiting when it finishes one.
inline constexpr std::size_t depth = 2;

inline constexpr std::uint8_t status_ok = 0;
inline constexpr std::uint8_t status_failed = 1;
inline constexpr std::uint8_t status_skipped = 2;  // not mapped: a lower index of this rank failed
inline constexpr std::uint8_t status_stopped = 3;  // not mapped: this rank saw its stop/deadline

/// The head of a worker's result message.
struct result_head {
  std::size_t begin;
  std::size_t end;
  std::uint8_t seen;  ///< 0, or the failure_kind of a stop or deadline this rank saw
  std::uint8_t status;

  /// Where `seen` lies in the message: the worker sets it once the chunk is done.
  static constexpr std::size_t seen_at = 2 * sizeof(std::uint64_t);
  void write(writer& w) const;
  static result_head read(reader& r);
};

/// How the call ended, as the root decides and every rank learns it.
struct outcome {
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
  std::size_t index = npos;  ///< the failing item, npos: none
  int rank = -1;             ///< where it failed
  std::string what;
  std::optional<failure_kind> stopped;  ///< a stop or deadline (only when no item failed)

  [[nodiscard]] bool failed() const noexcept { return index != npos || stopped.has_value(); }
  void write(writer& w) const;
  static outcome read(reader& r);
  /// Throws what every rank throws for this outcome; returns if the call succeeded.
  void rethrow() const;
};

/// Whether `rules` halted for a deadline (timeout) or a stop (cancelled). Only once
/// rules.halt_index() is not no_index.
[[nodiscard]] failure_kind halt_kind(const parmap::detail::call_rules& rules);

/// Runs body(), which maps or serializes the chunk that starts at `begin`, and returns what it
/// threw as a failure: a chunk_failure as it is, any other exception at `begin`.
template <class Body>
std::optional<chunk_failure> guarded(std::size_t begin, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
    return std::nullopt;
  } catch (chunk_failure& f) {
    return std::move(f);
  } catch (const std::exception& e) {
    try {
      return chunk_failure{failure_kind::item, begin, e.what()};
    } catch (...) {
      return chunk_failure{failure_kind::item, begin, {}};
    }
  } catch (...) {
    return chunk_failure{failure_kind::item, begin, {}};
  }
}

/// Throws std::runtime_error when `in` holds bytes left over after the `what` (items or
/// results) were read.
void expect_consumed(const reader& in, const char* what);

/// With all_gather, once the call succeeded: the root broadcasts every result (or why it
/// could not serialize them, which every rank then throws). Collective with
/// receive_all_results on the other ranks.
void send_all_results(MPI_Comm comm, int root, chunk_ops& ops);
void receive_all_results(MPI_Comm comm, int root, std::size_t n, chunk_ops& ops);

}  // namespace parmap::mpi::detail
