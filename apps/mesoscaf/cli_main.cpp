// The operator CLI: `mesoscaf state | agents | frameworks | tasks | task log | quota | weights | framework`, each a
// client of the leading master's HTTP API (docs/HTTP.md). Tables for people, `--json` for machines. Exit codes:
// 0 success, 1 failure (no master, an HTTP error: its status and reason are printed), 2 bad arguments.
#include "apps/mesoscaf/subcommands.hpp"

#include "apps/mesoscaf/cli_views.hpp"
#include "apps/mesoscaf/http_client.hpp"
#include "apps/mesoscaf/master_endpoint.hpp"
#include "apps/mesoscaf/sandbox_files.hpp"
#include "config/cli_config.hpp"

#include <iostream>
#include <thread>

namespace mesoscaf {

namespace {

/// Parses the command line into a `Config` (made of `config_args`), runs `body` with it and turns failures into
/// exit code 1.
template <class Config, class Body, class... Args>
int run_command(int argc, char** argv, Body body, Args&&... config_args) {
  Config cfg{std::forward<Args>(config_args)...};
  if (auto rc = cfg.parse_and_validate(argc, argv))
    return *rc;
  // Masters with TLS serve HTTPS; with --credentials they want ours.
  if (cfg.tls_on())
    use_http_client_tls(cfg.tls_cert, cfg.tls_key, cfg.tls_ca);
  if (!cfg.principal.empty())
    use_http_client_authorization(basic_authorization(cfg.principal, cfg.secret));
  try {
    return body(cfg);
  } catch (const cli_failure& e) {
    std::cout.flush();
    std::cerr << "mesoscaf " << cfg.subcommand() << ": " << e.what() << "\n";
  } catch (const nlohmann::json::exception& e) {
    std::cout.flush();
    std::cerr << "mesoscaf " << cfg.subcommand() << ": unexpected JSON from the master: " << e.what() << "\n";
  }
  return 1;
}

void print_json(const json& value) {
  std::cout << value.dump(2) << std::endl;
}

/// `--json`: the answer as it came; else `table` of it.
template <class Table>
int show(const cli_config& cfg, const json& answer, Table table) {
  if (cfg.json)
    print_json(answer);
  else
    write_table(std::cout, table(answer));
  return 0;
}

http_limits limits_of(const cli_config& cfg) {
  http_limits limits;
  limits.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeout);
  return limits;
}

/// `task log`: prints the file from the start; with --follow goes on from the last offset until the task is
/// terminal and the file has stopped growing.
int task_log(const task_log_config& cfg) {
  auto master = connect_to_leader(cfg);
  auto loc = locate_task(master.get_json("/state"), cfg.task);
  if (!loc)
    throw cli_failure{"the master knows no task " + cfg.task};
  if (loc->agent_http.port == 0 || loc->agent_http.host.empty())
    throw cli_failure{"task " + cfg.task + " ran on agent " + loc->agent
                      + ", which the master no longer knows or which serves no HTTP"};
  http_endpoint agent{loc->agent_http, "agent", limits_of(cfg)};
  const auto file = cfg.stderr_file ? "stderr" : "stdout";
  const uint64_t chunk = 1 << 20;   // the agent's cap per read
  std::optional<task_sandbox> sandbox;
  uint64_t offset = 0;
  bool ended = false;   // the task was terminal before the last read
  for (;;) {
    if (!sandbox || sandbox->directory.empty()) {
      sandbox = find_sandbox(agent.get_json("/state"), loc->framework, cfg.task);
      if (!sandbox || sandbox->directory.empty()) {
        if (!cfg.follow || is_terminal_task_state(loc->state))
          throw cli_failure{"agent at " + agent.address().text() + " has no sandbox of task " + cfg.task
                            + (loc->state.empty() ? "" : " (" + loc->state + ")")};
        std::this_thread::sleep_for(cfg.poll_interval);
        continue;
      }
    }
    auto data = read_sandbox_file(agent, sandbox->directory + "/" + file, offset, chunk);
    std::cout << data << std::flush;
    offset += data.size();
    if (!data.empty())
      continue;   // there may be more right away
    if (!cfg.follow || ended)
      return 0;
    // Nothing new: has the task ended? Then one more read takes what it wrote last.
    auto now = find_sandbox(agent.get_json("/state"), loc->framework, cfg.task);
    if (!now || is_terminal_task_state(now->state)) {
      ended = true;
      continue;
    }
    std::this_thread::sleep_for(cfg.poll_interval);
  }
}

} // namespace

int state_main(int argc, char** argv) {
  return run_command<cli_config>(argc, argv, [](cli_config& cfg) {
    auto state = connect_to_leader(cfg).get_json("/state");
    if (cfg.json)
      print_json(state);
    else
      write_state_summary(std::cout, state);
    return 0;
  }, "state");
}

int agents_main(int argc, char** argv) {
  return run_command<cli_config>(argc, argv, [](cli_config& cfg) {
    return show(cfg, connect_to_leader(cfg).get_json("/slaves"), agents_table);
  }, "agents");
}

int frameworks_main(int argc, char** argv) {
  return run_command<cli_config>(argc, argv, [](cli_config& cfg) {
    return show(cfg, connect_to_leader(cfg).get_json("/frameworks"), frameworks_table);
  }, "frameworks");
}

int tasks_main(int argc, char** argv) {
  return run_command<tasks_config>(argc, argv, [](tasks_config& cfg) {
    auto tasks = select_tasks(connect_to_leader(cfg).get_json("/state"), cfg.all);
    if (cfg.json)
      print_json(json{{"tasks", tasks}});
    else
      write_table(std::cout, tasks_table(tasks));
    return 0;
  });
}

int task_main(int argc, char** argv) {
  return run_command<task_log_config>(argc, argv, task_log);
}

int quota_main(int argc, char** argv) {
  return run_command<quota_config>(argc, argv, [](quota_config& cfg) {
    auto master = connect_to_leader(cfg);
    if (cfg.action == "get")
      return show(cfg, master.get_json("/quota"), quota_table);
    if (cfg.action == "set") {
      master.call("POST", "/quota", quota_request(cfg.role, cfg.guarantee).dump(), "application/json");
      if (!cfg.json)
        std::cout << "quota of " << cfg.role << " set: " << cfg.guarantee << "\n";
    } else {
      master.call("DELETE", "/quota/" + percent_encode(cfg.role, true));
      if (!cfg.json)
        std::cout << "quota of " << cfg.role << " removed\n";
    }
    return 0;
  });
}

int weights_main(int argc, char** argv) {
  return run_command<weights_config>(argc, argv, [](weights_config& cfg) {
    auto master = connect_to_leader(cfg);
    if (cfg.action == "get")
      return show(cfg, master.get_json("/weights"), weights_table);
    master.call("PUT", "/weights", weights_request(cfg.weights).dump(), "application/json");
    if (!cfg.json)
      for (const auto& [role, weight] : cfg.weights)
        std::cout << "weight of " << role << " set to " << format_number(weight) << "\n";
    return 0;
  });
}

int framework_main(int argc, char** argv) {
  return run_command<framework_cli_config>(argc, argv, [](framework_cli_config& cfg) {
    connect_to_leader(cfg).call("POST", "/teardown", "frameworkId=" + percent_encode(cfg.framework),
                                "application/x-www-form-urlencoded");
    if (!cfg.json)
      std::cout << "framework " << cfg.framework << " torn down\n";
    return 0;
  });
}

} // namespace mesoscaf
