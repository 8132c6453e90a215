// The process ends while other threads keep making short parallel_map calls, so calls start,
// run and finish during exit and static destruction. Every call that returns must have the
// right results (else exit status 3), none may throw (status 4), and exit must be prompt.
// Variants: "return" (main returns), "exit" (main calls std::exit).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <ranges>
#include <thread>

#include "child_args.hpp"

namespace {

constexpr int callers = 4;
std::atomic<int> callers_with_a_call_done{0};

[[noreturn]] void fail(const char* why, int status) {
  child::say(why);
  std::_Exit(status);
}

void keep_calling(parmap::options opt) {
  for (std::int64_t round = 1;; ++round) {
    try {
      const auto out = parmap::parallel_map(
          std::views::iota(std::int64_t{0}, std::int64_t{100}),
          [round](std::int64_t i) { return i * round; }, opt);
      if (out.size() != 100 ||
          std::accumulate(out.begin(), out.end(), std::int64_t{0}) != 4950 * round) {
        fail("wrong result", 3);
      }
    } catch (const std::exception& e) {
      fail(e.what(), 4);
    } catch (...) {
      fail("unknown exception", 4);
    }
    if (round == 1) callers_with_a_call_done.fetch_add(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = child::parse(argc, argv, {"return", "exit"});
  if (!args) return 2;
  const parmap::options opt{.backend = args->backend, .threads = 4};
  for (int t = 0; t < callers; ++t) std::thread(keep_calling, opt).detach();
  // Exit only once every caller is past its first call: the backend is fully started then.
  while (callers_with_a_call_done.load() < callers) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  child::say("ok");
  if (args->variant == "exit") std::exit(0);
  return 0;
}
