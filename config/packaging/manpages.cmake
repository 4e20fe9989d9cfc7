# Man pages from the program's own --help (help2man), so they never drift from the flags: mesoscaf(1) and one page
# per daemon subcommand. Built with `all` (scripts/setup) and by scripts/package; installed gzip'd under
# share/man/man1 as Debian wants.
find_program(HELP2MAN_EXECUTABLE help2man)
find_program(GZIP_EXECUTABLE gzip)
set(MESOSCAF_MAN_DIR ${CMAKE_BINARY_DIR}/man)
set(see_also ${CMAKE_CURRENT_LIST_DIR}/man/see-also.h2m)
set(help_for_man ${CMAKE_CURRENT_LIST_DIR}/man/help-for-man.sh)

if(NOT HELP2MAN_EXECUTABLE OR NOT GZIP_EXECUTABLE)
  message(WARNING "help2man or gzip not found: no man pages, and no package (scripts/setup installs help2man)")
  add_custom_target(mesoscaf_man COMMAND ${CMAKE_COMMAND} -E echo
                    "mesoscaf_man: help2man not found; install it (apt-get install help2man) and re-run cmake"
                    COMMAND false)
  return()
endif()

# page name;what `--name` says;the help option help2man runs (the subcommands take --help after their name)
set(mesoscaf_man_pages
    "mesoscaf|cluster resource manager in the design of Apache Mesos|--help"
    "mesoscaf-master|run a mesoscaf master (offers the agents' resources to frameworks)|master --help"
    "mesoscaf-agent|run a mesoscaf agent (runs tasks in sandboxes for the master)|agent --help"
    "mesoscaf-local|run a mesoscaf master and N agents in one process|local --help"
    "mesoscaf-execute|run one task on a mesoscaf cluster and wait for it|execute --help"
    "mesoscaf-certs|make the CA and certificates of mutual TLS for a mesoscaf cluster|certs --help")
set(outputs "")
foreach(entry ${mesoscaf_man_pages})
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 page)
  list(GET fields 1 summary)
  list(GET fields 2 help_option)
  set(out ${MESOSCAF_MAN_DIR}/${page}.1)
  # Subcommands have no --version of their own: their version string names the page (title MESOSCAF-MASTER).
  if(page STREQUAL "mesoscaf")
    set(version_args "")
  else()
    set(version_args "--version-string=${page} ${PROJECT_VERSION}")
  endif()
  add_custom_command(
    OUTPUT ${out}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MESOSCAF_MAN_DIR}
    COMMAND ${CMAKE_COMMAND} -E env MESOSCAF_MAN_BINARY=$<TARGET_FILE:mesoscaf_bin>
            ${HELP2MAN_EXECUTABLE} --no-info --section=1 --name=${summary} --help-option=${help_option}
            ${version_args} --include=${see_also} --output=${out} ${help_for_man}
    COMMAND ${GZIP_EXECUTABLE} -n -9 -f ${out}
    DEPENDS mesoscaf_bin ${see_also} ${help_for_man}
    COMMENT "help2man: ${page}(1)"
    VERBATIM)
  list(APPEND outputs ${out}.gz)
endforeach()
add_custom_target(mesoscaf_man ALL DEPENDS ${outputs})
# OPTIONAL: a `cmake --install` of a tree built without them (e.g. only unit_tests) still works; the package checks
# that it has them (check_package.cmake).
install(FILES ${outputs} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 OPTIONAL)
