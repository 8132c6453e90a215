// expect: parmap::mpi::parallel_for: f cannot be called with an index
#include <parmap/mpi.hpp>

#include <string>

void use() {
  parmap::mpi::parallel_for(MPI_COMM_WORLD, 100, [](const std::string& s) { (void)s; });
}
