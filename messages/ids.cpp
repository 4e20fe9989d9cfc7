#include "messages/ids.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace mesoscaf {

std::string new_uuid() {
  // One generator per thread: constructing it seeds from the OS, which is too slow per call.
  thread_local boost::uuids::random_generator gen;
  return boost::uuids::to_string(gen());
}

} // namespace mesoscaf
