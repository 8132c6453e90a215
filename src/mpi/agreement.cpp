// What every rank checks before a parmap::mpi call does any work (agreement.hpp): MPI's state,
// the communicator, the local options, and the arguments the ranks must agree on.

#include "agreement.hpp"

#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "parmap/detail/execute.hpp"
#include "parmap/mpi.hpp"
#include "transport.hpp"

namespace parmap::mpi::detail {

place check_environment(MPI_Comm comm) {
  int flag = 0;
  MPI_Initialized(&flag);
  if (!flag) {
    throw std::logic_error(
        "parmap::mpi: MPI is not initialized; call MPI_Init_thread(&argc, &argv, "
        "MPI_THREAD_FUNNELED, &provided) first");
  }
  MPI_Finalized(&flag);
  if (flag) throw std::logic_error("parmap::mpi: MPI is already finalized");
  int level = MPI_THREAD_SINGLE;
  check(MPI_Query_thread(&level), "MPI_Query_thread");
  if (level < MPI_THREAD_FUNNELED) {
    throw std::logic_error(
        "parmap::mpi: MPI was initialized with MPI_THREAD_SINGLE, but parmap runs "
        "threads inside each rank; initialize with MPI_Init_thread(..., MPI_THREAD_FUNNELED, "
        "...) or higher");
  }
  if (level == MPI_THREAD_FUNNELED) {
    check(MPI_Is_thread_main(&flag), "MPI_Is_thread_main");
    if (!flag) {
      throw std::logic_error(
          "parmap::mpi: MPI runs at MPI_THREAD_FUNNELED, which allows MPI calls "
          "from the main thread only; call it from the main thread or initialize MPI with "
          "MPI_THREAD_SERIALIZED or higher");
    }
  }
  if (comm == MPI_COMM_NULL) {
    throw std::invalid_argument("parmap::mpi: the communicator is MPI_COMM_NULL");
  }
  check(MPI_Comm_test_inter(comm, &flag), "MPI_Comm_test_inter");
  if (flag) {
    throw std::invalid_argument(
        "parmap::mpi: intercommunicators are not supported; pass an "
        "intracommunicator (MPI_Intercomm_merge makes one)");
  }
  place where{0, 1};
  check(MPI_Comm_rank(comm, &where.rank), "MPI_Comm_rank");
  check(MPI_Comm_size(comm, &where.size), "MPI_Comm_size");
  return where;
}

std::string check_local(const parmap::options& local) {
  try {
    (void)parmap::detail::make_plan(local);
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

void check_root(const parmap::mpi::options& opt, place where) {
  if (opt.root < 0 || opt.root >= where.size) {
    throw std::invalid_argument("parmap::mpi: mpi::options::root is " +
                                std::to_string(opt.root) + " but the communicator has " +
                                std::to_string(where.size) + " rank" +
                                (where.size == 1 ? "" : "s"));
  }
}

std::size_t agree(MPI_Comm comm, place where, const parmap::mpi::options& opt,
                  std::size_t input_size, const std::string& problem) {
  const bool is_root = where.rank == opt.root;
  const auto u = [](auto v) { return static_cast<std::uint64_t>(v); };
  // A maximum over v and over ~v gives both the maximum and the minimum in one reduction.
  std::uint64_t v[] = {
      u(static_cast<std::int64_t>(opt.root)),
      ~u(static_cast<std::int64_t>(opt.root)),
      u(opt.chunk),
      ~u(opt.chunk),
      u(opt.all_gather ? 1 : 0),
      ~u(opt.all_gather ? 1 : 0),
      is_root ? u(input_size) : 0,                       // the root's size
      !is_root ? u(input_size) : 0,                      // largest other size
      !is_root && input_size != 0 ? ~u(input_size) : 0,  // smallest non-zero other size
      problem.empty() ? 0 : u(where.size - where.rank),  // lowest rank with a problem
  };
  check(MPI_Allreduce(MPI_IN_PLACE, v, static_cast<int>(std::size(v)), MPI_UINT64_T, MPI_MAX, comm),
        "MPI_Allreduce");

  const std::string prefix = "parmap::mpi: ";
  const auto differs = [&](std::size_t at, const char* name, auto as) {
    const auto high = v[at];
    const auto low = ~v[at + 1];
    if (high == low) return;
    throw std::invalid_argument(prefix + "mpi::options::" + name +
                                " must be the same on every rank, but ranges from " +
                                std::to_string(static_cast<decltype(as)>(low)) + " to " +
                                std::to_string(static_cast<decltype(as)>(high)));
  };
  differs(0, "root", std::int64_t{});
  differs(2, "chunk", std::uint64_t{});
  differs(4, "all_gather", std::uint64_t{});
  check_root(opt, where);
  if (v[9] != 0) {
    const int bad = where.size - static_cast<int>(v[9]);
    std::vector<std::byte> text(problem.size());
    std::memcpy(text.data(), problem.data(), problem.size());
    bcast_bytes(text, bad, comm);
    const std::string said(reinterpret_cast<const char*>(text.data()), text.size());
    if (bad == where.rank) throw std::invalid_argument(prefix + said);
    throw std::invalid_argument(prefix + "rank " + std::to_string(bad) +
                                " rejected the call: " + said);
  }
  const std::uint64_t n = v[6];
  const std::uint64_t other_high = v[7];
  const std::uint64_t other_low = ~v[8];
  if (other_high != 0 && (other_high != n || other_low != n)) {
    throw std::invalid_argument(
        prefix + "the root's input has " + std::to_string(n) +
        " items, but another rank passed an input of " +
        std::to_string(other_high != n ? other_high : other_low) +
        " items; other ranks pass an empty input (or one of the root's size, which is not "
        "read)");
  }
  return static_cast<std::size_t>(n);
}

}  // namespace parmap::mpi::detail
