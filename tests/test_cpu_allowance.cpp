// What threads = 0 means: the cgroup CPU quota read from fake cgroup trees (v1, v2, nested,
// hybrid, containers' mount roots, missing and malformed files) and from a real child cgroup
// where the test may create one; PARMAP_NUM_THREADS (CTest runs the Environment suite under
// several values, see tests/CMakeLists.txt); and describe().
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <optional>
#include <parmap/parmap.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cgroup_quota.hpp"
#include "child_process.hpp"
#include "test_backends.hpp"

namespace {

using parmap_test::invalid_argument_message;

namespace fs = std::filesystem;
using parmap::detail::read_cgroup_quota;

// ---- fake cgroup trees ----------------------------------------------------------------------

/// A directory standing for "/": tests write /proc/self/cgroup, /proc/self/mountinfo and cgroup
/// files under it and hand it to read_cgroup_quota as its root. Removed at the end.
class fake_root {
 public:
  fake_root() {
    std::string pattern = (fs::temp_directory_path() / "parmap-cgroup-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  fake_root(const fake_root&) = delete;
  fake_root& operator=(const fake_root&) = delete;
  ~fake_root() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  /// Writes `text` to the file at `path` ("/proc/self/cgroup"), creating its directories.
  void write(const std::string& path, const std::string& text) const {
    const fs::path file = dir_ + path;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  /// /proc/self/cgroup.
  void cgroup(const std::string& text) const { write("/proc/self/cgroup", text); }
  /// /proc/self/mountinfo.
  void mountinfo(const std::string& text) const { write("/proc/self/mountinfo", text); }
  /// The path as read_cgroup_quota reports it.
  [[nodiscard]] std::string at(const std::string& path) const { return dir_ + path; }
  [[nodiscard]] parmap::detail::cgroup_quota read() const { return read_cgroup_quota(dir_); }

 private:
  std::string dir_;
};

/// A mountinfo line for a cgroup2 mount of the hierarchy's `root` at `point`.
std::string v2_mount(const std::string& point, const std::string& root = "/") {
  return "31 23 0:27 " + root + " " + point +
         " rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
}

/// A mountinfo line for a cgroup v1 mount carrying `controllers` ("cpu,cpuacct").
std::string v1_mount(const std::string& point, const std::string& controllers,
                     const std::string& root = "/") {
  return "35 25 0:31 " + root + " " + point + " rw,nosuid,nodev,noexec,relatime shared:14 - " +
         "cgroup cgroup rw," + controllers + "\n";
}

/// The mounts every real system has besides cgroups.
const std::string other_mounts =
    "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
    "23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
    "24 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:3 - proc proc rw\n";

void v1_quota(const fake_root& r, const std::string& dir, const std::string& quota,
              const std::string& period = "100000\n") {
  r.write(dir + "/cpu.cfs_quota_us", quota);
  r.write(dir + "/cpu.cfs_period_us", period);
}

TEST(CgroupV2, QuotaOfTheProcessCgroup) {
  fake_root r;
  r.cgroup("0::/kubepods/pod1/ctr\n");
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
  r.write("/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "150000 100000\n");
  const auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 1.5);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max"));
}

TEST(CgroupV2, MaxMeansNoQuota) {
  fake_root r;
  r.cgroup("0::/user.slice/session-1.scope\n");
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
  r.write("/sys/fs/cgroup/user.slice/session-1.scope/cpu.max", "max 100000\n");
  r.write("/sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
  const auto q = r.read();
  EXPECT_EQ(q.cpus, 0);
  EXPECT_EQ(q.file, "");
}

TEST(CgroupV2, TheTightestQuotaOnThePathToTheRootWins) {
  fake_root r;
  r.cgroup("0::/kubepods/pod1/ctr\n");
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
  r.write("/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
  r.write("/sys/fs/cgroup/kubepods/pod1/cpu.max", "200000 100000\n");
  r.write("/sys/fs/cgroup/kubepods/cpu.max", "300000 100000\n");
  auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 2.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/kubepods/pod1/cpu.max"));

  // The mount point itself counts too, and periods need not agree.
  r.write("/sys/fs/cgroup/cpu.max", "50000 50000\n");
  q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 1.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/cpu.max"));

  // And the process's own directory when it is the tightest.
  r.write("/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "25000 100000\n");
  q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 0.25);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max"));
}

TEST(CgroupV2, DirectoriesOutsideThePathDoNotCount) {
  fake_root r;
  r.cgroup("0::/a/b\n");
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
  r.write("/sys/fs/cgroup/a/sibling/cpu.max", "10000 100000\n");
  r.write("/sys/fs/cgroup/a/b/child/cpu.max", "10000 100000\n");
  r.write("/sys/fs/cgroup/a/b/cpu.max", "400000 100000\n");
  EXPECT_DOUBLE_EQ(r.read().cpus, 4.0);
}

TEST(CgroupV2, ContainerMountingItsOwnCgroupAsTheRoot) {
  // Without a cgroup namespace, /proc/self/cgroup shows the host's path while the container's
  // mount shows that same directory as its root: the process lives at the mount point.
  fake_root r;
  r.cgroup("0::/system.slice/docker-abc.scope\n");
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup", "/system.slice/docker-abc.scope"));
  r.write("/sys/fs/cgroup/cpu.max", "200000 100000\n");
  auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 2.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/cpu.max"));

  // A child of the mounted directory is walked up to the mount point.
  r.cgroup("0::/system.slice/docker-abc.scope/worker\n");
  r.write("/sys/fs/cgroup/worker/cpu.max", "300000 100000\n");
  EXPECT_DOUBLE_EQ(r.read().cpus, 2.0);
  r.write("/sys/fs/cgroup/worker/cpu.max", "100000 100000\n");
  q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 1.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/worker/cpu.max"));
}

TEST(CgroupV2, PathsOutsideTheMountReadOnlyTheMountPoint) {
  fake_root r;
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup", "/kubepods/pod1"));
  r.write("/sys/fs/cgroup/cpu.max", "300000 100000\n");
  r.write("/sys/fs/cgroup/other/cpu.max", "100000 100000\n");
  // Not below the mount's root.
  r.cgroup("0::/other\n");
  EXPECT_DOUBLE_EQ(r.read().cpus, 3.0);
  // A cgroup namespace shows a cgroup outside it with "..".
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
  r.cgroup("0::/../../other\n");
  EXPECT_DOUBLE_EQ(r.read().cpus, 3.0);
}

TEST(CgroupV2, EscapedMountPointsAndOptionalFields) {
  fake_root r;
  r.cgroup("0::/job\n");
  r.mountinfo(other_mounts +
              "40 23 0:40 / /sys/fs/my\\040cgroup rw,relatime shared:20 master:3 propagate_from:2"
              " - cgroup2 none rw\n");
  r.write("/sys/fs/my cgroup/job/cpu.max", "100000 100000\n");
  const auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 1.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/my cgroup/job/cpu.max"));
}

TEST(CgroupV1, QuotaAndPeriod) {
  fake_root r;
  r.cgroup("12:memory:/slurm/job7\n4:cpu,cpuacct:/slurm/job7\n3:cpuset:/slurm/job7\n");
  r.mountinfo(other_mounts + v1_mount("/sys/fs/cgroup/memory", "memory") +
              v1_mount("/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct") +
              v1_mount("/sys/fs/cgroup/cpuset", "cpuset"));
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct/slurm/job7", "50000\n");
  const auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 0.5);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/cpu,cpuacct/slurm/job7/cpu.cfs_quota_us"));
}

TEST(CgroupV1, MinusOneMeansNoQuotaAndAncestorsStillCount) {
  fake_root r;
  r.cgroup("4:cpu,cpuacct:/slurm/job7/step0\n");
  r.mountinfo(other_mounts + v1_mount("/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct"));
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct/slurm/job7/step0", "-1\n");
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct/slurm/job7", "-1\n");
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct/slurm", "-1\n");
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct", "-1\n");
  EXPECT_EQ(r.read().cpus, 0);
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct/slurm/job7", "400000\n", "200000\n");
  const auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 2.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/cpu,cpuacct/slurm/job7/cpu.cfs_quota_us"));
}

TEST(CgroupV1, DockerMountRootIsTheContainersCgroup) {
  fake_root r;
  r.cgroup("5:cpuacct,cpu:/docker/0123abc\n1:name=systemd:/docker/0123abc\n");
  r.mountinfo(other_mounts +
              v1_mount("/sys/fs/cgroup/cpu,cpuacct", "cpuacct,cpu", "/docker/0123abc"));
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct", "300000\n");
  EXPECT_DOUBLE_EQ(r.read().cpus, 3.0);
}

TEST(CgroupV1, ControllersNamedLikeCpuAreNotCpu) {
  // cpuacct and cpuset are other controllers; a v1 hierarchy without cpu has no quota.
  fake_root r;
  r.cgroup("3:cpuacct:/a\n2:cpuset:/a\n");
  r.mountinfo(other_mounts + v1_mount("/sys/fs/cgroup/cpuacct", "cpuacct") +
              v1_mount("/sys/fs/cgroup/cpuset", "cpuset"));
  v1_quota(r, "/sys/fs/cgroup/cpuacct/a", "100000\n");
  v1_quota(r, "/sys/fs/cgroup/cpuset/a", "100000\n");
  EXPECT_EQ(r.read().cpus, 0);
}

TEST(CgroupHybrid, TheV1CpuHierarchyWinsWhenMounted) {
  fake_root r;
  r.cgroup("4:cpu,cpuacct:/job\n1:name=systemd:/job\n0::/job\n");
  r.mountinfo(other_mounts + v1_mount("/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct") +
              v2_mount("/sys/fs/cgroup/unified"));
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct/job", "200000\n");
  r.write("/sys/fs/cgroup/unified/job/cpu.max", "100000 100000\n");
  auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 2.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us"));

  // v1 mounted and saying "no quota" is still the answer: cpu.max cannot apply there.
  v1_quota(r, "/sys/fs/cgroup/cpu,cpuacct/job", "-1\n");
  EXPECT_EQ(r.read().cpus, 0);
}

TEST(CgroupHybrid, V2WhenTheV1CpuHierarchyIsNotMounted) {
  fake_root r;
  r.cgroup("4:cpu,cpuacct:/job\n0::/job\n");
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
  r.write("/sys/fs/cgroup/job/cpu.max", "100000 100000\n");
  const auto q = r.read();
  EXPECT_DOUBLE_EQ(q.cpus, 1.0);
  EXPECT_EQ(q.file, r.at("/sys/fs/cgroup/job/cpu.max"));
}

TEST(CgroupMissing, NoFilesNoQuota) {
  {
    fake_root r;  // nothing at all
    EXPECT_EQ(r.read().cpus, 0);
  }
  {
    fake_root r;  // no mountinfo
    r.cgroup("0::/job\n");
    r.write("/sys/fs/cgroup/job/cpu.max", "100000 100000\n");
    EXPECT_EQ(r.read().cpus, 0);
  }
  {
    fake_root r;  // no /proc/self/cgroup
    r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
    r.write("/sys/fs/cgroup/job/cpu.max", "100000 100000\n");
    EXPECT_EQ(r.read().cpus, 0);
  }
  {
    fake_root r;  // no cgroup mount
    r.cgroup("0::/job\n");
    r.mountinfo(other_mounts);
    r.write("/sys/fs/cgroup/job/cpu.max", "100000 100000\n");
    EXPECT_EQ(r.read().cpus, 0);
  }
  {
    fake_root r;  // mounted, but the directories are not there
    r.cgroup("0::/job\n");
    r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
    const auto q = r.read();
    EXPECT_EQ(q.cpus, 0);
    EXPECT_EQ(q.file, "");
  }
  {
    fake_root r;  // v1 quota without its period
    r.cgroup("4:cpu:/job\n");
    r.mountinfo(other_mounts + v1_mount("/sys/fs/cgroup/cpu", "cpu"));
    r.write("/sys/fs/cgroup/cpu/job/cpu.cfs_quota_us", "100000\n");
    EXPECT_EQ(r.read().cpus, 0);
  }
  // A root that does not exist at all.
  EXPECT_EQ(read_cgroup_quota("/nonexistent/parmap/root").cpus, 0);
}

TEST(CgroupGarbage, MalformedQuotaFilesMeanNoQuota) {
  fake_root r;
  r.cgroup("0::/job\n");
  r.mountinfo(other_mounts + v2_mount("/sys/fs/cgroup"));
  for (const char* bad : {"", "\n", "lots", "150000", "150000 0", "150000 -100000", "-5 100000",
                          "0 100000", "abc 100000", "150000 100000 7", "1.5 1", "150000 100000x",
                          "99999999999999999999999 100000", "max", "\x01\x02 \xff"}) {
    r.write("/sys/fs/cgroup/job/cpu.max", bad);
    const auto q = r.read();
    EXPECT_EQ(q.cpus, 0) << "cpu.max '" << bad << "'";
    EXPECT_EQ(q.file, "") << "cpu.max '" << bad << "'";
  }
  // Whitespace around well-formed numbers is fine: the kernel ends the line with "\n".
  r.write("/sys/fs/cgroup/job/cpu.max", "  150000\t100000 \n");
  EXPECT_DOUBLE_EQ(r.read().cpus, 1.5);

  fake_root v1;
  v1.cgroup("4:cpu:/job\n");
  v1.mountinfo(other_mounts + v1_mount("/sys/fs/cgroup/cpu", "cpu"));
  for (const char* bad : {"12x", "", "-1", "0", "1e5", "--5"}) {
    v1_quota(v1, "/sys/fs/cgroup/cpu/job", bad);
    EXPECT_EQ(v1.read().cpus, 0) << "cpu.cfs_quota_us '" << bad << "'";
  }
  v1_quota(v1, "/sys/fs/cgroup/cpu/job", "100000\n", "zero\n");
  EXPECT_EQ(v1.read().cpus, 0);
}

TEST(CgroupGarbage, MalformedProcFilesMeanNoQuota) {
  fake_root r;
  r.write("/sys/fs/cgroup/cpu.max", "100000 100000\n");
  r.write("/sys/fs/cgroup/job/cpu.max", "100000 100000\n");
  // Each list starts with a well-formed file; every other pair has a malformed one.
  const std::vector<std::string> cgroups = {
      "0::/job\n", "", "garbage", "0:", "0::", "0::job\n", ":::\n", "\n\n\n", "4:cpu\n"};
  const std::vector<std::string> mountinfos = {v2_mount("/sys/fs/cgroup"),
                                               "",
                                               "garbage\n",
                                               "31 23 0:27 / /sys/fs/cgroup - cgroup2\n",
                                               "31 23 0:27 / /sys/fs/cgroup rw shared:9 -\n",
                                               "- cgroup2 cgroup2 rw\n",
                                               "1 2 3 4 5 6 7 8 9 10 11 12 13\n"};
  for (const auto& c : cgroups) {
    for (const auto& m : mountinfos) {
      r.cgroup(c);
      r.mountinfo(m);
      const double want = &c == &cgroups.front() && &m == &mountinfos.front() ? 1.0 : 0.0;
      EXPECT_EQ(r.read().cpus, want) << "cgroup '" << c << "', mountinfo '" << m << "'";
    }
  }
}

TEST(CgroupReal, ReadingThisSystemNeverFails) {
  const auto q = read_cgroup_quota();
  EXPECT_GE(q.cpus, 0);
  EXPECT_EQ(q.cpus > 0, !q.file.empty());
  if (q.cpus > 0) {
    EXPECT_TRUE(fs::exists(q.file)) << q.file;
  }
}

// ---- describe -------------------------------------------------------------------------------

TEST(Describe, SaysWhereTheNumberCameFrom) {
  parmap::cpu_allowance a;
  a.affinity_cpus = 64;
  a.quota_cpus = 1.5;
  a.quota_file = "/sys/fs/cgroup/kubepods/pod1/cpu.max";
  a.threads = 2;
  a.source = "cgroup CPU quota";
  EXPECT_EQ(parmap::describe(a),
            "2 threads from the cgroup CPU quota (1.5 CPUs, /sys/fs/cgroup/kubepods/pod1/cpu.max);"
            " affinity mask: 64 CPUs");

  a = {};
  a.affinity_cpus = a.threads = 8;
  a.source = "affinity mask";
  EXPECT_EQ(parmap::describe(a), "8 threads from the affinity mask (8 CPUs); no cgroup CPU quota");
  a.quota_cpus = 16;
  a.quota_file = "/q";
  EXPECT_EQ(parmap::describe(a),
            "8 threads from the affinity mask (8 CPUs); cgroup CPU quota: 16 CPUs, /q");

  a.threads = 3;
  a.source = "PARMAP_NUM_THREADS";
  EXPECT_EQ(parmap::describe(a),
            "3 threads from PARMAP_NUM_THREADS; cgroup CPU quota: 16 CPUs, /q; affinity mask: 8 "
            "CPUs");
  a.quota_cpus = 0;
  a.quota_file.clear();
  a.threads = 1;
  a.affinity_cpus = 1;
  EXPECT_EQ(parmap::describe(a),
            "1 thread from PARMAP_NUM_THREADS; no cgroup CPU quota; affinity mask: 1 CPU");
}

// ---- the process's allowance, under PARMAP_NUM_THREADS --------------------------------------


/// PARMAP_NUM_THREADS as the library must take it: 0 when unset or empty, the count when it is
/// a whole number from 1 to max_threads, -1 when it is anything else.
int expected_env_threads() {
  const char* env = std::getenv("PARMAP_NUM_THREADS");
  if (env == nullptr || *env == '\0') return 0;
  const std::string s(env);
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      s.size() > 6) {
    return -1;
  }
  const int n = std::stoi(s);
  return n >= 1 && n <= parmap::max_threads ? n : -1;
}

/// max(1, min(affinity, ceil(quota))), the rule without PARMAP_NUM_THREADS.
unsigned quota_threads(unsigned affinity, double quota) {
  if (quota <= 0) return std::max(affinity, 1u);
  return std::max(std::min(affinity, static_cast<unsigned>(std::ceil(quota))), 1u);
}

/// Runs a map with threads = 0 on the threads backend in which every thread's first item waits
/// until `want` threads have each started one: true when exactly `want` threads ran it.
bool ran_on_exactly(int want) {
  std::mutex m;
  std::condition_variable cv;
  std::set<std::thread::id> ids;
  bool gave_up = false;
  std::vector<int> in(64 * static_cast<std::size_t>(want));
  std::iota(in.begin(), in.end(), 0);
  (void)parmap::parallel_map(
      in,
      [&](int x) {
        std::unique_lock lock(m);
        if (ids.insert(std::this_thread::get_id()).second) {
          cv.notify_all();
          if (!cv.wait_for(lock, std::chrono::seconds(5),
                           [&] { return ids.size() >= static_cast<std::size_t>(want); })) {
            gave_up = true;
          }
        }
        return x;
      },
      {.backend = parmap::backend::threads, .chunk = 1, .schedule = parmap::schedule::dynamic});
  return !gave_up && ids.size() == static_cast<std::size_t>(want);
}

/// ran_on_exactly, tried up to three times: the pool recruits only workers that are idle, and
/// one still on its way back from an earlier call is not.
bool runs_on_exactly(int want) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (ran_on_exactly(want)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// CTest runs this suite again under PARMAP_NUM_THREADS=3, empty, and several bad values.
TEST(Environment, DefaultThreadsFollowTheVariableOrTheMachine) {
  const int env = expected_env_threads();
  if (env < 0) GTEST_SKIP() << "PARMAP_NUM_THREADS is malformed: BadVariableIsAnError covers it";
  const parmap::cpu_allowance a = parmap::detect_cpu_allowance();
  const auto quota = read_cgroup_quota();
  EXPECT_EQ(a.affinity_cpus, parmap::usable_cpus());
  EXPECT_EQ(a.quota_cpus, quota.cpus);
  EXPECT_EQ(a.quota_file, quota.file);
  const unsigned machine = quota_threads(a.affinity_cpus, a.quota_cpus);
  if (env > 0) {
    EXPECT_EQ(a.threads, static_cast<unsigned>(env));
    EXPECT_EQ(a.source, "PARMAP_NUM_THREADS");
  } else {
    EXPECT_EQ(a.threads, machine);
    EXPECT_EQ(a.source, machine < a.affinity_cpus ? "cgroup CPU quota" : "affinity mask");
  }
  EXPECT_EQ(parmap::resolve_threads(0), static_cast<int>(a.threads));
  // Negative counts count from the machine, whatever PARMAP_NUM_THREADS says.
  EXPECT_EQ(parmap::resolve_threads(-1), static_cast<int>(machine));
  EXPECT_EQ(parmap::resolve_threads(-2), std::max(static_cast<int>(machine) - 1, 1));
  EXPECT_EQ(parmap::resolve_threads(5), 5);
  EXPECT_EQ(parmap::describe(a).rfind(std::to_string(a.threads) + " thread", 0), 0u)
      << parmap::describe(a);

  // Calls with threads = 0 run on exactly that many threads.
  EXPECT_TRUE(runs_on_exactly(static_cast<int>(a.threads))) << a.threads << " threads";
  const std::vector<int> in = {1, 2, 3, 4};
  EXPECT_EQ(parmap::parallel_map(in, [](int x) { return x; }), in);

  // Cached: the same answer again.
  const parmap::cpu_allowance again = parmap::detect_cpu_allowance();
  EXPECT_EQ(again.threads, a.threads);
  EXPECT_EQ(again.source, a.source);
}

TEST(Environment, BadVariableIsAnError) {
  if (expected_env_threads() >= 0) GTEST_SKIP() << "PARMAP_NUM_THREADS is unset or valid";
  const std::string named = "PARMAP_NUM_THREADS=" + std::string(std::getenv("PARMAP_NUM_THREADS"));
  // Every use of the default says what is wrong, before any work, and keeps saying it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::atomic<int> calls{0};
    const std::vector<int> in = {1, 2, 3};
    const std::string message = invalid_argument_message([&] {
      (void)parmap::parallel_map(in, [&](int x) {
        calls.fetch_add(1);
        return x;
      });
    });
    EXPECT_NE(message.find(named), std::string::npos) << message;
    EXPECT_EQ(calls.load(), 0);
    EXPECT_NE(invalid_argument_message([] { (void)parmap::resolve_threads(0); }).find(named),
              std::string::npos);
    EXPECT_NE(invalid_argument_message([] { (void)parmap::detect_cpu_allowance(); }).find(named),
              std::string::npos);
  }
  // Explicit counts do not use the variable and still work.
  const std::vector<int> in = {1, 2, 3};
  EXPECT_EQ(parmap::parallel_map(in, [](int x) { return x; }, {.threads = 2}), in);
  EXPECT_EQ(parmap::parallel_map(in, [](int x) { return x; }, {.threads = -1}), in);
  EXPECT_GE(parmap::resolve_threads(-1), 1);
}

// ---- a real cgroup with a quota -------------------------------------------------------------

/// The mount point of a cgroup hierarchy carrying the cpu controller, and whether it is v1.
struct cpu_mount {
  std::string point;
  bool v1 = false;
};

/// True when the first line of `file` has `word` among its space-separated words.
bool has_word(const std::string& file, const std::string& word) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  std::istringstream words(line);
  for (std::string w; words >> w;) {
    if (w == word) return true;
  }
  return false;
}

/// The first v1 hierarchy with `cpu`, else the cgroup2 mount whose controllers include cpu.
std::optional<cpu_mount> find_cpu_mount(std::string& why_not) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::optional<cpu_mount> v2;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    const auto dash = std::find(f.begin(), f.end(), "-");
    if (dash == f.end() || f.end() - dash < 4 || f.size() < 5) continue;
    const std::string& type = dash[1];
    const std::string options = "," + dash[3] + ",";
    if (type == "cgroup" && options.find(",cpu,") != std::string::npos) {
      return cpu_mount{f[4], true};
    }
    if (type == "cgroup2" && !v2) {
      if (has_word(f[4] + "/cgroup.controllers", "cpu")) v2 = cpu_mount{f[4], false};
      if (!v2) why_not = f[4] + "/cgroup.controllers does not offer cpu";
    }
  }
  if (!v2 && why_not.empty()) why_not = "no cgroup mount carries the cpu controller";
  return v2;
}

bool write_text(const std::string& path, const std::string& text, std::string& error) {
  std::ofstream out(path);
  out << text << std::flush;
  if (out) return true;
  error = "writing '" + text + "' to " + path + " failed: " + std::strerror(errno);
  return false;
}

/// A cgroup this test created; removed when the test ends, even when it fails.
struct scoped_cgroup {
  std::string dir;
  ~scoped_cgroup() {
    if (dir.empty()) return;
    // The child is reaped, but the kernel may take a moment to call the cgroup empty.
    for (int i = 0; i < 200 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
};

TEST(CgroupReal, ChildInHalfACpuQuotaRunsOneThread) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: cannot create a cgroup with a CPU quota";
  std::string why_not;
  const auto mount = find_cpu_mount(why_not);
  if (!mount) GTEST_SKIP() << "no cgroup to create: " << why_not;
  std::string error;
  if (!mount->v1) {
    // v2 needs the cpu controller enabled for the children of the mount point; the kernel
    // refuses when the mount point is not the root and holds processes itself.
    if (!has_word(mount->point + "/cgroup.subtree_control", "cpu") &&
        !write_text(mount->point + "/cgroup.subtree_control", "+cpu", error)) {
      GTEST_SKIP() << "cannot enable the cpu controller for a child cgroup: " << error;
    }
  }
  scoped_cgroup cg;
  const std::string dir = mount->point + "/parmap-test-" + std::to_string(getpid());
  if (mkdir(dir.c_str(), 0755) != 0) {
    GTEST_SKIP() << "cannot create " << dir << ": " << std::strerror(errno);
  }
  cg.dir = dir;
  const bool quota_set = mount->v1 ? write_text(dir + "/cpu.cfs_period_us", "100000", error) &&
                                         write_text(dir + "/cpu.cfs_quota_us", "50000", error)
                                   : write_text(dir + "/cpu.max", "50000 100000", error);
  if (!quota_set) GTEST_SKIP() << "cannot set a quota: " << error;

  const auto st = parmap_test::run_child("cpu_allowance", {dir + "/cgroup.procs"});
  ASSERT_TRUE(st.ok()) << st.describe();
  EXPECT_NE(st.output.find("threads=1 "), std::string::npos) << st.output;
  EXPECT_NE(st.output.find("distinct_threads=1\n"), std::string::npos) << st.output;
  // Ours, unless an ancestor that this process can see is tighter still.
  const std::string ours = dir + (mount->v1 ? "/cpu.cfs_quota_us" : "/cpu.max");
  if (st.output.find("quota=0.5 ") != std::string::npos) {
    EXPECT_NE(st.output.find("file=" + ours + "\n"), std::string::npos) << st.output;
    if (parmap::usable_cpus() > 1) {
      EXPECT_NE(st.output.find("source=cgroup CPU quota\n"), std::string::npos) << st.output;
    }
  } else {
    EXPECT_NE(st.output.find("quota=0."), std::string::npos) << st.output;
  }
}

}  // namespace
