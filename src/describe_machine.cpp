// The machine facts every measurement is read against (topology.hpp: describe_machine), in one
// place for parmap-bench's JSON and parmap::tune's.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "join.hpp"
#include "parmap/backend.hpp"
#include "parmap/config.hpp"
#include "parmap/options.hpp"
#include "parmap/topology.hpp"

namespace parmap {
std::vector<std::pair<std::string, std::string>> describe_machine() {
  const topology t = detect_topology();
  // What threads = 0 means here and why: under a container's CPU quota it is far fewer than
  // usable_cpus, and measurements are read differently.
  const cpu_allowance allowance = detect_cpu_allowance();
  char quota[32] = "none";
  if (allowance.quota_cpus > 0) std::snprintf(quota, sizeof quota, "%g", allowance.quota_cpus);
  const std::string backends =
      detail::join(available_backends(), [](backend b) { return std::string(to_string(b)); });
  std::vector<std::pair<std::string, std::string>> facts = {
      {"parmap_version", PARMAP_VERSION},
      {"topology", describe(t)},
      {"logical_cpus", std::to_string(t.logical_cpus)},
      {"physical_cores", std::to_string(t.physical_cores)},
      {"packages", std::to_string(t.packages)},
      {"numa_nodes", std::to_string(t.numa_nodes)},
      {"smt", t.smt() ? "yes" : "no"},
      {"usable_cpus", std::to_string(usable_cpus())},
      {"cpu_quota", quota},
      {"cpu_quota_file", allowance.quota_file.empty() ? "none" : allowance.quota_file},
      {"default_threads", std::to_string(allowance.threads)},
      {"default_threads_source", allowance.source},
      {"cpu_allowance", describe(allowance)},
      {"cpus_by_core", detail::join(t.cpus_by_core, [](unsigned c) { return std::to_string(c); })},
      {"backends", backends},
      {"default_backend", std::string(to_string(default_backend()))},
  };
  for (const char* var : {"OMP_WAIT_POLICY", "OMP_PROC_BIND", "OMP_PLACES", "GOMP_SPINCOUNT",
                          "PARMAP_BACKEND", "PARMAP_NUM_THREADS"}) {
    if (const char* value = std::getenv(var)) facts.emplace_back(var, value);
  }
  return facts;
}

}  // namespace parmap
