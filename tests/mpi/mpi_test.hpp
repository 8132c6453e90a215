#pragma once
// Helpers of the MPI test suites. Every test is SPMD: every rank runs every test, in the same
// order, and makes the same parmap::mpi calls; assertions are checked on every rank (the main in
// mpi_test_main.cpp fails the run if any rank failed).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <parmap/parmap.hpp>
#include <vector>

namespace parmap_test {

inline int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

inline int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

/// Every rank's `value`, in rank order, on every rank.
inline std::vector<std::int64_t> gather_all(std::int64_t value, MPI_Comm comm = MPI_COMM_WORLD) {
  int size = 0;
  MPI_Comm_size(comm, &size);
  std::vector<std::int64_t> all(static_cast<std::size_t>(size));
  MPI_Allgather(&value, 1, MPI_INT64_T, all.data(), 1, MPI_INT64_T, comm);
  return all;
}

/// The fixture of the MPI suites run on every local backend: this rank's place, and the local
/// options each rank passes (the backend under test, 2 threads).
class mpi_backend_test : public testing::TestWithParam<parmap::backend> {
 protected:
  [[nodiscard]] parmap::options local() const {
    return parmap::options{.backend = GetParam(), .threads = 2};
  }
  const int rank = world_rank();
  const int size = world_size();
  const bool root = rank == 0;
};

}  // namespace parmap_test
