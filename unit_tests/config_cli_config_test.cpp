// The operator CLI's arguments: --master forms, operands of quota, weights, task log and framework teardown;
// every bad one is refused with exit code 2 before anything connects.
#define CAF_SUITE config_cli_config
#include "test.hpp"

#include "run_config.hpp"

#include "config/cli_config.hpp"

#include <string>
#include <vector>

using namespace mesoscaf;
using mesoscaf::test::run_config;

TEST(the master defaults to the local HTTP port and takes zk URLs) {
  cli_config plain{"state"};
  CHECK_EQUAL(run_config(plain, {}), -1);
  CHECK_EQUAL(plain.master_host, "127.0.0.1");
  CHECK_EQUAL(plain.master_port, 5040);
  CHECK(!plain.master_is_zk);
  cli_config zk{"state"};
  CHECK_EQUAL(run_config(zk, {"--master=zk://127.0.0.1:2181/mesoscaf", "--json"}), -1);
  CHECK(zk.master_is_zk);
  CHECK_EQUAL(zk.parsed_master_zk.path, "/mesoscaf");
  CHECK(zk.json);
  cli_config bad{"state"};
  CHECK_EQUAL(run_config(bad, {"--master=nohost"}), 2);
  cli_config bad_timeout{"state"};
  CHECK_EQUAL(run_config(bad_timeout, {"--timeout=0s"}), 2);
}

TEST(commands without operands refuse them) {
  cli_config agents{"agents"};
  CHECK_EQUAL(run_config(agents, {"extra"}), 2);
  tasks_config tasks;
  CHECK_EQUAL(run_config(tasks, {"--all"}), -1);
  CHECK(tasks.all);
  tasks_config tasks_extra;
  CHECK_EQUAL(run_config(tasks_extra, {"running"}), 2);
}

TEST(task log takes one task ID and its flags in any order) {
  task_log_config cfg;
  CHECK_EQUAL(run_config(cfg, {"log", "--follow", "t1", "--stderr"}), -1);
  CHECK_EQUAL(cfg.task, "t1");
  CHECK(cfg.follow);
  CHECK(cfg.stderr_file);
  for (std::vector<std::string> bad : {std::vector<std::string>{}, {"log"}, {"log", "a", "b"}, {"show", "t1"}}) {
    task_log_config c;
    CHECK_EQUAL(run_config(c, bad), 2);
  }
}

TEST(quota operands are checked and the resources parsed) {
  quota_config get;
  CHECK_EQUAL(run_config(get, {"get"}), -1);
  CHECK_EQUAL(get.action, "get");
  quota_config set;
  CHECK_EQUAL(run_config(set, {"set", "eng", "cpus:1;mem:512"}), -1);
  CHECK_EQUAL(set.role, "eng");
  CHECK_EQUAL(set.guarantee.scalar_value("cpus"), 1.0);
  CHECK_EQUAL(set.guarantee.scalar_value("mem"), 512.0);
  quota_config remove;
  CHECK_EQUAL(run_config(remove, {"remove", "eng"}), -1);
  CHECK_EQUAL(remove.role, "eng");
  for (std::vector<std::string> bad :
       {std::vector<std::string>{}, {"list"}, {"get", "eng"}, {"set", "eng"}, {"set", "eng", "cpus:x"},
        {"set", "eng", "ports:[1-2]"}, {"set", "eng", "cpus(eng):1"}, {"set", "bad role", "cpus:1"},
        {"set", "*", "cpus:1"}, {"set", "eng", ""}, {"remove"}, {"remove", "a", "b"}}) {
    quota_config c;
    CHECK_EQUAL(run_config(c, bad), 2);
  }
}

TEST(weights set takes ROLE=W operands) {
  weights_config set;
  CHECK_EQUAL(run_config(set, {"set", "eng=2", "ops=0.5"}), -1);
  REQUIRE_EQUAL(set.weights.size(), 2u);
  CHECK_EQUAL(set.weights[0].first, "eng");
  CHECK_EQUAL(set.weights[0].second, 2.0);
  CHECK_EQUAL(set.weights[1].first, "ops");
  CHECK_EQUAL(set.weights[1].second, 0.5);
  weights_config get;
  CHECK_EQUAL(run_config(get, {"get"}), -1);
  for (std::vector<std::string> bad : {std::vector<std::string>{}, {"set"}, {"set", "eng"}, {"set", "eng=0"},
                                       {"set", "eng=1", "eng=2"}, {"set", "eng=x"}, {"get", "eng"}, {"put"}}) {
    weights_config c;
    CHECK_EQUAL(run_config(c, bad), 2);
  }
}

TEST(framework teardown takes one framework ID) {
  framework_cli_config cfg;
  CHECK_EQUAL(run_config(cfg, {"teardown", "fw-1"}), -1);
  CHECK_EQUAL(cfg.framework, "fw-1");
  for (std::vector<std::string> bad : {std::vector<std::string>{}, {"teardown"}, {"remove", "fw-1"},
                                       {"teardown", "a", "b"}}) {
    framework_cli_config c;
    CHECK_EQUAL(run_config(c, bad), 2);
  }
}
