// Switching backend: the same program, unchanged, on every backend parmap was built with.
// The default backend comes from the compile flag (cmake -DPARMAP_BACKEND=tbb) and can be
// overridden at run time by the environment (PARMAP_BACKEND=openmp ./example_switch_backend);
// a call can also name its backend in its options. This program shows all three: it runs
// itself once per backend through PARMAP_BACKEND, then runs each backend per call.
//
//   example_switch_backend            the whole tour
//   example_switch_backend --once     one run on the default backend
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <parmap/parmap.hpp>
#include <ranges>
#include <string>
#include <string_view>

namespace {

/// The program's work: a sum of square roots over ten million items.
double work(const parmap::options& opt) {
  return parmap::map_reduce(
      std::views::iota(0, 10'000'000), [](int i) { return std::sqrt(static_cast<double>(i)); }, 0.0,
      std::plus<>{}, opt);
}

void run_and_print(const char* how, const parmap::options& opt) {
  const auto start = std::chrono::steady_clock::now();
  const double sum = work(opt);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  std::printf("  %-28s backend %-8s sum %.17g  %7.1f ms\n", how,
              std::string(parmap::to_string(opt.backend)).c_str(), sum, took.count());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--once") {
    run_and_print("default backend:", parmap::options{});
    return 0;
  }
  std::printf("built with PARMAP_BACKEND=%s; available:", PARMAP_DEFAULT_BACKEND_NAME);
  for (parmap::backend b : parmap::available_backends()) {
    std::printf(" %s", std::string(parmap::to_string(b)).c_str());
  }
  std::printf("\n\nthrough the environment (PARMAP_BACKEND=<name> %s --once):\n", argv[0]);
  std::fflush(stdout);
  for (parmap::backend b : parmap::available_backends()) {
    const std::string command =
        "PARMAP_BACKEND=" + std::string(parmap::to_string(b)) + " '" + argv[0] + "' --once";
    if (std::system(command.c_str()) != 0) std::printf("  (%s failed)\n", command.c_str());
    std::fflush(stdout);
  }
  std::printf("\nper call (options{.backend = ...}):\n");
  for (parmap::backend b : parmap::available_backends()) {
    run_and_print("options.backend:", parmap::options{.backend = b});
  }
}
