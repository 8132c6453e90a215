#include "placement.hpp"

#include <pthread.h>
#include <sched.h>

#include <vector>

#include "parmap/topology.hpp"

namespace parmap::detail {
namespace {

constexpr int unpinned = -1;
thread_local int current_cpu = unpinned;

struct cpu_orders {
  std::vector<unsigned> spread;  // one per core first, then the SMT siblings
  std::vector<unsigned> close;   // all of a core's hardware threads, then the next core
  cpu_set_t process_mask;        // what an unpinned thread may use

  cpu_orders() {
    const topology t = detect_topology();
    spread = t.cpus_by_core;
    for (const auto& core : t.cores) close.insert(close.end(), core.begin(), core.end());
    CPU_ZERO(&process_mask);
    if (sched_getaffinity(0, sizeof(process_mask), &process_mask) != 0) {
      for (unsigned cpu : spread) CPU_SET(cpu, &process_mask);
    }
  }
};

const cpu_orders& orders() {
  static const cpu_orders o;
  return o;
}

}  // namespace

void place_thread(placement where, unsigned index) noexcept {
  try {
    if (where == placement::none) {
      if (current_cpu == unpinned) return;
      pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), &orders().process_mask);
      current_cpu = unpinned;
      return;
    }
    const auto& list = where == placement::spread ? orders().spread : orders().close;
    if (list.empty()) return;
    const auto cpu = static_cast<int>(list[index % list.size()]);
    if (cpu == current_cpu) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<unsigned>(cpu), &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0) current_cpu = cpu;
  } catch (...) {
    // Pinning is a performance hint: a thread that cannot be placed runs where it is.
  }
}

}  // namespace parmap::detail
