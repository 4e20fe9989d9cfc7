#pragma once
// The product's version (CMake `project(... VERSION ...)`) and the wire protocol it speaks.

namespace mesoscaf {

/// e.g. "0.22.0".
const char* product_version();

} // namespace mesoscaf
