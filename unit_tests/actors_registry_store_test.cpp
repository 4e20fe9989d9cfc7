#define CAF_SUITE actors_registry_store
#include "test.hpp"

#include "actors/ha/registry_records.hpp"
#include "actors/ha/registry_store.hpp"
#include "actors/ha/zookeeper_session.hpp"

#include <caf/binary_serializer.hpp>

#include <sqlite3.h>
#include <zookeeper/zookeeper.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <unistd.h>

#include "zookeeper_server.hpp"

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad resources in test: " << text);
  return *r;
}

agent_info agent(const std::string& id, uint16_t port = 5051, const std::string& total = "cpus:4;mem:1024") {
  agent_info a;
  a.id = agent_id{id};
  a.hostname = "host-" + id;
  a.port = port;
  a.total = res(total);
  a.attributes["rack"] = "r1";
  return a;
}

std::vector<char> bytes(const registry_data& reg) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(const_cast<registry_data&>(reg));
  static_cast<void>(err);
  return buf;
}

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/mesoscaf-registry-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    if (d == nullptr)
      CAF_FAIL("mkdtemp failed");
    path = d;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// One store kind under test. `open` opens the store; for a durable store, every call opens the same place anew.
struct store_kind {
  std::string name;
  std::string describe_prefix;
  bool durable = false;
  std::function<std::shared_ptr<registry_store>()> open;
};

/// Saves `ops` through `store` and applies them to `expected` (they must apply).
void save_ok(registry_store& store, registry_data& expected, const std::vector<registry_operation>& ops) {
  for (const auto& op : ops)
    REQUIRE_EQUAL(apply_registry_operation(expected, op), "");
  CHECK_EQUAL(store.save(ops), "");
}

void check_loads(registry_store& store, const registry_data& expected, const std::string& what) {
  registry_data got;
  auto err = store.load(got);
  CHECK_EQUAL(err, "");
  if (bytes(got) != bytes(expected))
    MESSAGE(what << ": the loaded registry differs: " << got.admitted.size() << "/" << got.unreachable.size()
                  << "/" << got.gone.size() << "/" << got.weights.size() << "/" << got.quota.size()
                  << " admitted/unreachable/gone/weights/quota, expected " << expected.admitted.size() << "/"
                  << expected.unreachable.size() << "/" << expected.gone.size() << "/"
                  << expected.weights.size() << "/" << expected.quota.size());
  CHECK(bytes(got) == bytes(expected));
}

// THE contract: every store passes it.
void run_contract(const store_kind& kind) {
  MESSAGE("registry store contract: " << kind.name);
  auto store = kind.open();
  REQUIRE(store != nullptr);
  CHECK_EQUAL(store->describe().compare(0, kind.describe_prefix.size(), kind.describe_prefix), 0);
  registry_data expected;
  // A new store is empty.
  check_loads(*store, expected, kind.name + ": new store");
  CHECK_EQUAL(store->save({}), "");
  check_loads(*store, expected, kind.name + ": empty batch");
  // Every kind of operation, and keys that are not plain file or node names.
  save_ok(*store, expected,
          {admit_agent_op(agent("a1")), admit_agent_op(agent("a2")), admit_agent_op(agent("a3")),
           admit_agent_op(agent("../we ird/%id.")), set_weight_op("eng", 2.5),
           set_quota_op("eng/prod", quota_info{res("cpus:2"), res("cpus:8;mem:4096")})});
  check_loads(*store, expected, kind.name + ": first batch");
  save_ok(*store, expected,
          {mark_unreachable_op(agent_id{"a2"}, 10.25), remove_agent_op(agent_id{"a3"}, 20.5),
           update_agent_op(agent("a1", 7000, "cpus:8")), set_weight_op("eng/prod", 0.5), set_weight_op("eng", 1.0),
           set_quota_op("eng/prod", quota_info{res("cpus:1"), {}})});
  check_loads(*store, expected, kind.name + ": second batch");
  // One key touched many times in one batch; the last state wins.
  save_ok(*store, expected,
          {admit_agent_op(agent("a4")), mark_unreachable_op(agent_id{"a4"}, 1), mark_reachable_op(agent("a4", 9)),
           update_agent_op(agent("a4", 10)), admit_agent_op(agent("a5")), remove_agent_op(agent_id{"a5"}, 2),
           mark_reachable_op(agent("a2", 11)), set_weight_op("tmp", 3), set_weight_op("tmp", 1),
           set_quota_op("eng/prod", quota_info{})});
  check_loads(*store, expected, kind.name + ": repeated keys");
  CHECK_EQUAL(expected.admitted.at(agent_id{"a4"}).port, 10);
  CHECK_EQUAL(expected.gone.count(agent_id{"a5"}), 1u);
  // A batch with an operation that does not apply is refused as a whole.
  {
    auto err = store->save({admit_agent_op(agent("a6")), admit_agent_op(agent("a1"))});
    CHECK_NOT_EQUAL(err, "");
    MESSAGE(kind.name << " refused a bad batch: " << err);
    check_loads(*store, expected, kind.name + ": after a refused batch");
  }
  // The store still works after a refused batch.
  save_ok(*store, expected, {admit_agent_op(agent("a6"))});
  check_loads(*store, expected, kind.name + ": after a refused batch and a good one");
  // A big batch (more than one ZooKeeper multi).
  {
    std::vector<registry_operation> ops;
    for (int i = 0; i < 1200; ++i)
      ops.push_back(admit_agent_op(agent("bulk-" + std::to_string(i), static_cast<uint16_t>(1000 + i))));
    save_ok(*store, expected, ops);
    std::vector<registry_operation> ops2;
    for (int i = 0; i < 1200; i += 2)
      ops2.push_back(mark_unreachable_op(agent_id{"bulk-" + std::to_string(i)}, i));
    save_ok(*store, expected, ops2);
    check_loads(*store, expected, kind.name + ": big batches");
    CHECK_EQUAL(expected.unreachable.size(), 600u);
  }
  if (kind.durable) {
    // A new instance (a restarted master, a new ZooKeeper session) sees everything.
    store.reset();
    auto again = kind.open();
    REQUIRE(again != nullptr);
    check_loads(*again, expected, kind.name + ": reopened");
    // And can go on writing.
    save_ok(*again, expected, {remove_agent_op(agent_id{"a6"}, 99), set_weight_op("ops", 4)});
    again.reset();
    auto third = kind.open();
    REQUIRE(third != nullptr);
    check_loads(*third, expected, kind.name + ": reopened twice");
  }
}

void sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  REQUIRE_EQUAL(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* msg = nullptr;
  auto rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK)
    CAF_FAIL("sql failed: " << (msg ? msg : "?"));
  sqlite3_close(db);
}

// A SQLite registry with a1 admitted and role eng weighted; returns its path.
std::string sqlite_with_data(const temp_dir& dir) {
  auto path = dir.path + "/registry.sqlite";
  std::string error;
  auto store = make_sqlite_registry_store(path, error);
  REQUIRE(store != nullptr);
  registry_data expected;
  save_ok(*store, expected, {admit_agent_op(agent("a1")), admit_agent_op(agent("a2")), set_weight_op("eng", 2)});
  return path;
}

// Loading through a new store must fail with a message containing `why` (and not crash).
void check_load_fails(const std::string& path, const std::string& why) {
  std::string error;
  auto store = make_sqlite_registry_store(path, error);
  if (store == nullptr) {
    MESSAGE("open refused: " << error);
    CHECK_NOT_EQUAL(error.find(why), std::string::npos);
    return;
  }
  registry_data reg;
  auto err = store->load(reg);
  MESSAGE("load refused: " << err);
  CHECK_NOT_EQUAL(err, "");
  if (err.find(why) == std::string::npos) {
    MESSAGE("load error '" << err << "' does not mention '" << why << "'");
    CHECK(false && "load error does not mention the expected text");
  }
}

} // namespace

TEST(records round trip and reject garbage) {
  registry_agent_record a{registry_agent_state::unreachable, 12.5, agent("x")};
  registry_agent_record a2;
  CHECK_EQUAL(decode_registry_record(encode_registry_record(a), a2), "");
  CHECK(a2.state == registry_agent_state::unreachable);
  CHECK_EQUAL(a2.time, 12.5);
  CHECK_EQUAL(a2.info.hostname, "host-x");
  registry_role_record r{2, quota_info{res("cpus:1"), {}}};
  registry_role_record r2;
  CHECK_EQUAL(decode_registry_record(encode_registry_record(r), r2), "");
  CHECK_EQUAL(r2.weight, 2);
  CHECK_EQUAL(r2.quota.guarantee, res("cpus:1"));
  CHECK_NOT_EQUAL(decode_registry_record("", a2), "");
  auto bad_version = encode_registry_record(a);
  bad_version[0] = 7;
  CHECK_NOT_EQUAL(decode_registry_record(bad_version, a2).find("version"), std::string::npos);
  CHECK_NOT_EQUAL(decode_registry_record(encode_registry_record(a) + "xx", a2).find("trailing"), std::string::npos);
  auto cut = encode_registry_record(a);
  cut.resize(cut.size() / 2);
  CHECK_NOT_EQUAL(decode_registry_record(cut, a2), "");
  // Random garbage never crashes.
  std::mt19937 rng{42};
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    if (!junk.empty() && i % 2 == 0)
      junk[0] = registry_record_version;
    registry_agent_record x;
    registry_role_record y;
    static_cast<void>(decode_registry_record(junk, x));
    static_cast<void>(decode_registry_record(junk, y));
  }
}

TEST(loaded records are checked) {
  registry_data reg;
  registry_agent_record a{registry_agent_state::admitted, 0, agent("a1")};
  CHECK_EQUAL(add_loaded_registry_record(reg, "a1", a), "");
  CHECK_NOT_EQUAL(add_loaded_registry_record(reg, "a1", a).find("two records"), std::string::npos);
  CHECK_NOT_EQUAL(add_loaded_registry_record(reg, "b", a).find("filed under"), std::string::npos);
  registry_agent_record bad_state{static_cast<registry_agent_state>(9), 0, agent("a9")};
  CHECK_NOT_EQUAL(add_loaded_registry_record(reg, "a9", bad_state).find("unknown state"), std::string::npos);
  registry_agent_record bad_time{registry_agent_state::gone, -1, agent("a8")};
  CHECK_NOT_EQUAL(add_loaded_registry_record(reg, "a8", bad_time).find("invalid time"), std::string::npos);
  CHECK_NOT_EQUAL(add_loaded_registry_record(reg, "eng", registry_role_record{0, {}}), "");
  CHECK_NOT_EQUAL(add_loaded_registry_record(reg, "eng", registry_role_record{1, {}}).find("empty record"), std::string::npos);
  CHECK_NOT_EQUAL(add_loaded_registry_record(reg, "*", registry_role_record{2, {}}), "");
  CHECK_EQUAL(add_loaded_registry_record(reg, "eng", registry_role_record{2, {}}), "");
  CHECK_EQUAL(reg.admitted.size(), 1u);
  CHECK_EQUAL(reg.weights.size(), 1u);
}

TEST(contract in_memory) {
  auto store = make_in_memory_registry_store();
  // Not durable: one instance stands for the store.
  run_contract(store_kind{"in_memory", "in_memory", false, [store] { return store; }});
}

TEST(contract sqlite) {
  temp_dir dir;
  auto path = dir.path + "/registry.sqlite";
  run_contract(store_kind{"sqlite", "sqlite:" + path, true, [path]() -> std::shared_ptr<registry_store> {
                            std::string error;
                            auto s = make_sqlite_registry_store(path, error);
                            if (s == nullptr)
                              CAF_FAIL("cannot open " << path << ": " << error);
                            return s;
                          }});
}

TEST(sqlite corrupt record is a load error) {
  temp_dir dir;
  auto path = sqlite_with_data(dir);
  sql(path, "UPDATE agents SET record = x'01ff00ff00ff' WHERE id = 'a1'");
  check_load_fails(path, "a1");
}

TEST(sqlite foreign record version is a load error) {
  temp_dir dir;
  auto path = sqlite_with_data(dir);
  sql(path, "UPDATE agents SET record = x'09000000' WHERE id = 'a1'");
  check_load_fails(path, "version");
}

TEST(sqlite record under the wrong key is a load error) {
  temp_dir dir;
  auto path = sqlite_with_data(dir);
  sql(path, "UPDATE agents SET record = (SELECT record FROM agents WHERE id = 'a2') WHERE id = 'a1'");
  check_load_fails(path, "filed under");
}

TEST(sqlite bad role record is a load error) {
  temp_dir dir;
  auto path = sqlite_with_data(dir);
  sql(path, "UPDATE roles SET record = x'01' WHERE role = 'eng'");
  check_load_fails(path, "eng");
}

TEST(sqlite null record is a load error) {
  temp_dir dir;
  auto path = sqlite_with_data(dir);
  sql(path, "DROP TABLE agents; CREATE TABLE agents(id TEXT PRIMARY KEY, record BLOB);"
            "INSERT INTO agents VALUES('a7', NULL)");
  check_load_fails(path, "a7");
}

TEST(sqlite unknown schema version is refused) {
  temp_dir dir;
  auto path = sqlite_with_data(dir);
  sql(path, "UPDATE meta SET value = '2' WHERE key = 'schema'");
  check_load_fails(path, "schema");
}

TEST(sqlite file that is not a database is refused) {
  temp_dir dir;
  auto path = dir.path + "/registry.sqlite";
  {
    std::ofstream out{path};
    for (int i = 0; i < 200; ++i)
      out << "this is not a SQLite database, line " << i << "\n";
  }
  std::string error;
  auto store = make_sqlite_registry_store(path, error);
  CHECK(store == nullptr);
  MESSAGE("refused: " << error);
  CHECK_NOT_EQUAL(error.find(path), std::string::npos);
}

TEST(an emptied sqlite registry is refused unless the master may start empty) {
  temp_dir dir;
  auto path = sqlite_with_data(dir);
  // Truncated to 0 bytes: SQLite would open it as a new, empty database.
  std::filesystem::resize_file(path, 0);
  std::string error;
  CHECK(make_sqlite_registry_store(path, error) == nullptr);
  MESSAGE("refused: " << error);
  CHECK_NOT_EQUAL(error.find("is empty"), std::string::npos);
  CHECK_NOT_EQUAL(error.find("--registry-allow-empty"), std::string::npos);
  // Refusing wrote nothing: the file is still empty, and a second try is refused as well.
  CHECK_EQUAL(std::filesystem::file_size(path), 0u);
  CHECK(make_sqlite_registry_store(path, error) == nullptr);
  // Removed altogether: the same.
  std::filesystem::remove(path);
  CHECK(make_sqlite_registry_store(path, error) == nullptr);
  CHECK_NOT_EQUAL(error.find("is empty"), std::string::npos);
  // The operator's deliberate reset: a new, empty registry, which later opens without the flag.
  error.clear();
  {
    auto store = make_sqlite_registry_store(path, error, true);
    REQUIRE(store != nullptr);
    registry_data reg;
    CHECK_EQUAL(store->load(reg), "");
    CHECK(reg.admitted.empty());
  }
  CHECK(make_sqlite_registry_store(path, error) != nullptr);
}

TEST(another master registry in its place is refused unless allowed) {
  temp_dir mine, theirs;
  auto path = sqlite_with_data(mine);
  auto other = sqlite_with_data(theirs);
  std::filesystem::copy_file(other, path, std::filesystem::copy_options::overwrite_existing);
  std::string error;
  CHECK(make_sqlite_registry_store(path, error) == nullptr);
  MESSAGE("refused: " << error);
  CHECK_NOT_EQUAL(error.find("not its own"), std::string::npos);
  // Taken deliberately: it opens, and from then on it is this master's registry.
  CHECK(make_sqlite_registry_store(path, error, true) != nullptr);
  CHECK(make_sqlite_registry_store(path, error) != nullptr);
}

TEST(sqlite path that cannot be created is refused) {
  std::string error;
  auto store = make_sqlite_registry_store("/nonexistent-dir-mesoscaf/x/registry.sqlite", error);
  CHECK(store == nullptr);
  CHECK_NOT_EQUAL(error, "");
}

namespace {

// The contract against a real ZooKeeper at `servers`; every open is a new session on the same path.
void run_zookeeper_contract(const std::string& servers) {
  zookeeper_url url;
  url.servers = servers;
  url.path = "/mesoscaf-registry-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  zookeeper_options opts;
  opts.session_timeout = std::chrono::seconds(5);
  run_contract(store_kind{"zookeeper", "zookeeper:zk://" + servers + url.path, true,
                          [url, opts]() -> std::shared_ptr<registry_store> {
                            std::string error;
                            auto s = make_zookeeper_registry_store(url, opts, error);
                            if (s == nullptr)
                              MESSAGE("cannot open the ZooKeeper store: " << error);
                            return s;
                          }});
}

} // namespace

TEST(contract zookeeper) {
  try {
    test::zookeeper_server zk{1};
    run_zookeeper_contract(zk.servers());
  } catch (const std::exception& e) {
    MESSAGE("cannot run the ZooKeeper store contract: " << e.what());
    CHECK(false && "no ZooKeeper server");
  }
}

namespace {

/// The store's place on the test server, and its session settings.
zookeeper_url mesoscaf_url(const test::zookeeper_server& zk) {
  zookeeper_url url;
  url.servers = zk.servers();
  url.path = "/mesoscaf";
  return url;
}

zookeeper_options store_options() {
  zookeeper_options opts;
  opts.session_timeout = std::chrono::seconds(5);
  return opts;
}

} // namespace

TEST(zookeeper store survives a server restart) {
  try {
    test::zookeeper_server zk{1};
    auto url = mesoscaf_url(zk);
    auto opts = store_options();
    registry_data expected;
    {
      std::string error;
      auto store = make_zookeeper_registry_store(url, opts, error);
      REQUIRE(store != nullptr);
      registry_data empty;
      CHECK_EQUAL(store->load(empty), "");
      save_ok(*store, expected, {admit_agent_op(agent("a1")), set_weight_op("eng", 3)});
    }
    zk.stop();
    zk.restart();
    std::string error;
    auto store = make_zookeeper_registry_store(url, opts, error);
    if (store == nullptr)
      MESSAGE("cannot reopen: " << error);
    REQUIRE(store != nullptr);
    check_loads(*store, expected, "zookeeper after a server restart");
  } catch (const std::exception& e) {
    MESSAGE("cannot run the ZooKeeper restart test: " << e.what());
    CHECK(false && "no ZooKeeper server");
  }
}

TEST(a fenced zookeeper store writes only while the election node exists) {
  try {
    test::zookeeper_server zk{1};
    auto url = mesoscaf_url(zk);
    auto opts = store_options();
    // The elected master's session holds an ephemeral election node.
    auto election = zookeeper_session::open(url.servers, std::chrono::milliseconds(5000), [](zk_session_state) {});
    REQUIRE(election != nullptr);
    REQUIRE(election->wait_connected(std::chrono::milliseconds(5000)));
    REQUIRE(election->ensure_path(url.path).ok());
    std::string node;
    REQUIRE(election->create(url.path + "/master_", "{}", true, true, &node).ok());
    std::string error;
    auto store = make_zookeeper_registry_store(url, opts, error);
    REQUIRE(store != nullptr);
    registry_data expected;
    REQUIRE_EQUAL(store->load(expected), "");
    store->fence(node);
    save_ok(*store, expected, {admit_agent_op(agent("a1"))});
    // The session ends (as when it expires): the node goes, and with it the right to write.
    election->close();
    auto err = store->save({admit_agent_op(agent("a2")), set_weight_op("eng", 2)});
    MESSAGE("refused: " << err);
    CHECK_NOT_EQUAL(err.find("the election node " + node + " is gone"), std::string::npos);
    CHECK_NOT_EQUAL(err.find("no longer leads"), std::string::npos);
    // Nothing of the refused batch was written.
    auto fresh = make_zookeeper_registry_store(url, opts, error);
    REQUIRE(fresh != nullptr);
    check_loads(*fresh, expected, "zookeeper after a fenced write");
  } catch (const std::exception& e) {
    MESSAGE("cannot run the ZooKeeper fencing test: " << e.what());
    CHECK(false && "no ZooKeeper server");
  }
}

TEST(zookeeper nodes made with credentials are read by all and changed only with them) {
  try {
    test::zookeeper_server zk{1};
    auto url = mesoscaf_url(zk);
    auto open = [&](const std::string& credentials) {
      auto s = zookeeper_session::open(url.servers, std::chrono::milliseconds(5000), [](zk_session_state) {},
                                       credentials);
      REQUIRE(s != nullptr);
      REQUIRE(s->wait_connected(std::chrono::milliseconds(5000)));
      return s;
    };
    auto owner = open("mesos:secret");
    REQUIRE(owner->ensure_path(url.path + "/guarded").ok());
    REQUIRE(owner->create(url.path + "/guarded/leader", "me", false, false).ok());
    // The registry store writes through the same sessions: its nodes are guarded too.
    auto guarded = url;
    guarded.credentials = "mesos:secret";
    std::string error;
    auto store = make_zookeeper_registry_store(guarded, store_options(), error);
    REQUIRE(store != nullptr);
    registry_data expected;
    REQUIRE_EQUAL(store->load(expected), "");
    save_ok(*store, expected, {admit_agent_op(agent("a1"))});
    for (auto [who, credentials] : {std::pair{"anonymous", ""}, std::pair{"a wrong password", "mesos:guess"}}) {
      MESSAGE(who);
      auto other = open(credentials);
      std::string data;
      CHECK(other->get(url.path + "/guarded/leader", data).ok());   // detectors read without credentials
      CHECK_EQUAL(data, "me");
      CHECK_EQUAL(other->set(url.path + "/guarded/leader", "intruder").rc, ZNOAUTH);
      CHECK_EQUAL(other->remove(url.path + "/guarded/leader").rc, ZNOAUTH);
      CHECK_EQUAL(other->create(url.path + "/guarded/fake", "x", true, false).rc, ZNOAUTH);
      // Nor can it change the registry's nodes.
      auto intruder = url;
      intruder.credentials = credentials;
      auto foreign = make_zookeeper_registry_store(intruder, store_options(), error);
      if (foreign == nullptr)
        MESSAGE("its store is refused at once: " << error);
      else
        CHECK_NOT_EQUAL(foreign->save({admit_agent_op(agent("a2"))}), "");
    }
    // The same credentials in another session may change them.
    auto again = open("mesos:secret");
    CHECK(again->set(url.path + "/guarded/leader", "me again").ok());
    check_loads(*store, expected, "zookeeper with credentials");
  } catch (const std::exception& e) {
    MESSAGE("cannot run the ZooKeeper credentials test: " << e.what());
    CHECK(false && "no ZooKeeper server");
  }
}

TEST(zookeeper store that cannot connect is refused) {
  zookeeper_url url;
  url.servers = "127.0.0.1:1";  // nothing listens there
  url.path = "/mesoscaf";
  zookeeper_options opts;
  opts.session_timeout = std::chrono::seconds(1);
  std::string error;
  auto store = make_zookeeper_registry_store(url, opts, error);
  CHECK(store == nullptr);
  MESSAGE("refused: " << error);
  CHECK_NOT_EQUAL(error.find("127.0.0.1:1"), std::string::npos);
}
