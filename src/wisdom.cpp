// Wisdom: tuned options by (name, machine), in a JSON file that concurrent processes share.
#include "parmap/wisdom.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "cpu_allowance.hpp"
#include "join.hpp"
#include "json.hpp"
#include "parmap/config.hpp"
#include "parmap/topology.hpp"

namespace parmap {
namespace {

namespace fs = std::filesystem;
namespace json = detail::json;

/// What the file says it is, and the version of its layout. A reader of version 1 reads
/// "format", "version" and "entries"; in an entry, "name", "machine" and "options".
constexpr std::string_view file_format = "parmap-wisdom";
constexpr std::int64_t file_version = 1;

/// Larger than any wisdom file people keep (an entry is about 400 bytes), small enough to read
/// whole: a bigger file at the path is not wisdom.
constexpr std::uintmax_t max_file_bytes = 64u << 20;

/// One line on stderr, written with one call so that lines of concurrent processes do not mix.
void say(const std::string& line) {
  std::fprintf(stderr, "parmap: %s\n", line.c_str());
}

std::string quoted(const fs::path& p) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about "'" + std::string.
  std::string out = "'";
  out += p.native();
  out += '\'';
  return out;
}

std::string error_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// ---- names and options ----------------------------------------------------------------------

void check_name(std::string_view name) {
  if (name.empty()) throw std::invalid_argument("parmap: a wisdom name must not be empty");
  if (name.size() > max_wisdom_name) {
    throw std::invalid_argument("parmap: the wisdom name '" + std::string(name.substr(0, 40)) +
                                "...' is " + std::to_string(name.size()) + " bytes long (at most " +
                                std::to_string(max_wisdom_name) + ")");
  }
  if (!json::is_valid_utf8(name)) {
    throw std::invalid_argument("parmap: a wisdom name must be valid UTF-8");
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) {
      throw std::invalid_argument(
          "parmap: a wisdom name must not contain control characters (byte " + std::to_string(c) +
          " at offset " + std::to_string(i) + ")");
    }
  }
}

/// The enumerator of E whose to_string is `text`, among the first `count`: the inverse of
/// to_string(schedule) and to_string(placement), so that the names are written in one place.
template <class E>
std::optional<E> from_name(std::string_view text, int count) {
  for (int i = 0; i < count; ++i) {
    if (to_string(static_cast<E>(i)) == text) return static_cast<E>(i);
  }
  return std::nullopt;
}
constexpr int schedule_count = static_cast<int>(schedule::guided) + 1;
constexpr int placement_count = static_cast<int>(placement::close) + 1;

template <class E>
std::string names_of(int count) {
  std::string list;
  for (int i = 0; i < count; ++i) {
    if (!list.empty()) list += ", ";
    list += to_string(static_cast<E>(i));
  }
  return list;
}

/// Why a call would reject this thread count, or "".
std::string threads_problem(std::int64_t threads) {
  if (threads <= max_threads && threads >= -max_threads) return {};
  return "threads = " + std::to_string(threads) +
         " is out of range (|threads| <= " + std::to_string(max_threads) + ")";
}

/// Why a call of this build could not use `o`'s stored fields, or "" when it could.
std::string options_problem(const options& o) {
  if (to_string(o.backend) == "unknown") {
    return "backend " + std::to_string(static_cast<int>(o.backend)) + " is not a backend";
  }
  if (!is_available(o.backend)) {
    return "backend '" + std::string(to_string(o.backend)) +
           "' is not built into this build of parmap (available: " +
           detail::available_backend_list() + ")";
  }
  if (std::string problem = threads_problem(o.threads); !problem.empty()) return problem;
  if (const auto s = static_cast<int>(o.schedule); s < 0 || s >= schedule_count) {
    return "schedule " + std::to_string(s) + " is not a schedule";
  }
  if (const auto p = static_cast<int>(o.placement); p < 0 || p >= placement_count) {
    return "placement " + std::to_string(p) + " is not a placement";
  }
  return {};
}

json::value options_to_json(const options& o) {
  json::value v;
  v["backend"] = to_string(o.backend);
  v["threads"] = o.threads;
  v["chunk"] = o.chunk;
  v["schedule"] = to_string(o.schedule);
  v["placement"] = to_string(o.placement);
  return v;
}

/// The member `key` of `entry`, or a json::type_error that names it.
const json::value& member(const json::value& entry, std::string_view key) {
  const json::value* v = entry.find(key);
  if (v == nullptr) throw json::type_error("no \"" + std::string(key) + "\"");
  return *v;
}

/// The options an entry stores; std::invalid_argument or json::type_error saying what is wrong
/// when this build cannot use them.
options options_from_json(const json::value& entry) {
  const json::value& v = member(entry, "options");
  if (!v.is_object()) throw json::type_error("\"options\" is not an object");
  options o;
  const std::string& b = member(v, "backend").as_string();
  o.backend = backend_from_string(b);  // std::invalid_argument naming the valid names
  const std::int64_t threads = member(v, "threads").as_int64();
  // Checked before it is narrowed to an int, so that the message shows the file's number.
  if (std::string problem = threads_problem(threads); !problem.empty()) {
    throw std::invalid_argument(problem);
  }
  o.threads = static_cast<int>(threads);
  const std::uint64_t chunk = member(v, "chunk").as_uint64();
  if (chunk > std::numeric_limits<std::size_t>::max()) {
    throw std::invalid_argument("chunk = " + std::to_string(chunk) + " does not fit a size_t");
  }
  o.chunk = static_cast<std::size_t>(chunk);
  const std::string& s = member(v, "schedule").as_string();
  const auto sched = from_name<schedule>(s, schedule_count);
  if (!sched) {
    throw std::invalid_argument("schedule '" + s + "' is not one of " +
                                names_of<schedule>(schedule_count));
  }
  o.schedule = *sched;
  const std::string& p = member(v, "placement").as_string();
  const auto where = from_name<placement>(p, placement_count);
  if (!where) {
    throw std::invalid_argument("placement '" + p + "' is not one of " +
                                names_of<placement>(placement_count));
  }
  o.placement = *where;
  if (std::string problem = options_problem(o); !problem.empty()) {
    throw std::invalid_argument(problem);
  }
  return o;
}

// ---- the machine ----------------------------------------------------------------------------

/// Printable ASCII with runs of spaces made one: /proc/cpuinfo pads some model names.
std::string tidy(std::string_view raw) {
  std::string out;
  for (const char c : raw) {
    const bool space = c == ' ' || c == '\t';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += (c > 0x20 && c < 0x7F) ? c : '?';
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

/// The CPU model from /proc/cpuinfo: "model name" (x86 and others), else the implementer and
/// part numbers that ARM kernels give instead, else "unknown CPU".
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, implementer, part;
  while (std::getline(in, line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = tidy(line.substr(0, colon));
    const std::string value = tidy(line.substr(colon + 1));
    if (key == "model name" && !value.empty()) return value;
    if (key == "CPU implementer" && implementer.empty()) implementer = value;
    if (key == "CPU part" && part.empty()) part = value;
  }
  if (!implementer.empty() || !part.empty()) {
    return "CPU implementer " + implementer + " part " + part;
  }
  return "unknown CPU";
}

std::string identity_uncached() {
  const cpu_allowance& a = detail::process_allowance().allowance;
  std::string quota = "no cgroup CPU quota";
  if (a.quota_cpus > 0) {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, a.quota_cpus);
    quota = "cgroup CPU quota " + std::string(buf, ec == std::errc() ? end : buf) + " CPUs";
  }
  const unsigned cpus = usable_cpus();
  return cpu_model() + "; " + describe(detect_topology()) + "; " + std::to_string(cpus) +
         (cpus == 1 ? " usable CPU; " : " usable CPUs; ") + quota;
}

// ---- the file -------------------------------------------------------------------------------

/// The file as read: missing, a wisdom document, or unusable (with the reason).
struct file_content {
  enum class state { missing, wisdom, unusable };
  state status = state::missing;
  json::value document;
  /// For unusable: what is wrong, to follow the file's name ("is not valid JSON (...)").
  std::string problem;
  /// For unusable: the path is a directory, which store() does not move aside.
  bool directory = false;
};

file_content unusable(std::string problem, bool directory = false) {
  file_content c;
  c.status = file_content::state::unusable;
  c.problem = std::move(problem);
  c.directory = directory;
  return c;
}

/// Why `doc` is not a wisdom document of this version, or "".
std::string structure_problem(const json::value& doc) {
  if (!doc.is_object()) return "is JSON but not a parmap wisdom file (not an object)";
  const json::value* format = doc.find("format");
  if (format == nullptr || !format->is_string() || format->as_string() != file_format) {
    return "is JSON but not a parmap wisdom file (no \"format\": \"parmap-wisdom\")";
  }
  const json::value* version = doc.find("version");
  if (version == nullptr || !version->is_number()) return "has no format version";
  if (!(*version == json::value(file_version))) {
    return "has format version " + json::write(*version, -1) + ", which this parmap (format " +
           std::to_string(file_version) + ") does not read";
  }
  const json::value* entries = doc.find("entries");
  if (entries == nullptr || !entries->is_array()) return "has no \"entries\" array";
  const json::array& list = entries->as_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::value& e = list[i];
    const json::value* name = e.find("name");
    const json::value* machine = e.find("machine");
    if (!e.is_object() || name == nullptr || !name->is_string() || machine == nullptr ||
        !machine->is_string()) {
      return "has an entry (#" + std::to_string(i + 1) +
             ") that is not an object with a string \"name\" and \"machine\"";
    }
  }
  return {};
}

/// A file descriptor closed at the end of its scope.
class file_descriptor {
 public:
  explicit file_descriptor(int fd) noexcept : fd_(fd) {}
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Closes now, for the result; false with errno set when close fails.
  bool close() noexcept {
    const int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

file_content read_wisdom(const fs::path& path) {
  // O_NONBLOCK: a FIFO at the path must not block the reader; a regular file ignores it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    if (errno == EISDIR) return unusable("is a directory", true);
    return unusable("cannot be read (" + error_text(errno) + ")");
  }
  const file_descriptor file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return unusable("cannot be read (" + error_text(errno) + ")");
  if (S_ISDIR(st.st_mode)) return unusable("is a directory", true);
  if (!S_ISREG(st.st_mode)) return unusable("is not a regular file");
  if (static_cast<std::uintmax_t>(st.st_size) > max_file_bytes) {
    return unusable("is larger than " + std::to_string(max_file_bytes >> 20) +
                    " MiB, too large to be a wisdom file");
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EISDIR) return unusable("is a directory", true);
      return unusable("cannot be read (" + error_text(errno) + ")");
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_file_bytes) {
      return unusable("is larger than " + std::to_string(max_file_bytes >> 20) +
                      " MiB, too large to be a wisdom file");
    }
  }
  file_content c;
  try {
    c.document = json::parse(text);
  } catch (const json::parse_error& e) {
    return unusable(text.empty() ? "is empty"
                                 : "is not valid JSON (" + std::string(e.what()) + ")");
  }
  if (std::string problem = structure_problem(c.document); !problem.empty()) {
    return unusable(std::move(problem));
  }
  c.status = file_content::state::wisdom;
  return c;
}

/// An exclusive flock on "<file>.lock", held for the object's life. The lock is on a file of
/// its own because the wisdom file is replaced by rename: a lock on it would stay with the old
/// inode, and a second writer opening the path would lock the new one. The lock file is never
/// removed: removing it would let two writers hold locks on two different inodes.
class writer_lock {
 public:
  explicit writer_lock(const fs::path& wisdom_file)
      : path_(wisdom_file.string() + ".lock"),
        file_(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
    if (file_.get() < 0) fail("cannot open");
    while (::flock(file_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) fail("cannot lock");
    }
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error("parmap: " + std::string(what) + " the wisdom lock file " +
                             quoted(path_) + ": " + error_text(errno));
  }

  fs::path path_;
  file_descriptor file_;  // closing it releases the lock
};

/// Writes `text` to a new file beside `path` and renames it over `path`, so that a reader sees
/// the old file or the new one, whole. Throws std::runtime_error naming the path.
void replace_file(const fs::path& path, const std::string& text) {
  static std::atomic<unsigned> counter{0};
  fs::path temp;
  int fd = -1;
  // A name no other process or thread uses: the pid and a counter; O_EXCL guards against a
  // leftover of a process that died (or one with our pid on another host of a shared
  // directory), and the next number is tried.
  for (int attempt = 0; fd < 0; ++attempt) {
    temp = path;
    temp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt == 100)) {
      throw std::runtime_error("parmap: cannot write the wisdom file " + quoted(path) +
                               ": cannot create " + quoted(temp) + ": " + error_text(errno));
    }
  }
  file_descriptor file(fd);
  const auto fail = [&](const char* step) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw std::runtime_error("parmap: cannot write the wisdom file " + quoted(path) + ": " + step +
                             ": " + error_text(err));
  };
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write");
    done += static_cast<std::size_t>(n);
  }
  // Without fsync a crash soon after the rename could leave an empty file on some file systems.
  if (::fsync(fd) != 0) fail("fsync");
  if (!file.close()) fail("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("rename");
}

/// "2026-11-21T15:02:03Z".
std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  char buf[32] = "";
  if (::gmtime_r(&now, &tm) != nullptr) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json::value new_document() {
  json::value doc;
  doc["format"] = file_format;
  doc["version"] = file_version;
  doc["entries"] = json::array{};
  return doc;
}

}  // namespace

std::string machine_identity() {
  static const std::string identity = identity_uncached();
  return identity;
}

fs::path wisdom::default_path() {
  if (const char* file = std::getenv("PARMAP_WISDOM"); file != nullptr && *file != '\0') {
    return file;
  }
  // XDG base directories: "If an implementation encounters a relative path in any of these
  // variables it should consider the path invalid and ignore it."
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache != nullptr && *cache == '/') {
    return fs::path(cache) / "parmap" / "wisdom.json";
  }
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    home = h;
  } else {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_dir != nullptr && *found->pw_dir != '\0') {
      home = found->pw_dir;
    }
  }
  if (home.empty()) return "wisdom.json";
  return fs::path(home) / ".cache" / "parmap" / "wisdom.json";
}

wisdom::wisdom(fs::path path) : path_(std::move(path)) {}

const fs::path& wisdom::path() const noexcept {
  return path_;
}

std::optional<options> wisdom::lookup(std::string_view name) const {
  check_name(name);
  const file_content file = read_wisdom(path_);
  if (file.status == file_content::state::missing) return std::nullopt;
  if (file.status == file_content::state::unusable) {
    say("warning: wisdom file " + quoted(path_) + " " + file.problem +
        "; ignoring it, parmap will tune again");
    return std::nullopt;
  }
  const std::string me = machine_identity();
  bool elsewhere = false;
  for (const json::value& entry : file.document.find("entries")->as_array()) {
    if (entry.find("name")->as_string() != name) continue;
    if (entry.find("machine")->as_string() != me) {
      elsewhere = true;
      continue;
    }
    try {
      return options_from_json(entry);
    } catch (const std::exception& e) {
      // json::type_error or std::invalid_argument: a hand edit, or another build's backend.
      say("warning: wisdom file " + quoted(path_) + ": the entry \"" + std::string(name) +
          "\" for this machine cannot be used (" + e.what() + "); parmap will tune again");
      return std::nullopt;
    }
  }
  if (elsewhere) {
    say("wisdom file " + quoted(path_) + " has \"" + std::string(name) +
        "\" only for other machines; parmap will tune for this one (" + me + ")");
  }
  return std::nullopt;
}

void wisdom::store(std::string_view name, const options& best) {
  check_name(name);
  if (std::string problem = options_problem(best); !problem.empty()) {
    throw std::invalid_argument("parmap: cannot store wisdom \"" + std::string(name) +
                                "\": " + problem);
  }
  const fs::path dir = path_.parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      throw std::runtime_error("parmap: cannot create the wisdom directory " + quoted(dir) + ": " +
                               ec.message());
    }
  }
  const writer_lock lock(path_);
  file_content file = read_wisdom(path_);
  json::value doc = new_document();
  if (file.status == file_content::state::wisdom) {
    doc = std::move(file.document);
  } else if (file.status == file_content::state::unusable) {
    if (file.directory) {
      throw std::runtime_error("parmap: cannot write the wisdom file " + quoted(path_) +
                               ": it is a directory");
    }
    // Moved aside, not deleted: the path may name a file that was never wisdom.
    fs::path aside = path_;
    aside += ".corrupt";
    if (::rename(path_.c_str(), aside.c_str()) != 0) {
      throw std::runtime_error("parmap: cannot move the unusable wisdom file " + quoted(path_) +
                               " aside to " + quoted(aside) + ": " + error_text(errno));
    }
    say("warning: wisdom file " + quoted(path_) + " " + file.problem + "; moved it to " +
        quoted(aside) + " and started a new one");
  }

  const std::string me = machine_identity();
  json::value entry;
  entry["name"] = name;
  entry["machine"] = me;
  entry["options"] = options_to_json(best);
  entry["stored"] = utc_now();
  entry["parmap_version"] = PARMAP_VERSION;

  // The entry of this (name, machine) keeps its place; duplicates from hand edits go.
  json::array& entries = doc["entries"].as_array();
  bool placed = false;
  std::vector<json::value> kept;
  kept.reserve(entries.size() + 1);
  for (json::value& e : entries) {
    if (e.find("name")->as_string() == name && e.find("machine")->as_string() == me) {
      if (!placed) kept.push_back(std::move(entry));
      placed = true;
    } else {
      kept.push_back(std::move(e));
    }
  }
  if (!placed) kept.push_back(std::move(entry));
  entries = std::move(kept);
  replace_file(path_, json::write(doc));
}

}  // namespace parmap
