#include "actors/ha/registrar.hpp"

#include "actors/ha/registry_store.hpp"
#include "config/support/logging.hpp"

#include <caf/all.hpp>

namespace mesoscaf {

namespace {

constexpr const char* component = "registrar";

// The store worker: the only caller of the (blocking) store. Detached in production, so a slow disk or
// ZooKeeper never holds a scheduler thread; it handles one request at a time, so the store needs no locking.
using store_worker_actor = caf::typed_actor<
  caf::replies_to<atom::recover>::with<registry_data>,
  // Makes a batch durable; true, or runtime_error with the store's message.
  caf::replies_to<atom::registry, std::vector<registry_operation>>::with<bool>>;

struct worker_state {
  static inline const char* name = "registry-store-worker";
  std::shared_ptr<registry_store> store;
};

store_worker_actor::behavior_type store_worker(store_worker_actor::stateful_pointer<worker_state> self,
                                               std::shared_ptr<registry_store> store) {
  self->state.store = std::move(store);
  return {
    [=](atom::recover) -> caf::result<registry_data> {
      registry_data reg;
      if (auto err = self->state.store->load(reg); !err.empty())
        return caf::make_error(caf::sec::runtime_error, err);
      return reg;
    },
    [=](atom::registry, const std::vector<registry_operation>& ops) -> caf::result<bool> {
      if (auto err = self->state.store->save(ops); !err.empty())
        return caf::make_error(caf::sec::runtime_error, err);
      return true;
    },
  };
}

struct queued_op {
  registry_operation op;
  caf::typed_response_promise<bool> promise;
};

struct registrar_state {
  static inline const char* name = "registrar";
  store_worker_actor worker;
  std::string store_name;
  bool recovered = false;
  bool loading = false;
  std::vector<caf::typed_response_promise<registry_data>> recover_waiters;
  /// The registry with every accepted operation applied (durable or not yet).
  registry_data reg;
  /// The next batch: accepted while a write was under way.
  std::vector<queued_op> queue;
  /// The answers of the batch being written.
  std::vector<caf::typed_response_promise<bool>> in_flight;
  bool writing = false;
  /// Why a write failed; once set, everything is refused (the in-memory copy and the store may disagree).
  std::string broken;
  uint64_t batches = 0;
};

using registrar_ptr = registrar_actor::stateful_pointer<registrar_state>;

caf::error broken_error(const registrar_state& st) {
  return caf::make_error(caf::sec::runtime_error,
                         "the registry write to " + st.store_name + " failed (" + st.broken
                           + "); this registrar accepts nothing more: the master must step down");
}

void fail_writes(registrar_ptr self, const std::string& why) {
  auto& st = self->state;
  st.broken = why;
  st.writing = false;
  LOG_ERROR(component, "registry write to " << st.store_name << " failed: " << why);
  auto err = broken_error(st);
  for (auto& rp : st.in_flight)
    rp.deliver(err);
  st.in_flight.clear();
  for (auto& q : st.queue)
    q.promise.deliver(err);
  st.queue.clear();
}

// Writes everything queued as one batch, unless a write is under way (then its completion starts the next one).
void write_next(registrar_ptr self) {
  auto& st = self->state;
  if (st.writing || st.queue.empty() || !st.broken.empty())
    return;
  std::vector<registry_operation> ops;
  ops.reserve(st.queue.size());
  st.in_flight.clear();
  st.in_flight.reserve(st.queue.size());
  for (auto& q : st.queue) {
    ops.push_back(std::move(q.op));
    st.in_flight.push_back(std::move(q.promise));
  }
  st.queue.clear();
  st.writing = true;
  auto n = ops.size();
  auto batch = ++st.batches;
  LOG_DEBUG(component, "writing batch " << batch << " of " << n << " operation(s) to " << st.store_name);
  self->request(st.worker, caf::infinite, atom::registry_v, std::move(ops))
    .then(
      [=](bool) {
        auto& st = self->state;
        st.writing = false;
        // Durable: now (and only now) the operations of this batch are answered.
        for (auto& rp : st.in_flight)
          rp.deliver(true);
        st.in_flight.clear();
        write_next(self);
      },
      [=](const caf::error& err) { fail_writes(self, self->system().render(err)); });
}

registrar_actor::behavior_type registrar(registrar_ptr self, store_worker_actor worker, std::string store_name) {
  self->state.worker = worker;
  self->state.store_name = std::move(store_name);
  // The worker lives as long as the registrar.
  self->attach_functor([worker](const caf::error&) { caf::anon_send_exit(worker, caf::exit_reason::user_shutdown); });
  return {
    [=](atom::recover) -> caf::result<registry_data> {
      auto& st = self->state;
      if (!st.broken.empty())
        return broken_error(st);
      if (st.recovered)
        return st.reg;
      auto rp = self->make_response_promise<registry_data>();
      st.recover_waiters.push_back(rp);
      if (!st.loading) {
        st.loading = true;
        self->request(st.worker, caf::infinite, atom::recover_v)
          .then(
            [=](const registry_data& reg) {
              auto& st = self->state;
              st.loading = false;
              st.recovered = true;
              st.reg = reg;
              LOG_INFO(component, "recovered the registry from "
                                    << st.store_name << ": " << st.reg.admitted.size() << " admitted, "
                                    << st.reg.unreachable.size() << " unreachable, " << st.reg.gone.size()
                                    << " gone agent(s)");
              for (auto& w : st.recover_waiters)
                w.deliver(st.reg);
              st.recover_waiters.clear();
            },
            [=](const caf::error& err) {
              auto& st = self->state;
              st.loading = false;
              // Not broken: nothing was written, a later recover may succeed.
              auto why = "cannot load the registry from " + st.store_name + ": " + self->system().render(err);
              LOG_ERROR(component, why);
              for (auto& w : st.recover_waiters)
                w.deliver(caf::make_error(caf::sec::runtime_error, why));
              st.recover_waiters.clear();
            });
      }
      return rp;
    },
    [=](atom::registry, const registry_operation& op) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.broken.empty())
        return broken_error(st);
      if (!st.recovered)
        return caf::make_error(caf::sec::runtime_error, "the registry is not recovered yet (recover first)");
      // Checked against every accepted operation, durable or queued: the store receives only valid batches.
      if (auto err = apply_registry_operation(st.reg, op); !err.empty())
        return caf::make_error(caf::sec::invalid_argument, "registry: " + err);
      auto rp = self->make_response_promise<bool>();
      st.queue.push_back(queued_op{op, rp});
      write_next(self);
      return rp;
    },
  };
}

} // namespace

registrar_actor spawn_registrar(caf::actor_system& sys, std::shared_ptr<registry_store> store, bool detached) {
  auto name = store->describe();
  auto worker = detached ? sys.spawn<caf::detached>(store_worker, std::move(store))
                         : sys.spawn(store_worker, std::move(store));
  return sys.spawn(registrar, worker, std::move(name));
}

} // namespace mesoscaf
