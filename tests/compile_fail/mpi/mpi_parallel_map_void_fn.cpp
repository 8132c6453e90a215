// expect: parmap::mpi::parallel_map: fn returns void
#include <parmap/mpi.hpp>

#include <vector>

void use(const std::vector<int>& xs) {
  auto out = parmap::mpi::parallel_map(MPI_COMM_WORLD, xs, [](int) {});
  for (auto& r : out) (void)r;
}
