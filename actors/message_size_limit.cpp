// CAF 0.17's BASP broker sizes its receive buffer from the payload length a peer announces in a message header
// and fills it before it looks at a byte of the payload: one 32-byte header announcing 4 GiB made a master
// zero-fill 4 GiB and stall for seconds. The broker checks every header with `caf::io::basp::valid`, which it
// calls through the dynamic linker (libcaf_io's PLT). A program linking mesoscaf defines that function itself,
// so the broker calls this one: it refuses a header announcing more than the limit (the broker then closes the
// connection) and leaves every other check to CAF's own definition, found with RTLD_NEXT.
// integration_hostile_peers checks that a daemon refuses such a header.
#include "actors/message_size_limit.hpp"

#include "config/support/logging.hpp"

#include <caf/io/basp/header.hpp>

#include <dlfcn.h>

#include <atomic>

namespace mesoscaf {

namespace {

std::atomic<uint32_t> limit{default_max_message_size};
std::atomic<uint64_t> refused{0};
std::atomic<uint64_t> refused_routed{0};

} // namespace

namespace detail {
extern std::atomic<bool> tls_active;   // actors/tls.cpp
} // namespace detail

void set_max_message_size(uint32_t bytes) {
  limit = bytes;
}

uint32_t max_message_size() {
  return limit;
}

} // namespace mesoscaf

namespace caf::io::basp {

bool valid(const header& hdr) {
  using check = bool (*)(const header&);
  // CAF's definition, next in the lookup order after this program.
  static const auto cafs = reinterpret_cast<check>(dlsym(RTLD_NEXT, "_ZN3caf2io4basp5validERKNS1_6headerE"));
  if (hdr.payload_len > mesoscaf::max_message_size()) {
    auto n = ++mesoscaf::refused;
    // One line per refusal for the first ones, then one in a thousand: a flood must not flood the log.
    if (n <= 10 || n % 1000 == 0)
      LOG_WARN("middleman", "refused a message of " << hdr.payload_len << " bytes from a peer (limit "
                                                     << mesoscaf::max_message_size()
                                                     << ", --max-message-size); its connection is closed ("
                                                     << n << " refused so far)");
    return false;
  }
  // Under TLS a peer speaks only for its own node (actors/tls_identity.cpp): a routed message could name any
  // node as its source, and with it borrow that node's principal.
  if (hdr.operation == message_type::routed_message && mesoscaf::detail::tls_active) {
    auto n = ++mesoscaf::refused_routed;
    if (n <= 10 || n % 1000 == 0)
      LOG_WARN("middleman", "refused a routed message from a peer (TLS: a peer may only speak for itself); its "
                            "connection is closed (" << n << " refused so far)");
    return false;
  }
  return cafs != nullptr && cafs(hdr);
}

} // namespace caf::io::basp
