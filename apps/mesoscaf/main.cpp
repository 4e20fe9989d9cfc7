// `mesoscaf`: one binary, one subcommand per role. Each subcommand lives in its own file and gets
// argv shifted by one (argv[0] is the subcommand's name), so CAF's option parser sees only its options.
#include "apps/mesoscaf/subcommands.hpp"

#include "actors/interfaces.hpp"
#include "config/support/version.hpp"
#include "containerizer/fetcher.hpp"

#include <cstring>
#include <iostream>
#include <string>

namespace {

void usage(std::ostream& os) {
  os << "usage: mesoscaf <command> [options]\n"
        "\n"
        "commands:\n"
        "  master    run a master:  mesoscaf master --port=5050 --work-dir=DIR\n"
        "  agent     run an agent:  mesoscaf agent --master=127.0.0.1:5050 --port=0 --work-dir=DIR\n"
        "                                         [--resources=\"cpus:4;mem:4096;disk:10000;ports:[31000-32000]\"]\n"
        "  local     run a master and N agents in one process until SIGTERM/SIGINT:\n"
        "                           mesoscaf local --agents=3 [--port=0] [--work-dir=DIR] [--resources=...]\n"
        "  execute   run one task and wait for it:\n"
        "                           mesoscaf execute --master=127.0.0.1:5050 --name=hello --command=\"echo hi\"\n"
        "                                            [--resources=\"cpus:0.1;mem:32\"] [--quiet]\n"
        "\n"
        "operator commands (the master's HTTP API; --master=HOST:HTTP_PORT, default 127.0.0.1:5040, or zk://...;\n"
        "--json prints JSON instead of a table):\n"
        "  state                      the cluster in a few lines\n"
        "  agents                     agents with their HTTP address and resources (used/total)\n"
        "  frameworks                 frameworks, their tasks and resources\n"
        "  tasks [--all]              live tasks (--all: completed ones too)\n"
        "  task log TASK_ID [--stderr] [--follow]\n"
        "                             a task's stdout (or stderr) from its sandbox; --follow until it ends\n"
        "  quota get | set ROLE RESOURCES | remove ROLE\n"
        "                             quota guarantees, e.g. quota set eng \"cpus:1;mem:512\"\n"
        "  weights get | set ROLE=W [ROLE=W ...]\n"
        "  framework teardown FRAMEWORK_ID\n"
        "                             end a framework and its tasks\n"
        "\n"
        "  certs     make the files of mutual TLS (--tls-cert, --tls-key, --tls-ca):\n"
        "                           mesoscaf certs create-ca [--dir=DIR]\n"
        "                           mesoscaf certs create --name=agent-1 [--principal=agent] [--dir=DIR]\n"
        "\n"
        "  version   print the version and the protocol version (also --version)\n"
        "\n"
        "`mesoscaf <command> --help` lists a command's options with their defaults (`--long-help` adds CAF's\n"
        "own, e.g. --scheduler.max-threads). Each option can also be set in the environment as MESOSCAF_<FLAG>\n"
        "(e.g. MESOSCAF_WORK_DIR) or in ./mesoscaf.ini or --config-file=FILE, at the top level or in the\n"
        "command's section ([master], [agent], [local], [execute]; [cli] for the operator commands).\n"
        "Command line > environment > file.\n"
        "Exit codes: 0 success, 1 failure, 2 bad arguments.\n";
}

void version(std::ostream& os) {
  os << "mesoscaf " << mesoscaf::product_version() << " (protocol " << mesoscaf::protocol_version << ")\n";
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(std::cout);
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    version(std::cout);
    return 0;
  }
  int sub_argc = argc - 1;
  char** sub_argv = argv + 1;
  if (cmd == "master")
    return mesoscaf::master_main(sub_argc, sub_argv);
  if (cmd == "agent")
    return mesoscaf::agent_main(sub_argc, sub_argv);
  if (cmd == "local")
    return mesoscaf::local_main(sub_argc, sub_argv);
  if (cmd == "execute")
    return mesoscaf::execute_main(sub_argc, sub_argv);
  if (cmd == "state")
    return mesoscaf::state_main(sub_argc, sub_argv);
  if (cmd == "agents")
    return mesoscaf::agents_main(sub_argc, sub_argv);
  if (cmd == "frameworks")
    return mesoscaf::frameworks_main(sub_argc, sub_argv);
  if (cmd == "tasks")
    return mesoscaf::tasks_main(sub_argc, sub_argv);
  if (cmd == "task")
    return mesoscaf::task_main(sub_argc, sub_argv);
  if (cmd == "quota")
    return mesoscaf::quota_main(sub_argc, sub_argv);
  if (cmd == "weights")
    return mesoscaf::weights_main(sub_argc, sub_argv);
  if (cmd == "framework")
    return mesoscaf::framework_main(sub_argc, sub_argv);
  if (cmd == "certs")
    return mesoscaf::certs_main(sub_argc, sub_argv);
  if (cmd == "command-executor") // hidden: the agent starts it for tasks without a custom executor
    return mesoscaf::command_executor_main(sub_argc, sub_argv);
  if (cmd == "fetcher") // hidden: the agent runs it (as the task's user) to fetch a task's URIs into its sandbox
    return mesoscaf::run_fetcher(sub_argc, sub_argv);
  std::cerr << "mesoscaf: unknown command `" << cmd << "`\n\n";
  usage(std::cerr);
  return 2;
}
