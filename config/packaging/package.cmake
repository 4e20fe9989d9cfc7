# The Debian package (`scripts/package`, or `cpack -G DEB` in the build directory): everything `cmake --install`
# puts in a prefix, under /usr, plus man pages, systemd units, their /etc/default and ini files, a logrotate file.
include(${CMAKE_CURRENT_LIST_DIR}/manpages.cmake)

# The host-wide files have absolute destinations, so they belong to a component left out of a plain
# `cmake --install --prefix P` (a user's SDK prefix gets no /etc or unit files); the package takes every component.
set(pkg ${CMAKE_CURRENT_LIST_DIR})
install(FILES ${pkg}/systemd/mesoscaf-master.service ${pkg}/systemd/mesoscaf-agent.service
        DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${pkg}/default/mesoscaf-master ${pkg}/default/mesoscaf-agent
        DESTINATION /etc/default COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${pkg}/etc/master.ini ${pkg}/etc/agent.ini
        DESTINATION /etc/mesoscaf COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${pkg}/logrotate DESTINATION /etc/logrotate.d RENAME mesoscaf COMPONENT system EXCLUDE_FROM_ALL)

# cpack (and `make install`) would first build `all`, every test and benchmark included; the package needs only
# mesoscaf_bin and mesoscaf_man, which scripts/package and the package test build.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mesoscaf)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "cluster resource manager in the design of Apache Mesos, on CAF")
# Lines of at most 80 columns, as Debian's control files want.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "mesoscaf pools the CPUs, memory, disk and ports of many agents and offers\n"
       "them to frameworks by dominant resource fairness; agents run the tasks as\n"
       "processes in sandboxes (cgroups isolation). Masters can be made highly\n"
       "available through ZooKeeper.\n"
       "\n"
       "This package has the mesoscaf program (master, agent, local cluster,\n"
       "execute), the systemd units mesoscaf-master and mesoscaf-agent, man pages,\n"
       "and the C++ SDK for writing frameworks: static libraries, headers, a CMake\n"
       "package and a pkg-config file (building against it needs the development\n"
       "packages listed in Suggests).")
set(MESOSCAF_PACKAGE_MAINTAINER "mesoscaf maintainers <maintainers@mesoscaf.invalid>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${MESOSCAF_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MESOSCAF_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # mesoscaf_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The binary's shared libraries (CAF, SQLite, ZooKeeper client, jemalloc, libstdc++) come from dpkg-shlibdeps;
# postinst needs useradd.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "logrotate, zookeeperd, libcaf-dev, libboost-dev, nlohmann-json3-dev, libsqlite3-dev, libzookeeper-mt-dev, \
libcurl4-openssl-dev, libarchive-dev")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${pkg}/debian/postinst ${pkg}/debian/prerm ${pkg}/debian/postrm
    ${pkg}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)   # as Debian's dh_strip: no symbol tables in the installed binary
# One package from every component, the EXCLUDE_FROM_ALL `system` one included.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified system)
set(CPACK_PRE_BUILD_SCRIPTS ${pkg}/check_package.cmake)
include(CPack)
