#pragma once
// HTTP authentication (`--credentials=FILE`): principals and their secrets, as Mesos' credentials file:
//   {"credentials": [{"principal": "ops", "secret": "..."}]}
// A request authenticates with `Authorization: Basic base64(principal:secret)` or `Authorization: Bearer SECRET`.
// Secrets are compared in constant time. Pure logic.
#include <optional>
#include <string>
#include <vector>

namespace mesoscaf {

class credential_set {
public:
  /// Parses the JSON text. Returns "" and fills `out`, or what is wrong (out unchanged).
  static std::string parse(const std::string& text, credential_set& out);

  bool configured() const { return configured_; }

  /// The principal an `Authorization` header value authenticates, or nullopt (absent, malformed or wrong).
  std::optional<std::string> authenticate(const std::string& authorization) const;

  std::size_t size() const { return entries_.size(); }

private:
  struct entry {
    std::string principal;
    std::string secret;
  };
  bool configured_ = false;
  std::vector<entry> entries_;
};

} // namespace mesoscaf
