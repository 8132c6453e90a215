// sleep(0.1) over 24 items: latency-bound work wants more workers than cores. A serial loop
// takes 24 x 0.1 s = 2.4 s; 8 workers take about 3 x 0.1 s = 0.3 s even on a machine with
// fewer cores, since a sleeping worker uses no CPU. The chunk size matters too: chunks are the
// unit handed to a worker, so 8 workers with chunks of 12 items have only 2 chunks to share and
// take 1.2 s.
//
//   example_sleep_workers [seconds per item, default 0.1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <parmap/parmap.hpp>
#include <ranges>
#include <thread>

int main(int argc, char** argv) {
  const double per_item = argc > 1 ? std::atof(argv[1]) : 0.1;
  auto nap = [per_item](int i) {
    std::this_thread::sleep_for(std::chrono::duration<double>(per_item));
    return i;
  };
  const auto items = std::views::iota(0, 24);
  std::printf("24 items of %.2f s each, on a machine with %u usable CPUs\n", per_item,
              parmap::usable_cpus());

  auto run = [&](const char* what, const parmap::options& opt) {
    const auto start = std::chrono::steady_clock::now();
    const auto out = parmap::parallel_map(items, nap, opt);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("  %-36s %5.2f s  (%zu results)\n", what, took.count(), out.size());
  };
  run("serial backend", {.backend = parmap::backend::serial});
  run("threads = usable CPUs", {.threads = 0, .chunk = 1});
  run("threads = 8, chunk = 1", {.threads = 8, .chunk = 1});
  run("threads = 8, chunk = 3", {.threads = 8, .chunk = 3});
  run("threads = 8, chunk = 12", {.threads = 8, .chunk = 12});
  run("threads = 24, chunk = 1", {.threads = 24, .chunk = 1});
}
