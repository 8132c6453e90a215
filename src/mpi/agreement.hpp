#pragma once
// What every rank checks before a parmap::mpi call does any work: MPI's state and the
// communicator (check_environment, declared in parmap/detail/mpi_engine.hpp), this rank's own
// options, and the arguments every rank must agree on. Every rank reaches the same verdict.

#include <mpi.h>

#include <cstddef>
#include <string>

#include "parmap/detail/mpi_engine.hpp"

namespace parmap::mpi::detail {

/// What only this rank can know is wrong with its local options, or empty.
[[nodiscard]] std::string check_local(const parmap::options& local);

/// Throws std::invalid_argument when opt.root is not a rank of the communicator. The same on
/// every rank once the ranks agree on the root.
void check_root(const parmap::mpi::options& opt, place where);

/// Every rank contributes its arguments (`problem`: this rank's reason to reject the call, or
/// empty); every rank sees the same verdict and throws the same std::invalid_argument when
/// they do not fit: root, chunk and all_gather must be equal, other ranks' inputs empty or of
/// the root's size. Collective. Returns the input size (the root's).
[[nodiscard]] std::size_t agree(MPI_Comm comm, place where, const parmap::mpi::options& opt,
                                std::size_t input_size, const std::string& problem);

}  // namespace parmap::mpi::detail
