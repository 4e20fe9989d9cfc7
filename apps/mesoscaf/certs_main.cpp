// `mesoscaf certs create-ca | create`: the files mutual TLS needs (actors/tls.hpp, README "TLS").
#include "apps/mesoscaf/subcommands.hpp"

#include "config/certs_config.hpp"
#include "config/support/certificates.hpp"

#include <filesystem>
#include <iostream>

namespace mesoscaf {

int certs_main(int argc, char** argv) {
  certs_config cfg;
  if (auto rc = cfg.parse_and_validate(argc, argv))
    return *rc;
  std::error_code ec;
  std::filesystem::create_directories(cfg.dir, ec);
  if (ec) {
    std::cerr << "mesoscaf certs: " << cfg.dir << ": " << ec.message() << "\n";
    return 1;
  }
  if (cfg.action == "create-ca") {
    if (auto err = create_ca(cfg.dir, "mesoscaf CA", static_cast<int>(cfg.days)); !err.empty()) {
      std::cerr << "mesoscaf certs: " << err << "\n";
      return 1;
    }
    std::cout << "wrote " << cfg.dir << "/ca.pem and " << cfg.dir << "/ca-key.pem (keep the key offline)\n";
    return 0;
  }
  certificate_request req{cfg.name, cfg.principal, cfg.host_list, static_cast<int>(cfg.days)};
  if (auto err = create_certificate(cfg.dir, cfg.ca_cert, cfg.ca_key, req); !err.empty()) {
    std::cerr << "mesoscaf certs: " << err << "\n";
    return 1;
  }
  std::cout << "wrote " << cfg.dir << "/" << cfg.name << ".pem and " << cfg.dir << "/" << cfg.name
            << "-key.pem (principal " << (cfg.principal.empty() ? cfg.name : cfg.principal) << ")\n";
  return 0;
}

} // namespace mesoscaf
