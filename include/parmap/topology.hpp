#pragma once
// Physical versus logical cores: the C++ answer to psutil.cpu_count(logical=False).

#include <string>
#include <string_view>
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

}  // namespace parmap
