// The std::execution::par backend: std::for_each over the chunk indices, run by the standard
// library's parallel algorithms (libstdc++'s PSTL on oneTBB), inside an arena of call.threads
// slots so that the thread count holds. The PSTL partitions the chunks itself; the schedule
// only decides the chunk size (static: one chunk per thread).
#include <algorithm>
#include <execution>
#include <iterator>

#include "backends/chunked_call.hpp"
#include "tbb_arenas.hpp"

#if !defined(_PSTL_PAR_BACKEND_TBB) && defined(__GLIBCXX__)
#error "the stdpar backend needs libstdc++'s PSTL on TBB: without it par runs serially"
#endif

namespace parmap::detail {
namespace {

/// A classic random-access iterator over chunk numbers: the parallel algorithms need the
/// C++17 iterator categories, which std::views::iota's iterator does not advertise.
class chunk_iterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using pointer = const std::size_t*;
  using reference = std::size_t;

  chunk_iterator() = default;
  explicit chunk_iterator(std::size_t i) : i_(i) {}
  reference operator*() const { return i_; }
  reference operator[](difference_type n) const { return i_ + static_cast<std::size_t>(n); }
  chunk_iterator& operator++() { ++i_; return *this; }
  chunk_iterator operator++(int) { auto t = *this; ++i_; return t; }
  chunk_iterator& operator--() { --i_; return *this; }
  chunk_iterator operator--(int) { auto t = *this; --i_; return t; }
  chunk_iterator& operator+=(difference_type n) { i_ += static_cast<std::size_t>(n); return *this; }
  chunk_iterator& operator-=(difference_type n) { i_ -= static_cast<std::size_t>(n); return *this; }
  friend chunk_iterator operator+(chunk_iterator a, difference_type n) { return a += n; }
  friend chunk_iterator operator+(difference_type n, chunk_iterator a) { return a += n; }
  friend chunk_iterator operator-(chunk_iterator a, difference_type n) { return a -= n; }
  friend difference_type operator-(chunk_iterator a, chunk_iterator b) {
    return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
  }
  friend auto operator<=>(chunk_iterator, chunk_iterator) = default;

 private:
  std::size_t i_ = 0;
};

}  // namespace

void run_stdpar(const chunked_call& call) {
  const std::size_t chunk =
      call.schedule == schedule::static_ ? call.static_chunk() : call.chunk_or_default();
  const std::size_t chunks = chunk_count(call.size, chunk);
  arena_lease lease(call.threads);
  lease.arena().execute([&] {
    std::for_each(std::execution::par, chunk_iterator(0), chunk_iterator(chunks),
                  [&](std::size_t j) {
                    call.enter();
                    // The PSTL's threads are TBB's: a placement's pin ends with the chunk.
                    const placement_scope placed;
                    const auto slot =
                        static_cast<unsigned>(tbb::this_task_arena::current_thread_index());
                    place_thread(call.placement, slot);
                    call.run(j * chunk, std::min(call.size, (j + 1) * chunk), slot);
                    call.leave();
                  });
  });
}

}  // namespace parmap::detail
