# Checks parmap's packages as users consume them (run with cmake -P by CTest):
#  1. cmake --install the build under test into a fresh prefix, then build and run the consumer
#     with find_package(parmap) from that prefix;
#  2. build and run the same consumer from that prefix with GNU make and pkg-config alone
#     (tests/consumer/Makefile and the installed parmap.pc);
#  3. build and run the consumer with add_subdirectory(<source tree>), checking that parmap left
#     the parent's defaults alone; only the always-present backends are built there, to keep the
#     check quick.
# Inputs: PARMAP_SOURCE_DIR, PARMAP_BINARY_DIR, WORK_DIR, GENERATOR, CXX_COMPILER, CONFIG,
# LIBDIR (CMAKE_INSTALL_LIBDIR), PKG_CONFIG, MAKE_PROGRAM (empty: the make build is skipped).
foreach(var PARMAP_SOURCE_DIR PARMAP_BINARY_DIR WORK_DIR GENERATOR CXX_COMPILER CONFIG LIBDIR
        PKG_CONFIG MAKE_PROGRAM)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_package.cmake needs -D${var}=...")
  endif()
endforeach()

set(consumer_dir "${CMAKE_CURRENT_LIST_DIR}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  if(what MATCHES "^run")
    message("${out}")
  endif()
endfunction()

set(prefix "${WORK_DIR}/prefix")
step("install" "${CMAKE_COMMAND}" --install "${PARMAP_BINARY_DIR}" --prefix "${prefix}"
     --config "${CONFIG}")
foreach(file include/parmap/parmap.hpp include/parmap/config.hpp)
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "cmake --install did not install ${file}")
  endif()
endforeach()

set(common -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_BUILD_TYPE=${CONFIG}")

step("configure with find_package" "${CMAKE_COMMAND}" -S "${consumer_dir}" -B "${WORK_DIR}/package"
     ${common} -DPARMAP_CONSUMER_MODE=package "-DCMAKE_PREFIX_PATH=${prefix}"
     "-DPARMAP_EXPECTED_PREFIX=${prefix}")
step("build with find_package" "${CMAKE_COMMAND}" --build "${WORK_DIR}/package" --config "${CONFIG}")
step("run with find_package" "${WORK_DIR}/package/parmap_consumer")

# pkg-config and a plain GNU Makefile (tests/consumer/Makefile), built in WORK_DIR/makefile.
set(pc_dir "${prefix}/${LIBDIR}/pkgconfig")
if(NOT EXISTS "${pc_dir}/parmap.pc")
  message(FATAL_ERROR "cmake --install did not install ${LIBDIR}/pkgconfig/parmap.pc")
endif()
# parmap.pc finds its prefix from its own place: the prefix under test, wherever that is.
execute_process(COMMAND "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${pc_dir}"
                        "${PKG_CONFIG}" --variable=prefix parmap
                RESULT_VARIABLE rc OUTPUT_VARIABLE pc_prefix ERROR_VARIABLE err
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not read ${pc_dir}/parmap.pc (${rc}):\n${err}")
endif()
file(REAL_PATH "${pc_prefix}" pc_prefix)
file(REAL_PATH "${prefix}" real_prefix)
if(NOT pc_prefix STREQUAL real_prefix)
  message(FATAL_ERROR "parmap.pc says its prefix is ${pc_prefix}, not ${real_prefix}")
endif()
if(MAKE_PROGRAM)
  set(static_libs "")
  if(EXISTS "${prefix}/${LIBDIR}/libparmap.a")
    set(static_libs --static)
  endif()
  file(MAKE_DIRECTORY "${WORK_DIR}/makefile")
  step("build with pkg-config and make" "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${pc_dir}"
       "${MAKE_PROGRAM}" -C "${WORK_DIR}/makefile" -f "${consumer_dir}/Makefile"
       "CXX=${CXX_COMPILER}" "PKG_CONFIG=${PKG_CONFIG}" "PKG_CONFIG_LIBS=${static_libs}")
  set(library_path "${prefix}/${LIBDIR}")
  if(DEFINED ENV{LD_LIBRARY_PATH} AND NOT "$ENV{LD_LIBRARY_PATH}" STREQUAL "")
    string(APPEND library_path ":$ENV{LD_LIBRARY_PATH}")
  endif()
  step("run with pkg-config and make" "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${library_path}"
       "${WORK_DIR}/makefile/parmap_consumer")
else()
  message(STATUS "build with pkg-config and make: skipped, no GNU make found")
endif()

# add_subdirectory: parmap as a subproject must leave the parent's defaults alone. The consumer
# compares them before and after add_subdirectory (tests/consumer/CMakeLists.txt); here it is
# configured as a parent with its own build type and no BUILD_SHARED_LIBS (built and run), and
# as a parent with no build type and BUILD_SHARED_LIBS=ON (configured only). Neither the
# environment's CMAKE_BUILD_TYPE nor its CMAKE_EXPORT_COMPILE_COMMANDS may stand in for the
# parent's choice.
set(subdirectory "${CMAKE_COMMAND}" -E env --unset=CMAKE_BUILD_TYPE
    --unset=CMAKE_EXPORT_COMPILE_COMMANDS "${CMAKE_COMMAND}" -S "${consumer_dir}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DPARMAP_CONSUMER_MODE=subdirectory
    "-DPARMAP_SOURCE_DIR=${PARMAP_SOURCE_DIR}" -DPARMAP_WITH_OPENMP=OFF -DPARMAP_WITH_TBB=OFF
    -DPARMAP_WITH_STDPAR=OFF -DPARMAP_WITH_MPI=OFF)
step("configure with add_subdirectory" ${subdirectory} -B "${WORK_DIR}/subdirectory"
     -DCMAKE_BUILD_TYPE=Debug -DPARMAP_EXPECTED_BUILD_TYPE=Debug)
if(EXISTS "${WORK_DIR}/subdirectory/compile_commands.json")
  message(FATAL_ERROR "add_subdirectory(parmap) turned on CMAKE_EXPORT_COMPILE_COMMANDS for the "
                      "parent: ${WORK_DIR}/subdirectory/compile_commands.json")
endif()
step("build with add_subdirectory" "${CMAKE_COMMAND}" --build "${WORK_DIR}/subdirectory"
     --config Debug --parallel 2)
step("run with add_subdirectory" "${WORK_DIR}/subdirectory/parmap_consumer")
step("configure with add_subdirectory, no build type, BUILD_SHARED_LIBS=ON" ${subdirectory}
     -B "${WORK_DIR}/subdirectory-shared" -DBUILD_SHARED_LIBS=ON "-DPARMAP_EXPECTED_BUILD_TYPE=")
