// call_report's arithmetic and summary, and the recorder every algorithm fills it with.
#include "parmap/detail/call_recorder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "parmap/detail/assert.hpp"

namespace parmap {

double call_report::imbalance() const noexcept {
  if (per_thread.empty()) return 1.0;
  std::chrono::nanoseconds most{0}, sum{0};
  for (const auto& t : per_thread) {
    most = std::max(most, t.busy);
    sum += t.busy;
  }
  if (sum.count() <= 0) return 1.0;
  const double mean = static_cast<double>(sum.count()) / static_cast<double>(per_thread.size());
  return static_cast<double>(most.count()) / mean;
}

double call_report::overhead() const noexcept {
  if (per_thread.empty() || wall.count() <= 0) return 0.0;
  std::chrono::nanoseconds busy{0};
  for (const auto& t : per_thread) busy += t.busy;
  const double capacity =
      static_cast<double>(wall.count()) * static_cast<double>(per_thread.size());
  return std::clamp(1.0 - static_cast<double>(busy.count()) / capacity, 0.0, 1.0);
}

namespace {

std::string duration_text(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  char text[32];
  if (ns >= 1e9) {
    std::snprintf(text, sizeof text, "%.3g s", ns / 1e9);
  } else if (ns >= 1e6) {
    std::snprintf(text, sizeof text, "%.3g ms", ns / 1e6);
  } else if (ns >= 1e3) {
    std::snprintf(text, sizeof text, "%.3g us", ns / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f ns", ns);
  }
  return text;
}

}  // namespace

std::string to_string(const call_report& r) {
  std::string s(to_string(r.backend));
  s += " backend, threads " + std::to_string(r.threads);
  s += ", " + std::string(to_string(r.schedule)) + " schedule";
  s += ", chunk " + std::to_string(r.chunk) + (r.automatic_chunk ? " (automatic)" : "");
  s += ", " + std::to_string(r.chunks) + (r.chunks == 1 ? " chunk, " : " chunks, ");
  s += std::to_string(r.items) + (r.items == 1 ? " item in " : " items in ");
  s += duration_text(r.wall);
  char tail[64];
  std::snprintf(tail, sizeof tail, ", imbalance %.2f, overhead %.1f%%", r.imbalance(),
                100.0 * r.overhead());
  return s + tail;
}

namespace detail {

call_recorder::call_recorder(call_report* out, parmap::backend b, parmap::schedule s, int threads,
                             std::size_t chunk_given)
    : out_(out),
      backend_(b),
      schedule_(s),
      threads_(static_cast<std::size_t>(std::max(threads, 0))),
      chunk_given_(chunk_given),
      start_(clock::now()) {
  if (out_ != nullptr && threads_ != 0) shares_ = std::make_unique<share[]>(threads_);
}

void call_recorder::add(std::size_t who, std::size_t items, clock::duration busy) noexcept {
  PARMAP_ASSERT(who < threads_);
  // Each participant's share is on its own cache line, so these adds are uncontended: a
  // stream's consumer, which shares participant 0, is the one exception.
  share& mine = shares_[who % threads_];
  mine.items.fetch_add(items, std::memory_order_relaxed);
  mine.chunks.fetch_add(1, std::memory_order_relaxed);
  mine.busy_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(busy).count(),
                         std::memory_order_relaxed);
}

void call_recorder::merge(const call_report& part) noexcept {
  if (!on() || threads_ == 0) return;
  for (std::size_t t = 0; t < part.per_thread.size(); ++t) {
    share& s = shares_[t % threads_];
    s.items.fetch_add(part.per_thread[t].items, std::memory_order_relaxed);
    s.busy_ns.fetch_add(part.per_thread[t].busy.count(), std::memory_order_relaxed);
  }
  merged_chunks_.fetch_add(part.chunks, std::memory_order_relaxed);
}

void call_recorder::publish() noexcept {
  if (!on()) return;
  call_report& r = *out_;
  r.backend = backend_;
  r.schedule = schedule_;
  r.threads = static_cast<int>(threads_);
  r.wall = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start_);
  r.items = 0;
  r.chunks = merged_chunks_.load(std::memory_order_relaxed);
  try {
    r.per_thread.assign(threads_, thread_share{});
  } catch (...) {
    r.per_thread.clear();
  }
  for (std::size_t t = 0; t < threads_; ++t) {
    const share& s = shares_[t];
    const std::size_t items = s.items.load(std::memory_order_relaxed);
    r.items += items;
    r.chunks += s.chunks.load(std::memory_order_relaxed);
    if (t < r.per_thread.size()) {
      r.per_thread[t] = {items,
                         std::chrono::nanoseconds(s.busy_ns.load(std::memory_order_relaxed))};
    }
  }
  r.automatic_chunk = chunk_given_ == 0;
  r.chunk = !r.automatic_chunk ? chunk_given_
            : r.chunks == 0    ? 0
                               : (r.items + r.chunks / 2) / r.chunks;
}

}  // namespace detail
}  // namespace parmap
