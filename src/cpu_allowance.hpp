#pragma once
// The process's cpu_allowance as read once, for resolve_threads, which runs on every call and
// must neither copy strings nor throw for negative thread counts when PARMAP_NUM_THREADS is bad.

#include <string>

#include "parmap/topology.hpp"

namespace parmap::detail {

struct allowance_record {
  /// What detect_cpu_allowance() returns when `error` is empty.
  cpu_allowance allowance;
  /// max(1, min(affinity_cpus, ceil(quota_cpus))): the CPUs negative thread counts count from,
  /// PARMAP_NUM_THREADS aside.
  unsigned quota_threads = 1;
  /// Non-empty when PARMAP_NUM_THREADS is set to something that is not a thread count: the
  /// message every use of threads = 0 throws.
  std::string error;
};

/// Read at the first call, then cached. Throws only what allocation throws.
[[nodiscard]] const allowance_record& process_allowance();

}  // namespace parmap::detail
