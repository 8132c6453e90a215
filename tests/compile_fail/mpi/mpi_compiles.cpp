// expect: compiles
// The positive control of the MPI misuses: the same calls, used correctly.
#include <parmap/mpi.hpp>

#include <cstddef>
#include <vector>

void use(const std::vector<int>& xs, std::vector<int>& here) {
  auto out = parmap::mpi::parallel_map(MPI_COMM_WORLD, xs, [](int x) { return x + 1; });
  parmap::mpi::parallel_for(MPI_COMM_WORLD, here.size(), [&](std::size_t i) { here[i] = 1; });
  parmap::mpi::parallel_for(MPI_COMM_WORLD, -5, 5, [](int) {}, parmap::options{.threads = 2},
                            parmap::mpi::options{.chunk = 2});
  (void)out;
}
