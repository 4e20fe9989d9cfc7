// Command line and INI validation of the `mesoscaf` subcommands: every bad value is refused with exit code 2,
// including INI values that CAF would silently drop.
#define CAF_SUITE config_daemon_config
#include "test.hpp"

#include "child_process.hpp"
#include "run_config.hpp"

#include "config/daemon_config.hpp"
#include "config/support/byte_size.hpp"
#include "config/support/certificates.hpp"
#include "config/support/network_address.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace mesoscaf;
using mesoscaf::test::run_config;

namespace {

std::string write_ini(const std::string& text) {
  char name[] = "/tmp/mesoscaf-ini-XXXXXX";
  int fd = ::mkstemp(name);
  ::close(fd);
  std::ofstream{name} << text;
  return name;
}

} // namespace

TEST(parse_host_port accepts host and port and rejects the rest) {
  std::string host;
  uint16_t port = 0;
  std::string err;
  CHECK(parse_host_port("127.0.0.1:5050", host, port, &err));
  CHECK_EQUAL(host, "127.0.0.1");
  CHECK_EQUAL(port, 5050);
  for (auto bad : {"", "127.0.0.1", ":5050", "h:", "h:0", "h:65536", "h:12x", "h:-1", "h:999999"}) {
    err.clear();
    CHECK(!parse_host_port(bad, host, port, &err));
    CHECK(!err.empty());
  }
}

TEST(valid master arguments pass and set the values) {
  master_config cfg;
  CHECK_EQUAL(run_config(cfg, {"--port=0", "--work-dir=/tmp/x", "--allocation-interval=250ms"}), -1);
  CHECK_EQUAL(cfg.port, 0);
  CHECK_EQUAL(cfg.work_dir, "/tmp/x");
  CHECK(cfg.allocation_interval == std::chrono::milliseconds(250));
  CHECK_EQUAL(cfg.standby_heap_mb, 256);
  master_config none;
  CHECK_EQUAL(run_config(none, {"--standby-heap-mb=0"}), -1);
  CHECK_EQUAL(none.standby_heap_mb, 0);
}

TEST(offer timeout and weights flags of the master) {
  master_config a;
  CHECK_EQUAL(run_config(a, {}), -1);
  CHECK(a.offer_timeout.count() == 0);   // off by default
  CHECK(a.parsed_weights.empty());
  master_config b;
  CHECK_EQUAL(run_config(b, {"--offer-timeout=30s", "--weights=eng=2,ops=0.5,eng/prod=1.25,*=3"}), -1);
  CHECK(b.offer_timeout == std::chrono::seconds(30));
  CHECK_EQUAL(b.parsed_weights, (std::vector<std::pair<std::string, double>>{
                                  {"eng", 2.0}, {"ops", 0.5}, {"eng/prod", 1.25}, {"*", 3.0}}));
  for (auto arg : {"--offer-timeout=-1s", "--offer-timeout=soon", "--weights=eng", "--weights=eng=0",
                   "--weights=eng=-1", "--weights=eng=abc", "--weights=eng=2x", "--weights=eng=nan",
                   "--weights=eng=inf", "--weights=eng=1,eng=2", "--weights=../x=1", "--weights==1",
                   "--weights=eng=1,", "--weights=eng=1,,ops=2", "--weights=eng= 1"}) {
    master_config cfg;
    MESSAGE(arg);
    CHECK_EQUAL(run_config(cfg, {arg}), 2);
  }
}

TEST(offer timeout and weights flags of the local cluster) {
  local_config a;
  CHECK_EQUAL(run_config(a, {"--offer-timeout=5s", "--weights=eng=2"}), -1);
  CHECK(a.offer_timeout == std::chrono::seconds(5));
  CHECK_EQUAL(a.parsed_weights, (std::vector<std::pair<std::string, double>>{{"eng", 2.0}}));
  for (auto arg : {"--offer-timeout=-1s", "--weights=eng=0", "--weights=a//b=1"}) {
    local_config cfg;
    MESSAGE(arg);
    CHECK_EQUAL(run_config(cfg, {arg}), 2);
  }
}

TEST(parse_weights reports the bad part) {
  std::vector<std::pair<std::string, double>> out{{"keep", 1.0}};
  auto err = parse_weights("eng=2,ops=0", out);
  CHECK_NOT_EQUAL(err.find("ops"), std::string::npos);
  CHECK_EQUAL(out.size(), 1u);   // unchanged on error
  CHECK_EQUAL(out[0].first, "keep");
  err = parse_weights("eng=2,eng=3", out);
  CHECK_NOT_EQUAL(err.find("twice"), std::string::npos);
  CHECK(parse_weights("", out).empty());
  CHECK(out.empty());
}

TEST(our scheduler defaults apply and flags override them) {
  master_config a;
  CHECK_EQUAL(run_config(a, {}), -1);
  CHECK_EQUAL(caf::get_or(a, "scheduler.max-threads", int64_t{0}), 1);
  CHECK_EQUAL(caf::to_string(caf::get_or(a, "scheduler.policy", caf::atom("x"))), "sharing");
  master_config b;
  CHECK_EQUAL(run_config(b, {"--scheduler.max-threads=3"}), -1);
  CHECK_EQUAL(caf::get_or(b, "scheduler.max-threads", int64_t{0}), 3);
  master_config c;
  CHECK_EQUAL(run_config(c, {"--scheduler.max-threads=0"}), 2);
}

TEST(bad master arguments exit 2) {
  for (auto arg : {"--port=99999", "--port=-1", "--port=abc", "--allocation-interval=0s", "--log-level=loud",
                   "--nonsense=1", "positional", "--standby-heap-mb=-1", "--standby-heap-mb=2000000",
                   "--standby-heap-mb=lots"}) {
    master_config cfg;
    MESSAGE(arg);
    CHECK_EQUAL(run_config(cfg, {arg}), 2);
  }
}

TEST(agent arguments are validated) {
  {
    agent_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--master=127.0.0.1:5050", "--work-dir=/tmp/a", "--resources=cpus:4;mem:4096"}), -1);
    CHECK_EQUAL(cfg.master_host, "127.0.0.1");
    CHECK_EQUAL(cfg.master_port, 5050);
  }
  {
    agent_config cfg; // resources omitted: detected later
    CHECK_EQUAL(run_config(cfg, {"--master=h:1", "--work-dir=/tmp/a"}), -1);
  }
  std::vector<std::vector<std::string>> bad{
    {"--master=nohost", "--work-dir=/tmp/a"},
    {"--master=h:70000", "--work-dir=/tmp/a"},
    {"--master=h:1"},                                        // no work dir
    {"--master=h:1", "--work-dir=/tmp/a", "--resources=cpus:-1"},
    {"--master=h:1", "--work-dir=/tmp/a", "--resources=cpus:abc"},
    {"--master=h:1", "--work-dir=/tmp/a", "--port=65536"},
  };
  for (auto& args : bad) {
    agent_config cfg;
    CHECK_EQUAL(run_config(cfg, args), 2);
  }
}

TEST(execute needs a command and valid resources) {
  {
    execute_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--master=127.0.0.1:5050", "--command=echo hi", "--resources=cpus:0.1;mem:32"}), -1);
    CHECK_EQUAL(cfg.command, "echo hi");
  }
  std::vector<std::vector<std::string>> bad{
    {"--master=127.0.0.1:5050"},
    {"--master=127.0.0.1", "--command=true"},
    {"--command=true", "--resources=cpus:nan"},
    {"--command=true", "--resources=ports:[5-1]"},
    {"--command=true", "--resources=mem:1e400"},
    {"--command=true", "--resources="},
    {"--command=true", "--name="},
    {"--command=true", "--kill-after=-1s"},
  };
  for (auto& args : bad) {
    execute_config cfg;
    CHECK_EQUAL(run_config(cfg, args), 2);
  }
}

TEST(local validates the agent count) {
  local_config ok;
  CHECK_EQUAL(run_config(ok, {"--agents=3"}), -1);
  CHECK_EQUAL(ok.agents, 3);
  CHECK_EQUAL(caf::get_or(ok, "scheduler.max-threads", int64_t{0}), 2);
  for (auto arg : {"--agents=0", "--agents=65", "--resources=cpus:x"}) {
    local_config cfg;
    CHECK_EQUAL(run_config(cfg, {arg}), 2);
  }
}

TEST(badly typed or unknown values in the config file are refused instead of dropped) {
  auto bad_type = write_ini("port=\"oops\"\n");
  auto unknown = write_ini("bogus=1\n");
  auto bad_caf = write_ini("[scheduler]\nmax-threads=\"many\"\n");
  auto good = write_ini("port=6000\nwork-dir=\"/tmp/m\"\n");
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + bad_type}), 2);
  }
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + unknown}), 2);
  }
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + bad_caf}), 2);
  }
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + good}), -1);
    CHECK_EQUAL(cfg.port, 6000);
    CHECK_EQUAL(cfg.work_dir, "/tmp/m");
  }
  {
    master_config cfg; // the command line wins over the file
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + good, "--port=7000"}), -1);
    CHECK_EQUAL(cfg.port, 7000);
  }
  for (auto& f : {bad_type, unknown, bad_caf, good})
    std::remove(f.c_str());
}

TEST(parse_rate_limit takes N per DURATION) {
  int64_t n = -1;
  caf::timespan per{-1};
  CHECK_EQUAL(parse_rate_limit("", n, per), "");
  CHECK_EQUAL(n, 0);
  CHECK(per.count() == 0);
  CHECK_EQUAL(parse_rate_limit("1/10s", n, per), "");
  CHECK_EQUAL(n, 1);
  CHECK(per == std::chrono::seconds(10));
  CHECK_EQUAL(parse_rate_limit("100/1min", n, per), "");
  CHECK_EQUAL(n, 100);
  CHECK(per == std::chrono::minutes(1));
  for (auto bad : {"10s", "/10s", "0/10s", "-1/10s", "x/10s", "1/", "1/abc", "1/0s", "1/10", "1/-5s",
                   "9999999999/1s"}) {
    n = 7;
    CHECK(!parse_rate_limit(bad, n, per).empty());
    CHECK_EQUAL(n, 7);
  }
}

TEST(agent health and removal flags of the master) {
  master_config cfg;
  CHECK_EQUAL(run_config(cfg, {}), -1);
  CHECK(cfg.agent_ping_timeout == std::chrono::seconds(15));
  CHECK_EQUAL(cfg.max_agent_ping_timeouts, 5);
  CHECK_EQUAL(cfg.removal_limit_count, 0);
  master_config tight;
  CHECK_EQUAL(run_config(tight, {"--agent-ping-timeout=200ms", "--max-agent-ping-timeouts=2",
                          "--agent-removal-rate-limit=1/2s"}),
              -1);
  CHECK(tight.agent_ping_timeout == std::chrono::milliseconds(200));
  CHECK_EQUAL(tight.max_agent_ping_timeouts, 2);
  CHECK_EQUAL(tight.removal_limit_count, 1);
  CHECK(tight.removal_limit_period == std::chrono::seconds(2));
  for (std::string bad : {"--agent-ping-timeout=0s", "--max-agent-ping-timeouts=0", "--agent-removal-rate-limit=1",
                          "--agent-removal-rate-limit=0/1s"}) {
    master_config c;
    CHECK_EQUAL(run_config(c, {bad}), exit_bad_args);
  }
}

TEST(agent recovery flags) {
  agent_config cfg;
  CHECK_EQUAL(run_config(cfg, {"--work-dir=/tmp/x"}), -1);
  CHECK_EQUAL(cfg.recover, "reconnect");
  CHECK(cfg.executor_registration_timeout == std::chrono::minutes(1));
  agent_config c2;
  CHECK_EQUAL(run_config(c2, {"--work-dir=/tmp/x", "--recover=cleanup", "--executor-registration-timeout=5s"}), -1);
  CHECK_EQUAL(c2.recover, "cleanup");
  CHECK(c2.executor_registration_timeout == std::chrono::seconds(5));
  agent_config c3;
  CHECK_EQUAL(run_config(c3, {"--work-dir=/tmp/x", "--recover=maybe"}), exit_bad_args);
  agent_config c4;
  CHECK_EQUAL(run_config(c4, {"--work-dir=/tmp/x", "--executor-registration-timeout=0s"}), exit_bad_args);
}

TEST(agent sandbox gc flags) {
  agent_config cfg;
  CHECK_EQUAL(run_config(cfg, {"--work-dir=/tmp/x"}), -1);
  CHECK(cfg.gc_delay == std::chrono::hours(168));
  CHECK_EQUAL(cfg.gc_disk_headroom, 0.1);
  CHECK(cfg.disk_watch_interval == std::chrono::minutes(1));
  agent_config c2;
  CHECK_EQUAL(run_config(c2, {"--work-dir=/tmp/x", "--gc-delay=2s", "--gc-disk-headroom=0.25",
                              "--disk-watch-interval=500ms"}),
              -1);
  CHECK(c2.gc_delay == std::chrono::seconds(2));
  CHECK_EQUAL(c2.gc_disk_headroom, 0.25);
  CHECK(c2.disk_watch_interval == std::chrono::milliseconds(500));
  agent_config c3;
  CHECK_EQUAL(run_config(c3, {"--work-dir=/tmp/x", "--gc-disk-headroom=1.5"}), exit_bad_args);
  agent_config c4;
  CHECK_EQUAL(run_config(c4, {"--work-dir=/tmp/x", "--gc-disk-headroom=-0.1"}), exit_bad_args);
  agent_config c5;
  CHECK_EQUAL(run_config(c5, {"--work-dir=/tmp/x", "--disk-watch-interval=0s"}), exit_bad_args);
}

TEST(execute failover partition awareness and checkpoint flags) {
  execute_config cfg;
  CHECK_EQUAL(run_config(cfg, {"--command=true"}), -1);
  CHECK(cfg.failover_timeout.count() == 0);
  CHECK(!cfg.partition_aware);
  CHECK(cfg.checkpoint);
  execute_config c2;
  CHECK_EQUAL(run_config(c2, {"--command=true", "--failover-timeout=30s", "--partition-aware", "--no-checkpoint"}), -1);
  CHECK(c2.failover_timeout == std::chrono::seconds(30));
  CHECK(c2.partition_aware);
  CHECK(!c2.checkpoint);
  execute_config c3;
  CHECK_EQUAL(run_config(c3, {"--command=true", "--failover-timeout=-1s"}), exit_bad_args);
}

TEST(agent and execute accept a ZooKeeper master URL and a session timeout) {
  {
    agent_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--master=zk://127.0.0.1:2181,127.0.0.1:2182/mesoscaf", "--work-dir=/tmp/a",
                          "--zk-session-timeout=5s"}),
                -1);
    CHECK(cfg.master_is_zk);
    CHECK_EQUAL(cfg.parsed_master_zk.servers, "127.0.0.1:2181,127.0.0.1:2182");
    CHECK_EQUAL(cfg.parsed_master_zk.path, "/mesoscaf");
    CHECK(cfg.zk_session_timeout == std::chrono::seconds(5));
    CHECK(cfg.master_host.empty());
  }
  {
    agent_config cfg;  // host:port still works, and the default session timeout is Mesos' 10 s
    CHECK_EQUAL(run_config(cfg, {"--master=127.0.0.1:5050", "--work-dir=/tmp/a"}), -1);
    CHECK(!cfg.master_is_zk);
    CHECK_EQUAL(cfg.master_port, 5050);
    CHECK(cfg.zk_session_timeout == std::chrono::seconds(10));
  }
  {
    execute_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--master=zk://10.0.0.1:2181/a/b", "--command=true", "--zk-session-timeout=2s"}), -1);
    CHECK(cfg.master_is_zk);
    CHECK_EQUAL(cfg.parsed_master_zk.servers, "10.0.0.1:2181");
    CHECK_EQUAL(cfg.parsed_master_zk.path, "/a/b");
    CHECK(cfg.zk_session_timeout == std::chrono::seconds(2));
  }
  for (std::string bad : {"--master=zk://", "--master=zk:///mesoscaf", "--master=zk://127.0.0.1:70000/mesoscaf",
                          "--master=zk://127.0.0.1:2181", "--master=zk://127.0.0.1:x/m", "--master=http://h:1/m",
                          "--zk-session-timeout=0s", "--zk-session-timeout=1h", "--zk-session-timeout=soon"}) {
    MESSAGE(bad);
    std::string master_arg = bad.rfind("--master=", 0) == 0 ? bad : "--master=zk://127.0.0.1:2181/m";
    std::vector<std::string> extra;
    if (bad.rfind("--zk", 0) == 0)
      extra.push_back(bad);
    agent_config a;
    auto args = extra;
    args.push_back(master_arg);
    args.push_back("--work-dir=/tmp/a");
    CHECK_EQUAL(run_config(a, args), 2);
    execute_config e;
    args = extra;
    args.push_back(master_arg);
    args.push_back("--command=true");
    CHECK_EQUAL(run_config(e, args), 2);
  }
}

TEST(parse_master_address tells host port from ZooKeeper URLs and names the problem) {
  std::string host;
  uint16_t port = 0;
  bool is_zk = true;
  zookeeper_url zk;
  CHECK_EQUAL(parse_master_address("m1:5050", host, port, is_zk, zk), "");
  CHECK(!is_zk);
  CHECK_EQUAL(host, "m1");
  CHECK_EQUAL(port, 5050);
  CHECK_EQUAL(parse_master_address("zk://z1:2181,z2:2182/ha", host, port, is_zk, zk), "");
  CHECK(is_zk);
  CHECK_EQUAL(zk.servers, "z1:2181,z2:2182");
  CHECK_EQUAL(zk.path, "/ha");
  auto err = parse_master_address("nohost", host, port, is_zk, zk);
  CHECK_NOT_EQUAL(err.find("zk://"), std::string::npos);  // the message names both accepted forms
  CHECK_NOT_EQUAL(parse_master_address("zk://", host, port, is_zk, zk), "");
}

TEST(advertised addresses of master and agent) {
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--ip=0.0.0.0", "--advertise-ip=10.1.2.3", "--advertise-port=6060"}), -1);
    CHECK_EQUAL(cfg.advertise_ip, "10.1.2.3");
    CHECK_EQUAL(cfg.advertise_port, 6060);
  }
  {
    agent_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--work-dir=/tmp/a", "--ip=0.0.0.0", "--advertise-ip=fd00::7", "--advertise-port=1"}), -1);
    CHECK_EQUAL(cfg.advertise_ip, "fd00::7");
  }
  // Names, wildcards (not dialable), junk and bad ports exit 2, on both daemons.
  for (auto bad : {"--advertise-ip=node1.example", "--advertise-ip=0.0.0.0", "--advertise-ip=::", "--advertise-ip=1.2.3",
                   "--advertise-ip=10.0.0.1:80", "--advertise-port=-1", "--advertise-port=65536",
                   "--advertise-port=x"}) {
    master_config m;
    CHECK_EQUAL(run_config(m, {bad}), exit_bad_args);
    agent_config a;
    CHECK_EQUAL(run_config(a, {"--work-dir=/tmp/a", bad}), exit_bad_args);
  }
  agent_config empty_ip;
  CHECK_EQUAL(run_config(empty_ip, {"--work-dir=/tmp/a", "--ip="}), exit_bad_args);
}

TEST(parse_byte_size takes bytes with binary units) {
  CHECK_EQUAL(parse_byte_size("67108864").value_or(0), 67108864u);
  CHECK_EQUAL(parse_byte_size("64MiB").value_or(0), 64u << 20);
  CHECK_EQUAL(parse_byte_size("64M").value_or(0), 64u << 20);
  CHECK_EQUAL(parse_byte_size("512KiB").value_or(0), 512u << 10);
  CHECK_EQUAL(parse_byte_size("1GiB").value_or(0), uint64_t{1} << 30);
  for (auto bad : {"", "MiB", "-1", "1.5MiB", "64 MiB", "64mb", "64TiB", "18446744073709551615GiB", "1e6"})
    CHECK(!parse_byte_size(bad));
}

TEST(every daemon takes a bounded max message size) {
  master_config m;
  CHECK_EQUAL(run_config(m, {"--max-message-size=16MiB"}), -1);
  CHECK_EQUAL(m.max_message_size, "16MiB");
  agent_config a;
  CHECK_EQUAL(run_config(a, {"--master=127.0.0.1:5050", "--work-dir=/tmp/a", "--max-message-size=1048576"}), -1);
  for (auto bad : {"--max-message-size=0", "--max-message-size=1KiB", "--max-message-size=4GiB",
                   "--max-message-size=lots", "--max-message-size=-5"}) {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {bad}), 2);
  }
}

TEST(connection bounds of the daemons are validated) {
  master_config m;
  CHECK_EQUAL(run_config(m, {"--max-connections=500", "--handshake-timeout=3s"}), -1);
  CHECK_EQUAL(m.max_connections, 500);
  CHECK(m.handshake_timeout == std::chrono::seconds(3));
  for (auto bad : {"--max-connections=0", "--max-connections=-3", "--max-connections=2000000",
                   "--handshake-timeout=1s", "--handshake-timeout=0s", "--handshake-timeout=1h"}) {
    master_config cfg;
    MESSAGE(bad);
    CHECK_EQUAL(run_config(cfg, {bad}), 2);
  }
}

TEST(TLS ACL and credential flags are checked before a daemon starts) {
  mesoscaf::test::temp_dir dir{"mesoscaf-flags-tls"};
  REQUIRE_EQUAL(create_ca(dir.path(), "flags CA", 1), "");
  REQUIRE_EQUAL(create_certificate(dir.path(), dir / "ca.pem", dir / "ca-key.pem", {"m", "master", {}, 1}), "");
  mesoscaf::test::temp_dir other{"mesoscaf-flags-tls2"};
  REQUIRE_EQUAL(create_ca(other.path(), "other CA", 1), "");
  auto cert = "--tls-cert=" + dir / "m.pem";
  auto key = "--tls-key=" + dir / "m-key.pem";
  auto ca = "--tls-ca=" + dir / "ca.pem";
  std::ofstream{dir / "bad.json"} << "{";
  std::ofstream{dir / "acls.json"} << R"({"update_weights": [{"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}]})";
  std::ofstream{dir / "creds.json"} << R"({"credentials": [{"principal": "ops", "secret": "0123456789"}]})";
  std::vector<std::vector<std::string>> bad{
    {"--tls=required"},                                  // no files
    {"--tls=maybe", cert, key, ca},                      // unknown mode
    {"--tls=off", cert},                                 // files with TLS off
    {cert, key},                                         // no CA
    {cert, key, "--tls-ca=" + other / "ca.pem"},         // signed by another CA
    {cert, "--tls-key=" + dir / "ca-key.pem", ca},       // another certificate's key
    {"--acls=" + dir / "missing.json"},
    {"--acls=" + dir / "bad.json"},
    {"--credentials=" + dir / "bad.json"},
    {"--credentials=" + dir / "acls.json"},
  };
  for (auto& args : bad) {
    master_config cfg;
    MESSAGE(args.front());
    CHECK_EQUAL(run_config(cfg, args), 2);
  }
  master_config good;
  REQUIRE_EQUAL(run_config(good, {cert, key, ca, "--acls=" + dir / "acls.json", "--credentials=" + dir / "creds.json"}),
                -1);
  CHECK(good.tls_on());
  CHECK(good.parsed_acls.configured());
  CHECK(!good.parsed_acls.authorized(acl_action::update_weights, std::string{"ops"}, "eng"));
  CHECK(good.parsed_credentials.configured());
  master_config plain;
  REQUIRE_EQUAL(run_config(plain, {}), -1);
  CHECK(!plain.tls_on());
  CHECK(!plain.parsed_acls.configured());
}
