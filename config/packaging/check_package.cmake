# CPack runs this after staging the package's files: a package without its man pages (target mesoscaf_man not
# built; their install rule is OPTIONAL for plain `cmake --install`) is an error, not a smaller package.
foreach(page mesoscaf mesoscaf-master mesoscaf-agent mesoscaf-local mesoscaf-execute)
  file(GLOB_RECURSE found "${CPACK_TEMPORARY_DIRECTORY}/${page}.1.gz")  # in any subdirectory
  if(NOT found)
    message(FATAL_ERROR "the package lacks the man page ${page}(1): build the target mesoscaf_man first "
                        "(needs help2man), e.g. scripts/package")
  endif()
endforeach()
