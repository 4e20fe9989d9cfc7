#include "config/certs_config.hpp"

#include "config/support/certificates.hpp"

#include <caf/config_option_adder.hpp>

namespace mesoscaf {

certs_config::certs_config() : base_config("certs") {
  operands_usage_ = "create-ca | create --name=NAME [--principal=P]";
  opt_group{custom_options_, "global"}
    .add(dir, "dir", "directory the PEM files are written to (and the CA read from)")
    .add(name, "name", "create: the certificate's name: files NAME.pem and NAME-key.pem, DNS subjectAltName")
    .add(principal, "principal", "create: the principal it authenticates as (subject CN; default: the name)")
    .add(hosts, "hosts", "create: more subjectAltNames, comma separated host names or IP addresses")
    .add(ca_cert, "ca-cert", "create: the CA certificate (default: DIR/ca.pem)")
    .add(ca_key, "ca-key", "create: the CA's key (default: DIR/ca-key.pem)")
    .add(days, "days", "validity in days");
}

std::vector<std::string> certs_config::validate() {
  auto errors = base_config::validate();
  if (operands.size() != 1 || (operands[0] != "create-ca" && operands[0] != "create")) {
    errors.push_back("expected one of: create-ca, create");
    return errors;
  }
  action = operands[0];
  if (days < 1 || days > 36500)
    errors.push_back("--days=" + std::to_string(days) + ": expected 1..36500");
  if (dir.empty())
    errors.push_back("--dir must not be empty");
  if (action == "create") {
    if (!valid_principal_name(name))
      errors.push_back("--name=" + name + ": expected 1..64 characters of A-Z a-z 0-9 . _ @ -");
    if (!principal.empty() && !valid_principal_name(principal))
      errors.push_back("--principal=" + principal + ": expected 1..64 characters of A-Z a-z 0-9 . _ @ -");
    std::string item;
    for (size_t i = 0; i <= hosts.size(); ++i) {
      if (i == hosts.size() || hosts[i] == ',') {
        if (!item.empty())
          host_list.push_back(item);
        item.clear();
      } else if (hosts[i] == ' ' || hosts[i] == '\n' || hosts[i] == '\t') {
        errors.push_back("--hosts=" + hosts + ": expected comma separated names without spaces");
        break;
      } else {
        item += hosts[i];
      }
    }
  }
  if (ca_cert.empty())
    ca_cert = dir + "/ca.pem";
  if (ca_key.empty())
    ca_key = dir + "/ca-key.pem";
  return errors;
}

} // namespace mesoscaf
