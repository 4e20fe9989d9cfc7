# `cmake --install build --prefix P`: the mesoscaf binary in P/bin, the component libraries in P/lib, headers in
# P/include/mesoscaf/<folder>/..., a CMake package (find_package(mesoscaf CONFIG), target mesoscaf::mesoscaf)
# and a pkg-config file. Nothing installed names the build tree: an agent finds its command executor next to its
# own program or in PATH (config/support/executable_path.hpp).
include(CMakePackageConfigHelpers)

set(MESOSCAF_COMPONENTS mesoscaf_support mesoscaf_messages mesoscaf_mesos_v1 mesoscaf_protocol mesoscaf_allocator
    mesoscaf_containerizer mesoscaf_ha mesoscaf_master mesoscaf_agent mesoscaf_sdk mesoscaf_http mesoscaf_webui
    mesoscaf_config)
set_target_properties(mesoscaf PROPERTIES EXPORT_NAME mesoscaf)
install(TARGETS mesoscaf ${MESOSCAF_COMPONENTS} EXPORT mesoscafTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS mesoscaf_bin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir actors messages allocator containerizer config)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/${dir} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mesoscaf
          FILES_MATCHING PATTERN "*.hpp"
          REGEX "/actors/agent/agent_state\\.hpp$" EXCLUDE   # the agent actor's internals, shared by its files only
          # The v1 APIs' wire format: internal to the daemons (its headers name generated protobuf code).
          REGEX "/messages/mesos_v1/" EXCLUDE
          REGEX "/actors/http/v1_(master_state|http_support)\\.hpp$" EXCLUDE)
endforeach()

set(MESOSCAF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mesoscaf)
install(EXPORT mesoscafTargets NAMESPACE mesoscaf:: DESTINATION ${MESOSCAF_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/config/cmake/mesoscafConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/mesoscafConfig.cmake INSTALL_DESTINATION ${MESOSCAF_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/mesoscafConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/mesoscafConfig.cmake ${CMAKE_BINARY_DIR}/mesoscafConfigVersion.cmake
              ${CMAKE_SOURCE_DIR}/config/cmake/mesoscaf_dependencies.cmake
        DESTINATION ${MESOSCAF_CMAKE_DIR})

# pkg-config: the components in link order (highest first), then what they build on.
set(MESOSCAF_PC_LIBS "")
foreach(lib mesoscaf_config mesoscaf_http mesoscaf_webui mesoscaf_sdk mesoscaf_master mesoscaf_agent mesoscaf_ha mesoscaf_containerizer
            mesoscaf_allocator mesoscaf_protocol mesoscaf_mesos_v1 mesoscaf_messages mesoscaf_support)
  string(APPEND MESOSCAF_PC_LIBS " -l${lib}")
endforeach()
configure_file(${CMAKE_SOURCE_DIR}/config/cmake/mesoscaf.pc.in ${CMAKE_BINARY_DIR}/mesoscaf.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/mesoscaf.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
