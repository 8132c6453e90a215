// A thread that pinned itself to one CPU makes the process's first parmap call: prints what
// "every CPU" means afterwards and whether the call's other threads ran on the process's CPUs.
// Usage: child_pinned_first_call <backend>
#include <pthread.h>
#include <sched.h>

#include <cstdio>
#include <mutex>
#include <parmap/parmap.hpp>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  cpu_set_t process;
  CPU_ZERO(&process);
  pthread_getaffinity_np(pthread_self(), sizeof(process), &process);
  unsigned last = 0;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &process)) last = cpu;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(last, &one);
  if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0) return 3;

  const parmap::backend b = parmap::backend_from_string(argv[1]);
  const std::thread::id caller = std::this_thread::get_id();
  std::mutex m;
  bool helpers_full = true;
  std::vector<int> in(20000);
  (void)parmap::parallel_map(
      in,
      [&](int x) {
        if (std::this_thread::get_id() != caller) {
          cpu_set_t mine;
          pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine);
          std::lock_guard lock(m);
          helpers_full = helpers_full && CPU_EQUAL(&mine, &process);
        }
        return x;
      },
      parmap::options{.backend = b, .threads = 2, .chunk = 10});
  std::printf("usable_cpus %u\n", parmap::usable_cpus());
  std::printf("resolve_threads(0) %d\n", parmap::resolve_threads(0));
  std::printf("helpers on the process mask: %s\n", helpers_full ? "yes" : "no");
  return 0;
}
