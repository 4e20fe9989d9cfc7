#pragma once
// One caf::actor_system_config subclass per `mesoscaf` subcommand: its flags (the fields), their declaration and
// their checks. Each registers our message types, loads the middleman and sets our scheduler and heartbeat
// defaults. Values come from the command line, the environment (MESOSCAF_<FLAG>) and the config file (top level,
// or the subcommand's own section), in that order of precedence (config/option_sources.hpp); CAF's own parser
// is not used, because it drops bad config file values and unknown keys silently (caf-notes pitfall 3).
//
// Usage in a subcommand:
//   master_config cfg;
//   if (auto rc = cfg.parse_and_validate(argc, argv)) return *rc;   // 0 after --help, 2 on bad arguments
//   caf::actor_system sys{cfg};
#include "actors/ha/leader_election.hpp"
#include "config/support/acls.hpp"
#include "config/support/credentials.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

#include <cstdint>
#include <optional>
#include "messages/task_info.hpp"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesoscaf {

struct command_line;

/// Parses role weights `eng=2,ops=0.5` (ROLE=WEIGHT, comma separated; empty text = none). Roles must be valid
/// role names and not repeated, weights finite and > 0. Returns "" and fills `out`, or an error message (out
/// unchanged).
std::string parse_weights(std::string_view text, std::vector<std::pair<std::string, double>>& out);

/// Parses a removal rate limit `N/DURATION` (e.g. `1/10s`, `100/1min`: at most N per DURATION; empty text = no
/// limit, count 0). Returns "" and fills the outputs, or an error message (outputs unchanged).
std::string parse_rate_limit(std::string_view text, int64_t& count, caf::timespan& per);

/// Checks a `--master` value: "host:port" (fills host and port) or "zk://host:port[,host:port...]/path" (fills
/// `zk`, sets `is_zk`). Returns "" or why the value is neither.
std::string parse_master_address(const std::string& text, std::string& host, uint16_t& port, bool& is_zk,
                                 zookeeper_url& zk);

/// ZooKeeper session timeouts we accept (--zk-session-timeout); the server clamps them further.
bool valid_zk_session_timeout(caf::timespan t);

/// Exit code for bad command line arguments or configuration values.
constexpr int exit_bad_args = 2;

/// Common part: message types, middleman, scheduler and heartbeat defaults, log level, validation.
class base_config : public caf::actor_system_config {
public:
  /// `threads` is the default of scheduler.max-threads (caf-notes D: one thread + the sharing policy cost
  /// about 23 us per cross-process hop, CAF's defaults about 200 us).
  explicit base_config(std::string subcommand, int64_t threads = 1);

  /// Parses the command line (argv[0] is the program/subcommand name), the environment and the config file,
  /// then validates. Returns nullopt to go on, 0 if help (stdout) or the configuration dump was printed,
  /// `exit_bad_args` after printing the problems to stderr.
  std::optional<int> parse_and_validate(int argc, char** argv);

  /// All problems found, one message each (empty = valid). Subclasses append their own checks.
  virtual std::vector<std::string> validate();

  const std::string& subcommand() const { return subcommand_; }

  /// Every option this subcommand takes, ours and CAF's.
  const caf::config_option_set& options() const { return custom_options_; }

  std::string log_level = "info";
  std::string log_file;              // empty: stderr
  std::string log_format = "text";   // text | json
  /// Largest message a peer may send over the middleman (actors/message_size_limit.hpp); bytes or 64MiB.
  std::string max_message_size = "64MiB";
  /// Bounds on the connections a daemon accepts on its actor port (config/support/connection_guard.hpp).
  int64_t max_connections = 10000;
  caf::timespan handshake_timeout = std::chrono::seconds(5);
  /// Mutual TLS on every actor connection of the process (actors/tls.hpp): `required` (the default once a file
  /// is named) or `off`.
  std::string tls;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  /// True once validated with TLS on.
  bool tls_on() const { return tls == "required"; }

  /// The words after the flags (the CLI's `task log TASK_ID`); only commands that set `operands_usage_` take any.
  std::vector<std::string> operands;

protected:
  std::string subcommand_;
  /// The config file section read besides the top level (default: the subcommand's name).
  std::string section_;
  /// For --help after the command's name, e.g. "log TASK_ID"; empty: the command takes no operands.
  std::string operands_usage_;

private:
  /// Applies config file, environment and command line values, in that order (the last one wins).
  void apply_sources(const command_line& cli, const std::string& config_file, bool given,
                     std::vector<std::string>& errors);
};

/// `--master` and `--zk-session-timeout`: how the agent and `mesoscaf execute` find the leading master.
struct master_address_flags {
  std::string master = "127.0.0.1:5050";
  caf::timespan zk_session_timeout = std::chrono::seconds(10);  // of the detector, with --master=zk://...

  // Filled by check_master_address: host:port, or the ZooKeeper URL (master_is_zk) of the masters' election.
  std::string master_host;
  uint16_t master_port = 0;
  bool master_is_zk = false;
  zookeeper_url parsed_master_zk;

  /// Declares the flags in `options` (category "global").
  void add_master_address_flags(caf::config_option_set& options);
  /// Appends one message per bad value and fills the parsed fields.
  void check_master_address(std::vector<std::string>& errors);
};

/// `--acls` and `--credentials` (master and agent): who may do what, and the HTTP credentials
/// (config/support/acls.hpp, config/support/credentials.hpp).
struct access_flags {
  std::string acls;          // file
  std::string credentials;   // file

  // Filled by check_access_flags:
  acl_set parsed_acls;
  credential_set parsed_credentials;

  void add_access_flags(caf::config_option_set& options);
  void check_access_flags(std::vector<std::string>& errors);
};

/// The master's options, shared by `mesoscaf master` and `mesoscaf local` (which runs a master too).
struct master_flags : access_flags {
  caf::timespan allocation_interval = std::chrono::seconds(1);
  caf::timespan offer_timeout = caf::timespan{0};   // 0 = offers never time out
  std::string weights;                              // --weights=eng=2,ops=0.5
  caf::timespan agent_ping_timeout = std::chrono::seconds(15);  // a ping not answered within this is missed
  int64_t max_agent_ping_timeouts = 5;              // this many missed pings in a row: the agent is unreachable
  std::string agent_removal_rate_limit;             // N/DURATION; empty = unlimited
  caf::timespan agent_reregister_timeout = std::chrono::minutes(10);  // after a failover (Mesos' default)

  // Filled by check_master_flags (from validate()):
  std::vector<std::pair<std::string, double>> parsed_weights;
  int64_t removal_limit_count = 0;                  // 0 = unlimited
  caf::timespan removal_limit_period{0};

  /// Declares the flags in `options` (category "global").
  void add_master_flags(caf::config_option_set& options);
  /// Appends one message per bad value and fills the parsed fields.
  void check_master_flags(std::vector<std::string>& errors);
};

/// `mesoscaf master`
class master_config : public base_config, public master_flags {
public:
  master_config();
  std::vector<std::string> validate() override;

  int64_t port = 5050;
  std::string ip = "127.0.0.1";
  std::string advertise_ip;                         // empty: default_advertise_ip(ip)
  int64_t advertise_port = 0;                       // 0: the port it listens on
  std::string work_dir;
  std::string zk;                                   // --zk=zk://...: HA (leader election, ZooKeeper registry)
  caf::timespan zk_session_timeout = std::chrono::seconds(10);
  std::string registry;                             // in_memory | sqlite | zookeeper ("" = by the rules above)
  bool registry_allow_empty = false;                // start although the sqlite registry was emptied or swapped
  int64_t standby_heap_mb = 256;                    // HA: heap a standby keeps faulted in (apps/mesoscaf/heap_reserve.hpp)
  int64_t http_port = 5040;                         // operator endpoints (docs/HTTP.md); 0 = any free port

  // Filled by validate():
  zookeeper_url parsed_zk;
};

/// `mesoscaf agent`
class agent_config : public base_config, public master_address_flags, public access_flags {
public:
  agent_config();
  std::vector<std::string> validate() override;

  int64_t port = 0;
  std::string ip = "127.0.0.1";
  std::string advertise_ip;   // empty: default_advertise_ip(ip)
  int64_t advertise_port = 0; // 0: the port it listens on
  std::string work_dir;
  std::string resources;      // empty = detect from the machine
  std::string hostname;       // empty = gethostname()
  std::string recover = "reconnect";   // reconnect | cleanup (kill the executors of the last run and exit)
  caf::timespan executor_registration_timeout = std::chrono::minutes(1);
  std::string executor_binary;  // started as `<executor_binary> command-executor`; empty = the default
  int64_t http_port = 5041;     // operator endpoints (docs/HTTP.md); 0 = any free port
  // -- isolation (containerizer/isolation.hpp) --
  std::string isolation;        // empty: the host's default (default_isolators)
  std::string cgroups_root = "mesoscaf";
  bool cgroups_enable_cfs = false;
  int64_t container_pids_max = 4096;
  bool switch_user = true;
  bool no_switch_user = false;
  caf::timespan container_disk_watch_interval = std::chrono::seconds(15);
  bool enforce_container_disk_quota = false;
  std::string container_logger_max_size = "10MB";
  uint64_t logger_max_bytes = 10 * 1024 * 1024;  // parsed from container_logger_max_size by validate()
  caf::timespan gc_delay = std::chrono::hours(24 * 7);          // sandboxes of finished executors stay this long
  double gc_disk_headroom = 0.1;                                // 0..1: sooner as the disk fills
  caf::timespan disk_watch_interval = std::chrono::minutes(1);  // how often the disk usage is checked
  // -- the task's life (Mesos 1.x) --
  std::string attributes;       // "rack:r1;zone:z2" (messages/attributes.hpp)
  std::string reconfiguration_policy = "equal";  // equal | additive: attribute changes across a restart
  caf::timespan executor_shutdown_grace_period = std::chrono::seconds(5);  // also a task's default kill grace
  std::string fetcher_cache_dir;  // empty: <work-dir>/fetch
  std::string fetcher_cache_size = "2GB";

  // Filled by validate():
  std::map<std::string, std::string> parsed_attributes;
  uint64_t fetcher_cache_bytes = uint64_t{2} << 30;
};

/// `mesoscaf local`
class local_config : public base_config, public master_flags {
public:
  local_config();
  std::vector<std::string> validate() override;

  int64_t agents = 1;
  int64_t port = 0;
  std::string work_dir;       // empty = a fresh directory under $TMPDIR
  std::string resources;      // per agent; empty = cpus:2;mem:2048;disk:10000;ports:[31000-32000]
  std::string isolation;      // empty: posix/cpu,posix/mem (the local cluster confines nothing by default)
  std::string cgroups_root = "mesoscaf";
  int64_t http_port = 5040;   // the master's operator endpoints; the agents' pick free ports
};

/// `mesoscaf execute`
class execute_config : public base_config, public master_address_flags {
public:
  execute_config();
  std::vector<std::string> validate() override;

  std::string name = "mesoscaf-execute";
  std::string command;
  std::string resources = "cpus:0.1;mem:32";
  caf::timespan timeout = caf::timespan{0};     // 0 = wait forever
  caf::timespan kill_after = caf::timespan{0};  // > 0: kill the task this long after TASK_RUNNING
  caf::timespan failover_timeout = caf::timespan{0};  // the framework survives its scheduler this long
  bool partition_aware = false;                 // capability PARTITION_AWARE
  bool checkpoint = true;                       // the agent checkpoints the task (survives agent restarts)
  bool no_checkpoint = false;                   // --no-checkpoint (also --checkpoint=false in a file or the env)
  std::string user;                             // the framework's user; empty: the user running execute
  bool quiet = false;                           // no output tail and sandbox path when the task ends
  // -- the task's life --
  caf::timespan kill_grace_period = caf::timespan{-1};  // >= 0: the task's kill policy
  std::string health_check_command;             // COMMAND health check
  std::string health_check_http;                // PORT/PATH: HTTP health check
  int64_t health_check_tcp = 0;                 // PORT: TCP health check
  caf::timespan health_check_delay = std::chrono::seconds(15);
  caf::timespan health_check_interval = std::chrono::seconds(10);
  caf::timespan health_check_timeout = std::chrono::seconds(20);
  caf::timespan health_check_grace_period = std::chrono::seconds(10);
  int64_t health_check_consecutive_failures = 3;
  /// --uri and --constraint may be repeated: take them out of argv before parsing (take_repeated_flags).
  std::vector<std::string> uris;                // URL[,executable][,extract][,cache]
  std::vector<std::string> constraints;         // ATTR:VALUE
  std::vector<std::string> labels;              // KEY=VALUE
  std::string group;                            // FILE.json: run this task group instead (config/task_group_file.hpp)

  /// Moves every --uri=... and --constraint=... of argv into `uris` / `constraints`; returns the rest.
  std::vector<char*> take_repeated_flags(int argc, char** argv);

  // Filled by validate():
  std::vector<command_uri> parsed_uris;
  std::vector<std::pair<std::string, std::string>> parsed_constraints;
  mesoscaf::labels parsed_labels;
  std::optional<health_check> parsed_health_check;
  std::optional<task_group_info> parsed_group;

private:
  void check_task_life_flags(std::vector<std::string>& errors);
  void check_group_flags(std::vector<std::string>& errors);
  std::string uri_help_;         // --uri / --constraint given once through a config file or the environment
  std::string constraint_help_;
  std::string label_help_;
};

} // namespace mesoscaf
