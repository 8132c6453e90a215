// parmap-bench: every workload of workloads.hpp on every backend, beside the hand-written loops
// they wrap. See bench/README.md; `parmap-bench --help` lists the flags.
#include <cstdio>
#include <exception>

#include "harness.hpp"

int main(int argc, char** argv) {
  using namespace parmap::bench;
  try {
    const auto cfg = parse_command_line(argc, argv);
    if (!cfg) return 0;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    registry reg(*cfg);
    register_overhead(reg);
    register_wake(reg);
    register_memory(reg);
    register_compute(reg);
    register_imbalanced(reg);
    register_latency(reg);
    register_chunks(reg);
    register_files(reg);
    register_placement(reg);
    register_stream(reg);
    register_reduce(reg);
    register_function_passing(reg);
    if (reg.names().empty()) {
      std::fprintf(stderr, "parmap-bench: no case matches --benchmark_filter=%s\n",
                   cfg->filter.c_str());
      return 1;
    }
    add_context(*cfg);
    progress_reporter display(reg);
    benchmark::RunSpecifiedBenchmarks(&display);
    benchmark::Shutdown();
    return 0;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s\n(parmap-bench --help lists the flags)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parmap-bench: %s\n", e.what());
    return 1;
  }
}
