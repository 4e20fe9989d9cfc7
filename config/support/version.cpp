#include "config/support/version.hpp"

#ifndef MESOSCAF_VERSION
#  error "MESOSCAF_VERSION is set by CMake (config/support/CMakeLists.txt)"
#endif

namespace mesoscaf {

const char* product_version() {
  return MESOSCAF_VERSION;
}

} // namespace mesoscaf
