#define CAF_SUITE actors_leader_election
#include "test.hpp"

#include "actors/ha/leader_election.hpp"

#include <set>
#include <vector>

using namespace mesoscaf;

namespace {

master_location loc(const std::string& id, uint16_t port) {
  master_location l;
  l.id = id;
  l.host = "127.0.0.1";
  l.port = port;
  return l;
}

/// Records what a contender reports.
struct recorder {
  std::vector<contender_event> events;
  std::vector<std::string> whys;
  std::function<void(contender_event, const std::string&)> fn() {
    return [this](contender_event e, const std::string& why) {
      events.push_back(e);
      whys.push_back(why);
    };
  }
};

} // namespace

TEST(zookeeper urls parse) {
  zookeeper_url u;
  CHECK_EQUAL(parse_zookeeper_url("zk://127.0.0.1:2181/mesoscaf", u), "");
  CHECK_EQUAL(u.servers, "127.0.0.1:2181");
  CHECK_EQUAL(u.path, "/mesoscaf");
  CHECK_EQUAL(parse_zookeeper_url("zk://127.0.0.1:2181,127.0.0.1:2182,zk3:2183/a/b/", u), "");
  CHECK_EQUAL(u.servers, "127.0.0.1:2181,127.0.0.1:2182,zk3:2183");
  CHECK_EQUAL(u.path, "/a/b");
  CHECK(is_zookeeper_url("zk://x"));
  CHECK(!is_zookeeper_url("127.0.0.1:5050"));
}

TEST(zookeeper urls carry digest credentials that logs never show) {
  zookeeper_url u;
  CHECK_EQUAL(parse_zookeeper_url("zk://mesos:s3cr:et@127.0.0.1:2181,zk2:2182/mesoscaf", u), "");
  CHECK_EQUAL(u.servers, "127.0.0.1:2181,zk2:2182");
  CHECK_EQUAL(u.path, "/mesoscaf");
  CHECK_EQUAL(u.credentials, "mesos:s3cr:et");
  CHECK_EQUAL(redact_zookeeper_url("zk://mesos:s3cr:et@127.0.0.1:2181/mesoscaf"), "zk://mesos:***@127.0.0.1:2181/mesoscaf");
  CHECK_EQUAL(redact_zookeeper_url("zk://127.0.0.1:2181/m"), "zk://127.0.0.1:2181/m");
  CHECK_EQUAL(redact_zookeeper_url("10.0.0.1:5050"), "10.0.0.1:5050");
  // An error names the URL without its password.
  auto err = parse_zookeeper_url("zk://mesos:hunter2@127.0.0.1:0/m", u);
  CHECK_NOT_EQUAL(err, "");
  CHECK_EQUAL(err.find("hunter2"), std::string::npos);
  CHECK_EQUAL(parse_zookeeper_url("zk://127.0.0.1:2181/m", u), "");
  CHECK_EQUAL(u.credentials, "");
}

TEST(bad zookeeper urls are refused and leave the output alone) {
  zookeeper_url u;
  u.servers = "untouched";
  for (auto bad : {"127.0.0.1:2181/m", "zk://", "zk:///mesoscaf", "zk://127.0.0.1/mesoscaf",
                   "zk://127.0.0.1:0/m", "zk://127.0.0.1:65536/m", "zk://127.0.0.1:21x1/m", "zk://:2181/m",
                   "zk://127.0.0.1:2181", "zk://127.0.0.1:2181/", "zk://127.0.0.1:2181//", "zk://a:1,/m",
                   "zk://a:1,b/m", "zk://a:1/x//y", "zk://a:1/x/../y", "zk://user@a:1/m", "zk://:pw@a:1/m",
                   "zk://user:@a:1/m", "zk://us er:pw@a:1/m", "zk://user:pw@/m"}) {
    auto err = parse_zookeeper_url(bad, u);
    MESSAGE(bad << " -> " << err);
    CHECK_NOT_EQUAL(err, "");
    CHECK_EQUAL(u.servers, "untouched");
  }
}

TEST(make_master_detector takes host port or zk urls) {
  std::string err;
  auto d = make_master_detector("10.0.0.1:5050", zookeeper_options{}, err);
  REQUIRE(d != nullptr);
  CHECK_EQUAL(err, "");
  CHECK_EQUAL(d->describe(), "10.0.0.1:5050");
  std::vector<master_location> seen;
  d->watch([&](const master_location& l) { seen.push_back(l); });
  REQUIRE_EQUAL(seen.size(), 1u);
  CHECK_EQUAL(seen[0].host, "10.0.0.1");
  CHECK_EQUAL(seen[0].port, 5050);
  CHECK(!seen[0].empty());
  d->close();
  d->watch([&](const master_location& l) { seen.push_back(l); });
  CHECK_EQUAL(seen.size(), 1u);  // closed: no callback
  for (auto bad : {"", "localhost", "localhost:", ":5050", "host:99999", "host:x", "zk://h:1", "zk://h/p"}) {
    err.clear();
    CHECK(make_master_detector(bad, zookeeper_options{}, err) == nullptr);
    MESSAGE(bad << " -> " << err);
    CHECK_NOT_EQUAL(err, "");
  }
}

TEST(standalone contender is elected at once and never loses) {
  auto c = make_standalone_contender();
  recorder r;
  c->contend(loc("m1", 5050), r.fn());
  REQUIRE_EQUAL(r.events.size(), 1u);
  CHECK(r.events[0] == contender_event::elected);
  c->withdraw();
  c->withdraw();
  CHECK_EQUAL(r.events.size(), 1u);
  CHECK_EQUAL(std::string{to_string(contender_event::lost)}, "lost");
}

TEST(standalone detector names its leader) {
  auto d = make_standalone_detector(loc("m1", 5050));
  master_location seen;
  d->watch([&](const master_location& l) { seen = l; });
  CHECK_EQUAL(seen.id, "m1");
  CHECK_EQUAL(d->describe(), "127.0.0.1:5050");
}

TEST(in process election elects in order and follows withdraw and expiry) {
  auto e = in_process_election::make();
  auto det = e->detector();
  std::vector<std::string> leaders;
  det->watch([&](const master_location& l) { leaders.push_back(l.id); });
  REQUIRE_EQUAL(leaders.size(), 1u);
  CHECK_EQUAL(leaders[0], "");  // nobody yet
  auto c1 = e->contender();
  auto c2 = e->contender();
  auto c3 = e->contender();
  recorder r1, r2, r3;
  c1->contend(loc("m1", 1), r1.fn());
  c2->contend(loc("m2", 2), r2.fn());
  c3->contend(loc("m3", 3), r3.fn());
  CHECK_EQUAL(r1.events.size(), 1u);
  CHECK(r2.events.empty());
  CHECK(r3.events.empty());
  CHECK_EQUAL(leaders, (std::vector<std::string>{"", "m1"}));
  // A late watcher hears the current leader at once.
  master_location late;
  auto det2 = e->detector();
  det2->watch([&](const master_location& l) { late = l; });
  CHECK_EQUAL(late.id, "m1");
  // Orderly withdraw: the next one leads, the old leader hears nothing more.
  c1->withdraw();
  CHECK_EQUAL(r1.events.size(), 1u);
  REQUIRE_EQUAL(r2.events.size(), 1u);
  CHECK(r2.events[0] == contender_event::elected);
  CHECK_EQUAL(leaders.back(), "m2");
  CHECK_EQUAL(late.id, "m2");
  // Session loss of the leader: it gets `lost`, the next one is elected.
  e->expire_leader();
  REQUIRE_EQUAL(r2.events.size(), 2u);
  CHECK(r2.events[1] == contender_event::lost);
  REQUIRE_EQUAL(r3.events.size(), 1u);
  CHECK(r3.events[0] == contender_event::elected);
  CHECK_EQUAL(leaders, (std::vector<std::string>{"", "m1", "m2", "m3"}));
  // Withdrawing a lost contender changes nothing.
  c2->withdraw();
  CHECK_EQUAL(r3.events.size(), 1u);
  // A closed detector hears nothing more; the last leader leaving empties the election.
  det2->close();
  c3->withdraw();
  CHECK_EQUAL(late.id, "m3");
  CHECK_EQUAL(leaders.back(), "");
  CHECK_EQUAL(r3.events.size(), 1u);
}

TEST(in process contender withdrawn before contending never enters) {
  auto e = in_process_election::make();
  auto c1 = e->contender();
  c1->withdraw();
  recorder r1;
  c1->contend(loc("m1", 1), r1.fn());
  CHECK(r1.events.empty());
  auto c2 = e->contender();
  recorder r2;
  c2->contend(loc("m2", 2), r2.fn());
  CHECK_EQUAL(r2.events.size(), 1u);
}

TEST(in process leader may withdraw from its own callback) {
  auto e = in_process_election::make();
  auto c1 = e->contender();
  auto c2 = e->contender();
  recorder r2;
  int calls = 0;
  c1->contend(loc("m1", 1), [&](contender_event, const std::string&) {
    ++calls;
    c1->withdraw();  // re-entrant: the next contender takes over
  });
  c2->contend(loc("m2", 2), r2.fn());
  CHECK_EQUAL(calls, 1);
  CHECK_EQUAL(r2.events.size(), 1u);
}

TEST(master run ids are unique and name the endpoint) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i)
    ids.insert(make_master_run_id("10.1.2.3", 5050));
  CHECK_EQUAL(ids.size(), 100u);
  CHECK_EQUAL(ids.begin()->rfind("10.1.2.3:5050-", 0), 0u);
}
