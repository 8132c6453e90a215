// What threads = 0 means for this process: PARMAP_NUM_THREADS, else the affinity mask capped by
// the cgroup CPU quota.
#include "cpu_allowance.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "cgroup_quota.hpp"
#include "parmap/options.hpp"

namespace parmap {
namespace detail {
namespace {

/// max(1, min(cpus, ceil(quota))); cpus when there is no quota. A quota of 0.5 CPUs still runs
/// one thread, and 1.5 CPUs is worth two threads that each run three quarters of the time.
unsigned threads_within(unsigned cpus, double quota) {
  if (!(quota > 0)) return std::max(cpus, 1u);
  const double whole = std::ceil(quota);
  const unsigned capped = whole >= static_cast<double>(cpus) ? cpus : static_cast<unsigned>(whole);
  return std::max(capped, 1u);
}

/// A whole decimal number from 1 to max_threads and nothing else, or 0.
unsigned parse_thread_count(std::string_view text) {
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > max_threads) return 0;
  return static_cast<unsigned>(n);
}

allowance_record read_allowance() {
  allowance_record r;
  cpu_allowance& a = r.allowance;
  a.affinity_cpus = usable_cpus();
  const cgroup_quota q = read_cgroup_quota();
  a.quota_cpus = q.cpus;
  a.quota_file = q.file;
  r.quota_threads = threads_within(a.affinity_cpus, a.quota_cpus);
  a.threads = r.quota_threads;
  a.source = r.quota_threads < a.affinity_cpus ? "cgroup CPU quota" : "affinity mask";
  // Empty counts as unset, as for PARMAP_BACKEND: `PARMAP_NUM_THREADS= prog` clears it.
  const char* env = std::getenv("PARMAP_NUM_THREADS");
  if (env == nullptr || *env == '\0') return r;
  if (const unsigned n = parse_thread_count(env); n != 0) {
    a.threads = n;
    a.source = "PARMAP_NUM_THREADS";
  } else {
    r.error = "parmap: PARMAP_NUM_THREADS=" + std::string(env) +
              " is not a thread count (a whole number from 1 to " + std::to_string(max_threads) +
              ")";
  }
  return r;
}

}  // namespace

const allowance_record& process_allowance() {
  static const allowance_record record = read_allowance();
  return record;
}

}  // namespace detail

cpu_allowance detect_cpu_allowance() {
  const auto& r = detail::process_allowance();
  if (!r.error.empty()) throw std::invalid_argument(r.error);
  return r.allowance;
}

std::string describe(const cpu_allowance& a) {
  auto plural = [](unsigned n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::string quota;
  if (a.quota_cpus > 0) {
    char buf[32];
    const auto [end, ec] =
        std::to_chars(buf, buf + sizeof buf, a.quota_cpus, std::chars_format::general, 6);
    quota =
        std::string(buf, ec == std::errc() ? end : buf) + (a.quota_cpus == 1 ? " CPU" : " CPUs");
    if (!a.quota_file.empty()) quota += ", " + a.quota_file;
  }
  const std::string mask = plural(a.affinity_cpus, "CPU");
  std::string out = plural(a.threads, "thread") + " from ";
  if (a.source == "PARMAP_NUM_THREADS") {
    out += "PARMAP_NUM_THREADS; ";
    out += quota.empty() ? "no cgroup CPU quota" : "cgroup CPU quota: " + quota;
    return out + "; affinity mask: " + mask;
  }
  if (a.source == "cgroup CPU quota") {
    return out + "the cgroup CPU quota (" + quota + "); affinity mask: " + mask;
  }
  out += "the affinity mask (" + mask + "); ";
  return out + (quota.empty() ? "no cgroup CPU quota" : "cgroup CPU quota: " + quota);
}

}  // namespace parmap
