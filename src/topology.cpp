// Physical versus logical cores, from hwloc, restricted to the CPUs this process may run on.
#include "parmap/topology.hpp"

#include <hwloc.h>
#include <sched.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "process_cpus.hpp"

namespace parmap {
namespace {

struct topology_deleter {
  void operator()(hwloc_topology_t t) const noexcept { hwloc_topology_destroy(t); }
};
using topology_handle = std::unique_ptr<hwloc_topology, topology_deleter>;

unsigned count(hwloc_topology_t t, hwloc_obj_type_t type) {
  const int n = hwloc_get_nbobjs_by_type(t, type);
  return n > 0 ? static_cast<unsigned>(n) : 0u;
}

/// Reads the counts and the per-core CPU order off a loaded hwloc topology.
topology summarize(hwloc_topology_t t) {
  topology out;
  out.logical_cpus = count(t, HWLOC_OBJ_PU);
  out.physical_cores = count(t, HWLOC_OBJ_CORE);
  out.packages = std::max(count(t, HWLOC_OBJ_PACKAGE), 1u);
  out.numa_nodes = std::max(count(t, HWLOC_OBJ_NUMANODE), 1u);
  if (out.physical_cores == 0) {
    // Some virtual machines report no cores: treat every hardware thread as a core.
    out.physical_cores = out.logical_cpus;
    for (unsigned i = 0; i < out.logical_cpus; ++i) {
      const unsigned cpu = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, i)->os_index;
      out.cpus_by_core.push_back(cpu);
      out.cores.push_back({cpu});
    }
    return out;
  }
  for (unsigned c = 0; c < out.physical_cores; ++c) {
    hwloc_obj_t core = hwloc_get_obj_by_type(t, HWLOC_OBJ_CORE, c);
    std::vector<unsigned> cpus;
    for (hwloc_obj_t pu = nullptr;
         (pu = hwloc_get_next_obj_inside_cpuset_by_type(t, core->cpuset, HWLOC_OBJ_PU, pu));) {
      cpus.push_back(pu->os_index);
    }
    out.cores.push_back(std::move(cpus));
  }
  // Round r lists the r-th hardware thread of every core that has one.
  for (unsigned round = 0;; ++round) {
    bool any = false;
    for (unsigned c = 0; c < out.physical_cores; ++c) {
      hwloc_obj_t core = hwloc_get_obj_by_type(t, HWLOC_OBJ_CORE, c);
      hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(t, core->cpuset, HWLOC_OBJ_PU, round);
      if (pu != nullptr) {
        out.cpus_by_core.push_back(pu->os_index);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

topology detect_uncached() {
  const cpu_set_t& mask = detail::process_cpu_mask();
  topology fallback;
  fallback.packages = fallback.numa_nodes = 1;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &mask)) continue;
    fallback.cpus_by_core.push_back(cpu);
    fallback.cores.push_back({cpu});
  }
  fallback.logical_cpus = fallback.physical_cores =
      static_cast<unsigned>(fallback.cpus_by_core.size());

  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) return fallback;
  topology_handle t(raw);
  if (hwloc_topology_load(t.get()) != 0) return fallback;
  // Only the CPUs this process may run on count (taskset, cgroups, a batch scheduler's
  // binding), and the same ones usable_cpus() counts: the process's mask as libparmap loaded,
  // not whatever the threads have been pinned to since.
  hwloc_bitmap_t mine = hwloc_bitmap_alloc();
  if (mine == nullptr) return fallback;
  for (unsigned cpu : fallback.cpus_by_core) hwloc_bitmap_set(mine, cpu);
  const int restricted = hwloc_topology_restrict(t.get(), mine, 0);
  hwloc_bitmap_free(mine);
  if (restricted != 0) return fallback;
  topology out = summarize(t.get());
  // hwloc may not know every CPU the kernel lets us use (an offline CPU in its view, a
  // mask it could not read): then its counts and usable_cpus() would disagree.
  return out.logical_cpus != fallback.logical_cpus ? fallback : out;
}

}  // namespace

topology detect_topology() {
  // Never destroyed: calls made while the process exits (placement, reports) read it too.
  static const topology* const cached = new topology(detect_uncached());
  return *cached;
}

topology synthetic_topology(std::string_view description) {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) throw std::runtime_error("parmap: hwloc failed to start");
  topology_handle t(raw);
  const std::string desc(description);
  if (hwloc_topology_set_synthetic(t.get(), desc.c_str()) != 0 ||
      hwloc_topology_load(t.get()) != 0) {
    throw std::invalid_argument("parmap: hwloc rejects the synthetic topology '" + desc +
                                "' (example: \"package:2 core:8 pu:2\")");
  }
  return summarize(t.get());
}

std::string describe(const topology& t) {
  auto plural = [](unsigned n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  return plural(t.logical_cpus, "logical CPU") + ", " + plural(t.physical_cores, "physical core") +
         ", " + plural(t.packages, "package") + ", " + plural(t.numa_nodes, "NUMA node") +
         (t.smt() ? ", SMT" : ", no SMT");
}

}  // namespace parmap
