#include "config/support/credentials.hpp"


#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace mesoscaf {

namespace {

bool same_secret(const std::string& a, const std::string& b) {
  // Length may leak; the contents do not.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> decode_base64(const std::string& text) {
  if (text.empty() || text.size() > 4096 || text.size() % 4 != 0)
    return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0)
    return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  auto pad = static_cast<std::size_t>(text[text.size() - 1] == '=') + static_cast<std::size_t>(text[text.size() - 2] == '=');
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

} // namespace

std::string credential_set::parse(const std::string& text, credential_set& out) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    return "not valid JSON";
  if (!j.is_object() || !j.contains("credentials") || !j["credentials"].is_array())
    return "expected {\"credentials\": [{\"principal\": ..., \"secret\": ...}]}";
  credential_set result;
  result.configured_ = true;
  for (auto& [k, v] : j.items())
    if (k != "credentials")
      return "unknown key \"" + k + "\"";
  std::size_t n = 0;
  for (auto& c : j["credentials"]) {
    auto where = "credentials[" + std::to_string(n++) + "]";
    if (!c.is_object() || !c.contains("principal") || !c.contains("secret") || !c["principal"].is_string()
        || !c["secret"].is_string())
      return where + ": expected {\"principal\": STRING, \"secret\": STRING}";
    auto principal = c["principal"].get<std::string>();
    auto secret = c["secret"].get<std::string>();
    if (principal.empty() || principal.find(':') != std::string::npos || principal.size() > 256)
      return where + ": the principal must be 1..256 characters without ':'";
    if (secret.size() < 8 || secret.size() > 1024)
      return where + ": the secret of " + principal + " must be 8..1024 characters";
    for (auto& e : result.entries_)
      if (e.principal == principal)
        return where + ": principal " + principal + " is listed twice";
    result.entries_.push_back({std::move(principal), std::move(secret)});
  }
  out = std::move(result);
  return {};
}

std::optional<std::string> credential_set::authenticate(const std::string& authorization) const {
  auto starts = [&](const char* prefix, std::size_t len) {
    return authorization.size() > len && authorization.compare(0, len, prefix) == 0;
  };
  if (starts("Basic ", 6)) {
    auto decoded = decode_base64(authorization.substr(6));
    if (!decoded)
      return std::nullopt;
    auto colon = decoded->find(':');
    if (colon == std::string::npos)
      return std::nullopt;
    auto principal = decoded->substr(0, colon);
    auto secret = decoded->substr(colon + 1);
    bool ok = false;
    for (auto& e : entries_)
      ok |= e.principal == principal && same_secret(e.secret, secret);
    if (ok)
      return principal;
    return std::nullopt;
  }
  if (starts("Bearer ", 7)) {
    auto token = authorization.substr(7);
    std::optional<std::string> found;
    for (auto& e : entries_)
      if (same_secret(e.secret, token))
        found = e.principal;
    return found;
  }
  return std::nullopt;
}

} // namespace mesoscaf
