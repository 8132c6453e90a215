#pragma once
// The root of a parmap::mpi call: it keeps the call's rules (parmap::detail::call_rules) for
// every rank, deals the chunks, maps chunks itself, and tells every rank the outcome.

#include <mpi.h>

#include <cstddef>

#include "parmap/detail/mpi_engine.hpp"

namespace parmap::mpi::detail {

/// Runs the call on a communicator of one rank: no message, no thread; the chunks are mapped
/// in order (the whole input in one local call unless opt.chunk is set).
void run_alone(const parmap::mpi::options& opt, const parmap::options& local, std::size_t n,
               chunk_ops& ops);

/// Runs the call on the root of `comm` (the call's private communicator), with `n` > 0 items,
/// until every rank has learnt the outcome; throws it, or returns.
void run_root(MPI_Comm comm, place where, const parmap::mpi::options& opt,
              const parmap::options& local, std::size_t n, chunk_ops& ops);

}  // namespace parmap::mpi::detail
