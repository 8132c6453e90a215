// Prints what threads = 0 means in this process, after optionally joining a cgroup:
//   child_cpu_allowance [CGROUP_PROCS_FILE]
// With an argument, the child first writes its own pid to that cgroup.procs file, so the quota
// of that cgroup applies to it before parmap reads the quota (at its first call). Output lines:
//   threads=N quota=Q source=S
//   file=PATH
//   distinct_threads=K   (how many threads ran a parallel_map with default options)
//   describe=...
// Exit codes: 0 printed; 3 could not join the cgroup; 4 parmap threw.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <mutex>
#include <numeric>
#include <parmap/parmap.hpp>
#include <set>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  // The quota is what is under test, not a PARMAP_NUM_THREADS the test runner happens to have.
  unsetenv("PARMAP_NUM_THREADS");
  if (argc > 1) {
    std::ofstream procs(argv[1]);
    procs << getpid() << std::flush;
    if (!procs) {
      std::printf("could not write pid %d to %s\n", static_cast<int>(getpid()), argv[1]);
      return 3;
    }
  }
  try {
    const parmap::cpu_allowance a = parmap::detect_cpu_allowance();
    std::printf("threads=%d quota=%g source=%s\n", parmap::resolve_threads(0), a.quota_cpus,
                a.source.c_str());
    std::printf("file=%s\n", a.quota_file.c_str());
    std::vector<int> in(2000);
    std::iota(in.begin(), in.end(), 0);
    std::mutex m;
    std::set<std::thread::id> ids;
    (void)parmap::parallel_map(in, [&](int x) {
      const std::lock_guard lock(m);
      ids.insert(std::this_thread::get_id());
      return x;
    });
    std::printf("distinct_threads=%zu\n", ids.size());
    std::printf("describe=%s\n", parmap::describe(a).c_str());
  } catch (const std::exception& e) {
    std::printf("parmap threw: %s\n", e.what());
    return 4;
  }
  return 0;
}
