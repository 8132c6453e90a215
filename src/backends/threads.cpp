// The threads backend: parmap's own pool; the caller and up to threads - 1 workers share the
// loop by the rules of team_loop.
#include "team_loop.hpp"
#include "thread_pool.hpp"

namespace parmap::detail {
namespace {

class loop_task final : public team_task {
 public:
  explicit loop_task(const loop& lp) : team_(lp) {}
  void participate(unsigned index) noexcept override { team_.work(index); }

 private:
  team_loop team_;
};

}  // namespace

void run_threads(const loop& lp) {
  loop_task task(lp);
  if (lp.threads == 1) {
    task.participate(0);
    return;
  }
  thread_pool::instance().run(task, lp.threads - 1);
}

}  // namespace parmap::detail
