#include "process_cpus.hpp"

#include <pthread.h>

#include <algorithm>
#include <thread>

namespace parmap::detail {
namespace {

cpu_set_t read_mask() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return set;
  CPU_ZERO(&set);
  const unsigned n = std::max(std::thread::hardware_concurrency(), 1u);
  for (unsigned cpu = 0; cpu < n && cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &set);
  return set;
}

struct loaded_mask {
  cpu_set_t mask = read_mask();  // trivially destructible: usable during static destruction
};

const loaded_mask& mask_at_load() noexcept {
  static const loaded_mask m;
  return m;
}

// Reads the mask during static initialization, before main can pin any thread.
[[maybe_unused]] const bool read_at_load = (mask_at_load(), true);

}  // namespace

const cpu_set_t& process_cpu_mask() noexcept {
  return mask_at_load().mask;
}

void unpin_to_process_cpus() noexcept {
  cpu_set_t now;
  if (pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0 &&
      CPU_EQUAL(&now, &process_cpu_mask())) {
    return;
  }
  pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), &process_cpu_mask());
}

}  // namespace parmap::detail
