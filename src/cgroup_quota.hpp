#pragma once
// The CPU quota of this process's cgroup (docker --cpus, a Kubernetes CPU limit, a batch
// system's slice): how many CPUs' worth of time the kernel lets it use, which can be far fewer
// than the CPUs its affinity mask allows.

#include <string>

namespace parmap::detail {

/// A cgroup CPU quota, in CPUs.
struct cgroup_quota {
  /// quota / period of the tightest quota between the process's cgroup and the root of its
  /// hierarchy, e.g. 1.5 for cpu.max "150000 100000"; 0: no quota anywhere on that path.
  double cpus = 0;
  /// The file that holds it (cpu.max, or cpu.cfs_quota_us for cgroup v1), as read, i.e. with
  /// the `root` prefix; empty when cpus is 0.
  std::string file = {};
};

/// Reads the CPU quota of the calling process's cgroup. Every path it reads is prefixed with
/// `root` ("" for the real system; a directory holding a fake tree in tests):
/// `<root>/proc/self/cgroup`, `<root>/proc/self/mountinfo`, and the cgroup mounts found there.
///
/// cgroup v1 (the hierarchy with the `cpu` controller): cpu.cfs_quota_us / cpu.cfs_period_us,
/// where a quota of -1 means none. cgroup v2 (the `0::` line): cpu.max, "max PERIOD" meaning
/// none. When both exist (hybrid systems) the v1 `cpu` hierarchy wins if it is mounted, since
/// the controller lives there. Every directory from the process's own cgroup up to the mount
/// point is read and the smallest quota wins, as the kernel enforces each of them. When the
/// mount's root is not an ancestor of the process's cgroup path (a container that mounts its
/// own cgroup as the root), only the mount point itself is read.
///
/// Missing files, unreadable or malformed content, or no cgroup mount: no quota (cpus 0).
/// Never throws.
[[nodiscard]] cgroup_quota read_cgroup_quota(const std::string& root = "") noexcept;

}  // namespace parmap::detail
