#pragma once
// PARMAP_ASSERT(condition): an invariant of parmap's own code, checked in debug and sanitizer
// builds (where NDEBUG is not set, or PARMAP_ENABLE_ASSERTS is), compiled out elsewhere. A
// broken invariant prints where and aborts: it is a bug in parmap, never a user error (those
// are exceptions that name the problem).

#if !defined(NDEBUG) || defined(PARMAP_ENABLE_ASSERTS)
#include <cstdio>
#include <cstdlib>
#define PARMAP_ASSERT(condition)                                                           \
  ((condition) ? static_cast<void>(0)                                                      \
               : (std::fprintf(stderr, "parmap: internal invariant broken at %s:%d: %s\n", \
                               __FILE__, __LINE__, #condition),                            \
                  std::abort()))
#else
#define PARMAP_ASSERT(condition) static_cast<void>(0)
#endif
