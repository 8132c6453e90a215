// The chunk sweep: many tiny items, every schedule at chunk = 1, 4, 16, ... up to one block per
// thread, and automatic (chunk 0): the chunk-size curve, and how close automatic chunking comes
// to the best fixed chunk.
#include <algorithm>

#include "harness.hpp"
#include "workloads.hpp"

namespace parmap::bench {

void register_chunks(registry& reg) {
  const config& cfg = reg.cfg();
  const std::size_t n = cfg.quick ? (std::size_t{1} << 18) : (std::size_t{1} << 21);
  const int t = cfg.full_threads;
  const std::size_t block = std::max<std::size_t>(n / static_cast<std::size_t>(t), 1);
  const std::vector<std::size_t> chunks =
      cfg.chunks_given ? cfg.chunks : chunk_ladder(cfg.mode().chunks_ladder_step, block);
  auto data = make_lazy<io<std::uint64_t, std::uint64_t>>([n] {
    io<std::uint64_t, std::uint64_t> d{std::vector<std::uint64_t>(n),
                                       std::vector<std::uint64_t>(n)};
    for (std::size_t i = 0; i < n; ++i) d.in[i] = i;
    return d;
  });
  auto add = [&](const impl& m, const params& p) {
    // Chunk 1 with a shared counter costs ~50 ns an item; the rest far less.
    const double call = static_cast<double>(n) * (p.chunk == 1 ? 60e-9 : 3e-9);
    reg.add(case_name("chunks", m, p), reg.estimate(call), [data, m, p](benchmark::State& st) {
      auto& d = data->get();
      auto fn = [](std::uint64_t x) { return mix(x); };
      timed_loop(st, p, [&] { run_into(m, p, d.in, d.out, fn); });
      benchmark::DoNotOptimize(d.out.data());
    });
  };
  for (const auto b : cfg.parallel_backends()) {
    for (const auto s : {parmap::schedule::automatic, parmap::schedule::static_,
                         parmap::schedule::dynamic, parmap::schedule::guided}) {
      for (const std::size_t c : chunks)
        add(impl::of(b), params{.n = n, .threads = t, .schedule = s, .chunk = c});
    }
  }
  add(impl::of(raw_loop::serial), params{.n = n, .threads = 1});
  for (const auto r : cfg.raws) {
    if (r != raw_loop::serial) add(impl::of(r), params{.n = n, .threads = t});
  }
}

}  // namespace parmap::bench
