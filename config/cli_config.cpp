#include "config/cli_config.hpp"

#include "config/support/files.hpp"

#include <caf/config_option_adder.hpp>
#include <nlohmann/json.hpp>

namespace mesoscaf {

namespace {

std::string joined(const std::vector<std::string>& words, size_t from) {
  std::string result;
  for (size_t i = from; i < words.size(); ++i)
    result += (result.empty() ? "" : " ") + words[i];
  return result;
}

/// One message when `operands` (after the verb) are not exactly `count`.
void expect_count(const std::vector<std::string>& operands, size_t count, const std::string& usage,
                  std::vector<std::string>& errors) {
  if (operands.size() < count)
    errors.push_back("missing operands: expected " + usage);
  else if (operands.size() > count)
    errors.push_back("unexpected operands: " + joined(operands, count) + " (expected " + usage + ")");
}

} // namespace

cli_config::cli_config(std::string command, std::string operands_usage) : base_config(std::move(command)) {
  section_ = "cli";
  operands_usage_ = std::move(operands_usage);
  opt_group{custom_options_, "global"}
    .add(master, "master",
         "the master's HTTP HOST:PORT (a standby sends us to the leader), or zk://HOST:PORT[,HOST:PORT...]/PATH")
    .add(json, "json", "print the master's JSON instead of a table")
    .add(timeout, "timeout", "give up on an HTTP request (and on finding the leader) after this long")
    .add(credentials, "credentials",
         "JSON file {\"credentials\": [{\"principal\": P, \"secret\": S}]}: the first entry authenticates the "
         "requests (HTTP Basic), for masters with --credentials");
}

std::vector<std::string> cli_config::validate() {
  auto errors = base_config::validate();
  if (auto err = parse_master_address(master, master_host, master_port, master_is_zk, parsed_master_zk);
      !err.empty())
    errors.push_back("--master=" + master + ": " + err);
  if (timeout.count() <= 0)
    errors.push_back("--timeout must be positive");
  if (!credentials.empty()) {
    std::string text;
    bool exists = true;
    auto err = read_whole_file(credentials, text, exists);
    auto j = err.empty() && exists ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json{};
    if (!exists || !err.empty())
      errors.push_back("--credentials=" + credentials + ": " + (exists ? err : std::string{"no such file"}));
    else if (!j.is_object() || !j.contains("credentials") || !j["credentials"].is_array() || j["credentials"].empty()
             || !j["credentials"][0].is_object() || !j["credentials"][0].value("principal", nlohmann::json{}).is_string()
             || !j["credentials"][0].value("secret", nlohmann::json{}).is_string())
      errors.push_back("--credentials=" + credentials
                       + ": expected {\"credentials\": [{\"principal\": ..., \"secret\": ...}]}");
    else {
      principal = j["credentials"][0]["principal"].get<std::string>();
      secret = j["credentials"][0]["secret"].get<std::string>();
    }
  }
  return errors;
}

tasks_config::tasks_config() : cli_config("tasks") {
  opt_group{custom_options_, "global"}.add(all, "all", "list completed tasks too (default: live tasks only)");
}

task_log_config::task_log_config() : cli_config("task", "log TASK_ID") {
  opt_group{custom_options_, "global"}
    .add(stderr_file, "stderr", "print the task's stderr instead of its stdout")
    .add(follow, "follow", "keep printing what the task writes until it has ended and its file stops growing")
    .add(poll_interval, "poll-interval", "with --follow: how often the file is read again");
}

std::vector<std::string> task_log_config::validate() {
  auto errors = cli_config::validate();
  if (operands.empty() || operands[0] != "log")
    errors.push_back(operands.empty() ? "missing operands: expected log TASK_ID"
                                      : "unknown action `" + operands[0] + "`: expected log TASK_ID");
  else
    expect_count(operands, 2, "log TASK_ID", errors);
  if (errors.empty()) {
    task = operands[1];
    if (task.empty())
      errors.push_back("TASK_ID must not be empty");
  }
  if (poll_interval.count() <= 0)
    errors.push_back("--poll-interval must be positive");
  return errors;
}

quota_config::quota_config() : cli_config("quota", "get | set ROLE RESOURCES | remove ROLE") {
}

std::vector<std::string> quota_config::validate() {
  auto errors = cli_config::validate();
  action = operands.empty() ? "" : operands[0];
  if (action == "get") {
    expect_count(operands, 1, "get", errors);
  } else if (action == "set") {
    expect_count(operands, 3, "set ROLE RESOURCES (e.g. set eng \"cpus:1;mem:512\")", errors);
  } else if (action == "remove") {
    expect_count(operands, 2, "remove ROLE", errors);
  } else {
    errors.push_back(action.empty() ? "missing operands: expected get, set ROLE RESOURCES or remove ROLE"
                                    : "unknown action `" + action + "`: expected get, set or remove");
  }
  if (!errors.empty() || action == "get")
    return errors;
  role = operands[1];
  if (!valid_role_name(role) || role == "*")
    errors.push_back("invalid role \"" + role + "\"");
  if (action == "set") {
    std::string err;
    auto parsed = resource_set::parse(operands[2], &err);
    if (!parsed) {
      errors.push_back("RESOURCES \"" + operands[2] + "\": " + err);
    } else {
      for (const auto& r : parsed->items())
        if (r.type != value_type::scalar || r.role != "*" || !r.volume_id.empty())
          errors.push_back("RESOURCES \"" + operands[2] + "\": a quota names unreserved scalars only (such as "
                           "cpus:1;mem:512), not " + r.name);
      if (parsed->empty())
        errors.push_back("RESOURCES \"" + operands[2] + "\" names no resources");
      guarantee = *parsed;
    }
  }
  return errors;
}

weights_config::weights_config() : cli_config("weights", "get | set ROLE=W [ROLE=W ...]") {
}

std::vector<std::string> weights_config::validate() {
  auto errors = cli_config::validate();
  action = operands.empty() ? "" : operands[0];
  if (action == "get") {
    expect_count(operands, 1, "get", errors);
  } else if (action == "set") {
    if (operands.size() < 2)
      errors.push_back("missing operands: expected set ROLE=W [ROLE=W ...]");
  } else {
    errors.push_back(action.empty() ? "missing operands: expected get or set ROLE=W [ROLE=W ...]"
                                    : "unknown action `" + action + "`: expected get or set");
  }
  if (action == "set" && operands.size() >= 2) {
    // Each operand is one ROLE=W; commas inside one (eng=2,ops=1) are accepted as in --weights.
    std::string text;
    for (size_t i = 1; i < operands.size(); ++i) {
      if (operands[i].empty())
        continue;
      text += (text.empty() ? "" : ",") + operands[i];
    }
    if (auto err = parse_weights(text, weights); !err.empty())
      errors.push_back(err);
    else if (weights.empty())
      errors.push_back("missing operands: expected set ROLE=W [ROLE=W ...]");
  }
  return errors;
}

framework_cli_config::framework_cli_config() : cli_config("framework", "teardown FRAMEWORK_ID") {
}

std::vector<std::string> framework_cli_config::validate() {
  auto errors = cli_config::validate();
  if (operands.empty() || operands[0] != "teardown")
    errors.push_back(operands.empty() ? "missing operands: expected teardown FRAMEWORK_ID"
                                      : "unknown action `" + operands[0] + "`: expected teardown FRAMEWORK_ID");
  else
    expect_count(operands, 2, "teardown FRAMEWORK_ID", errors);
  if (errors.empty()) {
    framework = operands[1];
    if (framework.empty())
      errors.push_back("FRAMEWORK_ID must not be empty");
  }
  return errors;
}

} // namespace mesoscaf
