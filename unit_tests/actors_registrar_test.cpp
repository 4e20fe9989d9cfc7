#define CAF_SUITE actors_registrar
#include "deterministic_fixture.hpp"

#include "actors/ha/registrar.hpp"
#include "actors/ha/registry_store.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>

using namespace mesoscaf;

namespace {

agent_info agent(const std::string& id, uint16_t port = 5051) {
  agent_info a;
  a.id = agent_id{id};
  a.hostname = "host-" + id;
  a.port = port;
  a.total = *resource_set::parse("cpus:4;mem:1024");
  return a;
}

/// A store double: records batches, fails on demand, and lets a test look at what had been answered when a batch
/// was written.
class fake_store : public registry_store {
public:
  registry_data initial;
  std::string load_error;
  std::string save_error;
  int loads = 0;
  std::vector<std::vector<registry_operation>> batches;
  std::function<void()> on_save;

  std::string load(registry_data& out) override {
    ++loads;
    if (!load_error.empty())
      return load_error;
    out = initial;
    return {};
  }

  std::string save(const std::vector<registry_operation>& ops) override {
    batches.push_back(ops);
    if (on_save)
      on_save();
    return save_error;
  }

  std::string describe() const override {
    return "fake";
  }
};

/// What a client got: "true", or "<error code>: <context>".
using answers = std::shared_ptr<std::map<size_t, std::string>>;

std::string render(const caf::error& e) {
  std::string code;
  if (e.category() == caf::atom("system"))
    code = caf::to_string(static_cast<caf::sec>(e.code()));
  else
    code = "code " + std::to_string(e.code());
  return code + ": " + caf::to_string(e.context());
}

struct fixture : test::deterministic_fixture {
  std::shared_ptr<fake_store> store = std::make_shared<fake_store>();
  registrar_actor registrar;
  answers got = std::make_shared<std::map<size_t, std::string>>();
  std::string recovered;  // "" until answered; "ok" or the error
  registry_data recovered_data;
  size_t next_index = 0;

  fixture() {
    registrar = spawn_registrar(sys, store, false);
    sched.run();
  }

  ~fixture() {
    caf::anon_send_exit(registrar, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Spawns a client that sends `ops` in order (as requests) once it runs; returns the client and the answer index
  /// of its first op.
  std::pair<caf::actor, size_t> client(std::vector<registry_operation> ops) {
    auto first = next_index;
    next_index += ops.size();
    auto r = registrar;
    auto g = got;
    auto c = sys.spawn([r, g, first, ops](caf::event_based_actor* self) {
      for (size_t i = 0; i < ops.size(); ++i) {
        auto idx = first + i;
        self->request(r, caf::infinite, atom::registry_v, ops[i])
          .then([g, idx](bool b) { (*g)[idx] = b ? "true" : "false"; },
                [g, idx](const caf::error& e) { (*g)[idx] = render(e); });
      }
    });
    return {c, first};
  }

  void recover() {
    auto r = registrar;
    sys.spawn([this, r](caf::event_based_actor* self) {
      self->request(r, caf::infinite, atom::recover_v)
        .then(
          [this](const registry_data& reg) {
            recovered = "ok";
            recovered_data = reg;
          },
          [this](const caf::error& e) { recovered = render(e); });
    });
  }

  /// Runs `whom` for exactly one step (its initialization or one message), nothing else.
  template <class Handle>
  void step(const Handle& whom) {
    REQUIRE(sched.prioritize(whom));
    sched.run_once();
  }

  std::string answer(size_t idx) {
    auto i = got->find(idx);
    return i == got->end() ? "" : i->second;
  }
};

} // namespace

FIXTURE_SCOPE(registrar_tests, fixture)

TEST(operations before recover are refused) {
  client({admit_agent_op(agent("a1"))});
  sched.run();
  CHECK_NOT_EQUAL(answer(0).find("runtime_error"), std::string::npos);
  CHECK_NOT_EQUAL(answer(0).find("not recovered"), std::string::npos);
  CHECK(store->batches.empty());
  CHECK_EQUAL(store->loads, 0);
}

TEST(recover loads once and answers with the registry) {
  store->initial.admitted[agent_id{"a1"}] = agent("a1");
  store->initial.weights["eng"] = 2;
  recover();
  sched.run();
  CHECK_EQUAL(recovered, "ok");
  CHECK_EQUAL(recovered_data.admitted.size(), 1u);
  CHECK_EQUAL(recovered_data.weights.at("eng"), 2);
  CHECK_EQUAL(store->loads, 1);
  // Later operations are checked against what was loaded.
  client({admit_agent_op(agent("a1")), admit_agent_op(agent("a2"))});
  sched.run();
  CHECK_NOT_EQUAL(answer(0).find("invalid_argument"), std::string::npos);
  CHECK_NOT_EQUAL(answer(0).find("is admitted"), std::string::npos);
  CHECK_EQUAL(answer(1), "true");
  // A second recover does not load again and includes what was written since.
  recovered.clear();
  recover();
  sched.run();
  CHECK_EQUAL(recovered, "ok");
  CHECK_EQUAL(store->loads, 1);
  CHECK_EQUAL(recovered_data.admitted.size(), 2u);
}

TEST(a failed load is an error and may be retried) {
  store->load_error = "the disk is on fire";
  recover();
  sched.run();
  CHECK_NOT_EQUAL(recovered.find("runtime_error"), std::string::npos);
  CHECK_NOT_EQUAL(recovered.find("the disk is on fire"), std::string::npos);
  client({admit_agent_op(agent("a1"))});
  sched.run();
  CHECK_NOT_EQUAL(answer(0).find("not recovered"), std::string::npos);
  store->load_error.clear();
  recovered.clear();
  recover();
  sched.run();
  CHECK_EQUAL(recovered, "ok");
  CHECK_EQUAL(store->loads, 2);
}

TEST(an invalid operation is refused and nothing is written) {
  recover();
  sched.run();
  client({mark_unreachable_op(agent_id{"nobody"}, 1), set_weight_op("eng", -1)});
  sched.run();
  CHECK_NOT_EQUAL(answer(0).find("invalid_argument"), std::string::npos);
  CHECK_NOT_EQUAL(answer(0).find("is not in the registry"), std::string::npos);
  CHECK_NOT_EQUAL(answer(1).find("invalid_argument"), std::string::npos);
  CHECK_NOT_EQUAL(answer(1).find("invalid weight"), std::string::npos);
  CHECK(store->batches.empty());
}

TEST(operations arriving during a write form the next batch and are answered once it is durable) {
  recover();
  sched.run();
  // Answers already given whenever a batch is written.
  std::vector<size_t> answered_at_save;
  store->on_save = [&] { answered_at_save.push_back(got->size()); };
  // Op 0 starts batch 1: the worker has it but does not run yet.
  auto [c1, i1] = client({admit_agent_op(agent("a0"))});
  step(c1);
  step(registrar);
  // 100 admissions, an invalid one and an operation on an agent admitted by the queued batch arrive meanwhile.
  std::vector<registry_operation> ops;
  for (int i = 1; i <= 100; ++i)
    ops.push_back(admit_agent_op(agent("a" + std::to_string(i))));
  ops.push_back(admit_agent_op(agent("a5")));         // index 101: already accepted -> refused at once
  ops.push_back(mark_unreachable_op(agent_id{"a7"}, 3));  // index 102: applies after a7's admission
  auto [c2, i2] = client(ops);
  step(c2);
  for (size_t i = 0; i < ops.size(); ++i)
    step(registrar);
  // Nothing durable yet: no answer (the refusal is on its way to the client, which has not run).
  CHECK(store->batches.empty());
  CHECK_EQUAL(answer(0), "");
  CHECK_EQUAL(answer(1), "");
  sched.run();
  // Two writes: the first op alone, then everything that queued up, in order, without the refused op.
  REQUIRE_EQUAL(store->batches.size(), 2u);
  CHECK_EQUAL(store->batches[0].size(), 1u);
  REQUIRE_EQUAL(store->batches[1].size(), 101u);
  CHECK_EQUAL(store->batches[1].front().agent.id.value, "a1");
  CHECK_EQUAL(store->batches[1][99].agent.id.value, "a100");
  CHECK(store->batches[1].back().kind == registry_op_kind::mark_unreachable);
  // Batch 2's answers came after batch 2 was written: when it was saved, only op 0 and the refusal were answered.
  REQUIRE_EQUAL(answered_at_save.size(), 2u);
  CHECK_EQUAL(answered_at_save[0], 0u);
  CHECK_LESS_OR_EQUAL(answered_at_save[1], 2u);
  for (size_t i = 0; i <= 100; ++i)
    CHECK_EQUAL(answer(i), "true");
  CHECK_NOT_EQUAL(answer(101).find("invalid_argument"), std::string::npos);
  CHECK_EQUAL(answer(102), "true");
  static_cast<void>(i1);
  static_cast<void>(i2);
}

TEST(a store failure fails the batch the queued operations and everything after) {
  recover();
  sched.run();
  store->save_error = "ZooKeeper said no";
  auto [c1, i1] = client({admit_agent_op(agent("a1"))});
  step(c1);
  step(registrar);
  auto [c2, i2] = client({admit_agent_op(agent("a2")), admit_agent_op(agent("a3"))});
  step(c2);
  step(registrar);
  step(registrar);
  sched.run();
  CHECK_EQUAL(store->batches.size(), 1u);
  for (size_t i = 0; i < 3; ++i) {
    CHECK_NOT_EQUAL(answer(i).find("runtime_error"), std::string::npos);
    CHECK_NOT_EQUAL(answer(i).find("ZooKeeper said no"), std::string::npos);
  }
  // Broken for good, even once the store would work again.
  store->save_error.clear();
  client({admit_agent_op(agent("a4"))});
  sched.run();
  CHECK_NOT_EQUAL(answer(3).find("runtime_error"), std::string::npos);
  CHECK_EQUAL(store->batches.size(), 1u);
  recovered.clear();
  recover();
  sched.run();
  CHECK_NOT_EQUAL(recovered.find("runtime_error"), std::string::npos);
  static_cast<void>(i1);
  static_cast<void>(i2);
}

FIXTURE_SCOPE_END()

namespace {

/// A store whose first save blocks until released (a slow disk), for the detached worker.
class gated_store : public registry_store {
public:
  std::mutex mtx;
  std::condition_variable cv;
  bool entered = false;
  bool released = false;
  std::vector<size_t> batch_sizes;

  std::string load(registry_data&) override {
    return {};
  }

  std::string save(const std::vector<registry_operation>& ops) override {
    std::unique_lock<std::mutex> guard{mtx};
    batch_sizes.push_back(ops.size());
    entered = true;
    cv.notify_all();
    cv.wait(guard, [&] { return released; });
    return {};
  }

  std::string describe() const override {
    return "gated";
  }
};

/// Counts the batches a real store writes.
class counting_store : public registry_store {
public:
  explicit counting_store(std::shared_ptr<registry_store> inner) : inner_(std::move(inner)) {
  }
  std::atomic<size_t> batches{0};
  std::string load(registry_data& out) override {
    return inner_->load(out);
  }
  std::string save(const std::vector<registry_operation>& ops) override {
    ++batches;
    return inner_->save(ops);
  }
  std::string describe() const override {
    return inner_->describe();
  }

private:
  std::shared_ptr<registry_store> inner_;
};

} // namespace

TEST(the detached worker batches while a write blocks) {
  test::test_config cfg;
  caf::actor_system sys{cfg};
  auto store = std::make_shared<gated_store>();
  auto registrar = spawn_registrar(sys, store);
  caf::scoped_actor self{sys};
  bool ok = false;
  self->request(registrar, caf::infinite, atom::recover_v).receive([&](const registry_data&) { ok = true; },
                                                                    [&](const caf::error&) {});
  REQUIRE(ok);
  auto first = self->request(registrar, caf::infinite, atom::registry_v, admit_agent_op(agent("a0")));
  {
    std::unique_lock<std::mutex> guard{store->mtx};
    REQUIRE(store->cv.wait_for(guard, std::chrono::seconds(30), [&] { return store->entered; }));
  }
  std::vector<decltype(first)> rest;
  for (int i = 1; i <= 50; ++i)
    rest.push_back(self->request(registrar, caf::infinite, atom::registry_v, admit_agent_op(agent("a" + std::to_string(i)))));
  // A refusal answers at once, and proves every earlier request has reached the registrar (one sender: FIFO).
  std::string refusal;
  self->request(registrar, caf::infinite, atom::registry_v, admit_agent_op(agent("a3")))
    .receive([&](bool) { refusal = "accepted"; }, [&](const caf::error& e) { refusal = render(e); });
  CHECK_NOT_EQUAL(refusal.find("invalid_argument"), std::string::npos);
  {
    std::lock_guard<std::mutex> guard{store->mtx};
    store->released = true;
    store->cv.notify_all();
  }
  size_t trues = 0;
  first.receive([&](bool b) { trues += b ? 1 : 0; }, [&](const caf::error&) {});
  for (auto& h : rest)
    h.receive([&](bool b) { trues += b ? 1 : 0; }, [&](const caf::error&) {});
  CHECK_EQUAL(trues, 51u);
  std::lock_guard<std::mutex> guard{store->mtx};
  REQUIRE_EQUAL(store->batch_sizes.size(), 2u);
  CHECK_EQUAL(store->batch_sizes[0], 1u);
  CHECK_EQUAL(store->batch_sizes[1], 50u);
  self->send_exit(registrar, caf::exit_reason::user_shutdown);
}

TEST(ten thousand admissions at once take few batches on SQLite) {
  char tmpl[] = "/tmp/mesoscaf-registrar-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  {
    test::test_config cfg;
    caf::actor_system sys{cfg};
    std::string error;
    auto sqlite = make_sqlite_registry_store(dir + "/registry.sqlite", error);
    REQUIRE(sqlite != nullptr);
    auto store = std::make_shared<counting_store>(sqlite);
    auto registrar = spawn_registrar(sys, store);
    caf::scoped_actor self{sys};
    bool ok = false;
    self->request(registrar, caf::infinite, atom::recover_v).receive([&](const registry_data&) { ok = true; },
                                                                      [&](const caf::error&) {});
    REQUIRE(ok);
    const size_t n = 10000;
    auto start = std::chrono::steady_clock::now();
    std::vector<decltype(self->request(registrar, caf::infinite, atom::registry_v, registry_operation{}))> handles;
    handles.reserve(n);
    for (size_t i = 0; i < n; ++i)
      handles.push_back(
        self->request(registrar, caf::infinite, atom::registry_v, admit_agent_op(agent("agent-" + std::to_string(i)))));
    size_t trues = 0;
    for (auto& h : handles)
      h.receive([&](bool b) { trues += b ? 1 : 0; }, [&](const caf::error&) {});
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK_EQUAL(trues, n);
    MESSAGE(n << " admissions durable in " << secs << " s, " << store->batches.load() << " batches");
    CHECK_LESS_OR_EQUAL(store->batches.load(), 20u);
    // They are really there.
    registry_data reg;
    CHECK_EQUAL(sqlite->load(reg), "");
    CHECK_EQUAL(reg.admitted.size(), n);
    self->send_exit(registrar, caf::exit_reason::user_shutdown);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
