#include "config/daemon_config.hpp"

#include "actors/tls.hpp"

#include "config/config_file.hpp"
#include "config/help_text.hpp"
#include "config/option_sources.hpp"
#include "config/task_group_file.hpp"

#include "actors/interfaces.hpp"
#include "config/support/connection_guard.hpp"
#include "actors/message_size_limit.hpp"
#include "config/support/byte_size.hpp"
#include "config/support/files.hpp"
#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"
#include "actors/process_defaults.hpp"
#include "containerizer/isolation.hpp"
#include "messages/attributes.hpp"
#include "messages/task_checks.hpp"
#include "messages/ids.hpp"
#include "messages/resources.hpp"

#include <caf/atom.hpp>
#include <caf/config_option_set.hpp>
#include <caf/config_value.hpp>
#include <caf/io/middleman.hpp>
#include <caf/settings.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace mesoscaf {

namespace {

using namespace std::chrono_literals;

bool valid_level(const std::string& text) {
  log::level l;
  return log::parse_level(text, l);
}

void check_port(int64_t port, bool allow_zero, const char* name, std::vector<std::string>& errors) {
  if (port < (allow_zero ? 0 : 1) || port > 65535)
    errors.push_back(std::string{"--"} + name + "=" + std::to_string(port) + " is not a valid port (" +
                     (allow_zero ? "0" : "1") + "..65535)");
}

/// --advertise-ip (empty, or a numeric address others can dial: not a wildcard) and --advertise-port (0 = none).
void check_advertised(const std::string& ip, int64_t port, std::vector<std::string>& errors) {
  if (!ip.empty()) {
    if (auto err = check_ip_address(ip); !err.empty())
      errors.push_back("--advertise-ip=" + ip + ": " + err);
    else if (is_wildcard_ip(ip))
      errors.push_back("--advertise-ip=" + ip + ": a wildcard cannot be dialled; give the address others reach");
  }
  check_port(port, true, "advertise-port", errors);
}

void check_resources(const std::string& text, const char* name, bool required_nonempty,
                     std::vector<std::string>& errors) {
  if (text.empty()) {
    if (required_nonempty)
      errors.push_back(std::string{"--"} + name + " must not be empty");
    return;
  }
  std::string err;
  auto parsed = resource_set::parse(text, &err);
  if (!parsed)
    errors.push_back(std::string{"--"} + name + "=\"" + text + "\": " + err);
  else if (parsed->empty())
    errors.push_back(std::string{"--"} + name + "=\"" + text + "\" names no resources");
}

} // namespace

std::string parse_weights(std::string_view text, std::vector<std::pair<std::string, double>>& out) {
  std::vector<std::pair<std::string, double>> result;
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    auto end = text.find(',', pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto item = text.substr(pos, end - pos);
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return "expected ROLE=WEIGHT, got \"" + std::string{item} + "\"";
    std::string role{item.substr(0, eq)};
    std::string num{item.substr(eq + 1)};
    if (!valid_role_name(role))
      return "invalid role \"" + role + "\" in \"" + std::string{item} + "\"";
    for (const auto& kv : result)
      if (kv.first == role)
        return "role \"" + role + "\" is given twice";
    double w = 0;
    size_t used = 0;
    try {
      w = std::stod(num, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (num.empty() || used != num.size() || num.find_first_of(" \t") != std::string::npos)
      return "invalid weight \"" + num + "\" for role \"" + role + "\"";
    if (!std::isfinite(w) || w <= 0)
      return "weight of role \"" + role + "\" must be finite and > 0, got \"" + num + "\"";
    result.emplace_back(std::move(role), w);
    pos = end + 1;
    if (end == text.size())
      break;
  }
  out = std::move(result);
  return {};
}

std::string parse_rate_limit(std::string_view text, int64_t& count, caf::timespan& per) {
  if (text.empty()) {
    count = 0;
    per = caf::timespan{0};
    return {};
  }
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return "expected N/DURATION, e.g. 1/10s";
  auto n_text = std::string{text.substr(0, slash)};
  if (n_text.empty() || n_text.size() > 9 || n_text.find_first_not_of("0123456789") != std::string::npos)
    return "N must be a whole number 1..999999999";
  auto n = std::stoll(n_text);
  if (n < 1)
    return "N must be at least 1";
  // The same duration syntax as every other flag (CAF's parser).
  auto parsed = caf::config_value::parse(std::string{text.substr(slash + 1)});
  if (!parsed || !caf::holds_alternative<caf::timespan>(*parsed))
    return "DURATION must be like 10s, 500ms or 1min";
  auto d = caf::get<caf::timespan>(*parsed);
  if (d.count() <= 0)
    return "DURATION must be positive";
  count = n;
  per = d;
  return {};
}

std::string parse_master_address(const std::string& text, std::string& host, uint16_t& port, bool& is_zk,
                                 zookeeper_url& zk) {
  if (is_zookeeper_url(text)) {
    zookeeper_url parsed;
    if (auto err = parse_zookeeper_url(text, parsed); !err.empty())
      return err;
    zk = std::move(parsed);
    is_zk = true;
    return {};
  }
  std::string err;
  if (!parse_host_port(text, host, port, &err))
    return err + " (expected HOST:PORT or zk://HOST:PORT[,HOST:PORT...]/PATH)";
  is_zk = false;
  return {};
}

bool valid_zk_session_timeout(caf::timespan t) {
  return t >= std::chrono::milliseconds(100) && t <= std::chrono::minutes(10);
}

// -- base_config --------------------------------------------------------------------------------------------

base_config::base_config(std::string subcommand, int64_t threads)
  : subcommand_(std::move(subcommand)), section_(subcommand_) {
  // Our defaults; CLI flags and the INI file override them.
  set_process_defaults(*this, threads);
  // Daemons also drop a peer that stops sending heartbeats (caf-notes pitfall 6).
  set("middleman.connection-timeout", caf::timespan{5s});
  config_file_path = "mesoscaf.ini";
  opt_group{custom_options_, "global"}
    .add(log_level, "log-level", "log threshold: error|warn|info|debug|trace")
    .add(log_file, "log-file", "append log lines to this file, reopened on SIGHUP (default: stderr)")
    .add(log_format, "log-format", "log lines as text or json (one object per line)")
    .add(max_message_size, "max-message-size",
         "largest message a peer may send (bytes, or with KiB/MiB/GiB); a larger one closes its connection "
         "before anything is allocated for it")
    .add(max_connections, "max-connections",
         "connections a master or agent keeps open on its actor port; more are closed as they arrive")
    .add(handshake_timeout, "handshake-timeout",
         "a connection to a master's or agent's actor port that sends nothing for this long is closed (e.g. 5s)")
    .add(tls, "tls",
         "required: mutual TLS on every actor connection (the default once a --tls-* file is named); off: "
         "plaintext")
    .add(tls_cert, "tls-cert", "this process's certificate (PEM), signed by --tls-ca; its subject CN is the principal")
    .add(tls_key, "tls-key", "the private key of --tls-cert (PEM, no passphrase)")
    .add(tls_ca, "tls-ca", "the CA certificate (PEM) every peer's certificate must be signed by");
}

std::optional<int> base_config::parse_and_validate(int argc, char** argv) {
  auto report = [this](const std::vector<std::string>& errors) {
    for (auto& e : errors)
      std::cerr << "mesoscaf " << subcommand_ << ": " << e << "\n";
    std::cerr << "mesoscaf " << subcommand_ << ": see `mesoscaf " << subcommand_ << " --help`\n";
    return exit_bad_args;
  };
  command_line cli;
  if (auto err = scan_command_line(custom_options_, {argv + std::min(argc, 1), argv + argc}, cli); !err.empty())
    return report({err});
  // The file named on the command line, else in the environment, else the default (read only if present).
  auto env_file = std::getenv("MESOSCAF_CONFIG_FILE");
  bool given = !cli.config_file.empty() || (env_file && *env_file);
  auto config_file = !cli.config_file.empty() ? cli.config_file : given ? std::string{env_file} : config_file_path;
  if (cli.help || cli.long_help) {
    write_help(std::cout, custom_options_, content, subcommand_, config_file, given, cli.long_help, section_,
               operands_usage_);
    cli_helptext_printed = true;
    return 0;
  }
  std::vector<std::string> errors;
  apply_sources(cli, config_file, given, errors);
  if (!operands_usage_.empty())
    operands = cli.positional;
  else if (!cli.positional.empty()) {
    std::string extra;
    for (auto& x : cli.positional)
      extra += (extra.empty() ? "" : " ") + x;
    errors.push_back("unexpected arguments: " + extra);
  }
  // Checks of values that did not parse would only repeat the defaults' consequences.
  if (errors.empty())
    errors = validate();
  if (!errors.empty()) {
    for (auto& e : errors)
      e = "error: " + e;
    return report(errors);
  }
  if (cli.dump_config) {
    std::istringstream no_file;
    parse(caf::actor_system_config::string_list{"--dump-config"}, no_file);   // CAF prints it
    return 0;
  }
  log::level l;
  if (log::parse_level(log_level, l))
    log::set_level(l);
  log::format f = log::format::text;
  log::parse_format(log_format, f);
  if (auto err = log::configure(log_file, f); !err.empty())
    return report({"error: --log-file: " + err});
  if (tls_on())
    use_tls(*this, {tls_cert, tls_key, tls_ca});
  set_max_message_size(static_cast<uint32_t>(*parse_byte_size(max_message_size)));   // validated
  set_connection_limits({std::chrono::duration_cast<std::chrono::milliseconds>(handshake_timeout),
                         static_cast<std::size_t>(max_connections)});
  return std::nullopt;
}

void base_config::apply_sources(const command_line& cli, const std::string& config_file, bool given,
                                std::vector<std::string>& errors) {
  std::vector<option_value> values;
  std::error_code ec;
  if (given || std::filesystem::exists(config_file, ec)) {
    std::vector<config_entry> entries;
    if (auto err = read_config_file(config_file, entries); !err.empty())
      errors.push_back(err);
    else
      values = select_config_entries(custom_options_, entries, section_, config_file, errors);
  }
  auto env = scan_environment(custom_options_);
  values.insert(values.end(), env.begin(), env.end());
  values.insert(values.end(), cli.values.begin(), cli.values.end());
  for (auto& v : values)
    if (auto err = apply_option_value(v, content); !err.empty())
      errors.push_back(err);
}

std::vector<std::string> base_config::validate() {
  std::vector<std::string> errors;
  if (!valid_level(log_level))
    errors.push_back("--log-level=" + log_level + ": expected error|warn|info|debug|trace");
  if (log::format f; !log::parse_format(log_format, f))
    errors.push_back("--log-format=" + log_format + ": expected text or json");
  // At least what the daemons' own largest messages need (an agent re-registering thousands of tasks), below
  // 4 GiB (BASP's length field).
  if (auto size = parse_byte_size(max_message_size); !size || *size < (1u << 20) || *size >= (uint64_t{1} << 32))
    errors.push_back("--max-message-size=" + max_message_size + ": expected a size from 1MiB to 4095MiB (e.g. 64MiB)");
  if (max_connections < 1 || max_connections > 1000000)
    errors.push_back("--max-connections=" + std::to_string(max_connections) + ": expected 1..1000000");
  // Peers send heartbeats every second: a timeout below 2 s would close healthy connections.
  if (handshake_timeout < std::chrono::seconds(2) || handshake_timeout > std::chrono::minutes(10))
    errors.push_back("--handshake-timeout must be between 2s and 10min");
  // Absolute: the files are opened again for each connection, and executors get them in their environment
  // (they run in their sandboxes).
  for (auto* path : {&tls_cert, &tls_key, &tls_ca})
    if (!path->empty()) {
      std::error_code ec;
      auto abs = std::filesystem::absolute(*path, ec);
      if (!ec)
        *path = abs.lexically_normal().string();
    }
  tls_files files{tls_cert, tls_key, tls_ca};
  if (tls.empty())
    tls = files.any() ? "required" : "off";
  if (tls != "required" && tls != "off")
    errors.push_back("--tls=" + tls + ": expected required or off");
  else if (tls == "off" && files.any())
    errors.push_back("--tls=off but a --tls-cert, --tls-key or --tls-ca is given");
  else if (tls == "required")
    if (auto err = check_tls_files(files); !err.empty())
      errors.push_back(err);
  auto threads = caf::get_if<int64_t>(&content, "scheduler.max-threads");
  if (threads && (*threads < 1 || *threads > 256))
    errors.push_back("scheduler.max-threads=" + std::to_string(*threads) + ": expected 1..256");
  if (auto policy = caf::get_if<caf::atom_value>(&content, "scheduler.policy")) {
    auto p = caf::to_string(*policy);
    if (p != "sharing" && p != "stealing")
      errors.push_back("scheduler.policy='" + p + "': expected 'sharing' or 'stealing'");
  }
  auto hb = caf::get_if<caf::timespan>(&content, "middleman.heartbeat-interval");
  auto ct = caf::get_if<caf::timespan>(&content, "middleman.connection-timeout");
  if (hb && hb->count() < 0)
    errors.push_back("middleman.heartbeat-interval must not be negative");
  if (hb && ct && hb->count() > 0 && *ct <= *hb)
    errors.push_back("middleman.connection-timeout must be longer than middleman.heartbeat-interval");
  return errors;
}

// -- master_flags -------------------------------------------------------------------------------------------

void master_flags::add_master_flags(caf::config_option_set& options) {
  add_access_flags(options);
  caf::config_option_adder{options, "global"}
    .add(allocation_interval, "allocation-interval", "period of the batch allocation run (e.g. 1s, 250ms)")
    .add(offer_timeout, "offer-timeout", "rescind offers not answered within this time (e.g. 30s; 0 = never)")
    .add(weights, "weights", "role weights for fair sharing, e.g. \"eng=2,ops=0.5\" (a role without one weighs 1)")
    .add(agent_ping_timeout, "agent-ping-timeout", "an agent's answer to a ping is awaited this long (e.g. 15s)")
    .add(max_agent_ping_timeouts, "max-agent-ping-timeouts",
         "missed pings in a row after which an agent is unreachable (>= 1)")
    .add(agent_removal_rate_limit, "agent-removal-rate-limit",
         "at most N agents marked unreachable per DURATION, e.g. 1/10s (default: no limit)")
    .add(agent_reregister_timeout, "agent-reregister-timeout",
         "after a failover, agents of the registry that have not re-registered by then are unreachable");
}

void access_flags::add_access_flags(caf::config_option_set& options) {
  caf::config_option_adder{options, "global"}
    .add(acls, "acls",
         "JSON file of ACLs: who may register agents and frameworks, run tasks as which user, tear down, set "
         "weights and quota, view state (default: everything allowed)")
    .add(credentials, "credentials",
         "JSON file {\"credentials\": [{\"principal\": P, \"secret\": S}]}: HTTP requests must then "
         "authenticate (Basic P:S or Bearer S)");
}

void access_flags::check_access_flags(std::vector<std::string>& errors) {
  auto load = [&](const std::string& flag, const std::string& path, auto& out) {
    if (path.empty())
      return;
    std::string text;
    bool exists = true;
    auto err = read_whole_file(path, text, exists);
    if (!exists)
      err = "no such file";
    if (!err.empty()) {
      errors.push_back("--" + flag + "=" + path + ": " + err);
      return;
    }
    if (auto err = std::decay_t<decltype(out)>::parse(text, out); !err.empty())
      errors.push_back("--" + flag + "=" + path + ": " + err);
  };
  load("acls", acls, parsed_acls);
  load("credentials", credentials, parsed_credentials);
}

void master_flags::check_master_flags(std::vector<std::string>& errors) {
  check_access_flags(errors);
  if (allocation_interval.count() <= 0)
    errors.push_back("--allocation-interval must be positive");
  if (offer_timeout.count() < 0)
    errors.push_back("--offer-timeout must not be negative");
  if (auto err = parse_weights(weights, parsed_weights); !err.empty())
    errors.push_back("--weights=" + weights + ": " + err);
  if (agent_ping_timeout.count() <= 0)
    errors.push_back("--agent-ping-timeout must be positive");
  if (max_agent_ping_timeouts < 1 || max_agent_ping_timeouts > 1000000)
    errors.push_back("--max-agent-ping-timeouts=" + std::to_string(max_agent_ping_timeouts) + ": expected 1..1000000");
  if (auto err = parse_rate_limit(agent_removal_rate_limit, removal_limit_count, removal_limit_period); !err.empty())
    errors.push_back("--agent-removal-rate-limit=" + agent_removal_rate_limit + ": " + err);
  if (agent_reregister_timeout.count() <= 0)
    errors.push_back("--agent-reregister-timeout must be positive");
}

// -- master_address_flags -----------------------------------------------------------------------------------

void master_address_flags::add_master_address_flags(caf::config_option_set& options) {
  caf::config_option_adder{options, "global"}
    .add(master, "master",
         "the master's HOST:PORT, or zk://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/PATH to follow the elected one")
    .add(zk_session_timeout, "zk-session-timeout", "ZooKeeper session timeout with --master=zk://... (e.g. 10s)");
}

void master_address_flags::check_master_address(std::vector<std::string>& errors) {
  if (auto err = parse_master_address(master, master_host, master_port, master_is_zk, parsed_master_zk);
      !err.empty())
    errors.push_back("--master=" + redact_zookeeper_url(master) + ": " + err);
  if (!valid_zk_session_timeout(zk_session_timeout))
    errors.push_back("--zk-session-timeout must be between 100ms and 10min");
}

// -- master_config ------------------------------------------------------------------------------------------

master_config::master_config() : base_config("master") {
  opt_group{custom_options_, "global"}
    .add(port, "port", "port to listen on (0 = any free port; the chosen one is printed)")
    .add(ip, "ip", "address to listen on (0.0.0.0: every interface)")
    .add(advertise_ip, "advertise-ip",
         "IP others reach this master at, announced in ZooKeeper (for NAT or containers; default: --ip, or the "
         "host's first address if --ip is a wildcard)")
    .add(advertise_port, "advertise-port", "port others reach this master at (default: the port it listens on)")
    .add(work_dir, "work-dir", "directory for the master's state")
    .add(zk, "zk",
         "ZooKeeper URL for leader election and the registry: zk://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/PATH "
         "(with credentials, the nodes it creates can be read by anyone and changed only with them)")
    .add(zk_session_timeout, "zk-session-timeout", "ZooKeeper session timeout (e.g. 10s)")
    .add(registry, "registry",
         "where the registry is kept: in_memory, sqlite (<work-dir>/registry.sqlite) or zookeeper (default: "
         "zookeeper with --zk, sqlite with --work-dir, else in_memory)")
    .add(registry_allow_empty, "registry-allow-empty",
         "start although the sqlite registry is empty or not the one this master kept (a deliberate reset; "
         "without it such a master stops with an error)")
    .add(http_port, "http-port", "HTTP port for /state, /metrics, the web UI (0 = any free port; printed)")
    .add(standby_heap_mb, "standby-heap-mb",
         "with --zk: MiB of heap a standby master keeps faulted in for the re-registrations after it is elected "
         "(about 20 KiB per agent running 10 tasks; 0 = none)");
  add_master_flags(custom_options_);
}

std::vector<std::string> master_config::validate() {
  auto errors = base_config::validate();
  check_port(port, true, "port", errors);
  check_port(http_port, true, "http-port", errors);
  if (ip.empty())
    errors.push_back("--ip must not be empty");
  check_advertised(advertise_ip, advertise_port, errors);
  check_master_flags(errors);
  if (!zk.empty())
    if (auto err = parse_zookeeper_url(zk, parsed_zk); !err.empty())
      errors.push_back("--zk=" + redact_zookeeper_url(zk) + ": " + err);
  if (!valid_zk_session_timeout(zk_session_timeout))
    errors.push_back("--zk-session-timeout must be between 100ms and 10min");
  if (registry.empty())
    registry = !zk.empty() ? "zookeeper" : !work_dir.empty() ? "sqlite" : "in_memory";
  if (registry != "in_memory" && registry != "sqlite" && registry != "zookeeper")
    errors.push_back("--registry=" + registry + ": expected in_memory, sqlite or zookeeper");
  else if (registry == "sqlite" && work_dir.empty())
    errors.push_back("--registry=sqlite needs --work-dir (the database is <work-dir>/registry.sqlite)");
  else if (registry == "zookeeper" && zk.empty())
    errors.push_back("--registry=zookeeper needs --zk");
  if (standby_heap_mb < 0 || standby_heap_mb > 1024 * 1024)
    errors.push_back("--standby-heap-mb must be between 0 and 1048576");
  return errors;
}

// -- agent_config -------------------------------------------------------------------------------------------

agent_config::agent_config() : base_config("agent") {
  add_master_address_flags(custom_options_);
  add_access_flags(custom_options_);
  opt_group{custom_options_, "global"}
    .add(port, "port", "port to publish the agent on (0 = any free port)")
    .add(http_port, "http-port", "HTTP port for /state, /metrics, /files (0 = any free port; printed)")
    .add(ip, "ip", "address to publish the agent on (0.0.0.0: every interface)")
    .add(advertise_ip, "advertise-ip",
         "IP the master and operators reach this agent at (for NAT or containers; default: --ip, or the host's "
         "first address if --ip is a wildcard)")
    .add(advertise_port, "advertise-port", "port others reach this agent at (default: the port it listens on)")
    .add(work_dir, "work-dir", "directory for sandboxes and checkpoints (required)")
    .add(resources, "resources", "e.g. \"cpus:4;mem:4096;disk:10000;ports:[31000-32000]\" (default: detect)")
    .add(hostname, "hostname", "hostname to report to the master (default: this machine's)")
    .add(recover, "recover",
         "reconnect: executors of the last run reconnect and keep their tasks; cleanup: kill them and exit")
    .add(executor_registration_timeout, "executor-registration-timeout",
         "kill an executor that has not registered this long after its start (e.g. 1min)")
    .add(executor_binary, "executor-binary",
         "program started as `PATH command-executor` for command tasks (default: this mesoscaf binary)")
    .add(isolation, "isolation",
         "isolators, e.g. cgroups/cpu,cgroups/mem,cgroups/pids,disk/du,namespaces/pid,filesystem/linux or "
         "posix/cpu,posix/mem (default: the cgroups set as root with cgroups, else the posix set)")
    .add(cgroups_root, "cgroups-root", "containers' control groups live under <hierarchy>/<this>/<container>")
    .add(cgroups_enable_cfs, "cgroups-enable-cfs", "cgroups/cpu: a hard cpu quota besides the shares")
    .add(container_pids_max, "container-pids-max", "cgroups/pids: processes per container (1..4194304)")
    .add(switch_user, "switch-user", "run tasks as their command's or framework's user (the default)")
    .add(no_switch_user, "no-switch-user", "run tasks as the agent's user")
    .add(container_disk_watch_interval, "container-disk-watch-interval",
         "disk/du: how often a sandbox is measured (e.g. 15s)")
    .add(enforce_container_disk_quota, "enforce-container-disk-quota",
         "disk/du: a task using more than its disk fails (REASON_CONTAINER_LIMITATION_DISK)")
    .add(container_logger_max_size, "container-logger-max-size",
         "a task's stdout/stderr are rotated at this size (e.g. 10MB; a few files are kept)")
    .add(gc_delay, "gc-delay",
         "remove the sandbox of a finished executor this long after it ended (e.g. 168h, 2s; default one week), "
         "sooner as the disk fills: gc-delay * max(0, 1 - gc-disk-headroom - disk usage)")
    .add(gc_disk_headroom, "gc-disk-headroom",
         "fraction of the work dir's disk to keep free (0..1): shortens --gc-delay as the disk fills")
    .add(disk_watch_interval, "disk-watch-interval",
         "how often the agent checks the disk usage and removes the sandboxes that are due (e.g. 1min)")
    .add(attributes, "attributes",
         "attributes offered with this agent's resources, e.g. \"rack:r1;zone:z2;gpus:4;slots:[1-8]\"")
    .add(reconfiguration_policy, "reconfiguration-policy",
         "equal: a restarted agent (same ID) must keep its --attributes; additive: it may add attributes")
    .add(executor_shutdown_grace_period, "executor-shutdown-grace-period",
         "how long an executor has to shut down, and a task's SIGTERM-to-SIGKILL grace unless its kill policy "
         "says otherwise (e.g. 5s)")
    .add(fetcher_cache_dir, "fetcher-cache-dir", "cache of fetched URIs with cache=true (default: <work-dir>/fetch)")
    .add(fetcher_cache_size, "fetcher-cache-size", "the fetcher cache's size per user (e.g. 2GB; least recently "
         "used files go first)");
}

namespace {

// "10MB", "512KB", "1GB", "4096" (bytes). False if it is not one of those.
bool parse_byte_size(const std::string& text, uint64_t& out) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > (uint64_t{1} << 50))
      return false;
    n = n * 10 + static_cast<uint64_t>(text[i++] - '0');
  }
  if (i == 0)
    return false;
  auto unit = text.substr(i);
  uint64_t scale = 1;
  if (unit == "" || unit == "B")
    scale = 1;
  else if (unit == "KB")
    scale = uint64_t{1} << 10;
  else if (unit == "MB")
    scale = uint64_t{1} << 20;
  else if (unit == "GB")
    scale = uint64_t{1} << 30;
  else
    return false;
  out = n * scale;
  return true;
}

} // namespace

std::vector<std::string> agent_config::validate() {
  auto errors = base_config::validate();
  check_master_address(errors);
  check_access_flags(errors);
  check_port(port, true, "port", errors);
  check_port(http_port, true, "http-port", errors);
  if (ip.empty())
    errors.push_back("--ip must not be empty");
  check_advertised(advertise_ip, advertise_port, errors);
  if (work_dir.empty())
    errors.push_back("--work-dir is required");
  check_resources(resources, "resources", false, errors);
  if (auto msg = check_no_control_chars("--hostname", hostname); !msg.empty())
    errors.push_back(msg);
  if (recover != "reconnect" && recover != "cleanup")
    errors.push_back("--recover=" + recover + ": expected reconnect or cleanup");
  if (executor_registration_timeout.count() <= 0)
    errors.push_back("--executor-registration-timeout must be positive");
  if (!executor_binary.empty() && ::access(executor_binary.c_str(), X_OK) != 0)
    errors.push_back("--executor-binary=" + executor_binary + ": not an executable file");
  if (no_switch_user)
    switch_user = false;
  if (!isolation.empty()) {
    std::vector<std::string> names;
    if (auto err = parse_isolators(isolation, names); !err.empty())
      errors.push_back("--isolation=" + isolation + ": " + err);
  }
  if (cgroups_root.empty() || cgroups_root.front() == '/' || cgroups_root.find("..") != std::string::npos)
    errors.push_back("--cgroups-root=" + cgroups_root + ": expected a relative path without '..'");
  if (container_pids_max < 1 || container_pids_max > 4194304)
    errors.push_back("--container-pids-max must be between 1 and 4194304");
  if (container_disk_watch_interval.count() <= 0)
    errors.push_back("--container-disk-watch-interval must be positive");
  if (!parse_byte_size(container_logger_max_size, logger_max_bytes) || logger_max_bytes < 1024)
    errors.push_back("--container-logger-max-size=" + container_logger_max_size
                     + ": expected a size of at least 1KB such as 10MB, 512KB or 1GB");
  if (gc_delay.count() < 0)
    errors.push_back("--gc-delay must not be negative");
  if (!(gc_disk_headroom >= 0.0 && gc_disk_headroom <= 1.0))
    errors.push_back("--gc-disk-headroom=" + std::to_string(gc_disk_headroom) + ": expected a fraction in 0..1");
  if (disk_watch_interval.count() <= 0)
    errors.push_back("--disk-watch-interval must be positive");
  std::string why;
  if (auto parsed = parse_attributes(attributes, &why))
    parsed_attributes = std::move(*parsed);
  else
    errors.push_back("--attributes=" + attributes + ": " + why);
  if (reconfiguration_policy != "equal" && reconfiguration_policy != "additive")
    errors.push_back("--reconfiguration-policy=" + reconfiguration_policy + ": expected equal or additive");
  if (executor_shutdown_grace_period.count() < 0 || executor_shutdown_grace_period > std::chrono::minutes(10))
    errors.push_back("--executor-shutdown-grace-period must be between 0s and 10min");
  if (!parse_byte_size(fetcher_cache_size, fetcher_cache_bytes))
    errors.push_back("--fetcher-cache-size=" + fetcher_cache_size + ": expected a size such as 2GB, 512MB or 0");
  if (!fetcher_cache_dir.empty() && fetcher_cache_dir.front() != '/')
    errors.push_back("--fetcher-cache-dir=" + fetcher_cache_dir + ": expected an absolute path");
  return errors;
}

// -- local_config -------------------------------------------------------------------------------------------

local_config::local_config() : base_config("local", 2) {
  opt_group{custom_options_, "global"}
    .add(agents, "agents", "number of agents (1..64)")
    .add(port, "port", "port to publish the master on (0 = any free port; the chosen one is printed)")
    .add(work_dir, "work-dir", "root directory for the agents' work dirs (default: a fresh temp dir)")
    .add(resources, "resources", "resources of each agent (default: cpus:2;mem:2048;disk:10000;ports:[31000-32000])")
    .add(isolation, "isolation", "isolators of the agents (as `mesoscaf agent --isolation`; default: posix/cpu,posix/mem)")
    .add(cgroups_root, "cgroups-root", "agent i keeps its containers' control groups under <this>/agent<i>")
    .add(http_port, "http-port", "the master's HTTP port (0 = any free port; printed); agents pick free ports");
  add_master_flags(custom_options_);
}

std::vector<std::string> local_config::validate() {
  auto errors = base_config::validate();
  if (agents < 1 || agents > 64)
    errors.push_back("--agents=" + std::to_string(agents) + ": expected 1..64");
  check_port(port, true, "port", errors);
  check_port(http_port, true, "http-port", errors);
  check_resources(resources, "resources", false, errors);
  check_master_flags(errors);
  if (!isolation.empty()) {
    std::vector<std::string> names;
    if (auto err = parse_isolators(isolation, names); !err.empty())
      errors.push_back("--isolation=" + isolation + ": " + err);
  }
  if (cgroups_root.empty() || cgroups_root.front() == '/' || cgroups_root.find("..") != std::string::npos)
    errors.push_back("--cgroups-root=" + cgroups_root + ": expected a relative path without '..'");
  return errors;
}

// -- execute_config -----------------------------------------------------------------------------------------

execute_config::execute_config() : base_config("execute") {
  add_master_address_flags(custom_options_);
  opt_group{custom_options_, "global"}
    .add(name, "name", "task name (the task ID is NAME-<uuid>)")
    .add(command, "command", "shell command to run (required)")
    .add(resources, "resources", "resources of the task, e.g. \"cpus:0.1;mem:32\"")
    .add(timeout, "timeout", "give up (exit 1) after this long (0 = never)")
    .add(kill_after, "kill-after", "kill the task this long after it started running (0 = never)")
    .add(failover_timeout, "failover-timeout",
         "the framework and its task outlive this program by this long (0 = killed when it exits)")
    .add(partition_aware, "partition-aware", "ask for TASK_UNREACHABLE instead of TASK_LOST on partitions")
    .add(checkpoint, "checkpoint", "the agent checkpoints the task so it survives agent restarts (the default)")
    .add(no_checkpoint, "no-checkpoint", "do not checkpoint: the task dies with its agent process")
    .add(user, "user", "run the task as this user (agents with --switch-user; default: the user running this)")
    .add(quiet, "quiet", "when the task ends, print neither its sandbox path nor the tail of its stdout and stderr")
    .add(kill_grace_period, "kill-grace-period",
         "the task's kill policy: SIGTERM, then SIGKILL after this long (default: the agent's "
         "--executor-shutdown-grace-period)")
    .add(health_check_command, "health-check-command", "health check: this shell command (exit 0 = healthy)")
    .add(health_check_http, "health-check-http", "health check: HTTP GET PORT/PATH on 127.0.0.1 (2xx/3xx = healthy)")
    .add(health_check_tcp, "health-check-tcp", "health check: TCP connect to PORT on 127.0.0.1")
    .add(health_check_delay, "health-check-delay", "health check: wait this long before the first check")
    .add(health_check_interval, "health-check-interval", "health check: time between checks")
    .add(health_check_timeout, "health-check-timeout", "health check: a check taking longer failed")
    .add(health_check_grace_period, "health-check-grace-period",
         "health check: failures this soon after the start do not count (until the first success)")
    .add(health_check_consecutive_failures, "health-check-consecutive-failures",
         "health check: kill the task after this many failures in a row (0 = never)")
    .add(uri_help_, "uri", "fetch URL[,executable][,extract][,cache] into the sandbox first (repeatable)")
    .add(constraint_help_, "constraint", "run only on an agent whose attribute ATTR matches VALUE: ATTR:VALUE "
         "(repeatable)")
    .add(label_help_, "label", "a label KEY=VALUE on the task, shown in state (repeatable)")
    .add(group, "group", "run the task group in FILE.json (Mesos' TaskGroupInfo JSON) on one default executor, "
         "instead of --command: its tasks start together and, by default, die together");
}

std::vector<char*> execute_config::take_repeated_flags(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0 && arg.rfind("--uri=", 0) == 0)
      uris.push_back(arg.substr(6));
    else if (i > 0 && arg.rfind("--constraint=", 0) == 0)
      constraints.push_back(arg.substr(13));
    else if (i > 0 && arg.rfind("--label=", 0) == 0)
      labels.push_back(arg.substr(8));
    else
      rest.push_back(argv[i]);
  }
  return rest;
}

std::vector<std::string> execute_config::validate() {
  auto errors = base_config::validate();
  check_master_address(errors);
  if (!group.empty()) {
    check_group_flags(errors);
  } else if (command.empty()) {
    errors.push_back("--command is required (or --group=FILE.json)");
  }
  if (name.empty())
    errors.push_back("--name must not be empty");
  else if (auto msg = check_no_control_chars("--name", name); !msg.empty())
    errors.push_back(msg);
  else if (!is_safe_id(name + "-" + new_uuid()))   // the task ID is NAME-<uuid>
    errors.push_back("--name=" + name + ": the task ID is NAME-<uuid>, so use letters, digits, '.', '_' and '-', "
                     "at most " + std::to_string(max_id_length - 37) + " characters");
  if (auto msg = check_no_control_chars("--user", user); !msg.empty())
    errors.push_back(msg);
  check_resources(resources, "resources", true, errors);
  if (timeout.count() < 0)
    errors.push_back("--timeout must not be negative");
  if (kill_after.count() < 0)
    errors.push_back("--kill-after must not be negative");
  if (failover_timeout.count() < 0)
    errors.push_back("--failover-timeout must not be negative");
  if (no_checkpoint)
    checkpoint = false;
  check_task_life_flags(errors);
  return errors;
}

void execute_config::check_group_flags(std::vector<std::string>& errors) {
  // The single task's flags say nothing about a group's tasks: given together, one of them would be ignored.
  if (!command.empty())
    errors.push_back("--group and --command exclude each other (the group file holds the commands)");
  if (!uris.empty() || !uri_help_.empty() || !labels.empty() || !label_help_.empty()
      || kill_grace_period.count() >= 0 || !health_check_command.empty() || !health_check_http.empty()
      || health_check_tcp != 0)
    errors.push_back("--group: --uri, --label, --kill-grace-period and --health-check-* describe a single task; "
                     "put them in the group file");
  constexpr std::uintmax_t max_group_file = 1 << 20;
  std::error_code ec;
  if (std::filesystem::exists(group, ec)
      && (!std::filesystem::is_regular_file(group, ec) || std::filesystem::file_size(group, ec) > max_group_file)) {
    errors.push_back("--group=" + group + ": not a regular file of at most 1 MiB");
    return;
  }
  std::string text;
  bool exists = false;
  if (auto err = read_whole_file(group, text, exists); !err.empty() || !exists) {
    errors.push_back("--group=" + group + ": " + (!exists ? std::string{"no such file"} : err));
    return;
  }
  task_group_info g;
  if (auto err = parse_task_group_json(text, g); !err.empty()) {
    errors.push_back("--group=" + group + ": " + err);
    return;
  }
  parsed_group = std::move(g);
}

void execute_config::check_task_life_flags(std::vector<std::string>& errors) {
  if (!uri_help_.empty())
    uris.push_back(uri_help_);  // from a config file or the environment
  if (!constraint_help_.empty())
    constraints.push_back(constraint_help_);
  if (kill_grace_period.count() >= 0)
    if (auto msg = check_kill_policy(kill_policy{std::chrono::duration<double>(kill_grace_period).count()});
        !msg.empty())
      errors.push_back("--kill-grace-period: " + msg);
  for (auto& text : uris) {
    command_uri u;
    u.extract = false;
    std::string_view rest = text;
    auto comma = rest.find(',');
    u.value = std::string{rest.substr(0, comma)};
    while (comma != std::string_view::npos) {
      rest = rest.substr(comma + 1);
      comma = rest.find(',');
      auto opt = rest.substr(0, comma);
      if (opt == "executable")
        u.executable = true;
      else if (opt == "extract")
        u.extract = true;
      else if (opt == "cache")
        u.cache = true;
      else
        errors.push_back("--uri=" + text + ": unknown option '" + std::string{opt}
                         + "' (expected executable, extract or cache)");
    }
    if (auto msg = check_uri(u); !msg.empty())
      errors.push_back("--uri=" + text + ": " + msg);
    parsed_uris.push_back(std::move(u));
  }
  for (auto& c : constraints) {
    auto colon = c.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == c.size())
      errors.push_back("--constraint=" + c + ": expected ATTR:VALUE");
    else
      parsed_constraints.emplace_back(c.substr(0, colon), c.substr(colon + 1));
  }
  if (!label_help_.empty())
    labels.push_back(label_help_);
  for (auto& l : labels) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      errors.push_back("--label=" + l + ": expected KEY=VALUE");
    else
      parsed_labels.push_back(label{l.substr(0, eq), l.substr(eq + 1)});
  }
  if (auto msg = check_labels(parsed_labels, "--label"); !msg.empty())
    errors.push_back(msg);
  int kinds = !health_check_command.empty() + !health_check_http.empty() + (health_check_tcp != 0);
  if (kinds > 1) {
    errors.push_back("give one of --health-check-command, --health-check-http and --health-check-tcp");
    return;
  }
  if (kinds == 0)
    return;
  health_check hc;
  if (!health_check_command.empty()) {
    hc.type = health_check::kind::command;
    hc.command.value = health_check_command;
  } else if (!health_check_http.empty()) {
    hc.type = health_check::kind::http;
    auto slash = health_check_http.find('/');
    auto port = health_check_http.substr(0, slash);
    char* end = nullptr;
    auto n = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || n < 1 || n > 65535) {
      errors.push_back("--health-check-http=" + health_check_http + ": expected PORT/PATH, e.g. 8080/health");
      return;
    }
    hc.port = static_cast<uint16_t>(n);
    hc.path = slash == std::string::npos ? "/" : health_check_http.substr(slash);
  } else {
    hc.type = health_check::kind::tcp;
    if (health_check_tcp < 1 || health_check_tcp > 65535) {
      errors.push_back("--health-check-tcp must be a port (1-65535)");
      return;
    }
    hc.port = static_cast<uint16_t>(health_check_tcp);
  }
  auto secs = [](caf::timespan t) { return std::chrono::duration<double>(t).count(); };
  hc.delay = secs(health_check_delay);
  hc.interval = secs(health_check_interval);
  hc.timeout = secs(health_check_timeout);
  hc.grace_period = secs(health_check_grace_period);
  if (health_check_consecutive_failures < 0 || health_check_consecutive_failures > 1000000) {
    errors.push_back("--health-check-consecutive-failures must be between 0 and 1000000");
    return;
  }
  hc.consecutive_failures = static_cast<uint32_t>(health_check_consecutive_failures);
  auto task_resources = resource_set::parse(resources);
  if (auto msg = check_health_check(hc, task_resources ? *task_resources : resource_set{}); !msg.empty()) {
    errors.push_back("health check: " + msg
                     + (hc.port != 0 ? " (add it to --resources, e.g. ports:[" + std::to_string(hc.port) + "-"
                                         + std::to_string(hc.port) + "])"
                                     : std::string{}));
    return;
  }
  parsed_health_check = hc;
}

} // namespace mesoscaf
