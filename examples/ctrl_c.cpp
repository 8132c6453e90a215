// The seeds' trap: "trying to Ctrl-C out of parallelised code does not work, because the
// processes receive the KeyboardInterrupt but do not exit sanely". Here 1,000 slow items (a
// sleeping worker each, 0.1 s) run on 16 threads, about 6 s, with a progress line. Press Ctrl-C:
// parmap::interrupt_scope turns it into a stop request, the items already running finish, no
// other item starts, and the program says how far it got and exits with 130, the status a
// shell expects after Ctrl-C. Should an item hang, a second Ctrl-C ends the program at once:
// try `example_ctrl_c 30` (items of 30 s) and press Ctrl-C twice.
//
//   example_ctrl_c [seconds per item, default 0.1]
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <parmap/parmap.hpp>
#include <ranges>
#include <stop_token>
#include <thread>

int main(int argc, char** argv) {
  const double per_item = argc > 1 ? std::atof(argv[1]) : 0.1;
  constexpr int total = 1000;
  constexpr int threads = 16;
  std::printf("%d items of %.2f s on %d threads, about %.0f s. Press Ctrl-C to stop them.\n", total,
              per_item, threads, total * per_item / threads);
  std::fflush(stdout);

  // From here to the end of main, SIGINT and SIGTERM ask for a stop instead of killing us.
  parmap::interrupt_scope scope;
  // Runs once the stop is requested (on the scope's own thread, not in the signal handler).
  const std::stop_callback tell(scope.token(), [] {
    std::fputs("\nCtrl-C: letting the running items finish (Ctrl-C again to quit at once)\n",
               stdout);
    std::fflush(stdout);
  });

  std::atomic<int> done{0};
  auto slow_square = [&](int i) {
    std::this_thread::sleep_for(std::chrono::duration<double>(per_item));
    done.fetch_add(1);
    return i * i;
  };
  const parmap::options opt{.threads = threads,
                            .chunk = 1,
                            .stop = scope.token(),
                            .on_progress = [](std::size_t n, std::size_t of) {
                              std::printf("\r  %zu of %zu items done", n, of);
                              std::fflush(stdout);
                            }};
  try {
    const auto squares = parmap::parallel_map(std::views::iota(0, total), slow_square, opt);
    std::printf("\nall %zu items done; the last square is %d\n", squares.size(), squares.back());
    return 0;
  } catch (const parmap::cancelled&) {
    std::printf("\ninterrupted: %d of %d items done\n", done.load(), total);
    return 128 + scope.caught_signal();  // 130 after Ctrl-C, 143 after SIGTERM
  }
}
