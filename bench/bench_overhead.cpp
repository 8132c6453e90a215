// What one call costs: the overhead workload (a trivially cheap map over 1,000 and 10,000,000
// items, through parallel_map and parallel_map_into, beside the raw loops; the same map through
// parmap::catching, beside a plain map with results as large as its outcomes), the latency of a
// call after the workers have been idle, and the memory-bound map against copy bandwidth.
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

}  // namespace

void register_overhead(registry& reg) {
  const config& cfg = reg.cfg();
  for (const std::size_t n : {std::size_t{1000}, std::size_t{10'000'000}}) {
    auto data = make_lazy<io<double, double>>([n] {
      return io<double, double>{ramp(n), std::vector<double>(n, 0.0)};
    });
    // The outputs of into_catching and into_wide.
    auto caught = make_lazy<std::vector<parmap::outcome<double>>>(
        [n] { return std::vector<parmap::outcome<double>>(n); });
    auto wide = make_lazy<std::vector<wide_result>>([n] {
      return std::vector<wide_result>(n, wide_result{0.0, nullptr});
    });
    // A guess of one call, for the progress display only: ~2 us, or the memory traffic.
    const double call = n < 100'000 ? 3e-6 : static_cast<double>(n) * 16.0 / 4e9;
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
                  auto fn = [](double x) { return cheap(x); };
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
    }
  }
}

void register_wake(registry& reg) {
  const config& cfg = reg.cfg();
  constexpr std::size_t n = 1000;
  constexpr auto idle = std::chrono::milliseconds(20);
  const int iterations = cfg.quick ? 15 : 50;
  auto data = make_lazy<io<double, double>>([] {
    return io<double, double>{ramp(n), std::vector<double>(n, 0.0)};
  });
  std::vector<impl> impls;
  for (const auto b : cfg.parallel_backends()) impls.push_back(impl::of(b));
  for (const auto r : cfg.raws) {
    if (r != raw_loop::serial) impls.push_back(impl::of(r));
  }
  const double seconds = (cfg.quick ? 3 : 5) * iterations * 0.021;
  for (const auto& m : impls) {
    const params p{.n = n, .api = "into", .threads = cfg.full_threads};
    reg.add_manual(case_name("wake", m, p), seconds, iterations,
                   [data, m, p, idle](benchmark::State& st) {
                     using clock = std::chrono::steady_clock;
                     auto& d = data->get();
                     auto fn = [](double x) { return cheap(x); };
                     run_into(m, p, d.in, d.out, fn);
                     std::vector<double> samples;
                     for (auto _ : st) {
                       // The idle gap is outside the timed span: only the call after it counts.
                       std::this_thread::sleep_for(idle);
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
                     st.counters["idle_ms"] = 20;
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
  auto cases = sweep(cfg, cfg.threads);
  if (const auto copy = copy_reference()) {
    for (const int t : cfg.threads) {
      if (copy->loop == raw_loop::openmp || t <= cfg.full_threads) cases.emplace_back(*copy, t);
    }
  }
  for (const auto& [m, t] : cases) {
    const params p{.n = n, .api = "into", .threads = t};
    const bool is_copy = m.name == "copy";
    reg.add(case_name("memory", m, p), reg.estimate(static_cast<double>(n) * 16.0 / 4e9),
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
              // Read x, write y: 16 bytes an item (the write-allocate read is not counted).
              st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                                   static_cast<std::int64_t>(n * 2 * sizeof(double)));
            });
  }
}

}  // namespace parmap::bench
