// A framework written directly as a typed actor implementing `scheduler_actor` (no driver, no callbacks).
//
//   example_actor_scheduler [--master=HOST:PORT] [--tasks=N]
//
// Without --master it starts an in-process cluster. The actor connects to the master asynchronously through
// the middleman (connect_atom: never the blocking remote_actor inside an actor), subscribes, launches N `echo`
// tasks as offers arrive, acknowledges every status update, and quits when all tasks have finished (tearing
// the framework down). main() waits for it with a scoped_actor. Exit code 0 iff all tasks finished.
#include "example_common.hpp"
#include "actors/tls.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <iostream>

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

const char* usage = "usage: example_actor_scheduler [--master=HOST:PORT] [--tasks=N]\n";

struct actor_scheduler_state {
  static inline const char* name = "example-actor-scheduler";
  master_actor master;
  framework_id id;
  long total = 0;
  long launched = 0;
  long finished = 0;
  resource_set per_task;
};

using sched_pointer = scheduler_actor::stateful_pointer<actor_scheduler_state>;

void subscribe(sched_pointer self, master_actor m) {
  self->state.master = m;
  self->monitor(m); // a down_msg means the master is gone: give up
  framework_info fw;
  fw.name = "example-actor-scheduler";
  self->request(m, 5s, atom::subscribe_v, fw, caf::actor_cast<scheduler_actor>(self))
    .then(
      [=](const framework_id& id) {
        self->state.id = id;
        std::cout << "example_actor_scheduler: subscribed as " << id << std::endl;
      },
      [=](const caf::error& err) {
        std::cout << "example_actor_scheduler: subscribe failed: " << self->system().render(err) << std::endl;
        self->quit(err);
      });
}

scheduler_actor::behavior_type actor_scheduler(sched_pointer self, master_actor in_process, std::string host,
                                               uint16_t port, long tasks) {
  self->state.total = tasks;
  self->state.per_task = *resource_set::parse("cpus:0.1;mem:32");
  self->set_down_handler([=](const caf::down_msg& dm) {
    std::cout << "example_actor_scheduler: lost the master" << std::endl;
    self->quit(dm.reason);
  });
  if (in_process) {
    subscribe(self, in_process);
  } else {
    self->request(mesoscaf::network_actor(self->system()), 5s, caf::connect_atom::value, host, port)
      .then(
        [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
          if (!ptr || !self->system().assignable<master_actor>(ifs)) {
            std::cout << "example_actor_scheduler: no mesoscaf master at " << host << ":" << port << std::endl;
            self->quit(caf::sec::unexpected_actor_messaging_interface);
            return;
          }
          subscribe(self, caf::actor_cast<master_actor>(std::move(ptr)));
        },
        [=](const caf::error& err) {
          std::cout << "example_actor_scheduler: cannot connect: " << self->system().render(err) << std::endl;
          self->quit(err);
        });
  }
  return {
    [=](atom::offers, const std::vector<offer>& offers) {
      auto& st = self->state;
      for (auto& o : offers) {
        auto left = o.resources;
        std::vector<task_info> batch;
        while (st.launched < st.total && left.contains(st.per_task)) {
          left -= st.per_task;
          task_info t;
          t.id = task_id{"actor-task-" + std::to_string(++st.launched)};
          t.name = t.id.value;
          t.agent = o.agent;
          t.resources = st.per_task;
          command_info c;
          c.value = "echo hello from " + t.id.value;
          t.command = c;
          batch.push_back(std::move(t));
        }
        if (batch.empty()) {
          self->send(st.master, atom::decline_v, st.id, std::vector<offer_id>{o.id}, filters{5});
          continue;
        }
        offer_operation op;
        op.type = operation_type::launch;
        op.tasks = std::move(batch);
        self->send(st.master, atom::accept_v, st.id, std::vector<offer_id>{o.id},
                   std::vector<offer_operation>{std::move(op)}, filters{1});
      }
    },
    [=](atom::rescind, const offer_id&) {},
    [=](atom::update, const task_status& s) {
      auto& st = self->state;
      std::cout << "example_actor_scheduler: " << s.task << " " << to_string(s.state) << std::endl;
      // Without this acknowledgement the agent would resend the update.
      if (!s.uuid.empty())
        self->send(st.master, atom::ack_v, st.id, s.agent, s.task, s.uuid);
      if (!is_terminal(s.state))
        return;
      if (s.state != task_state::finished) {
        std::cout << "example_actor_scheduler: task failed: " << s.message << std::endl;
        self->send(st.master, atom::teardown_v, st.id);
        self->quit(caf::exit_reason::user_shutdown);
        return;
      }
      if (++st.finished == st.total) {
        std::cout << "example_actor_scheduler: all " << st.total << " tasks finished" << std::endl;
        self->send(st.master, atom::teardown_v, st.id);
        self->quit(); // normal exit: main reads it as success
      }
    },
    [=](atom::fw_msg, const agent_id&, const executor_id&, const std::string&) {},
    [=](atom::agent_lost, const agent_id& a) { std::cout << "example_actor_scheduler: agent lost " << a << std::endl; },
    [=](atom::exec_lost, const executor_id&, const agent_id&, int32_t) {},
    [=](atom::error, const std::string& what) {
      std::cout << "example_actor_scheduler: master says: " << what << std::endl;
    },
    [=](atom::replaced, const framework_id&) {
      // Another scheduler took the framework over: this one must stop acting for it (and not tear it down).
      std::cout << "example_actor_scheduler: framework failed over to another scheduler" << std::endl;
      self->quit(caf::sec::request_receiver_down);
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  auto flags = examples::parse_flags(argc, argv, {"master", "tasks"}, usage);
  if (!flags)
    return 2;
  auto tasks = examples::parse_count((*flags)["tasks"].empty() ? "5" : (*flags)["tasks"], 1, 100000);
  if (!tasks) {
    std::cerr << "--tasks must be 1..100000\n";
    return 2;
  }
  std::string host;
  uint16_t port = 0;
  if (!(*flags)["master"].empty()) {
    std::string err;
    if (!parse_host_port((*flags)["master"], host, port, &err)) {
      std::cerr << "--master: " << err << "\n";
      return 2;
    }
  }
  examples::environment env;
  local_cluster_options copts;
  copts.allocation_interval = std::chrono::milliseconds(200);
  if (!env.start((*flags)["master"], copts))
    return 1;
  master_actor in_process = env.cluster ? env.cluster->master() : master_actor{};
  bool ok = false;
  {
    caf::scoped_actor self{*env.sys};
    auto sched = self->spawn(actor_scheduler, in_process, host, port, static_cast<long>(*tasks));
    self->monitor(sched);
    self->receive([&](const caf::down_msg& dm) { ok = !dm.reason; });
  }
  std::cout << "example_actor_scheduler: " << (ok ? "done" : "FAILED") << std::endl;
  return ok ? 0 : 1;
}
