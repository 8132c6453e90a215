# parmap::mpi: parallel_map and parallel_for across the ranks of an MPI communicator
# (include/parmap/mpi.hpp). Included by the root CMakeLists.txt when MPI was found and
# PARMAP_WITH_MPI is ON. Builds the library, installs it with its own export file
# (parmapConfig.cmake includes it when present), and registers the MPI tests (run under mpiexec
# with 1 to 4 ranks) and parmap-bench-mpi.

add_library(parmap_mpi src/mpi/engine.cpp src/mpi/agreement.cpp src/mpi/dealer.cpp
            src/mpi/worker.cpp src/mpi/protocol.cpp src/mpi/transport.cpp)
add_library(parmap::mpi ALIAS parmap_mpi)
target_link_libraries(parmap_mpi PUBLIC parmap::parmap MPI::MPI_CXX)
target_compile_options(parmap_mpi PRIVATE ${PARMAP_WARNINGS})
set_target_properties(parmap_mpi PROPERTIES OUTPUT_NAME parmap_mpi EXPORT_NAME mpi
                      VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})

# ---- install: parmap-mpi-targets.cmake, found by parmapConfig.cmake through parmap-mpi.cmake --
install(TARGETS parmap_mpi EXPORT parmap-mpi-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT parmap-mpi-targets NAMESPACE parmap::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parmap)
file(WRITE "${PROJECT_BINARY_DIR}/parmap-mpi.cmake"
  "# parmap::mpi, included by parmapConfig.cmake: MPI is a public dependency of parmap::mpi.\n"
  "include(CMakeFindDependencyMacro)\n"
  "find_dependency(MPI COMPONENTS CXX)\n"
  "include(\"\${CMAKE_CURRENT_LIST_DIR}/parmap-mpi-targets.cmake\")\n")
install(FILES "${PROJECT_BINARY_DIR}/parmap-mpi.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parmap)

# ---- how to launch N ranks on this machine ---------------------------------------------------
# Open MPI refuses to run as root and to place more ranks than cores unless told; CI runs as
# root on 2 cores. Loopback transports only: shared memory and self.
if(NOT DEFINED PARMAP_MPIEXEC_FLAGS)
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE parmap_mpiexec_version
                  ERROR_QUIET)
  if(parmap_mpiexec_version MATCHES "Open MPI|OpenRTE")
    set(parmap_default_flags --oversubscribe --allow-run-as-root --mca btl self,vader)
  else()
    set(parmap_default_flags "")
  endif()
  set(PARMAP_MPIEXEC_FLAGS "${parmap_default_flags}" CACHE STRING
      "Extra mpiexec flags for the MPI tests (Open MPI: oversubscribe, run as root, loopback)")
endif()

# parmap_mpi_command(<out-var> <ranks> <target> [args...]): the command that runs <target>
# on <ranks> ranks.
function(parmap_mpi_command out ranks target)
  set(${out} ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks} ${MPIEXEC_PREFLAGS}
      ${PARMAP_MPIEXEC_FLAGS} $<TARGET_FILE:${target}> ${MPIEXEC_POSTFLAGS} ${ARGN} PARENT_SCOPE)
endfunction()

# ---- tests: tests/mpi/test_*.cpp, each run on 1, 2, 3 and 4 ranks, label "mpi" --------------
if(PARMAP_BUILD_TESTS)
  enable_testing()
  find_package(GTest REQUIRED)
  set(PARMAP_MPI_TEST_TIMEOUT 120 CACHE STRING "Seconds one MPI CTest entry may run")

  # Each entry gets its own TMPDIR: Open MPI 4.1's launchers race to create the same session
  # directory under /tmp when CTest starts several at once ("mkdir ... File exists").
  function(parmap_mpi_add_test test ranks target)
    parmap_mpi_command(cmd ${ranks} ${target})
    set(tmp "${PROJECT_BINARY_DIR}/mpitmp/${target}.${ranks}")
    file(MAKE_DIRECTORY "${tmp}")
    add_test(NAME ${test} COMMAND ${cmd})
    set_tests_properties(${test} PROPERTIES LABELS "mpi" TIMEOUT ${PARMAP_MPI_TEST_TIMEOUT}
                         PROCESSORS ${ranks} ENVIRONMENT "TMPDIR=${tmp}")
  endfunction()

  add_library(parmap_mpi_test_main OBJECT tests/mpi/mpi_test_main.cpp)
  target_link_libraries(parmap_mpi_test_main PUBLIC parmap::mpi GTest::gtest)
  target_compile_options(parmap_mpi_test_main PRIVATE ${PARMAP_WARNINGS})

  # Suites that run inside MPI under the shared main (MPI_Init_thread, results from all ranks).
  foreach(name test_mpi_map test_mpi_for test_mpi_arguments test_mpi_serializer test_mpi_rules
               test_mpi_outcome)
    add_executable(${name} tests/mpi/${name}.cpp)
    target_link_libraries(${name} PRIVATE parmap::mpi parmap_mpi_test_main GTest::gtest
                          Threads::Threads)
    target_compile_options(${name} PRIVATE ${PARMAP_WARNINGS})
    target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
    foreach(ranks 1 2 3 4)
      parmap_mpi_add_test(mpi.${name}.np${ranks} ${ranks} ${name})
    endforeach()
  endforeach()

  # MPI's own state (not initialized, single-threaded, finalized): its own main, one rank.
  add_executable(test_mpi_environment tests/mpi/test_mpi_environment.cpp)
  target_link_libraries(test_mpi_environment PRIVATE parmap::mpi GTest::gtest)
  target_compile_options(test_mpi_environment PRIVATE ${PARMAP_WARNINGS})
  parmap_mpi_add_test(mpi.test_mpi_environment.np1 1 test_mpi_environment)
endif()

# ---- parmap-bench-mpi: the MPI companion of parmap-bench --------------------------------------
option(PARMAP_BUILD_MPI_BENCH "Build parmap-bench-mpi (Google Benchmark)" ${PARMAP_BUILD_BENCH})
if(PARMAP_BUILD_MPI_BENCH)
  find_package(benchmark QUIET)
  if(benchmark_FOUND)
    add_executable(parmap-bench-mpi bench/mpi/bench_mpi.cpp)
    target_link_libraries(parmap-bench-mpi PRIVATE parmap::mpi benchmark::benchmark)
    # The workloads are parmap-bench's own, so both benchmarks measure the same functions.
    target_include_directories(parmap-bench-mpi PRIVATE "${PROJECT_SOURCE_DIR}/bench")
    target_compile_options(parmap-bench-mpi PRIVATE ${PARMAP_WARNINGS})
    parmap_mpi_command(parmap_bench_mpi_np2 2 parmap-bench-mpi)
    # `cmake --build <dir> --target bench-mpi` runs it on 2 ranks and writes JSON.
    add_custom_target(bench-mpi
      COMMAND ${parmap_bench_mpi_np2} --benchmark_out=${PROJECT_BINARY_DIR}/bench-mpi.json
              --benchmark_out_format=json
      DEPENDS parmap-bench-mpi USES_TERMINAL)
  else()
    message(WARNING "parmap: Google Benchmark not found (apt-get install libbenchmark-dev), "
                    "parmap-bench-mpi is left out")
  endif()
endif()
