#define CAF_SUITE messages_boxed_optional
#include "test.hpp"

#include "messages/boxed_optional.hpp"
#include "messages/compact_codec.hpp"
#include "messages/task_info.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/optional.hpp>

#include <vector>

using namespace mesoscaf;

namespace {

command_info sample_command() {
  command_info c;
  c.shell = false;
  c.value = "/bin/echo";
  c.arguments = {"echo", "hi"};
  c.environment = {{"A", "1"}};
  return c;
}

/// The same field list as task_info before its optionals were boxed: the bytes must not change.
struct plain_task {
  std::string name;
  task_id id;
  agent_id agent;
  resource_set resources;
  caf::optional<command_info> command;
  caf::optional<executor_info> executor;
  std::string data;
  std::string role;
  labels task_labels;
  caf::optional<discovery_info> discovery;
  caf::optional<kill_policy> kill;
  caf::optional<health_check> health;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, plain_task& x) {
    return f(caf::meta::type_name("task_info"), x.name, x.id, x.agent, x.resources, x.command, x.executor, x.data,
             x.role, x.task_labels, x.discovery, x.kill, x.health);
  }
};

template <class T>
std::vector<char> to_bytes(T& x) {
  std::vector<char> buf;
  caf::binary_serializer s{nullptr, buf};
  if (auto err = s(x))
    CAF_FAIL("cannot serialize");
  return buf;
}

} // namespace

TEST(copies are deep and moves take the box) {
  boxed_optional<command_info> a = sample_command();
  REQUIRE(a);
  auto b = a;
  REQUIRE(b);
  b->value = "changed";
  CHECK_EQUAL(a->value, "/bin/echo");
  auto c = std::move(a);
  CHECK(!a);
  REQUIRE(c);
  CHECK_EQUAL(c->arguments.size(), 2u);
  c = caf::none;
  CHECK(!c);
  c = sample_command();
  REQUIRE(c);
  CHECK_EQUAL(c->value, "/bin/echo");
  boxed_optional<std::string> x = std::string{"a"};
  boxed_optional<std::string> y;
  CHECK(x != y);
  y = std::string{"a"};
  CHECK(x == y);
}

TEST(the binary form is the one of caf optional) {
  for (int variant = 0; variant < 3; ++variant) {
    task_info t;
    t.name = "n";
    t.id = task_id{"t-1"};
    t.agent = agent_id{"a-1"};
    t.data = "payload";
    t.role = "eng";
    plain_task p;
    p.name = t.name;
    p.id = t.id;
    p.agent = t.agent;
    p.data = t.data;
    p.role = t.role;
    if (variant >= 1) {
      t.command = sample_command();
      p.command = sample_command();
    }
    if (variant >= 2) {
      executor_info e;
      e.id = executor_id{"e-1"};
      e.command = sample_command();
      t.executor = e;
      p.executor = e;
    }
    auto boxed = to_bytes(t);
    CHECK_EQUAL(boxed, to_bytes(p));
    // And back: present and absent values both load, also into a target that had other values.
    task_info back;
    back.command = command_info{};
    back.executor = executor_info{};
    caf::binary_deserializer d{nullptr, boxed};
    REQUIRE(!d(back));
    CHECK_EQUAL(static_cast<bool>(back.command), variant >= 1);
    CHECK_EQUAL(static_cast<bool>(back.executor), variant >= 2);
    if (variant >= 1)
      CHECK_EQUAL(back.command->arguments, sample_command().arguments);
    if (variant >= 2)
      CHECK_EQUAL(back.executor->id, executor_id{"e-1"});
    CHECK_EQUAL(caf::deep_to_string(back), caf::deep_to_string(t));
  }
}

TEST(the compact codec reads what it wrote) {
  task_info t;
  t.id = task_id{"t-2"};
  t.command = sample_command();
  std::string bytes;
  compact_writer w{bytes};
  inspect(w, t);
  REQUIRE(w.ok());
  task_info back;
  back.executor = executor_info{};
  compact_reader r{bytes.data(), bytes.size()};
  inspect(r, back);
  REQUIRE(r.ok());
  CHECK_EQUAL(r.remaining(), 0u);
  REQUIRE(back.command);
  CHECK_EQUAL(back.command->value, "/bin/echo");
  CHECK(!back.executor);
}
