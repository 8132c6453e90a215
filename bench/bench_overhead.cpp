// What one call costs: the overhead workload (a trivially cheap map over 1,000 and 10,000,000
// items, through parallel_map and parallel_map_into, beside the raw loops; the same map through
// parmap::catching, beside a plain map with results as large as its outcomes; the same map with
// options::report set), the latency of a call after the workers have been idle, and the
// memory-bound map against copy bandwidth.
#include <algorithm>
#include <chrono>
#include <thread>

#include "harness.hpp"
#include "workloads.hpp"

namespace parmap::bench {
namespace {

[[nodiscard]] std::vector<double> ramp(std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i % 1024) * 0.5;
  return v;
}

/// The thread counts of the overhead cases: the whole machine in quick mode, the sweep's
/// counts up to the CPUs otherwise.
[[nodiscard]] std::vector<int> overhead_threads(const config& cfg) {
  if (cfg.quick) return {cfg.full_threads};
  auto t = cfg.threads_up_to_cpus();
  if (std::find(t.begin(), t.end(), cfg.full_threads) == t.end()) t.push_back(cfg.full_threads);
  return t;
}

/// The copy-bandwidth reference: y[i] = x[i], the same traffic as y = a*x + b without the
/// arithmetic: the most a map can move. Run by raw TBB where built in (work stealing keeps it
/// fair when another process takes a core for a while), else by raw OpenMP.
[[nodiscard]] std::optional<impl> copy_reference() {
  const auto loops = available_raw_loops();
  for (const auto r : {raw_loop::tbb, raw_loop::openmp}) {
    if (std::find(loops.begin(), loops.end(), r) != loops.end()) {
      impl m = impl::of(r);
      m.name = "copy";
      return m;
    }
  }
  return std::nullopt;
}

/// One size of the overhead workload: its item count, its data (made on first use, shared by
/// every case of that size) and a guess of one call for the progress display (~2 us, or the
/// memory traffic).
struct overhead_size {
  std::size_t n;
  shared_lazy<io<double, double>> data;
  double call;
};

[[nodiscard]] const std::vector<overhead_size>& overhead_sizes() {
  static const std::vector<overhead_size> sizes = [] {
    std::vector<overhead_size> out;
    for (const std::size_t n : {std::size_t{1000}, std::size_t{10'000'000}}) {
      out.push_back({n, make_lazy<io<double, double>>([n] {
                       return io<double, double>{ramp(n), std::vector<double>(n, 0.0)};
                     }),
                     n < 100'000 ? 3e-6 : memory_seconds(n)});
    }
    return out;
  }();
  return sizes;
}

}  // namespace

void register_overhead(registry& reg) {
  const config& cfg = reg.cfg();
  for (const auto& [n, data, call] : overhead_sizes()) {
    // The outputs of into_catching and into_wide.
    auto caught = make_lazy<std::vector<parmap::outcome<double>>>(
        [n = n] { return std::vector<parmap::outcome<double>>(n); });
    auto wide = make_lazy<std::vector<wide_result>>([n = n] {
      return std::vector<wide_result>(n, wide_result{0.0, nullptr});
    });
    for (const auto& [m, t] : sweep(cfg, overhead_threads(cfg))) {
      // A backend runs twice: with its automatic schedule, and with the static schedule that
      // the hand-written `parallel for` beside it uses (the same loop, through parmap).
      std::vector<parmap::schedule> schedules = {parmap::schedule::automatic};
      if (!m.raw && m.backend != parmap::backend::serial) {
        schedules.push_back(parmap::schedule::static_);
      }
      for (const auto schedule : schedules)
      for (const char* api : {"map", "into"}) {
        const params p{.n = n, .api = api, .threads = t, .schedule = schedule};
        reg.add(case_name("overhead", m, p), reg.estimate(call),
                [data, m = m, p](benchmark::State& st) {
                  auto& d = data->get();
                  cheap_map fn;
                  if (p.api == "map") {
                    timed_loop(st, p, [&] {
                      auto out = run_map(m, p, d.in, fn);
                      benchmark::DoNotOptimize(out.data());
                    });
                  } else {
                    timed_loop(st, p, [&] {
                      run_into(m, p, d.in, d.out, fn);
                      benchmark::DoNotOptimize(d.out.data());
                    });
                  }
                });
      }
      // The same map through parmap::catching (api map_catching, into_catching), beside the
      // plain one: what keeping going past failures costs when nothing fails. And the control
      // (api map_wide, into_wide): a plain map whose results are 16 bytes, as outcome<double>
      // is, which tells the cost of catching from the cost of larger results. Only the
      // automatic schedule, and no raw partner: the ratios that matter are to api map / into.
      if (m.raw) continue;
      for (const char* api : {"map_catching", "into_catching", "map_wide", "into_wide"}) {
        const params p{.n = n, .api = api, .threads = t};
        reg.add(case_name("overhead", m, p), reg.estimate(2 * call),
                [data, caught, wide, m = m, p](benchmark::State& st) {
                  auto& d = data->get();
                  auto catching = parmap::catching([](double x) { return cheap(x); });
                  auto widened = [](double x) { return cheap_wide(x); };
                  if (p.api == "map_catching") {
                    timed_loop(st, p, [&] {
                      auto out = run_map(m, p, d.in, catching);
                      benchmark::DoNotOptimize(out.data());
                    });
                  } else if (p.api == "into_catching") {
                    auto& out = caught->get();
                    timed_loop(st, p, [&] {
                      run_into(m, p, d.in, out, catching);
                      benchmark::DoNotOptimize(out.data());
                    });
                  } else if (p.api == "map_wide") {
                    timed_loop(st, p, [&] {
                      auto out = run_map(m, p, d.in, widened);
                      benchmark::DoNotOptimize(out.data());
                    });
                  } else {
                    auto& out = wide->get();
                    timed_loop(st, p, [&] {
                      run_into(m, p, d.in, out, widened);
                      benchmark::DoNotOptimize(out.data());
                    });
                  }
                });
      }
      // The same parallel_map_into with options::report set (api into_report), beside api
      // into: what leaving the per-call report on costs. Both run the very same compiled loop
      // (cheap_map through run_into), so only the report differs. The report is also a
      // counter source: the last call's chunks and overhead share.
      const params p{.n = n, .api = "into_report", .threads = t};
      reg.add(case_name("overhead", m, p), reg.estimate(call),
              [data, m = m, p](benchmark::State& st) {
                auto& d = data->get();
                cheap_map fn;
                parmap::call_report report;
                timed_loop(st, p, [&] {
                  run_into(m, p, d.in, d.out, fn, &report);
                  benchmark::DoNotOptimize(d.out.data());
                });
                st.counters["report_chunks"] = static_cast<double>(report.chunks);
                st.counters["report_overhead"] = report.overhead();
              });
    }
  }
}

/// A plain function passed to parallel_map_into, beside the overhead workload's lambda: by
/// pointer (workload overhead-fnptr: `parallel_map_into(in, out, cheap)`) and by name
/// (overhead-fn: `parallel_map_into(in, out, parmap::fn<cheap>)`), automatic settings.
void register_function_passing(registry& reg) {
  const config& cfg = reg.cfg();
  for (const auto& [n, data, call] : overhead_sizes()) {
    for (const auto& [m, t] : sweep(cfg, overhead_threads(cfg))) {
      if (m.raw) continue;
      const params p{.n = n, .api = "into", .threads = t};
      reg.add(case_name("overhead-fnptr", m, p), reg.estimate(call),
              [data, m = m, p](benchmark::State& st) {
                auto& d = data->get();
                double (*fn)(double) noexcept = &cheap;
                benchmark::DoNotOptimize(fn);  // a pointer the compiler cannot see through
                timed_loop(st, p, [&] {
                  parmap::parallel_map_into(d.in, d.out, fn, p.options(m));
                  benchmark::DoNotOptimize(d.out.data());
                });
              });
      reg.add(case_name("overhead-fn", m, p), reg.estimate(call),
              [data, m = m, p](benchmark::State& st) {
                auto& d = data->get();
                timed_loop(st, p, [&] {
                  parmap::parallel_map_into(d.in, d.out, parmap::fn<cheap>, p.options(m));
                  benchmark::DoNotOptimize(d.out.data());
                });
              });
    }
  }
}

/// The gap before each timed call of the wake workload: long enough that workers which spin a
/// while after a call have gone to sleep by the next one.
constexpr std::chrono::milliseconds wake_idle{20};

void register_wake(registry& reg) {
  const config& cfg = reg.cfg();
  constexpr std::size_t n = 1000;
  const int iterations = cfg.quick ? 15 : 50;
  benchmark::AddCustomContext("wake_idle_ms", std::to_string(wake_idle.count()));
  auto data = make_lazy<io<double, double>>([] {
    return io<double, double>{ramp(n), std::vector<double>(n, 0.0)};
  });
  std::vector<impl> impls;
  for (const auto b : cfg.parallel_backends()) impls.push_back(impl::of(b));
  for (const auto r : cfg.raws) {
    if (r != raw_loop::serial) impls.push_back(impl::of(r));
  }
  // Each iteration sleeps the gap and makes a call of well under a millisecond.
  const double per_iteration =
      std::chrono::duration<double>(wake_idle + std::chrono::milliseconds(1)).count();
  const double seconds = cfg.mode().repetitions * iterations * per_iteration;
  for (const auto& m : impls) {
    const params p{.n = n, .api = "into", .threads = cfg.full_threads};
    reg.add_manual(case_name("wake", m, p), seconds, iterations,
                   [data, m, p](benchmark::State& st) {
                     using clock = std::chrono::steady_clock;
                     auto& d = data->get();
                     auto fn = [](double x) { return cheap(x); };
                     run_into(m, p, d.in, d.out, fn);
                     std::vector<double> samples;
                     for (auto _ : st) {
                       // The idle gap is outside the timed span: only the call after it counts.
                       std::this_thread::sleep_for(wake_idle);
                       const auto t0 = clock::now();
                       run_into(m, p, d.in, d.out, fn);
                       const auto t1 = clock::now();
                       benchmark::DoNotOptimize(d.out.data());
                       const double s = std::chrono::duration<double>(t1 - t0).count();
                       st.SetIterationTime(s);
                       samples.push_back(s * 1e6);
                     }
                     add_counters(st, p);
                     // The median call of this repetition: one descheduled call on a shared
                     // machine should not move the figure.
                     std::sort(samples.begin(), samples.end());
                     if (!samples.empty()) st.counters["median_us"] = samples[samples.size() / 2];
                     st.counters["idle_ms"] = static_cast<double>(wake_idle.count());
                   });
  }
}

shared_lazy<io<double, double>> memory_data() {
  static auto data = make_lazy<io<double, double>>([] {
    return io<double, double>{ramp(memory_items), std::vector<double>(memory_items, 0.0)};
  });
  return data;
}

void register_memory(registry& reg) {
  const config& cfg = reg.cfg();
  constexpr std::size_t n = memory_items;
  auto data = memory_data();
  benchmark::AddCustomContext("memory_bytes_per_item", std::to_string(memory_bytes_per_item));
  auto cases = sweep(cfg, cfg.threads);
  if (const auto copy = copy_reference()) {
    for (const int t : cfg.threads) {
      if (copy->loop == raw_loop::openmp || t <= cfg.full_threads) cases.emplace_back(*copy, t);
    }
  }
  for (const auto& [m, t] : cases) {
    const params p{.n = n, .api = "into", .threads = t};
    const bool is_copy = m.name == "copy";
    reg.add(case_name("memory", m, p), reg.estimate(memory_seconds(n)),
            [data, m = m, p, is_copy](benchmark::State& st) {
              auto& d = data->get();
              auto copy = [](double x) { return x; };
              auto fn = axpy{};
              if (is_copy) {
                timed_loop(st, p, [&] { run_into(m, p, d.in, d.out, copy); });
              } else {
                timed_loop(st, p, [&] { run_into(m, p, d.in, d.out, fn); });
              }
              benchmark::DoNotOptimize(d.out.data());
              st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                                   static_cast<std::int64_t>(n * memory_bytes_per_item));
            });
  }
}

}  // namespace parmap::bench
