// Reads the cgroup CPU quota from /proc/self/cgroup, /proc/self/mountinfo and the cgroup files:
// cgroup v2's cpu.max, v1's cpu.cfs_quota_us and cpu.cfs_period_us.
#include "cgroup_quota.hpp"

#include <charconv>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <vector>

namespace parmap::detail {
namespace {

/// The whole content of a file; nullopt when it cannot be opened or read.
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return std::nullopt;
  return text;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

/// The words of `s` separated by runs of spaces or tabs.
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  for (const auto w : split(s, ' ')) {
    for (const auto v : split(w, '\t')) {
      if (!v.empty()) out.push_back(v);
    }
  }
  return out;
}

/// A whole-string decimal integer, nothing else around it.
std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool has_word(std::string_view comma_list, std::string_view word) {
  for (const auto w : split(comma_list, ',')) {
    if (w == word) return true;
  }
  return false;
}

/// mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040).
std::string unescape(std::string_view s) {
  const auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

enum class version { v1, v2 };

/// One cgroup mount from mountinfo: where the hierarchy is mounted and which of its directories
/// appears there.
struct mount {
  std::string root;   ///< the hierarchy's directory shown at the mount point ("/" usually)
  std::string point;  ///< where it is mounted, e.g. /sys/fs/cgroup
};

/// The cgroup mounts of one kind: cgroup2, or cgroup v1 hierarchies carrying `cpu`.
std::vector<mount> find_mounts(std::string_view mountinfo, version v) {
  std::vector<mount> out;
  for (const auto line : split(mountinfo, '\n')) {
    // ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    const auto fields = words(line);
    std::size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash + 1 >= fields.size()) continue;  // not a mountinfo line
    const auto fstype = fields[dash + 1];
    const bool wanted = v == version::v2 ? fstype == "cgroup2"
                                         : fstype == "cgroup" && dash + 3 < fields.size() &&
                                               has_word(fields[dash + 3], "cpu");
    if (wanted) out.push_back({unescape(fields[3]), unescape(fields[4])});
  }
  return out;
}

/// The process's cgroup path in one hierarchy, from /proc/self/cgroup
/// (HIERARCHY:CONTROLLERS:PATH per line; v2 is "0::PATH").
std::optional<std::string> cgroup_path(std::string_view proc_cgroup, version v) {
  for (const auto line : split(proc_cgroup, '\n')) {
    const auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    const auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const auto id = line.substr(0, first);
    const auto controllers = line.substr(first + 1, second - first - 1);
    const auto path = line.substr(second + 1);
    const bool wanted =
        v == version::v2 ? id == "0" && controllers.empty() : has_word(controllers, "cpu");
    if (wanted && !path.empty() && path.front() == '/') return std::string(path);
  }
  return std::nullopt;
}

/// True when `path` is `dir` or lies below it.
bool is_under(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path.substr(0, dir.size()) == dir &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

/// The quota a directory sets, in CPUs; 0 for none, missing or malformed.
double quota_at(const std::string& dir, version v) {
  if (v == version::v2) {
    const auto text = read_file(dir + "/cpu.max");
    if (!text) return 0;
    const auto w = words(trim(*text));
    if (w.size() != 2 || w[0] == "max") return 0;
    const auto quota = to_int(w[0]), period = to_int(w[1]);
    if (!quota || !period || *quota <= 0 || *period <= 0) return 0;
    return static_cast<double>(*quota) / static_cast<double>(*period);
  }
  const auto quota_text = read_file(dir + "/cpu.cfs_quota_us");
  const auto period_text = read_file(dir + "/cpu.cfs_period_us");
  if (!quota_text || !period_text) return 0;
  const auto quota = to_int(trim(*quota_text)), period = to_int(trim(*period_text));
  // -1 is v1's "no quota".
  if (!quota || !period || *quota <= 0 || *period <= 0) return 0;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

/// The tightest quota from the process's directory up to the mount point of one hierarchy;
/// nullopt when the hierarchy is not there (no line for it, or not mounted).
std::optional<cgroup_quota> read_hierarchy(const std::string& root, std::string_view proc_cgroup,
                                           std::string_view mountinfo, version v) {
  const auto path = cgroup_path(proc_cgroup, v);
  if (!path) return std::nullopt;
  const auto mounts = find_mounts(mountinfo, v);
  if (mounts.empty()) return std::nullopt;
  // Prefer a mount whose root is an ancestor of the process's cgroup, and of those the one
  // nearest the hierarchy's root: the walk up then sees every ancestor's quota.
  const mount* best = nullptr;
  for (const auto& m : mounts) {
    if (is_under(*path, m.root) && (best == nullptr || m.root.size() < best->root.size())) {
      best = &m;
    }
  }
  std::vector<std::string_view> below;  // the process's directories below the mount point
  if (best != nullptr) {
    const std::string_view rest = best->root == "/"
                                      ? std::string_view(*path)
                                      : std::string_view(*path).substr(best->root.size());
    for (const auto part : split(rest, '/')) {
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        // Outside what the mount shows (a cgroup namespace): only the mount point is readable.
        below.clear();
        break;
      }
      below.push_back(part);
    }
  } else {
    // The mount shows a directory that is not the process's ancestor, typically a container's
    // own cgroup mounted as the root: the process lives at the mount point.
    best = &mounts.front();
  }
  const std::string top = root + best->point;
  cgroup_quota tightest;
  for (std::size_t depth = below.size() + 1; depth-- > 0;) {
    std::string dir = top;
    for (std::size_t i = 0; i < depth; ++i) (dir += '/') += below[i];
    const double cpus = quota_at(dir, v);
    if (cpus > 0 && (tightest.cpus == 0 || cpus < tightest.cpus)) {
      tightest.cpus = cpus;
      tightest.file = dir + (v == version::v2 ? "/cpu.max" : "/cpu.cfs_quota_us");
    }
  }
  return tightest;
}

}  // namespace

cgroup_quota read_cgroup_quota(const std::string& root) noexcept {
  try {
    const auto proc_cgroup = read_file(root + "/proc/self/cgroup");
    const auto mountinfo = read_file(root + "/proc/self/mountinfo");
    if (!proc_cgroup || !mountinfo) return {};
    // Hybrid systems mount both; the cpu controller belongs to one hierarchy only, and when
    // the v1 one is mounted, that is where it is.
    if (auto q = read_hierarchy(root, *proc_cgroup, *mountinfo, version::v1)) return *q;
    if (auto q = read_hierarchy(root, *proc_cgroup, *mountinfo, version::v2)) return *q;
    return {};
  } catch (...) {
    // Out of memory while reading a few small files: no quota is the safe answer.
    return {};
  }
}

}  // namespace parmap::detail
