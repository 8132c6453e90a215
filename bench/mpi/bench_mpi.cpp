// parmap-bench-mpi: parmap::mpi::parallel_map on the compute-bound and triangular workloads of
// parmap-bench (bench/workloads.hpp), at every rank count up to the job's size times 1 and 2
// local threads.
//
//   mpirun -np 2 parmap-bench-mpi --benchmark_out=mpi.json --benchmark_out_format=json
//
// One job measures every rank count side by side: "ranks:r" runs on the first r ranks of
// MPI_COMM_WORLD while the others wait asleep, so the 1-rank and 2-rank cases share one run and
// one machine state. Every rank runs every benchmark with the same fixed iteration count (the
// calls are collective); only rank 0 reports. Names: mpi/<workload>/ranks:<r>/threads:<t>, with
// counters `ranks` and `threads` for the report scripts. With 2 ranks or more,
// mpi/paired/<workload>/threads:1 also alternates 1-rank and all-rank calls and reports the
// median per-pair `speedup` (no `ranks` in the name: it is a ratio, not a point to plot).

#include <benchmark/benchmark.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <parmap/mpi.hpp>
#include <parmap/parmap.hpp>
#include <string>
#include <thread>
#include <vector>

#include "workloads.hpp"

namespace {

constexpr std::size_t items = 20000;                 // ~0.2 s of work per call at 10 us per item
constexpr benchmark::IterationCount iterations = 6;  // fixed: every rank must agree on it
constexpr std::chrono::microseconds item_cost{10};

int world_rank = 0;
int world_size = 1;
std::uint64_t rounds = 1;  // burn() rounds for ~10 us, measured on rank 0, the same everywhere

// Waits for every rank of `comm` without busy-polling (MPI_Barrier spins, and would take the
// core the participating ranks compute on).
void sleepy_barrier(MPI_Comm comm) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  while (true) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

enum class kind { compute, triangular, sleep };

struct workload {
  const char* name;
  kind what;
};

// Items per call: ~0.2 s of work on one core (the sleeping items each take ~100 us or more).
std::size_t item_count(kind what) {
  return what == kind::sleep ? 2000 : items;
}

// The item function of a workload. `sleep` waits 100 us per item without using the CPU: its
// speedup measures the dealing alone (balance, latency, tail), whatever else the cores do.
std::uint64_t work(kind what, std::uint64_t i) {
  switch (what) {
    case kind::compute:
      return parmap::bench::burn(i, rounds);
    case kind::triangular:
      return parmap::bench::triangular{items, rounds}(i);
    case kind::sleep:
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      return i;
  }
  return 0;
}

/// The items 0, 1, 2, ... of a workload on the root rank; the other ranks pass nothing.
std::vector<std::uint64_t> root_input(const workload& w) {
  std::vector<std::uint64_t> input;
  if (world_rank == 0) {
    input.resize(item_count(w.what));
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = i;
  }
  return input;
}

void run(benchmark::State& state, workload w, int ranks, MPI_Comm comm, int threads) {
  const bool participant = comm != MPI_COMM_NULL;
  const std::vector<std::uint64_t> input = root_input(w);
  auto fn = [what = w.what](std::uint64_t i) { return work(what, i); };
  const parmap::options local{.threads = threads};
  sleepy_barrier(MPI_COMM_WORLD);
  for (auto _ : state) {
    if (participant) {
      auto out = parmap::mpi::parallel_map(comm, input, fn, local);
      benchmark::DoNotOptimize(out.data());
    }
  }
  sleepy_barrier(MPI_COMM_WORLD);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(items));
  state.counters["ranks"] = ranks;
  state.counters["threads"] = threads;
  state.counters["items"] = static_cast<double>(items);
  state.SetLabel(std::string(w.name) + " " + std::to_string(ranks) + "x" + std::to_string(threads));
}

// 1 rank against all ranks, call by call: each iteration times a call on rank 0 alone, then
// one on every rank, and the counter `speedup` is the median of the per-pair ratios, so a load
// that drifts during the run moves both sides of a ratio alike.
void paired(benchmark::State& state, workload w, MPI_Comm alone, int threads) {
  const std::vector<std::uint64_t> input = root_input(w);
  auto fn = [what = w.what](std::uint64_t i) { return work(what, i); };
  const parmap::options local{.threads = threads};
  using clock = std::chrono::steady_clock;
  std::vector<double> ratios;
  for (auto _ : state) {
    sleepy_barrier(MPI_COMM_WORLD);
    const auto t0 = clock::now();
    if (alone != MPI_COMM_NULL) {
      auto out = parmap::mpi::parallel_map(alone, input, fn, local);
      benchmark::DoNotOptimize(out.data());
    }
    const auto t1 = clock::now();
    sleepy_barrier(MPI_COMM_WORLD);
    const auto t2 = clock::now();
    auto out = parmap::mpi::parallel_map(MPI_COMM_WORLD, input, fn, local);
    benchmark::DoNotOptimize(out.data());
    const auto t3 = clock::now();
    ratios.push_back(std::chrono::duration<double>(t1 - t0).count() /
                     std::chrono::duration<double>(t3 - t2).count());
  }
  sleepy_barrier(MPI_COMM_WORLD);
  std::sort(ratios.begin(), ratios.end());
  const std::size_t m = ratios.size();
  state.counters["speedup"] = m == 0 ? 0 : (ratios[(m - 1) / 2] + ratios[m / 2]) / 2;
  state.counters["ranks_compared"] = world_size;
  state.counters["threads"] = threads;
}

// Reports nothing: the ranks other than 0 run the benchmarks only to take part in the calls.
class silent_reporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  if (world_rank == 0) rounds = parmap::bench::calibrate_rounds(item_cost);
  MPI_Bcast(&rounds, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);

  // Only rank 0 writes --benchmark_out: drop it on the others before the library opens it.
  // Random interleaving shuffles each rank's order differently, and the ranks would then wait in
  // different collective calls: it is dropped everywhere.
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (world_rank != 0 && std::strncmp(argv[i], "--benchmark_out", 15) == 0) continue;
    if (std::strncmp(argv[i], "--benchmark_enable_random_interleaving", 38) == 0) {
      if (world_rank == 0) {
        std::fprintf(stderr, "parmap-bench-mpi: ignoring %s (ranks must run in one order)\n",
                     argv[i]);
      }
      continue;
    }
    args.push_back(argv[i]);
  }
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&count, args.data());

  // comms[r - 1]: the first r ranks of the world (MPI_COMM_NULL on the others).
  std::vector<MPI_Comm> comms(static_cast<std::size_t>(world_size), MPI_COMM_NULL);
  for (int r = 1; r <= world_size; ++r) {
    MPI_Comm_split(MPI_COMM_WORLD, world_rank < r ? 0 : MPI_UNDEFINED, world_rank,
                   &comms[static_cast<std::size_t>(r - 1)]);
  }
  for (const workload w :
       {workload{"compute", kind::compute}, workload{"triangular", kind::triangular}}) {
    for (int r = 1; r <= world_size; ++r) {
      for (int t : {1, 2}) {
        const std::string name = std::string("mpi/") + w.name + "/ranks:" + std::to_string(r) +
                                 "/threads:" + std::to_string(t);
        benchmark::RegisterBenchmark(name.c_str(), run, w, r,
                                     comms[static_cast<std::size_t>(r - 1)], t)
            ->Iterations(iterations)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }

  if (world_size > 1) {
    for (const workload w :
         {workload{"compute", kind::compute}, workload{"triangular", kind::triangular},
          workload{"sleep", kind::sleep}}) {
      const std::string name = std::string("mpi/paired/") + w.name + "/threads:1";
      benchmark::RegisterBenchmark(name.c_str(), paired, w, comms[0], 1)
          ->Iterations(2 * iterations)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }

  char library[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(library, &length);
  std::string lib(library, static_cast<std::size_t>(length));
  lib = lib.substr(0, lib.find_first_of(",\n"));
  benchmark::AddCustomContext("mpi_world_size", std::to_string(world_size));
  benchmark::AddCustomContext("mpi_library", lib);
  benchmark::AddCustomContext("mpi_thread_level", provided >= MPI_THREAD_MULTIPLE     ? "multiple"
                                                  : provided >= MPI_THREAD_SERIALIZED ? "serialized"
                                                  : provided >= MPI_THREAD_FUNNELED   ? "funneled"
                                                                                      : "single");
  benchmark::AddCustomContext("local_backend",
                              std::string(parmap::to_string(parmap::default_backend())));
  benchmark::AddCustomContext("usable_cpus", std::to_string(parmap::usable_cpus()));
  benchmark::AddCustomContext("burn_rounds_per_item", std::to_string(rounds));
  benchmark::AddCustomContext("parmap_version", PARMAP_VERSION);
  // Other work on the machine changes what two ranks can gain; keep the load with the numbers.
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    char load[64] = {};
    if (std::fgets(load, sizeof load, f)) {
      std::string text(load);
      benchmark::AddCustomContext("loadavg_at_start", text.substr(0, text.find(' ')));
    }
    std::fclose(f);
  }

  if (world_rank == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    silent_reporter quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
  for (auto& c : comms) {
    if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
  }
  MPI_Finalize();
  return 0;
}
