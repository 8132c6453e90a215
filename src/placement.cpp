#include "placement.hpp"

#include <pthread.h>
#include <sched.h>

#include <vector>

#include "parmap/topology.hpp"

namespace parmap::detail {
namespace {

/// What parmap did to one thread's affinity. Trivially destructible, so it stays usable
/// while the thread (or, for the main thread, the process) ends.
struct thread_pin {
  int cpu = not_pinned;  // the CPU parmap pinned the thread to
  cpu_set_t before;      // the thread's mask before that pin; valid while cpu != not_pinned
};
thread_local thread_pin pin;

struct cpu_orders {
  std::vector<unsigned> spread;  // one per core first, then the SMT siblings
  std::vector<unsigned> close;   // all of a core's hardware threads, then the next core

  cpu_orders() {
    const topology t = detect_topology();
    spread = t.cpus_by_core;
    for (const auto& core : t.cores) close.insert(close.end(), core.begin(), core.end());
  }
};

const cpu_orders& orders() {
  // Never destroyed: calls made while the process exits still place their threads.
  static const cpu_orders* const o = new cpu_orders();
  return *o;
}

bool pin_to(int cpu) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace

void place_thread(placement where, unsigned index) noexcept {
  if (where == placement::none) return restore_placement(not_pinned);
  try {
    const auto& list = where == placement::spread ? orders().spread : orders().close;
    if (list.empty()) return;
    const auto cpu = static_cast<int>(list[index % list.size()]);
    if (cpu == pin.cpu) return;
    // A thread whose mask cannot be read is not pinned: it could not be given back.
    if (pin.cpu == not_pinned &&
        pthread_getaffinity_np(pthread_self(), sizeof(pin.before), &pin.before) != 0) {
      return;
    }
    if (pin_to(cpu)) pin.cpu = cpu;
  } catch (...) {
    // Pinning is a performance hint: a thread that cannot be placed runs where it is.
  }
}

int thread_placement() noexcept {
  return pin.cpu;
}

void restore_placement(int previous) noexcept {
  if (pin.cpu == previous) return;
  if (previous == not_pinned) {
    pthread_setaffinity_np(pthread_self(), sizeof(pin.before), &pin.before);
    pin.cpu = not_pinned;
  } else if (pin_to(previous)) {
    pin.cpu = previous;
  }
}

}  // namespace parmap::detail
