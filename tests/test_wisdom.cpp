// Wisdom: tuned options stored by (name, machine) in a JSON file. Round trips of every field,
// where the file lives, other machines' entries, files that are corrupt, foreign or unreadable,
// and processes that write the file at once. Every test works in a directory of its own, never
// in the user's cache.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <parmap/parmap.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child_process.hpp"
#include "json.hpp"
#include "test_backends.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = parmap::detail::json;
using parmap_test::invalid_argument_message;

// ---- helpers --------------------------------------------------------------------------------

/// A directory of the test's own, removed with everything in it at the end.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "parmap-wisdom-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(dir_, ignored);
  }
  [[nodiscard]] const fs::path& path() const noexcept { return dir_; }
  [[nodiscard]] fs::path operator/(const char* name) const { return dir_ / name; }

 private:
  fs::path dir_;
};

/// Sets (or with nullopt unsets) an environment variable for the object's life.
class env_override {
 public:
  env_override(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  env_override(const env_override&) = delete;
  env_override& operator=(const env_override&) = delete;
  ~env_override() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

/// What `call` printed on stderr.
template <class Call>
std::string stderr_of(Call&& call) {
  testing::internal::CaptureStderr();
  try {
    std::forward<Call>(call)();
  } catch (...) {
    (void)testing::internal::GetCapturedStderr();
    throw;
  }
  return testing::internal::GetCapturedStderr();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void expect_same_options(const parmap::options& got, const parmap::options& want) {
  EXPECT_EQ(got.backend, want.backend);
  EXPECT_EQ(got.threads, want.threads);
  EXPECT_EQ(got.chunk, want.chunk);
  EXPECT_EQ(got.schedule, want.schedule);
  EXPECT_EQ(got.placement, want.placement);
}

/// A wisdom file of format 1 with these entries, as parmap writes it.
std::string wisdom_file(const json::array& entries) {
  json::value doc;
  doc["format"] = "parmap-wisdom";
  doc["version"] = 1;
  doc["entries"] = entries;
  return json::write(doc);
}

/// An entry as parmap writes it, with options that a call of every build can use.
json::value entry(const std::string& name, const std::string& machine, std::size_t chunk = 64) {
  json::value options;
  options["backend"] = "serial";
  options["threads"] = 2;
  options["chunk"] = chunk;
  options["schedule"] = "dynamic";
  options["placement"] = "none";
  json::value e;
  e["name"] = name;
  e["machine"] = machine;
  e["options"] = options;
  e["stored"] = "2026-01-01T00:00:00Z";
  e["parmap_version"] = "0.1.0";
  return e;
}

/// The entries of the wisdom file at `p`, read with the strict reader.
json::array entries_in(const fs::path& p) {
  return json::parse(read_text(p)).find("entries")->as_array();
}

constexpr auto child_timeout = std::chrono::seconds(120);
/// child_wisdom's exit status when it was asked to drop from root to nobody and could not (a
/// container without CAP_SETUID, a user namespace without uid 65534).
constexpr int no_unprivileged_child = 3;

// ---- round trips ----------------------------------------------------------------------------

TEST(WisdomStore, RoundTripsEveryField) {
  const temp_dir dir;
  parmap::wisdom w(dir / "wisdom.json");
  std::vector<std::pair<std::string, parmap::options>> stored;
  std::size_t n = 0;
  for (parmap::backend b : parmap::available_backends()) {
    for (parmap::schedule s : parmap_test::all_schedules) {
      for (parmap::placement p :
           {parmap::placement::none, parmap::placement::spread, parmap::placement::close}) {
        ++n;
        // Thread counts and chunks at and near their limits, a different one in each entry.
        constexpr int threads[] = {0, 1, -1, 7, parmap::max_threads, -parmap::max_threads};
        constexpr std::size_t chunks[] = {0, 1, 4096, std::numeric_limits<std::size_t>::max()};
        const parmap::options o{.backend = b,
                                .threads = threads[n % 6],
                                .chunk = chunks[n % 4],
                                .schedule = s,
                                .placement = p};
        stored.emplace_back("map " + std::to_string(n), o);
        w.store(stored.back().first, o);
      }
    }
  }
  for (const auto& [name, o] : stored) {
    SCOPED_TRACE(name);
    const auto back = w.lookup(name);
    ASSERT_TRUE(back.has_value());
    expect_same_options(*back, o);
  }
  // A second wisdom object on the same file reads the same (nothing is cached in the object).
  const auto again = parmap::wisdom(dir / "wisdom.json").lookup(stored.front().first);
  ASSERT_TRUE(again.has_value());
  expect_same_options(*again, stored.front().second);
  EXPECT_EQ(entries_in(dir / "wisdom.json").size(), stored.size());
}

TEST(WisdomStore, KeepsNoCallState) {
  const temp_dir dir;
  parmap::wisdom w(dir / "wisdom.json");
  std::stop_source stop;
  stop.request_stop();
  parmap::call_report report;
  w.store("resize-images", {.threads = 3,
                            .chunk = 8,
                            .stop = stop.get_token(),
                            .on_progress = [](std::size_t, std::size_t) {},
                            .deadline = std::chrono::steady_clock::now(),
                            .report = &report});
  const auto back = w.lookup("resize-images");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->threads, 3);
  EXPECT_FALSE(back->stop.stop_possible());
  EXPECT_FALSE(back->on_progress);
  EXPECT_EQ(back->deadline, std::chrono::steady_clock::time_point::max());
  EXPECT_EQ(back->report, nullptr);
  const json::array entries = entries_in(dir / "wisdom.json");
  ASSERT_EQ(entries.size(), 1u);
  const json::value& options = *entries[0].find("options");
  EXPECT_EQ(options.as_object().size(), 5u) << json::write(options);
}

TEST(WisdomStore, WritesAFilePeopleCanRead) {
  const temp_dir dir;
  parmap::wisdom w(dir / "wisdom.json");
  w.store("resize-images", {.backend = parmap::backend::threads,
                            .threads = 4,
                            .chunk = 16,
                            .schedule = parmap::schedule::guided,
                            .placement = parmap::placement::spread});
  const std::string text = read_text(dir / "wisdom.json");
  const json::value doc = json::parse(text);
  EXPECT_EQ(doc.find("format")->as_string(), "parmap-wisdom");
  EXPECT_EQ(doc.find("version")->as_int64(), 1);
  const json::array& entries = doc.find("entries")->as_array();
  ASSERT_EQ(entries.size(), 1u);
  const json::value& e = entries[0];
  EXPECT_EQ(e.find("name")->as_string(), "resize-images");
  EXPECT_EQ(e.find("machine")->as_string(), parmap::machine_identity());
  const json::value& o = *e.find("options");
  EXPECT_EQ(o.find("backend")->as_string(), "threads");
  EXPECT_EQ(o.find("threads")->as_int64(), 4);
  EXPECT_EQ(o.find("chunk")->as_uint64(), 16u);
  EXPECT_EQ(o.find("schedule")->as_string(), "guided");
  EXPECT_EQ(o.find("placement")->as_string(), "spread");
  const std::string& when = e.find("stored")->as_string();
  EXPECT_EQ(when.size(), 20u) << when;  // 2026-11-21T15:02:03Z
  EXPECT_EQ(when.back(), 'Z') << when;
  EXPECT_EQ(e.find("parmap_version")->as_string(), PARMAP_VERSION);
  // One member per line, so that a diff of two files shows what changed.
  EXPECT_TRUE(contains(text, "\n        \"chunk\": 16,\n")) << text;
}

TEST(WisdomStore, ReplacesItsOwnEntryAndKeepsTheOthers) {
  const temp_dir dir;
  parmap::wisdom w(dir / "wisdom.json");
  w.store("a", {.chunk = 1});
  w.store("b", {.chunk = 2});
  w.store("c", {.chunk = 3});
  w.store("b", {.chunk = 20});
  EXPECT_EQ(w.lookup("a")->chunk, 1u);
  EXPECT_EQ(w.lookup("b")->chunk, 20u);
  EXPECT_EQ(w.lookup("c")->chunk, 3u);
  const json::array entries = entries_in(dir / "wisdom.json");
  ASSERT_EQ(entries.size(), 3u);
  // The replaced entry keeps its place.
  EXPECT_EQ(entries[1].find("name")->as_string(), "b");
}

TEST(WisdomStore, HandEditedDuplicatesBecomeOne) {
  const temp_dir dir;
  const std::string me = parmap::machine_identity();
  write_text(dir / "wisdom.json",
             wisdom_file({entry("x", me, 1), entry("y", me, 2), entry("x", me, 3)}));
  parmap::wisdom w(dir / "wisdom.json");
  EXPECT_EQ(w.lookup("x")->chunk, 1u);  // the first one counts
  w.store("x", {.chunk = 5});
  const json::array entries = entries_in(dir / "wisdom.json");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].find("name")->as_string(), "x");
  EXPECT_EQ(entries[1].find("name")->as_string(), "y");
  EXPECT_EQ(w.lookup("x")->chunk, 5u);
}

TEST(WisdomStore, NoFileIsNothingFoundAndNothingWritten) {
  const temp_dir dir;
  parmap::wisdom w(dir / "sub" / "wisdom.json");
  std::optional<parmap::options> found;
  const std::string err = stderr_of([&] { found = w.lookup("resize-images"); });
  EXPECT_FALSE(found.has_value());
  EXPECT_EQ(err, "");
  EXPECT_FALSE(fs::exists(dir / "sub"));
}

TEST(WisdomStore, CreatesTheDirectories) {
  const temp_dir dir;
  parmap::wisdom w(dir.path() / "a" / "b" / "wisdom.json");
  w.store("resize-images", {.chunk = 7});
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "a" / "b" / "wisdom.json"));
  EXPECT_EQ(w.lookup("resize-images")->chunk, 7u);
  // Nothing left behind but the file and its lock file.
  std::vector<std::string> names;
  for (const auto& f : fs::directory_iterator(dir.path() / "a" / "b")) {
    names.push_back(f.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"wisdom.json", "wisdom.json.lock"}));
}

TEST(WisdomStore, UnwritablePlaceThrowsNamingThePath) {
  const temp_dir dir;
  write_text(dir / "file", "not a directory");
  parmap::wisdom w(dir / "file" / "wisdom.json");
  try {
    w.store("resize-images", {});
    ADD_FAILURE() << "stored under a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), (dir / "file").string())) << e.what();
  }
}

TEST(WisdomStore, ReadOnlyDirectoryThrowsNamingThePath) {
  // As root, permissions do not stop this process: the write is tried by a child as nobody.
  const temp_dir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const fs::path file = dir / "wisdom.json";
  write_text(file, wisdom_file({}));
  fs::permissions(file, fs::perms::all, fs::perm_options::add);  // the file itself is writable
  fs::permissions(dir.path(), fs::perms::owner_write, fs::perm_options::remove);
  const auto st = parmap_test::run_child(
      "wisdom", {"store-one", file.string(), "resize-images", "8", "as-nobody"}, child_timeout);
  if (st.exited && st.exit_code == no_unprivileged_child) {
    GTEST_SKIP() << "running as root, and a child cannot become nobody: " << st.output;
  }
  EXPECT_EQ(st.exit_code, 1) << st.describe();
  EXPECT_TRUE(contains(st.output, "threw: parmap: cannot")) << st.describe();
  EXPECT_TRUE(contains(st.output, file.string())) << st.describe();
  EXPECT_EQ(read_text(file), wisdom_file({}));
}

// ---- names and options ----------------------------------------------------------------------

TEST(WisdomNames, AreChecked) {
  const temp_dir dir;
  parmap::wisdom w(dir / "wisdom.json");
  const std::string longest(parmap::max_wisdom_name, 'n');
  w.store(longest, {.chunk = 1});
  w.store("r\xC3\xA9sum\xC3\xA9 \"quoted\" \\ / \xF0\x9F\x98\x80", {.chunk = 2});
  EXPECT_EQ(w.lookup(longest)->chunk, 1u);
  EXPECT_EQ(w.lookup("r\xC3\xA9sum\xC3\xA9 \"quoted\" \\ / \xF0\x9F\x98\x80")->chunk, 2u);
  const std::pair<std::string, const char*> bad[] = {
      {"", "must not be empty"},
      {longest + "n", "at most 256"},
      {"line\nbreak", "control characters"},
      {std::string("nul\0byte", 8), "control characters"},
      {"bad \xFF utf-8", "UTF-8"},
  };
  for (const auto& [name, why] : bad) {
    EXPECT_TRUE(contains(invalid_argument_message([&] { (void)w.lookup(name); }), why)) << why;
    EXPECT_TRUE(contains(invalid_argument_message([&] { w.store(name, {}); }), why)) << why;
  }
  EXPECT_EQ(entries_in(dir / "wisdom.json").size(), 2u);
}

TEST(WisdomNames, OptionsACallWouldRejectAreNotStored) {
  const temp_dir dir;
  parmap::wisdom w(dir / "wisdom.json");
  const std::pair<parmap::options, const char*> bad[] = {
      {{.threads = parmap::max_threads + 1}, "threads = 4097"},
      {{.threads = -parmap::max_threads - 1}, "threads = -4097"},
      {{.backend = static_cast<parmap::backend>(99)}, "not a backend"},
      {{.schedule = static_cast<parmap::schedule>(9)}, "not a schedule"},
      {{.placement = static_cast<parmap::placement>(7)}, "not a placement"},
  };
  for (const auto& [o, why] : bad) {
    const std::string message = invalid_argument_message([&] { w.store("x", o); });
    EXPECT_TRUE(contains(message, why)) << message;
  }
  for (parmap::backend b :
       {parmap::backend::openmp, parmap::backend::tbb, parmap::backend::stdpar}) {
    if (parmap::is_available(b)) continue;
    EXPECT_TRUE(contains(invalid_argument_message([&] { w.store("x", {.backend = b}); }),
                         "not built into"));
  }
  EXPECT_FALSE(fs::exists(dir / "wisdom.json"));
}

// ---- where the file lives -------------------------------------------------------------------

TEST(WisdomPath, FollowsTheEnvironment) {
  const env_override wisdom_var("PARMAP_WISDOM", std::nullopt);
  const env_override xdg("XDG_CACHE_HOME", std::nullopt);
  const env_override home("HOME", "/home/someone");
  EXPECT_EQ(parmap::wisdom::default_path(), "/home/someone/.cache/parmap/wisdom.json");
  {
    const env_override set("XDG_CACHE_HOME", "/var/cache/me");
    EXPECT_EQ(parmap::wisdom::default_path(), "/var/cache/me/parmap/wisdom.json");
    EXPECT_EQ(parmap::wisdom().path(), "/var/cache/me/parmap/wisdom.json");
  }
  for (const char* ignored : {"", "relative/cache", "./cache"}) {
    const env_override set("XDG_CACHE_HOME", ignored);
    EXPECT_EQ(parmap::wisdom::default_path(), "/home/someone/.cache/parmap/wisdom.json")
        << "XDG_CACHE_HOME=" << ignored;
  }
  {
    const env_override set("XDG_CACHE_HOME", "/var/cache/me");
    const env_override file("PARMAP_WISDOM", "/data/tuned.json");
    EXPECT_EQ(parmap::wisdom::default_path(), "/data/tuned.json");
    EXPECT_EQ(parmap::wisdom().path(), "/data/tuned.json");
  }
  {
    const env_override file("PARMAP_WISDOM", "");  // empty counts as unset
    EXPECT_EQ(parmap::wisdom::default_path(), "/home/someone/.cache/parmap/wisdom.json");
  }
  {
    const env_override no_home("HOME", std::nullopt);
    const passwd* pw = getpwuid(getuid());
    ASSERT_NE(pw, nullptr);
    EXPECT_EQ(parmap::wisdom::default_path(),
              fs::path(pw->pw_dir) / ".cache" / "parmap" / "wisdom.json");
  }
}

TEST(WisdomPath, TheEnvironmentChoosesTheFileUsed) {
  const temp_dir dir;
  const env_override file("PARMAP_WISDOM", (dir / "from-env.json").string());
  parmap::wisdom().store("resize-images", {.chunk = 3});
  EXPECT_TRUE(fs::exists(dir / "from-env.json"));
  EXPECT_EQ(parmap::wisdom().lookup("resize-images")->chunk, 3u);
}

// ---- machines -------------------------------------------------------------------------------

TEST(WisdomMachine, IdentityDescribesThisMachine) {
  const std::string id = parmap::machine_identity();
  EXPECT_EQ(id, parmap::machine_identity());
  EXPECT_EQ(id.find('\n'), std::string::npos);
  EXPECT_TRUE(contains(id, parmap::describe(parmap::detect_topology()))) << id;
  EXPECT_TRUE(contains(id, "; " + std::to_string(parmap::usable_cpus()) + " usable CPU")) << id;
  EXPECT_TRUE(contains(id, "cgroup CPU quota")) << id;
  // Printable ASCII only: it is compared byte for byte with what another process wrote.
  for (const char c : id) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << id;
}

TEST(WisdomMachine, AnotherMachinesEntryIsIgnoredAndKept) {
  const temp_dir dir;
  const fs::path file = dir / "wisdom.json";
  const std::string other =
      "Some Other CPU @ 3.0GHz; 64 logical CPUs, 32 physical cores, 2 "
      "packages, 2 NUMA nodes, SMT; 64 usable CPUs; no cgroup CPU quota";
  json::value theirs = entry("resize-images", other, 999);
  theirs["note"] = "a field this version does not know";  // kept as it is, too
  json::value theirs_with_backend_we_lack = entry("resize-images", other + " (2)", 5);
  theirs_with_backend_we_lack["options"]["backend"] = "cuda";
  write_text(file, wisdom_file({theirs, theirs_with_backend_we_lack}));

  parmap::wisdom w(file);
  std::optional<parmap::options> found;
  const std::string note = stderr_of([&] { found = w.lookup("resize-images"); });
  EXPECT_FALSE(found.has_value());
  EXPECT_TRUE(contains(note, "only for other machines")) << note;
  EXPECT_TRUE(contains(note, file.string())) << note;
  // Another name is simply not there: nothing to say.
  EXPECT_EQ(stderr_of([&] { found = w.lookup("other-map"); }), "");

  const std::string err = stderr_of([&] { w.store("resize-images", {.chunk = 32}); });
  EXPECT_EQ(err, "");
  const json::array entries = entries_in(file);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0], theirs);
  EXPECT_EQ(entries[1], theirs_with_backend_we_lack);
  EXPECT_EQ(entries[2].find("machine")->as_string(), parmap::machine_identity());
  EXPECT_EQ(w.lookup("resize-images")->chunk, 32u);
}

// ---- corrupt, foreign and unusable files ----------------------------------------------------

/// A file that is not wisdom parmap can read, and a word its warning must contain.
struct bad_file {
  const char* label;
  std::string content;
  const char* problem;
};

std::vector<bad_file> bad_files() {
  const std::string good = wisdom_file({entry("resize-images", parmap::machine_identity())});
  const std::string me = parmap::machine_identity();
  return {
      {"empty", "", "is empty"},
      {"truncated", good.substr(0, good.size() / 2), "is not valid JSON (line"},
      {"cut before the last brace", good.substr(0, good.rfind('}')), "is not valid JSON"},
      {"binary",
       std::string("\x7f"
                   "ELF\x02\x01\x01\0\0\0",
                   10),
       "is not valid JSON"},
      {"trailing comma", "{\"format\": \"parmap-wisdom\", \"version\": 1, \"entries\": [],}",
       "is not valid JSON"},
      {"an array", "[1, 2, 3]", "is JSON but not a parmap wisdom file"},
      {"someone else's JSON", "{\"name\": \"my-package\", \"version\": \"1.0.0\"}",
       "is JSON but not a parmap wisdom file"},
      {"a newer format", "{\"format\": \"parmap-wisdom\", \"version\": 2, \"entries\": []}",
       "has format version 2, which this parmap (format 1) does not read"},
      {"version as a string",
       "{\"format\": \"parmap-wisdom\", \"version\": \"1\", \"entries\": []}",
       "has no format version"},
      {"entries an object", "{\"format\": \"parmap-wisdom\", \"version\": 1, \"entries\": {}}",
       "has no \"entries\" array"},
      {"an entry a number", wisdom_file({1}), "has an entry (#1)"},
      {"machine a number",
       "{\"format\": \"parmap-wisdom\", \"version\": 1, \"entries\": [{\"name\": "
       "\"resize-images\", \"machine\": 5}]}",
       "has an entry (#1)"},
      {"no name", wisdom_file({json::object{{"machine", me}}}), "has an entry (#1)"},
  };
}

TEST(WisdomCorrupt, FilesAreIgnoredWithAWarningThenReplaced) {
  for (const bad_file& bad : bad_files()) {
    SCOPED_TRACE(bad.label);
    const temp_dir dir;
    const fs::path file = dir / "wisdom.json";
    write_text(file, bad.content);
    parmap::wisdom w(file);

    std::optional<parmap::options> found;
    const std::string warning = stderr_of([&] { found = w.lookup("resize-images"); });
    EXPECT_FALSE(found.has_value());
    EXPECT_TRUE(
        contains(warning, "parmap: warning: wisdom file '" + file.string() + "' " + bad.problem))
        << warning;
    EXPECT_TRUE(contains(warning, "parmap will tune again")) << warning;
    EXPECT_EQ(std::count(warning.begin(), warning.end(), '\n'), 1) << warning;
    EXPECT_EQ(read_text(file), bad.content);  // a lookup changes nothing

    const std::string moved = stderr_of([&] { w.store("resize-images", {.chunk = 12}); });
    EXPECT_TRUE(contains(moved, "moved it to '" + file.string() + ".corrupt'")) << moved;
    EXPECT_EQ(read_text(dir / "wisdom.json.corrupt"), bad.content);
    ASSERT_EQ(entries_in(file).size(), 1u);
    EXPECT_EQ(stderr_of([&] { found = w.lookup("resize-images"); }), "");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->chunk, 12u);
  }
}

TEST(WisdomCorrupt, AnUnusableEntryForThisMachineIsIgnoredThenReplaced) {
  const std::string me = parmap::machine_identity();
  std::vector<std::pair<json::value, const char*>> bad;
  const auto with = [&](const char* key, json::value v, const char* problem) {
    json::value e = entry("resize-images", me);
    e["options"][key] = std::move(v);
    bad.emplace_back(std::move(e), problem);
  };
  with("backend", "cuda", "unknown backend 'cuda'");
  with("backend", 3, "expected a string");
  with("threads", 4097, "threads = 4097 is out of range");
  with("threads", -5000, "threads = -5000 is out of range");
  with("threads", 1.5, "whole number");
  with("chunk", -1, "out of range");
  with("chunk", "64", "expected a whole number, found string");
  with("schedule", "sometimes", "schedule 'sometimes' is not one of automatic, static, dynamic");
  with("placement", "far", "placement 'far' is not one of none, spread, close");
  for (parmap::backend b :
       {parmap::backend::openmp, parmap::backend::tbb, parmap::backend::stdpar}) {
    if (!parmap::is_available(b)) with("backend", parmap::to_string(b), "not built into");
  }
  json::value no_options = entry("resize-images", me);
  no_options.as_object().erase(no_options.as_object().begin() + 2);  // "options"
  bad.emplace_back(no_options, "no \"options\"");
  json::value no_chunk = entry("resize-images", me);
  no_chunk["options"].as_object().erase(no_chunk["options"].as_object().begin() + 2);
  bad.emplace_back(no_chunk, "no \"chunk\"");

  for (const auto& [e, problem] : bad) {
    SCOPED_TRACE(problem);
    const temp_dir dir;
    const fs::path file = dir / "wisdom.json";
    write_text(file, wisdom_file({e, entry("other-map", me, 3)}));
    parmap::wisdom w(file);
    std::optional<parmap::options> found;
    const std::string warning = stderr_of([&] { found = w.lookup("resize-images"); });
    EXPECT_FALSE(found.has_value());
    EXPECT_TRUE(contains(warning, "parmap: warning: wisdom file '" + file.string() +
                                      "': the entry \"resize-images\" for this machine cannot "
                                      "be used"))
        << warning;
    EXPECT_TRUE(contains(warning, problem)) << warning;
    EXPECT_TRUE(contains(warning, "parmap will tune again")) << warning;
    // The rest of the file is still good.
    EXPECT_EQ(w.lookup("other-map")->chunk, 3u);

    EXPECT_EQ(stderr_of([&] { w.store("resize-images", {.chunk = 9}); }), "");
    EXPECT_EQ(w.lookup("resize-images")->chunk, 9u);
    EXPECT_EQ(entries_in(file).size(), 2u);
    EXPECT_FALSE(fs::exists(dir / "wisdom.json.corrupt"));
  }
}

TEST(WisdomCorrupt, ADirectoryAtThePath) {
  const temp_dir dir;
  const fs::path file = dir / "wisdom.json";
  fs::create_directory(file);
  write_text(file / "keep-me", "data");
  parmap::wisdom w(file);
  std::optional<parmap::options> found;
  const std::string warning = stderr_of([&] { found = w.lookup("resize-images"); });
  EXPECT_FALSE(found.has_value());
  EXPECT_TRUE(contains(warning, "'" + file.string() + "' is a directory")) << warning;
  // A directory is never moved or removed: storing fails and says why.
  try {
    w.store("resize-images", {});
    ADD_FAILURE() << "stored over a directory";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), file.string() + "': it is a directory")) << e.what();
  }
  EXPECT_EQ(read_text(file / "keep-me"), "data");
}

TEST(WisdomCorrupt, AFifoAtThePathDoesNotBlock) {
  const temp_dir dir;
  const fs::path file = dir / "wisdom.json";
  ASSERT_EQ(mkfifo(file.c_str(), 0600), 0);
  parmap::wisdom w(file);
  std::optional<parmap::options> found;
  const std::string warning = stderr_of([&] { found = w.lookup("resize-images"); });
  EXPECT_FALSE(found.has_value());
  EXPECT_TRUE(contains(warning, "is not a regular file")) << warning;
  (void)stderr_of([&] { w.store("resize-images", {.chunk = 4}); });
  EXPECT_EQ(w.lookup("resize-images")->chunk, 4u);
  EXPECT_TRUE(fs::is_fifo(dir / "wisdom.json.corrupt"));
}

TEST(WisdomCorrupt, AnUnreadableFile) {
  // A child reads it, as nobody when the test runs as root (root reads any file).
  const temp_dir dir;
  fs::permissions(dir.path(),
                  fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                      fs::perms::others_exec,
                  fs::perm_options::add);
  const fs::path file = dir / "wisdom.json";
  parmap::wisdom(file).store("resize-images", {.chunk = 6});
  fs::permissions(file, fs::perms::none);
  const auto st = parmap_test::run_child(
      "wisdom", {"lookup", file.string(), "resize-images", "as-nobody"}, child_timeout);
  if (st.exited && st.exit_code == no_unprivileged_child) {
    GTEST_SKIP() << "running as root, and a child cannot become nobody: " << st.output;
  }
  EXPECT_TRUE(st.ok()) << st.describe();
  EXPECT_TRUE(contains(st.output, "none")) << st.describe();
  EXPECT_TRUE(contains(st.output, "parmap: warning: wisdom file '" + file.string() +
                                      "' cannot be read (Permission denied); ignoring it, "
                                      "parmap will tune again"))
      << st.describe();
  if (geteuid() != 0) {
    // This process cannot read it either: store moves it aside and starts a new file.
    const std::string moved = stderr_of([&] { parmap::wisdom(file).store("x", {.chunk = 1}); });
    EXPECT_TRUE(contains(moved, "cannot be read")) << moved;
    EXPECT_TRUE(fs::exists(dir / "wisdom.json.corrupt"));
    EXPECT_EQ(parmap::wisdom(file).lookup("x")->chunk, 1u);
  }
}

// ---- processes writing at once --------------------------------------------------------------

// Several processes store many entries into one file at once while this process reads it
// without pause. Every read must parse as a whole wisdom file, the number of entries must never
// go down, and in the end every entry of every process must be there.
//
// What it guards: without the write-then-rename, a writer truncates and rewrites the file in
// place and the reader here sees empty and half-written files (the file is tens of kilobytes
// by the end, written with several system calls); without the lock, two writers that read the
// same old file each write it back with only their own new entry, the entry count goes down,
// and entries are missing at the end — and each child checks its own entry right after
// storing it. Both are races, likely with hundreds of stores but not certain;
// WriterWaitsForTheLock shows the lock's effect deterministically.
TEST(WisdomConcurrency, ProcessesStoringAtOnceLoseNothing) {
  const temp_dir dir;
  const fs::path file = dir / "wisdom.json";
#ifdef PARMAP_TEST_SANITIZED
  constexpr std::size_t per_process = 40;
#else
  constexpr std::size_t per_process = 150;
#endif
  const std::vector<std::string> prefixes = {"p0", "p1", "p2"};

  std::atomic<bool> done{false};
  std::size_t reads = 0, last_count = 0;
  std::vector<std::string> problems;
  std::thread reader([&] {
    for (bool last = false; !last;) {
      last = done.load();
      std::ifstream in(file, std::ios::binary);
      if (!in) continue;  // not there yet
      std::ostringstream buf;
      buf << in.rdbuf();
      const std::string text = buf.str();
      ++reads;
      try {
        const json::value doc = json::parse(text);
        const std::size_t count = doc.find("entries")->as_array().size();
        if (count < last_count) {
          problems.push_back(std::to_string(count) + " entries after " +
                             std::to_string(last_count));
        }
        last_count = count;
      } catch (const std::exception& e) {
        problems.push_back(std::string("a read of ") + std::to_string(text.size()) +
                           " bytes does not parse: " + e.what());
      }
    }
  });
  std::vector<std::unique_ptr<parmap_test::child_process>> children;
  for (const std::string& prefix : prefixes) {
    children.push_back(std::make_unique<parmap_test::child_process>(
        parmap_test::child_path("wisdom"),
        std::vector<std::string>{"store", file.string(), prefix, std::to_string(per_process)}));
  }
  for (auto& c : children) {
    const auto st = c->wait(child_timeout);
    EXPECT_TRUE(st.ok()) << st.describe();
    EXPECT_TRUE(contains(st.output, "stored " + std::to_string(per_process))) << st.describe();
    EXPECT_FALSE(contains(st.output, "warning")) << st.describe();
  }
  done = true;
  reader.join();
  EXPECT_TRUE(problems.empty()) << problems.size() << " bad reads; first: " << problems.front();
  EXPECT_GT(reads, 0u);

  parmap::wisdom w(file);
  for (const std::string& prefix : prefixes) {
    for (std::size_t i = 0; i < per_process; ++i) {
      const std::string name = prefix + "-" + std::to_string(i);
      const auto found = w.lookup(name);
      ASSERT_TRUE(found.has_value()) << name << " is missing";
      EXPECT_EQ(found->chunk, i) << name;
    }
  }
  EXPECT_EQ(entries_in(file).size(), prefixes.size() * per_process);
  // No temporary file is left behind.
  std::size_t files = 0;
  for (const auto& f : fs::directory_iterator(dir.path())) {
    ++files;
    EXPECT_TRUE(f.path().filename() == "wisdom.json" || f.path().filename() == "wisdom.json.lock")
        << f.path();
  }
  EXPECT_EQ(files, 2u);
}

// While this process holds the writers' lock, a child's store waits; meanwhile this process
// adds an entry the way a writer does (under the lock: read, add, write a new file, rename).
// When the lock is released, the child's store must read the file as it is then and keep that
// entry. Without the lock the child would store at once from the file as it was before (the
// 300 ms wait below is ample for that), the "stored" check fails, and the entry added here is
// lost. Readers do not take the lock: a lookup in another process works meanwhile.
TEST(WisdomConcurrency, WriterWaitsForTheLock) {
  const temp_dir dir;
  const fs::path file = dir / "wisdom.json";
  parmap::wisdom w(file);
  w.store("first", {.chunk = 1});

  const int lock = open((file.string() + ".lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);
  parmap_test::child_process writer(
      parmap_test::child_path("wisdom"),
      std::vector<std::string>{"store-one", file.string(), "second", "2"});
  ASSERT_TRUE(writer.wait_for_output("storing", child_timeout)) << writer.output();
  EXPECT_FALSE(writer.wait_for_output("stored", std::chrono::milliseconds(300)))
      << "the child stored while this process held the lock";

  const auto reader =
      parmap_test::run_child("wisdom", {"lookup", file.string(), "first"}, child_timeout);
  EXPECT_TRUE(reader.ok()) << reader.describe();
  EXPECT_TRUE(contains(reader.output, "found chunk=1")) << reader.describe();

  json::value doc = json::parse(read_text(file));
  doc["entries"].push_back(entry("by-hand", parmap::machine_identity(), 3));
  write_text(dir / "new.json", json::write(doc));
  fs::rename(dir / "new.json", file);
  ASSERT_EQ(flock(lock, LOCK_UN), 0);
  close(lock);

  const auto st = writer.wait(child_timeout);
  EXPECT_TRUE(st.ok()) << st.describe();
  EXPECT_TRUE(contains(st.output, "stored")) << st.describe();
  EXPECT_EQ(w.lookup("first")->chunk, 1u);
  EXPECT_EQ(w.lookup("second")->chunk, 2u);
  const auto by_hand = w.lookup("by-hand");
  ASSERT_TRUE(by_hand.has_value()) << "the child's store lost the entry added under the lock";
  EXPECT_EQ(by_hand->chunk, 3u);
}

// Threads of one process are writers like processes: each store opens the lock file anew, and
// flock excludes other open files of the same process too.
TEST(WisdomConcurrency, ThreadsStoringAtOnceLoseNothing) {
  const temp_dir dir;
  const fs::path file = dir / "wisdom.json";
  constexpr int threads = 4, per_thread = 25;
  const auto name = [](int t, int i) {
    std::string n = std::to_string(t);  // "t" + ... trips GCC 12's false -Wrestrict warning
    n.insert(0, 1, 't');
    return n + "-" + std::to_string(i);
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&file, &name, t] {
      parmap::wisdom w(file);
      for (int i = 0; i < per_thread; ++i) {
        w.store(name(t, i), {.chunk = static_cast<std::size_t>(i)});
      }
    });
  }
  for (auto& th : pool) th.join();
  parmap::wisdom w(file);
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < per_thread; ++i) {
      const auto found = w.lookup(name(t, i));
      ASSERT_TRUE(found.has_value());
      EXPECT_EQ(found->chunk, static_cast<std::size_t>(i));
    }
  }
  EXPECT_EQ(entries_in(file).size(), static_cast<std::size_t>(threads * per_thread));
}

}  // namespace
