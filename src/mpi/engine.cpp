// The entry of parmap::mpi::parallel_map and parallel_for into the untyped engine: checks the
// arguments, then runs the call as this rank's part requires. The parts, by job:
//   agreement.{hpp,cpp}  what every rank checks and agrees on before any work
//   dealer.{hpp,cpp}     the root: the call's rules, the deal, the outcome
//   worker.{hpp,cpp}     the other ranks: map what is dealt, send the results back
//   protocol.{hpp,cpp}   what the messages mean
//   transport.{hpp,cpp}  how the bytes move

#include <stdexcept>
#include <string>
#include <vector>

#include "agreement.hpp"
#include "dealer.hpp"
#include "parmap/mpi.hpp"
#include "transport.hpp"
#include "worker.hpp"

namespace parmap::mpi::detail {

void run(MPI_Comm comm, place where, const parmap::mpi::options& opt, const parmap::options& local,
         std::size_t input_size, const std::string& local_problem, chunk_ops& ops) {
  const std::string problem = local_problem.empty() ? check_local(local) : local_problem;
  if (where.size == 1) {
    check_root(opt, where);
    if (!problem.empty()) throw std::invalid_argument("parmap::mpi: " + problem);
    run_alone(opt, local, input_size, ops);
    return;
  }
  comm_guard own;
  check(MPI_Comm_dup(comm, &own.comm), "MPI_Comm_dup");
  const std::size_t n = agree(own.comm, where, opt, input_size, problem);
  if (n == 0) {
    if (where.rank == opt.root && opt.report) {
      const auto ranks = static_cast<std::size_t>(where.size);
      *opt.report = call_report{opt.chunk, std::vector<std::size_t>(ranks, 0),
                                std::vector<std::size_t>(ranks, 0)};
    }
    return;
  }
  if (where.rank == opt.root) {
    run_root(own.comm, where, opt, local, n, ops);
  } else {
    run_worker(own.comm, where, opt, local, n, ops);
  }
}

}  // namespace parmap::mpi::detail
