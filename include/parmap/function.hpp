#pragma once
// parmap::fn<f>: a function passed by name at no cost.
//
//   double scale(double x);
//   auto ys = parmap::parallel_map(xs, parmap::fn<scale>);   // as fast as [](double x) { ... }
//   auto zs = parmap::parallel_map(xs, scale);               // works, but calls through a pointer
//
// A plain function passed as `scale` reaches parmap as a function pointer, whose value the
// compiler cannot see inside the loop: every item is an indirect call, nothing is inlined or
// vectorized (measured in parmap-bench, workloads overhead-fnptr and overhead-fn). parmap::fn
// names the function in the type instead, so the call is direct and inlines like a lambda's.

#include <functional>
#include <type_traits>
#include <utility>

namespace parmap {

/// The type of parmap::fn<F>: an empty callable that calls F. F is a function (or a pointer to
/// one, a member function pointer, a data member pointer), known at compile time.
template <auto F>
struct named_function {
  template <class... Args>
    requires std::invocable<decltype(F), Args...>
  constexpr decltype(auto) operator()(Args&&... args) const
      noexcept(std::is_nothrow_invocable_v<decltype(F), Args...>) {
    return std::invoke(F, std::forward<Args>(args)...);
  }
};

/// The function F as a callable whose type names it: parallel_map(xs, parmap::fn<f>) is
/// equivalent to parallel_map(xs, f) and costs what a lambda calling f costs. For an overloaded
/// function, name the overload: parmap::fn<static_cast<double (*)(double)>(&f)>.
template <auto F>
inline constexpr named_function<F> fn{};

}  // namespace parmap
