# Installs libparmap and its headers and exports parmap::parmap for find_package(parmap).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Whether libparmap is a static library, from the target itself: as a subproject it follows the
# parent's BUILD_SHARED_LIBS, which may be unset.
get_target_property(parmap_type parmap TYPE)
if(parmap_type STREQUAL "STATIC_LIBRARY")
  set(PARMAP_IS_STATIC 1)
else()
  set(PARMAP_IS_STATIC 0)
endif()

install(TARGETS parmap EXPORT parmap-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/parmap DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${PROJECT_BINARY_DIR}/include/parmap/config.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/parmap)
install(EXPORT parmap-targets NAMESPACE parmap:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parmap)
configure_package_config_file(cmake/parmapConfig.cmake.in
  "${PROJECT_BINARY_DIR}/parmapConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parmap)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/parmapConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/parmapConfig.cmake"
              "${PROJECT_BINARY_DIR}/parmapConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parmap)

# ---- parmap.pc, for builds without CMake ---------------------------------------------------
# prefix is found from the file's own place (${pcfiledir}), so the installed tree is relocatable;
# an absolute CMAKE_INSTALL_LIBDIR or INCLUDEDIR is written as it is.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(PARMAP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(PARMAP_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH parmap_pc_up "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" parmap_pc_up "${parmap_pc_up}")
  set(PARMAP_PC_PREFIX "\${pcfiledir}/${parmap_pc_up}")
  set(PARMAP_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(PARMAP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(PARMAP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# A static libparmap needs what the library links privately, as this build enabled and found it:
# hwloc (the flags its own .pc gave), oneTBB (the directory CMake found libtbb in), OpenMP's flag
# and the thread library. These are the libraries CMake's parmap::parmap links, not
# Requires.private packages: pkg-config --static would then also ask for the static-only
# dependencies of hwloc (-ludev), which a link against the shared system libraries does not need.
set(PARMAP_PC_LIBS_PRIVATE "")
if(PARMAP_IS_STATIC)
  set(parmap_pc_libs ${HWLOC_LDFLAGS})
  if(PARMAP_HAS_TBB)
    get_target_property(parmap_tbb_location TBB::tbb LOCATION)
    get_filename_component(parmap_tbb_dir "${parmap_tbb_location}" DIRECTORY)
    list(APPEND parmap_pc_libs "-L${parmap_tbb_dir}" -ltbb)
  endif()
  if(PARMAP_HAS_OPENMP)
    separate_arguments(parmap_openmp_flags UNIX_COMMAND "${OpenMP_CXX_FLAGS}")
    list(APPEND parmap_pc_libs ${parmap_openmp_flags})
  endif()
  list(APPEND parmap_pc_libs ${CMAKE_THREAD_LIBS_INIT})
  foreach(dir IN LISTS CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)  # the linker searches these anyway
    list(REMOVE_ITEM parmap_pc_libs "-L${dir}")
  endforeach()
  list(REMOVE_DUPLICATES parmap_pc_libs)
  list(JOIN parmap_pc_libs " " PARMAP_PC_LIBS_PRIVATE)
endif()
configure_file(cmake/parmap.pc.in "${PROJECT_BINARY_DIR}/parmap.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/parmap.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
