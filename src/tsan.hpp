#pragma once
// ThreadSanitizer sees only instrumented code. libgomp and libtbb are not instrumented, so the
// ordering their fork and join really provide is invisible to it; these annotations state it.
// They compile to nothing outside a -fsanitize=thread build.

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

/// For the few lines that read what an uninstrumented runtime handed over (the block of shared
/// variables libgomp passes to a parallel region) before tsan_acquire can run.
#if defined(__SANITIZE_THREAD__)
#define PARMAP_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define PARMAP_NO_TSAN
#endif

namespace parmap::detail {

#if defined(__SANITIZE_THREAD__)
inline void tsan_acquire(void* addr) noexcept { __tsan_acquire(addr); }
inline void tsan_release(void* addr) noexcept { __tsan_release(addr); }
#else
inline void tsan_acquire(void*) noexcept {}
inline void tsan_release(void*) noexcept {}
#endif

}  // namespace parmap::detail
