#pragma once
// The other ranks of a parmap::mpi call: map the chunks the root deals, send the results back,
// and tell the root when this rank has seen its own stop or deadline.

#include <mpi.h>

#include <cstddef>

#include "parmap/detail/mpi_engine.hpp"

namespace parmap::mpi::detail {

/// Runs the call on a rank other than the root of `comm` (the call's private communicator)
/// until the root sends the outcome; throws it, or returns (with all_gather, after receiving
/// every result). `n` > 0 is the root's input size. local.on_progress is not called here.
void run_worker(MPI_Comm comm, place where, const parmap::mpi::options& opt,
                const parmap::options& local, std::size_t n, chunk_ops& ops);

}  // namespace parmap::mpi::detail
