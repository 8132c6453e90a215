#pragma once
// The untyped half of parmap::mpi::parallel_map and parallel_for, compiled once in src/mpi/:
// argument agreement, dealing chunks, the message protocol, the call's rules and termination.
// The typed half (mpi.hpp) hands it one object whose virtual functions work on whole chunks, so
// the engine never sees an element type and the header never sees the protocol.

#include <mpi.h>

#include <cstddef>
#include <string>

#include "parmap/mpi_serializer.hpp"
#include "parmap/options.hpp"

namespace parmap::mpi {
struct options;
}  // namespace parmap::mpi

namespace parmap::mpi::detail {

/// Why a chunk did not produce its results.
enum class failure_kind : unsigned char {
  item = 1,       ///< the function (or a serializer) threw at `index`
  cancelled = 2,  ///< the local options' stop token was requested
  timeout = 3,    ///< the local options' deadline passed
};

/// Thrown by the typed chunk functions: the first failure inside a chunk, already located.
struct chunk_failure {
  failure_kind kind;
  std::size_t index;  ///< index in the whole input
  std::string what;
};

/// The typed operations of one call, each over one chunk [begin, end) of the input: the only
/// place where the element and result types are known. Every function may throw chunk_failure
/// or any exception; the engine attributes a plain exception to `begin`.
class chunk_ops {
 public:
  /// Root: appends the serialized items [begin, end) to `out`.
  virtual void write_items(std::size_t begin, std::size_t end, writer& out) = 0;
  /// Root: maps items [begin, end) on this rank with a local parmap call and `local`, and
  /// keeps the results (parallel_for has none). Runs on a helper thread, while the other
  /// functions run on the caller's.
  virtual void map_here(std::size_t begin, std::size_t end, const parmap::options& local) = 0;
  /// Root: reads the serialized results of [begin, end) that another rank computed.
  virtual void read_results(std::size_t begin, std::size_t end, reader& in) = 0;
  /// Other ranks: reads the chunk's items from `in`, maps them with a local parmap call and
  /// `local`, appends the results to `out`.
  virtual void map_remote(std::size_t begin, std::size_t end, reader& in, writer& out,
                          const parmap::options& local) = 0;
  /// Root, with all_gather: appends every result, in order, to `out`.
  virtual void write_all(writer& out) = 0;
  /// Other ranks, with all_gather: reads `size` results from `in` and keeps them.
  virtual void read_all(std::size_t size, reader& in) = 0;

 protected:
  chunk_ops() = default;
  chunk_ops(const chunk_ops&) = default;
  chunk_ops& operator=(const chunk_ops&) = default;
  ~chunk_ops() = default;
};

/// Where this rank stands: its rank and the communicator's size.
struct place {
  int rank;
  int size;
};

/// Checks what every call needs before it may touch `comm`: MPI initialized and not finalized,
/// a thread level of at least MPI_THREAD_FUNNELED (and this the main thread when it is exactly
/// FUNNELED), `comm` neither MPI_COMM_NULL nor an intercommunicator. Throws std::logic_error
/// (MPI state) or std::invalid_argument (the communicator). Local: no communication.
[[nodiscard]] place check_environment(MPI_Comm comm);

/// Runs the call on this rank and returns when every rank has learnt its outcome.
/// `input_size` is the size of this rank's input (the root's is the real one);
/// `local_problem` is a reason this rank rejects the call, found by the typed half, or empty.
/// Throws on every rank alike: std::invalid_argument (arguments, before any work),
/// remote_error, parmap::cancelled or parmap::timeout.
void run(MPI_Comm comm, place where, const parmap::mpi::options& opt, const parmap::options& local,
         std::size_t input_size, const std::string& local_problem, chunk_ops& ops);

}  // namespace parmap::mpi::detail
