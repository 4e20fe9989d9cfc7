#pragma once
// The principal a certificate names: its subject's common name. Shared by the actor connections' identities
// (actors/tls_identity.cpp), HTTPS client certificates (actors/http/http_server.cpp) and `mesoscaf certs`; it needs
// only OpenSSL, so every layer (fuzz harnesses included) can link it.
#include <string>

struct x509_st;

namespace mesoscaf {

/// The common name of a certificate's subject, or "" (`cert` is an OpenSSL X509*).
std::string common_name_of(::x509_st* cert);

} // namespace mesoscaf
