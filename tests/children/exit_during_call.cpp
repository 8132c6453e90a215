// std::exit while a detached thread is inside a parallel_map that would need about a minute to
// finish. Exit must not wait for the rest of that call's items.
// Variant: "exit" (the only one; the argument keeps every exit child's command line alike).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ranges>
#include <thread>

#include "child_args.hpp"

namespace {

std::atomic<bool> call_started{false};

}  // namespace

int main(int argc, char** argv) {
  const auto args = child::parse(argc, argv, {"exit"});
  if (!args) return 2;
  const parmap::options opt{.backend = args->backend, .threads = 4};
  // 4800 items of 50 ms on 4 threads: a minute, far beyond the test's timeout.
  std::thread([opt] {
    (void)parmap::parallel_map(
        std::views::iota(0, 4800),
        [](int i) {
          call_started.store(true);
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          return i;
        },
        opt);
  }).detach();
  while (!call_started.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  child::say("ok");
  std::exit(0);
}
