// libFuzzer harness: what any HTTP client controls before a handler runs: the query string and escapes of the
// target (parse_query, url_decode) and the Authorization header checked against --credentials. None may crash,
// and a header may authenticate only a configured principal. Run: scripts/fuzz http_requests.
#include "actors/http/http_types.hpp"
#include "config/support/credentials.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

const mesoscaf::credential_set& credentials() {
  static const mesoscaf::credential_set creds = [] {
    mesoscaf::credential_set c;
    auto err = mesoscaf::credential_set::parse(
      R"({"credentials": [{"principal": "ops", "secret": "ops-secret-1"}, {"principal": "view", "secret": "v-secret"}]})",
      c);
    if (!err.empty())
      __builtin_trap();
    return c;
  }();
  return creds;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string text{reinterpret_cast<const char*>(data) + 1, size - 1};
  switch (data[0] % 3) {
    case 0: {
      auto q = mesoscaf::http::parse_query(text);
      for (auto& [k, v] : q)
        if (k.size() > text.size() || v.size() > text.size())
          __builtin_trap();   // decoding never grows the text
      break;
    }
    case 1: {
      auto decoded = mesoscaf::http::url_decode(text, (size & 1) != 0);
      if (decoded.size() > text.size())
        __builtin_trap();
      break;
    }
    default: {
      auto who = credentials().authenticate(text);
      if (who && *who != "ops" && *who != "view")
        __builtin_trap();   // only configured principals
      break;
    }
  }
  return 0;
}
