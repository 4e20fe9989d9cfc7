#pragma once
// `mesoscaf certs`: a CA and the certificates it signs for masters, agents, frameworks and operators, written as
// PEM files (as `nomad tls` / `consul tls` do), so that an operator needs no other tool for mutual TLS
// (actors/tls.hpp). Keys are ECDSA P-256; certificates carry the principal as subject CN and the name (and any
// extra host names or IPs) as subjectAltName.
#include <string>
#include <vector>

namespace mesoscaf {

struct certificate_request {
  std::string name;                     // file stem and DNS name, e.g. "master-1"
  std::string principal;                // subject CN; empty: the name
  std::vector<std::string> hosts;       // more subjectAltNames: DNS names or IP addresses
  int days = 365;
};

/// Writes `dir/ca.pem` and `dir/ca-key.pem` (key mode 0600). Refuses to overwrite existing files. Returns "" or
/// why it could not.
std::string create_ca(const std::string& dir, const std::string& common_name, int days);

/// Writes `dir/NAME.pem` and `dir/NAME-key.pem`, signed by the CA in `ca_cert`/`ca_key`. Refuses to overwrite.
/// Returns "" or why it could not.
std::string create_certificate(const std::string& dir, const std::string& ca_cert, const std::string& ca_key,
                               const certificate_request& request);

/// A principal or name we accept: 1..64 characters of [A-Za-z0-9._@-] (they appear in ACLs and file names).
bool valid_principal_name(const std::string& text);

} // namespace mesoscaf
