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
