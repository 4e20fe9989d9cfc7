#include "config/support/certificate_name.hpp"

#include <openssl/crypto.h>
#include <openssl/x509.h>

namespace mesoscaf {

std::string common_name_of(X509* cert) {
  if (cert == nullptr)
    return {};
  auto* subject = X509_get_subject_name(cert);
  int i = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (i < 0)
    return {};
  auto* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0)
    return {};
  std::string out{reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len)};
  OPENSSL_free(utf8);
  return out;
}

} // namespace mesoscaf
