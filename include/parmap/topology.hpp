#pragma once
// Physical versus logical cores: the C++ answer to psutil.cpu_count(logical=False). And how
// many threads `threads = 0` means here: the affinity mask, a cgroup CPU quota (containers,
// batch systems) or PARMAP_NUM_THREADS.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parmap {

/// The processors this process may run on, as hwloc sees them, restricted to its affinity mask.
struct topology {
  unsigned logical_cpus = 0;    ///< hardware threads (processing units) usable by this process
  unsigned physical_cores = 0;  ///< cores with at least one usable hardware thread
  unsigned packages = 0;        ///< sockets with at least one usable core
  unsigned numa_nodes = 0;      ///< NUMA nodes with at least one usable core (at least 1)
  /// The OS indices of the usable hardware threads, grouped by core: the first thread of every
  /// core comes first (one-per-core placement), then the second threads (the SMT siblings).
  std::vector<unsigned> cpus_by_core = {};
  /// The OS indices of each usable core's hardware threads, one inner vector per core.
  std::vector<std::vector<unsigned>> cores = {};
  /// True when some core has more than one usable hardware thread (hyperthreading).
  [[nodiscard]] bool smt() const noexcept { return logical_cpus > physical_cores; }
};

/// The topology of this machine, restricted to the CPUs this process may use. Detected once and
/// cached. Never throws: if hwloc fails, falls back to one core per usable CPU.
[[nodiscard]] topology detect_topology();

/// The topology hwloc builds from a synthetic description such as "package:2 core:8 pu:2"
/// (see hwloc's documentation for the syntax). For tests and "what if" planning.
/// Throws std::invalid_argument naming the description when hwloc rejects it.
[[nodiscard]] topology synthetic_topology(std::string_view description);

/// One line for reports: "8 logical CPUs, 4 physical cores, 1 package, 1 NUMA node, SMT".
[[nodiscard]] std::string describe(const topology& t);

/// Where options::threads = 0 gets its number from.
struct cpu_allowance {
  /// usable_cpus(): the CPUs in the process's affinity mask.
  unsigned affinity_cpus = 0;
  /// The cgroup CPU quota in CPUs, quota / period (1.5 for cpu.max "150000 100000"): the
  /// tightest one between the process's cgroup and the root of its hierarchy. 0: no quota.
  double quota_cpus = 0;
  /// The file that sets quota_cpus, e.g. "/sys/fs/cgroup/kubepods/pod1/cpu.max" (cgroup v2) or
  /// ".../cpu.cfs_quota_us" (v1). Empty when quota_cpus is 0.
  std::string quota_file = {};
  /// What threads = 0 means: PARMAP_NUM_THREADS when it is set (to a non-empty value), else
  /// max(1, min(affinity_cpus, ceil(quota_cpus))), or affinity_cpus when there is no quota.
  unsigned threads = 0;
  /// Which of them decided threads: "PARMAP_NUM_THREADS"; "cgroup CPU quota" when the quota
  /// is below the affinity mask; else "affinity mask".
  std::string source = {};
};

/// This process's cpu_allowance. Read once, at the first call of this function or of any
/// parmap call with threads <= 0, and cached: the affinity mask as libparmap loaded, the cgroup
/// files (/proc/self/cgroup, /proc/self/mountinfo, cpu.max or cpu.cfs_quota_us and
/// cpu.cfs_period_us; unreadable or malformed ones count as no quota) and PARMAP_NUM_THREADS.
/// Throws std::invalid_argument naming the variable and its value when PARMAP_NUM_THREADS is
/// set but is not a whole number from 1 to max_threads, on this and every later call.
[[nodiscard]] cpu_allowance detect_cpu_allowance();

/// One line for reports, e.g. "2 threads from the cgroup CPU quota (1.5 CPUs,
/// /sys/fs/cgroup/kubepods/pod1/cpu.max); affinity mask: 64 CPUs" or "8 threads from the
/// affinity mask (8 CPUs); no cgroup CPU quota".
[[nodiscard]] std::string describe(const cpu_allowance& a);

/// The facts about this machine and this build of parmap that any measurement is read
/// against, as (key, value) pairs with parmap-bench's JSON context keys: parmap_version,
/// topology, logical_cpus, physical_cores, packages, numa_nodes, smt, usable_cpus, cpu_quota,
/// cpu_quota_file, default_threads, default_threads_source, cpu_allowance, cpus_by_core,
/// backends, default_backend, and the environment variables that change how threads run
/// (OMP_WAIT_POLICY, OMP_PROC_BIND, OMP_PLACES, GOMP_SPINCOUNT, PARMAP_BACKEND,
/// PARMAP_NUM_THREADS) when set. parmap-bench and parmap::tune write them into their JSON.
/// Throws std::invalid_argument when PARMAP_NUM_THREADS is malformed (detect_cpu_allowance).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> describe_machine();

}  // namespace parmap
