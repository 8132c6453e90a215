// The threads backend: parmap's own pool; the caller and up to threads - 1 workers share the
// loop by the rules of team_loop.
#include "team_loop.hpp"
#include "thread_pool.hpp"

namespace parmap::detail {
namespace {

class team_call_task final : public team_task {
 public:
  explicit team_call_task(const chunked_call& call) : team_(call) {}
  void participate(unsigned index) noexcept override { team_.work(index); }

 private:
  team_loop team_;
};

}  // namespace

void run_threads(const chunked_call& call) {
  team_call_task task(call);
  if (call.threads == 1) {
    task.participate(0);
    return;
  }
  thread_pool::instance().run(task, call.threads - 1);
}

}  // namespace parmap::detail
