// The scaling workloads, swept over implementations x thread counts: compute-bound, imbalanced
// (triangular and Mandelbrot rows, also swept over schedules x chunks), latency-bound, hashing
// real files, and the placement cases (one thread per physical core against filling SMT
// siblings).
#include <algorithm>
#include <functional>
#include <chrono>
#include <cstdio>
#include <memory>
#include <numeric>
#include <optional>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "workloads.hpp"

namespace parmap::bench {
namespace {

constexpr std::array all_schedules{parmap::schedule::automatic, parmap::schedule::static_,
                                   parmap::schedule::dynamic, parmap::schedule::guided};

/// Registers one case of a map workload: out = map(fn, in) through parallel_map_into or the
/// raw loop. `serial_seconds` is the guessed cost of the whole map on one thread.
template <class In, class Out, class F>
void add_map_case(registry& reg, std::string_view workload, const impl& m, const params& p,
                  shared_lazy<io<In, Out>> data, F fn, double serial_seconds) {
  const int cpus = reg.cfg().full_threads;
  const double call = serial_seconds / std::min(p.threads, cpus);
  reg.add(case_name(workload, m, p), reg.estimate(call), [data, m, p, fn](benchmark::State& st) {
    auto& d = data->get();
    F f = fn;
    timed_loop(st, p, [&] { run_into(m, p, d.in, d.out, f); });
    benchmark::DoNotOptimize(d.out.data());
  });
}

template <class T>
[[nodiscard]] std::vector<T> iota_vector(std::size_t n) {
  std::vector<T> v(n);
  std::iota(v.begin(), v.end(), T{0});
  return v;
}

/// The cost of one item of the compute-bound workloads (compute, triangular on average,
/// placement-compute), whatever the machine.
constexpr std::chrono::microseconds compute_target{10};

/// What each item of the latency-bound workload waits.
constexpr std::chrono::microseconds latency_wait{1000};

/// Rounds of burn() that cost compute_target on this machine, measured once.
[[nodiscard]] std::uint64_t rounds_per_item() {
  static const std::uint64_t rounds = [] {
    const auto r = calibrate_rounds(compute_target);
    benchmark::AddCustomContext("compute_rounds_per_item", std::to_string(r));
    benchmark::AddCustomContext("compute_target_us_per_item",
                                std::to_string(compute_target.count()));
    return r;
  }();
  return rounds;
}

/// One thread's time for n compute-bound items.
[[nodiscard]] double compute_seconds(std::size_t n) {
  return static_cast<double>(n) * std::chrono::duration<double>(compute_target).count();
}

[[nodiscard]] std::size_t compute_items(const config& cfg) {
  return cfg.quick ? 1000 : 4000;
}

[[nodiscard]] shared_lazy<io<std::uint64_t, std::uint64_t>> compute_data(std::size_t n) {
  static auto data = make_lazy<io<std::uint64_t, std::uint64_t>>([n] {
    return io<std::uint64_t, std::uint64_t>{iota_vector<std::uint64_t>(n),
                                            std::vector<std::uint64_t>(n, 0)};
  });
  return data;
}

struct compute_fn {
  std::uint64_t rounds = 1;
  [[nodiscard]] std::uint64_t operator()(std::uint64_t x) const noexcept { return burn(x, rounds); }
};

/// The imbalanced sweep's default chunks: automatic, a few small ones and one block per thread.
[[nodiscard]] std::vector<std::size_t> imbalanced_chunks(const config& cfg, std::size_t n) {
  if (cfg.chunks_given) return cfg.imbalanced_chunks;
  const std::size_t block =
      std::max<std::size_t>(n / static_cast<std::size_t>(cfg.full_threads), 1);
  return chunk_ladder(cfg.quick ? 8 : 2, block);
}

/// The fastest parmap case of `workload`'s runs at `threads` threads that have finished in this
/// process (the scaling case at full threads and the schedule x chunk sweep), as options; none
/// when the sweep has not run (a filter left it out, or random interleaving put it later).
[[nodiscard]] std::optional<parmap::options> fastest_finished(std::string_view workload,
                                                             int threads) {
  std::optional<parmap::options> best;
  double best_seconds = 0;
  for (const auto& [name, seconds] : finished_cases()) {
    // WORKLOAD/IMPL/n:N/api:A/threads:T/schedule:S/chunk:C/placement:P/...
    std::vector<std::string> part;
    for (std::size_t at = 0; at <= name.size();) {
      const std::size_t slash = std::min(name.find('/', at), name.size());
      part.push_back(name.substr(at, slash - at));
      at = slash + 1;
    }
    if (part.size() < 8 || part[0] != workload || part[4] != "threads:" + std::to_string(threads) ||
        part[7] != "placement:none") {
      continue;
    }
    parmap::options o;
    try {
      o.backend = parmap::backend_from_string(part[1]);
    } catch (const std::invalid_argument&) {
      continue;  // a hand-written loop
    }
    if (o.backend == parmap::backend::serial) continue;
    o.threads = threads;
    const std::string schedule = part[5].substr(part[5].find(':') + 1);
    for (const auto s : all_schedules) {
      if (schedule == to_string(s)) o.schedule = s;
    }
    o.chunk = static_cast<std::size_t>(std::stoull(part[6].substr(part[6].find(':') + 1)));
    if (!best || seconds < best_seconds) {
      best = o;
      best_seconds = seconds;
    }
  }
  return best;
}

[[nodiscard]] std::string setting_text(const parmap::options& o) {
  return std::string(to_string(o.backend)) + " " + std::string(to_string(o.schedule)) +
         " chunk:" + std::to_string(o.chunk);
}

/// parmap::tune with its default options over the workload's items, against the fastest case
/// of the workload's sweep, measured side by side: case tune/WORKLOAD/n:N/api:into/threads:T
/// (T the machine's threads). Each repetition makes a block of timed calls with tune's setting
/// (the case's time), then as many with the sweep's fastest setting; counters sweep_best_us (the
/// median of the latter's calls) and tuned_over_sweep_best (the ratio of the two medians),
/// tune_seconds what tuning took; the label names both settings. Tuning runs once per process, on the case's
/// first run, after the sweep it is compared with.
template <class In, class Out, class F>
void add_tuned_case(registry& reg, std::string_view workload, std::size_t n,
                    shared_lazy<io<In, Out>> data, F fn, double serial_seconds) {
  impl tuned;
  tuned.name = std::string(workload);
  const int threads = reg.cfg().full_threads;
  const params p{.n = n, .threads = threads};
  constexpr int calls_per_repetition = 7;
  const double tune_seconds =
      std::chrono::duration<double>(parmap::tune_options{}.budget).count();
  struct chosen_settings {
    parmap::options tuned;
    std::optional<parmap::options> sweep_best;
    double tune_seconds = 0;
  };
  auto chosen = std::make_shared<std::optional<chosen_settings>>();
  const double call = serial_seconds / threads;
  reg.add_manual(
      case_name("tune", tuned, p), tune_seconds + 4 * calls_per_repetition * call,
      calls_per_repetition,
      [data, fn, chosen, threads, p, name = std::string(workload)](benchmark::State& st) {
        auto& d = data->get();
        if (!*chosen) {
          const auto t0 = std::chrono::steady_clock::now();
          chosen_settings c;
          c.tuned = parmap::tune(d.in, fn, {.name = name}).best;
          c.tune_seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          c.sweep_best = fastest_finished(name, threads);
          *chosen = c;
        }
        const chosen_settings& c = **chosen;
        F f = fn;
        auto timed = [&](const parmap::options& o) {
          const auto t0 = std::chrono::steady_clock::now();
          parmap::parallel_map_into(d.in, d.out, f, o);
          return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        // The two settings in turn, a block of calls each, every block after a pause and an
        // untimed call: another runtime's threads may still be spinning from the last block
        // (libgomp's spin OpenMP's for ~10 ms; see openmp_spin_settle in src/tune.cpp), which
        // neither setting's own runs pay.
        auto start_block = [&](const parmap::options& o) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          parmap::parallel_map_into(d.in, d.out, f, o);
        };
        std::vector<double> mine, theirs;
        start_block(c.tuned);
        for (auto _ : st) {
          mine.push_back(timed(c.tuned));
          st.SetIterationTime(mine.back());
        }
        if (c.sweep_best) {
          start_block(*c.sweep_best);
          for (std::size_t k = 0; k < mine.size(); ++k) theirs.push_back(timed(*c.sweep_best));
        }
        benchmark::DoNotOptimize(d.out.data());
        add_counters(st, p);
        st.counters["tune_seconds"] = c.tune_seconds;
        std::string label = "tuned: " + setting_text(c.tuned);
        if (!theirs.empty()) {
          auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
          };
          st.counters["sweep_best_us"] = median(theirs) * 1e6;
          st.counters["tuned_over_sweep_best"] = median(mine) / median(theirs);
          label += "; sweep best: " + setting_text(*c.sweep_best);
        }
        st.SetLabel(label);
      });
}

/// The scaling cases of an imbalanced workload, then its schedule x chunk sweep at full threads,
/// then the setting parmap::tune picks for it (add_tuned_case).
template <class In, class Out, class F>
void add_imbalanced(registry& reg, std::string_view workload, std::size_t n,
                    shared_lazy<io<In, Out>> data, F fn, double serial_seconds) {
  const config& cfg = reg.cfg();
  // A backend's automatic case at full threads runs in its sweep rather than in the scaling
  // block, right before the cases it is compared with, so that a change in the machine's load
  // between the two blocks cannot favour either side.
  for (const auto& [m, t] : sweep(cfg, cfg.threads)) {
    if (!m.raw && !m.serial() && t == cfg.full_threads) continue;
    add_map_case(reg, workload, m, params{.n = n, .threads = t}, data, fn, serial_seconds);
  }
  auto chunks = imbalanced_chunks(cfg, n);
  if (std::find(chunks.begin(), chunks.end(), std::size_t{0}) == chunks.end()) {
    chunks.insert(chunks.begin(), 0);  // the automatic case is always measured
  }
  for (const auto b : cfg.parallel_backends()) {
    for (const auto s : all_schedules) {
      for (const std::size_t c : chunks) {
        const params p{.n = n, .threads = cfg.full_threads, .schedule = s, .chunk = c};
        add_map_case(reg, workload, impl::of(b), p, data, fn, serial_seconds);
      }
    }
  }
  add_tuned_case(reg, workload, n, data, fn, serial_seconds);
}

}  // namespace

void register_compute(registry& reg) {
  const config& cfg = reg.cfg();
  const std::size_t n = compute_items(cfg);
  const compute_fn fn{rounds_per_item()};
  for (const auto& [m, t] : sweep(cfg, cfg.threads)) {
    add_map_case(reg, "compute", m, params{.n = n, .threads = t}, compute_data(n), fn,
                 compute_seconds(n));
  }
}

void register_imbalanced(registry& reg) {
  const config& cfg = reg.cfg();
  {
    const std::size_t n = compute_items(cfg);
    auto data = make_lazy<io<std::uint64_t, std::uint64_t>>([n] {
      return io<std::uint64_t, std::uint64_t>{iota_vector<std::uint64_t>(n),
                                              std::vector<std::uint64_t>(n, 0)};
    });
    const triangular fn{.n = n, .mean_rounds = rounds_per_item()};
    add_imbalanced(reg, "triangular", n, data, fn, compute_seconds(n));
  }
  {
    const std::uint32_t side = cfg.quick ? 512 : 1024;
    const mandelbrot_row fn{.width = side, .height = side, .max_iter = 256};
    auto data = make_lazy<io<std::uint32_t, std::uint64_t>>([side] {
      return io<std::uint32_t, std::uint64_t>{iota_vector<std::uint32_t>(side),
                                              std::vector<std::uint64_t>(side, 0)};
    });
    // About a fifth of the pixels run to max_iter at a few ns an iteration.
    const double serial = static_cast<double>(side) * side * 60 * 2e-9;
    add_imbalanced(reg, "mandelbrot", side, data, fn, serial);
  }
}

void register_latency(registry& reg) {
  const config& cfg = reg.cfg();
  const std::size_t n = cfg.quick ? 64 : 256;
  const sleeper fn{.wait = latency_wait};
  auto data = make_lazy<io<int, int>>([n] {
    return io<int, int>{iota_vector<int>(n), std::vector<int>(n, 0)};
  });
  benchmark::AddCustomContext("latency_wait_us", std::to_string(latency_wait.count()));
  for (const auto& [m, t] : sweep(cfg, cfg.threads)) {
    // Sleeping items overlap however many threads run them, so the guess divides by t.
    add_map_case(reg, "latency", m, params{.n = n, .threads = t}, data, fn,
                 static_cast<double>(n) * 1.1 *
                     std::chrono::duration<double>(latency_wait).count() *
                     std::min(t, cfg.full_threads) / t);
  }
}

void register_files(registry& reg) {
  const config& cfg = reg.cfg();
  std::vector<std::filesystem::path> files;
  try {
    files = list_files(cfg.dir, cfg.max_files);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  if (files.empty()) {
    std::fprintf(stderr,
                 "parmap-bench: no readable files under %s, the files workload is left "
                 "out\n",
                 cfg.dir.c_str());
    return;
  }
  std::uintmax_t bytes = 0;
  for (const auto& f : files) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(f, ec);
    if (!ec) bytes += size;
  }
  benchmark::AddCustomContext("files_dir", cfg.dir.string());
  benchmark::AddCustomContext("files_count", std::to_string(files.size()));
  benchmark::AddCustomContext("files_bytes", std::to_string(bytes));
  const std::size_t n = files.size();
  auto data = make_lazy<io<std::filesystem::path, std::uint64_t>>([files] {
    return io<std::filesystem::path, std::uint64_t>{files,
                                                    std::vector<std::uint64_t>(files.size())};
  });
  auto fn = [](const std::filesystem::path& p) { return hash_file(p); };
  // Page-cached reads and a byte-at-a-time hash: about 1 GB/s, plus ~10 us of system calls.
  const double serial = static_cast<double>(bytes) / 1e9 + static_cast<double>(n) * 10e-6;
  for (const auto& [m, t] : sweep(cfg, cfg.threads)) {
    add_map_case(reg, "files", m, params{.n = n, .threads = t}, data, fn, serial);
  }
}

void register_placement(registry& reg) {
  const config& cfg = reg.cfg();
  const int physical =
      std::min(static_cast<int>(std::max(cfg.topo.physical_cores, 1u)), cfg.full_threads);
  std::vector<int> counts{physical};
  if (cfg.full_threads != physical) counts.push_back(cfg.full_threads);
  const std::size_t n = compute_items(cfg);
  const compute_fn fn{rounds_per_item()};
  for (const auto b : cfg.parallel_backends()) {
    for (const int t : counts) {
      for (const auto where :
           {parmap::placement::none, parmap::placement::spread, parmap::placement::close}) {
        const params p{.n = n, .threads = t, .placement = where};
        add_map_case(reg, "placement-compute", impl::of(b), p, compute_data(n), fn,
                     compute_seconds(n));
        const params q{.n = memory_items, .threads = t, .placement = where};
        add_map_case(reg, "placement-memory", impl::of(b), q, memory_data(), axpy{},
                     memory_seconds(memory_items));
      }
    }
  }
}

/// The reduce workload: map_reduce over the compute-bound items (a sum of their results), on
/// every parmap backend at each thread count, beside the compute workload's parallel_map of the
/// same items: what the reduction's blocks and combine cost next to the map.
void register_reduce(registry& reg) {
  const config& cfg = reg.cfg();
  const std::size_t n = compute_items(cfg);
  const compute_fn fn{rounds_per_item()};
  for (const auto& [m, t] : sweep(cfg, cfg.threads)) {
    if (m.raw) continue;  // the hand-written loops have no reduction to compare
    const params p{.n = n, .api = "reduce", .threads = t};
    const double call = compute_seconds(n) / std::min(t, cfg.full_threads);
    reg.add(case_name("reduce", m, p), reg.estimate(call),
            [data = compute_data(n), m = m, p, fn](benchmark::State& st) {
              auto& d = data->get();
              timed_loop(st, p, [&] {
                const std::uint64_t sum =
                    parmap::map_reduce(d.in, fn, std::uint64_t{0}, std::plus<>{}, p.options(m));
                benchmark::DoNotOptimize(sum);
              });
            });
  }
}

/// The stream workload: imap and imap_unordered against parallel_map on the same items, at full
/// threads. 16 cheap items measure what creating and draining a stream costs next to one short
/// call; 100,000 items of compute_target each measure a stream's throughput (api:map is
/// parallel_map, api:imap and api:imap_unordered consume every result in a loop).
void register_stream(registry& reg) {
  const config& cfg = reg.cfg();
  const int t = cfg.full_threads;
  const std::size_t long_n = cfg.quick ? 20'000 : 100'000;
  for (const auto b : cfg.parallel_backends()) {
    const impl m = impl::of(b);
    for (const std::size_t n : {std::size_t{16}, long_n}) {
      const bool cheap_items = n == 16;
      auto data = make_lazy<std::vector<std::uint64_t>>([n] {
        std::vector<std::uint64_t> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = i;
        return v;
      });
      const double call = cheap_items ? 50e-6 : compute_seconds(n) / t;
      for (const char* api : {"map", "imap", "imap_unordered"}) {
        const params p{.n = n, .api = api, .threads = t};
        reg.add(case_name("stream", m, p), reg.estimate(call),
                [data, m, p, cheap_items](benchmark::State& st) {
                  auto& in = data->get();
                  const compute_fn costly{cheap_items ? 0 : rounds_per_item()};
                  auto fn = [costly, cheap_items](std::uint64_t x) {
                    return cheap_items ? x * 3 + 1 : costly(x);
                  };
                  const parmap::options o = p.options(m);
                  timed_loop(st, p, [&] {
                    std::uint64_t sum = 0;
                    if (p.api == "map") {
                      for (auto r : parmap::parallel_map(in, fn, o)) sum += r;
                    } else if (p.api == "imap") {
                      for (auto r : parmap::imap(in, fn, o)) sum += r;
                    } else {
                      for (auto& r : parmap::imap_unordered(in, fn, o)) sum += r.second;
                    }
                    benchmark::DoNotOptimize(sum);
                  });
                });
      }
    }
  }
}

}  // namespace parmap::bench
