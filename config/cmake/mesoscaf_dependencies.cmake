# What mesoscaf builds on, as imported targets. Used by the build (CMakeLists.txt) and by the installed package
# (mesoscafConfig.cmake), so a project that links mesoscaf::mesoscaf gets the same CAF, SQLite and ZooKeeper.

# CAF 0.17.6: Debian's libcaf-dev ships neither a CMake config nor a pkg-config file.
if(NOT TARGET CAF::core)
  find_path(CAF_INCLUDE_DIR caf/all.hpp)
  if(NOT CAF_INCLUDE_DIR)
    message(FATAL_ERROR "CAF headers not found: install Debian's libcaf-dev (CAF 0.17.6), e.g. `apt-get install -y libcaf-dev`")
  endif()
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" caf_version_line REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE "^#define CAF_VERSION ([0-9]+).*$" "\\1" CAF_VERSION_NUM "${caf_version_line}")
  if(NOT CAF_VERSION_NUM STREQUAL "1706")
    message(FATAL_ERROR "mesoscaf needs CAF 0.17.6 (CAF_VERSION 1706), found '${CAF_VERSION_NUM}' in ${CAF_INCLUDE_DIR}")
  endif()
  foreach(comp core io openssl)
    find_library(CAF_${comp}_LIBRARY NAMES caf_${comp})
    if(NOT CAF_${comp}_LIBRARY)
      message(FATAL_ERROR "libcaf_${comp} not found: install Debian's libcaf-dev")
    endif()
    add_library(CAF::${comp} UNKNOWN IMPORTED)
    set_target_properties(CAF::${comp} PROPERTIES IMPORTED_LOCATION "${CAF_${comp}_LIBRARY}"
                          INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
  endforeach()
  set_property(TARGET CAF::io APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::core)
  set_property(TARGET CAF::openssl APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::io)
endif()
find_package(OpenSSL REQUIRED)      # mutual TLS (CAF's openssl module, `mesoscaf certs`); Debian's libssl-dev
find_package(CURL REQUIRED)         # the fetcher and HTTP health checks; Debian's libcurl4-openssl-dev
find_package(LibArchive REQUIRED)   # the fetcher's extraction; Debian's libarchive-dev

find_package(Threads REQUIRED)
find_package(Boost 1.71 REQUIRED)   # header-only parts: Uuid
find_package(nlohmann_json 3 REQUIRED)
find_package(SQLite3 REQUIRED)      # the single-master registry store
find_package(spdlog REQUIRED)
find_package(Protobuf REQUIRED)     # the Mesos v1 HTTP APIs' wire format (Debian's libprotobuf-dev, protobuf-compiler)       # the log writer (Debian's libspdlog-dev; brings fmt from libfmt-dev)

# Debian's libzookeeper-mt: the multi-threaded C client (its callbacks run on its own threads).
if(NOT TARGET ZooKeeper::zookeeper_mt)
  find_path(ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h)
  find_library(ZOOKEEPER_MT_LIBRARY zookeeper_mt)
  if(NOT ZOOKEEPER_INCLUDE_DIR OR NOT ZOOKEEPER_MT_LIBRARY)
    message(FATAL_ERROR "libzookeeper-mt not found: install Debian's libzookeeper-mt-dev")
  endif()
  add_library(ZooKeeper::zookeeper_mt UNKNOWN IMPORTED)
  set_target_properties(ZooKeeper::zookeeper_mt PROPERTIES IMPORTED_LOCATION "${ZOOKEEPER_MT_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${ZOOKEEPER_INCLUDE_DIR}"
                        INTERFACE_COMPILE_DEFINITIONS THREADED)
endif()
