// Physical versus logical cores: synthetic topologies this machine does not have, and the
// detected one checked against the affinity mask.
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <parmap/parmap.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<unsigned> sequence(unsigned first, unsigned count, unsigned step) {
  std::vector<unsigned> out;
  for (unsigned i = 0; i < count; ++i) out.push_back(first + i * step);
  return out;
}

TEST(Topology, TwoPackagesOfEightCoresWithTwoThreadsEach) {
  const parmap::topology t = parmap::synthetic_topology("package:2 core:8 pu:2");
  EXPECT_EQ(t.logical_cpus, 32u);
  EXPECT_EQ(t.physical_cores, 16u);
  EXPECT_EQ(t.packages, 2u);
  EXPECT_GE(t.numa_nodes, 1u);
  EXPECT_TRUE(t.smt());
  ASSERT_EQ(t.cpus_by_core.size(), 32u);
  // hwloc numbers a synthetic machine's hardware threads in order, so core c holds threads 2c and
  // 2c + 1: the first thread of each of the 16 cores comes first, then their siblings.
  const std::vector<unsigned> first_threads(t.cpus_by_core.begin(), t.cpus_by_core.begin() + 16);
  const std::vector<unsigned> siblings(t.cpus_by_core.begin() + 16, t.cpus_by_core.end());
  EXPECT_EQ(first_threads, sequence(0, 16, 2));
  EXPECT_EQ(siblings, sequence(1, 16, 2));
}

TEST(Topology, CoresWithoutSmt) {
  const parmap::topology t = parmap::synthetic_topology("core:4 pu:1");
  EXPECT_EQ(t.logical_cpus, 4u);
  EXPECT_EQ(t.physical_cores, 4u);
  EXPECT_EQ(t.packages, 1u);
  EXPECT_EQ(t.numa_nodes, 1u);
  EXPECT_FALSE(t.smt());
  EXPECT_EQ(t.cpus_by_core, sequence(0, 4, 1));
}

TEST(Topology, FourWaySmtListsEachRoundOfThreadsInTurn) {
  const parmap::topology t = parmap::synthetic_topology("package:1 core:3 pu:4");
  EXPECT_EQ(t.logical_cpus, 12u);
  EXPECT_EQ(t.physical_cores, 3u);
  EXPECT_TRUE(t.smt());
  EXPECT_EQ(t.cpus_by_core, (std::vector<unsigned>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
}

TEST(Topology, NumaNodesAreCounted) {
  const parmap::topology t = parmap::synthetic_topology("package:2 numa:2 core:2 pu:1");
  EXPECT_EQ(t.packages, 2u);
  EXPECT_EQ(t.numa_nodes, 4u);
  EXPECT_EQ(t.physical_cores, 8u);
  EXPECT_EQ(t.logical_cpus, 8u);
  EXPECT_FALSE(t.smt());
}

TEST(Topology, MalformedDescriptionsAreRejected) {
  for (const char* bad : {"package:two core:8", "banana:3", "core:4 pu:", "package:2 core:-1"}) {
    try {
      (void)parmap::synthetic_topology(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Topology, DescribeSaysWhatItCounts) {
  EXPECT_EQ(parmap::describe(parmap::synthetic_topology("package:2 core:8 pu:2")),
            "32 logical CPUs, 16 physical cores, 2 packages, 1 NUMA node, SMT");
  EXPECT_EQ(parmap::describe(parmap::synthetic_topology("core:1 pu:1")),
            "1 logical CPU, 1 physical core, 1 package, 1 NUMA node, no SMT");
}

// Before any other test detects the topology (this file's tests run in order): a caller that
// pinned itself before the first detection must not shrink it below the process's CPUs.
TEST(Topology, APinnedFirstCallerDoesNotShrinkIt) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  if (CPU_COUNT(&all) < 2) GTEST_SKIP() << "one usable CPU: pinning to it changes nothing";
  cpu_set_t one;
  CPU_ZERO(&one);
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &all)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const parmap::topology t = parmap::detect_topology();
  ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
  EXPECT_EQ(t.logical_cpus, parmap::usable_cpus());
  EXPECT_EQ(t.cpus_by_core.size(), parmap::usable_cpus());
}

TEST(Topology, DetectedTopologyMatchesTheAffinityMask) {
  const parmap::topology t = parmap::detect_topology();
  EXPECT_EQ(t.logical_cpus, parmap::usable_cpus());
  EXPECT_GE(t.physical_cores, 1u);
  EXPECT_LE(t.physical_cores, t.logical_cpus);
  EXPECT_GE(t.packages, 1u);
  EXPECT_LE(t.packages, t.physical_cores);
  EXPECT_GE(t.numa_nodes, 1u);
  EXPECT_EQ(t.smt(), t.logical_cpus > t.physical_cores);

  cpu_set_t mask;
  ASSERT_EQ(sched_getaffinity(0, sizeof(mask), &mask), 0);
  ASSERT_EQ(t.cpus_by_core.size(), t.logical_cpus);
  const std::set<unsigned> distinct(t.cpus_by_core.begin(), t.cpus_by_core.end());
  EXPECT_EQ(distinct.size(), t.cpus_by_core.size());
  for (unsigned cpu : t.cpus_by_core) EXPECT_TRUE(CPU_ISSET(cpu, &mask)) << "cpu " << cpu;

  // Detected once: later calls give the same answer.
  const parmap::topology again = parmap::detect_topology();
  EXPECT_EQ(again.logical_cpus, t.logical_cpus);
  EXPECT_EQ(again.physical_cores, t.physical_cores);
  EXPECT_EQ(again.cpus_by_core, t.cpus_by_core);
}

}  // namespace
