#pragma once
// Flags and operands of `mesoscaf certs create-ca | create` (apps/mesoscaf/certs_main.cpp): where the files go and
// what the certificate names. Same sources and checks as every subcommand (config/daemon_config.hpp).
#include "config/daemon_config.hpp"

namespace mesoscaf {

class certs_config : public base_config {
public:
  certs_config();
  std::vector<std::string> validate() override;

  std::string dir = ".";
  std::string name;
  std::string principal;          // empty: the name
  std::string hosts;              // comma separated DNS names or IPs, added as subjectAltNames
  std::string ca_cert;            // empty: DIR/ca.pem
  std::string ca_key;             // empty: DIR/ca-key.pem
  int64_t days = 365;

  // Filled by validate():
  std::string action;             // create-ca | create
  std::vector<std::string> host_list;
};

} // namespace mesoscaf
