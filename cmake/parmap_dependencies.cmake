# Finds what the backends need and decides which are built in: PARMAP_HAS_<X> = 1 or 0.
include(CheckCXXSourceCompiles)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc)

set(PARMAP_HAS_OPENMP 0)
if(PARMAP_WITH_OPENMP)
  find_package(OpenMP COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    set(PARMAP_HAS_OPENMP 1)
  else()
    message(WARNING "parmap: OpenMP not found, the openmp backend is left out")
  endif()
endif()

set(PARMAP_HAS_TBB 0)
if(PARMAP_WITH_TBB)
  find_package(TBB CONFIG)
  if(TBB_FOUND)
    set(PARMAP_HAS_TBB 1)
  else()
    message(WARNING "parmap: oneTBB not found (apt-get install libtbb-dev), the tbb backend is left out")
  endif()
endif()

# libstdc++ runs std::execution::par serially unless its PSTL was configured on TBB; build the
# stdpar backend only where it really runs in parallel.
set(PARMAP_HAS_STDPAR 0)
if(PARMAP_WITH_STDPAR AND PARMAP_HAS_TBB)
  set(CMAKE_REQUIRED_FLAGS "-std=c++20")
  set(CMAKE_REQUIRED_LIBRARIES TBB::tbb)
  check_cxx_source_compiles([[
    #include <execution>
    #if !defined(_PSTL_PAR_BACKEND_TBB) && !defined(__cpp_lib_parallel_algorithm)
    #error no parallel backend
    #endif
    #if defined(__GLIBCXX__) && !defined(_PSTL_PAR_BACKEND_TBB)
    #error libstdc++ without TBB runs par serially
    #endif
    int main() { return 0; }]] PARMAP_PSTL_IS_PARALLEL)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LIBRARIES)
  if(PARMAP_PSTL_IS_PARALLEL)
    set(PARMAP_HAS_STDPAR 1)
  else()
    message(WARNING "parmap: std::execution::par would run serially here, the stdpar backend is left out")
  endif()
elseif(PARMAP_WITH_STDPAR)
  message(WARNING "parmap: the stdpar backend needs TBB under libstdc++, it is left out")
endif()

set(PARMAP_HAS_MPI 0)
if(PARMAP_WITH_MPI)
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(PARMAP_HAS_MPI 1)
  endif()
endif()

set(PARMAP_BACKENDS serial threads)
foreach(b openmp tbb stdpar)
  string(TOUPPER ${b} B)
  if(PARMAP_HAS_${B})
    list(APPEND PARMAP_BACKENDS ${b})
  endif()
endforeach()
if(NOT PARMAP_BACKEND IN_LIST PARMAP_BACKENDS)
  message(FATAL_ERROR "parmap: PARMAP_BACKEND=${PARMAP_BACKEND} is not built in "
                      "(available: ${PARMAP_BACKENDS})")
endif()
