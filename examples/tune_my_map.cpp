// Tuning your own map: one step of a sparse matrix-vector product y = A x, row by row, on a
// matrix whose rows follow a power law (as a web or social graph does, rows sorted by degree:
// the first rows hold most of the work, the last ones almost none). The automatic settings
// are good for most loops; this one is far from them. The example
//   1. runs the map with the automatic settings and prints its call_report,
//   2. tunes it with parmap::tune (2 s by default; a budget in ms as the first argument),
//   3. runs it with the tuned options and prints that report,
//   4. writes every measurement to tune_my_map.json (or the second argument), which
//        /usr/bin/python3 scripts/report.py tune_my_map.json --out my-report
//      turns into speedup, chunk and Amdahl graphs.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <parmap/parmap.hpp>
#include <string>
#include <vector>

namespace {

/// A matrix in compressed sparse rows: row r's entries are cols/vals[starts[r], starts[r+1]).
struct sparse_matrix {
  std::vector<std::size_t> starts;
  std::vector<std::uint32_t> cols;
  std::vector<double> vals;
  [[nodiscard]] std::size_t rows() const { return starts.size() - 1; }
};

/// Row r has about top / sqrt(r + 1) entries, at pseudo-random columns.
sparse_matrix power_law_matrix(std::size_t rows, std::size_t top) {
  sparse_matrix a;
  a.starts.reserve(rows + 1);
  a.starts.push_back(0);
  std::uint64_t state = 0x9e3779b97f4a7c15u;
  for (std::size_t r = 0; r < rows; ++r) {
    const auto entries = std::max<std::size_t>(
        1,
        static_cast<std::size_t>(static_cast<double>(top) / std::sqrt(static_cast<double>(r + 1))));
    for (std::size_t k = 0; k < entries; ++k) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      a.cols.push_back(static_cast<std::uint32_t>((state >> 33) % rows));
      a.vals.push_back(1.0 / static_cast<double>(k + 1));
    }
    a.starts.push_back(a.cols.size());
  }
  return a;
}

void print_report(const char* when, const parmap::call_report& r) {
  std::printf("%s: %s\n", when, parmap::to_string(r).c_str());
  for (std::size_t t = 0; t < r.per_thread.size(); ++t) {
    std::printf("    thread %zu: %zu rows, busy %.2f ms\n", t, r.per_thread[t].items,
                std::chrono::duration<double, std::milli>(r.per_thread[t].busy).count());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long budget_ms = argc > 1 ? std::atol(argv[1]) : 2000;
  const std::string json = argc > 2 ? argv[2] : "tune_my_map.json";
  const sparse_matrix a = power_law_matrix(100'000, 4'000);
  const std::vector<double> x(a.rows(), 1.0);

  std::vector<std::size_t> rows(a.rows());
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = r;
  // One row of y = A x: repeatable (reads A and x only), so tune may call it many times.
  auto row_times_x = [&](std::size_t r) {
    double sum = 0;
    for (std::size_t k = a.starts[r]; k < a.starts[r + 1]; ++k) sum += a.vals[k] * x[a.cols[k]];
    return sum;
  };

  // The second call is the one reported: the first also starts the threads.
  parmap::call_report before;
  auto y = parmap::parallel_map(rows, row_times_x);
  y = parmap::parallel_map(rows, row_times_x, {.report = &before});
  print_report("automatic", before);

  std::printf("tuning for up to %ld ms ...\n", budget_ms);
  const parmap::tuning t =
      parmap::tune(rows, row_times_x,
                   {.budget = std::chrono::milliseconds(budget_ms), .name = "spmv-power-law"});
  const auto& best = t.best_setting();
  std::printf("measured %zu settings in %d rounds over %zu of %zu rows; best: %s, %.3f ms\n",
              t.settings.size(), t.rounds, t.sample_items, t.input_items, t.case_name(best).c_str(),
              std::chrono::duration<double, std::milli>(best.median()).count());

  parmap::call_report after;
  parmap::options tuned = t.best;
  tuned.report = &after;
  const auto y2 = parmap::parallel_map(rows, row_times_x, tuned);
  print_report("tuned", after);

  t.write_json(json);
  std::printf("wrote %s: /usr/bin/python3 scripts/report.py %s draws its graphs\n", json.c_str(),
              json.c_str());
  return y == y2 ? 0 : 1;
}
