#pragma once
// Wisdom, as FFTW calls it: the options that tuning found best for a map, stored by a name the
// user picks and by the machine they were found on, so that the next run on this machine reuses
// them instead of tuning again.
//
//   parmap::wisdom w;                                   // PARMAP_WISDOM, or the user's cache
//   if (auto best = w.lookup("resize-images")) use(*best);
//   else w.store("resize-images", tune_somehow());
//
// The file is JSON that people may read: one entry per (name, machine) pair with the options'
// backend, threads, chunk, schedule and placement, when the entry was stored and by which
// parmap version. stop, on_progress, deadline and report belong to a call, not to a machine:
// they are never stored.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "parmap/options.hpp"

namespace parmap {

/// This machine as wisdom records it, one line: the CPU model (/proc/cpuinfo), the topology
/// (describe(detect_topology())), the number of CPUs this process may use (usable_cpus()) and
/// the cgroup CPU quota, e.g. "Intel(R) Xeon(R) CPU @ 2.20GHz; 2 logical CPUs, 1 physical
/// core, 1 package, 1 NUMA node, SMT; 2 usable CPUs; no cgroup CPU quota". PARMAP_NUM_THREADS
/// plays no part: it chooses a default, it does not change the machine. Options tuned under
/// one identity are never used under another, so a process started under `taskset` or in a
/// container with a CPU limit tunes for itself.
[[nodiscard]] std::string machine_identity();

/// The longest name wisdom accepts, in bytes.
inline constexpr std::size_t max_wisdom_name = 256;

/// A wisdom file: tuned options by (name, machine_identity()).
///
/// Readers never lock: a writer replaces the file in one rename, so a reader sees the old file
/// or the new one, never a mix. Writers take an advisory lock (flock) on a lock file beside it,
/// "<file>.lock", so that processes storing at once neither tear the file nor lose each other's
/// entries. A wisdom object holds only its path; it may be used from many threads at once.
///
/// A name is 1 to max_wisdom_name bytes of valid UTF-8 with no control characters; lookup() and
/// store() throw std::invalid_argument naming the problem for any other name.
class wisdom {
 public:
  /// Where wisdom lives when no path is given: PARMAP_WISDOM if it is set and non-empty, else
  /// $XDG_CACHE_HOME/parmap/wisdom.json, else $HOME/.cache/parmap/wisdom.json. As the XDG
  /// base-directory rules say, an XDG_CACHE_HOME that is empty or not an absolute path is
  /// ignored. Without PARMAP_WISDOM, XDG_CACHE_HOME or HOME: the home directory of the user in
  /// the password database, else "wisdom.json" in the working directory.
  [[nodiscard]] static std::filesystem::path default_path();

  /// The wisdom in the file at `path`. Touches nothing on disk: the file is read by each
  /// lookup() and written by each store().
  explicit wisdom(std::filesystem::path path = default_path());

  /// The file this wisdom reads and writes.
  [[nodiscard]] const std::filesystem::path& path() const noexcept;

  /// The options stored under `name` for this machine, or std::nullopt when there are none:
  /// no file; no entry of that name; entries of that name only for other machines (a one-line
  /// note on stderr says so); a file that cannot be read or is not a wisdom file (invalid JSON,
  /// wrong structure, a directory); an entry whose options this build cannot use (a backend
  /// that is not built in, a value out of range). In the last two cases a one-line warning on
  /// stderr names the file and the problem and says that parmap will tune again.
  /// Never throws for the file's content; std::invalid_argument for a bad name.
  [[nodiscard]] std::optional<parmap::options> lookup(std::string_view name) const;

  /// Stores `best` under (name, machine_identity()): backend, threads, chunk, schedule and
  /// placement. An older entry of the same pair is replaced; every other entry (other names,
  /// other machines, entries this version cannot use) is kept as it was. Creates the file's
  /// directory. Under the lock, reads the file, writes the new content to a temporary file in
  /// the same directory and renames it over the file. A file that is not a wisdom file is moved
  /// aside to "<file>.corrupt" (with a warning on stderr) and a new one is started.
  /// Throws std::invalid_argument for a bad name, or when `best` could not be used by a call
  /// of this build (a backend that is not built in, |threads| > max_threads, a schedule or
  /// placement outside its enum); std::runtime_error naming the path when the directory, the
  /// lock file or the file cannot be written.
  void store(std::string_view name, const parmap::options& best);

 private:
  std::filesystem::path path_;
};

}  // namespace parmap
