#pragma once
// The CPUs this process may run on: the affinity mask the process had when libparmap was
// loaded (taskset, a cgroup cpuset, a batch scheduler's binding). Not the calling thread's
// mask: a thread that pinned itself must not shrink what "every CPU" means for the process,
// nor hand its pin to the threads parmap starts.

#include <sched.h>

namespace parmap::detail {

/// The process's CPUs, read once, before main where libparmap is linked in (the first call
/// reads it otherwise). Never empty.
[[nodiscard]] const cpu_set_t& process_cpu_mask() noexcept;

/// Puts the calling thread on every CPU of process_cpu_mask(): for threads parmap starts,
/// which would otherwise inherit the pinning of whichever thread started them.
void unpin_to_process_cpus() noexcept;

}  // namespace parmap::detail
