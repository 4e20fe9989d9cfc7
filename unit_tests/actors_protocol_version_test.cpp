// The protocol version travels in middleman.app-identifiers: a peer of another version is refused at handshake,
// and a peer of the same version gets the typed master handle.
#define CAF_SUITE actors_protocol_version
#include "test.hpp"

#include "actors/interfaces.hpp"
#include "actors/master/master.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

using namespace mesoscaf;

namespace {

struct node_config : caf::actor_system_config {
  explicit node_config(const char* version = nullptr) {
    mesoscaf::add_message_types(*this);
    load<caf::io::middleman>();
    if (version)
      set("middleman.app-identifiers", std::vector<std::string>{version});
  }
};

} // namespace

TEST(peers of the same protocol version connect and peers of another are refused) {
  node_config server_cfg;
  caf::actor_system server{server_cfg};
  auto master = spawn_master(server, master_options{});
  auto port = server.middleman().publish(master, 0, "127.0.0.1", true);
  REQUIRE(port);

  {
    node_config same_cfg;
    caf::actor_system same{same_cfg};
    auto handle = same.middleman().remote_actor<master_actor>("127.0.0.1", *port);
    CHECK(handle);
  }
  {
    node_config other_cfg{"mesoscaf.v0"};
    caf::actor_system other{other_cfg};
    auto handle = other.middleman().remote_actor<master_actor>("127.0.0.1", *port);
    CHECK(!handle);
    if (!handle)
      CHECK_EQUAL(handle.error(), caf::sec::incompatible_application_ids);
  }
  caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
}

namespace {

template <caf::type_id_t First, caf::type_id_t... Is>
std::vector<std::string> names_of(std::integer_sequence<caf::type_id_t, Is...>) {
  return {caf::type_name_by_id<First + Is>::value...};
}

std::vector<std::string> wire_names() {
  using caf::id_block::mesoscaf_actors;
  using caf::id_block::mesoscaf_messages;
  auto out = names_of<mesoscaf_messages::begin>(
    std::make_integer_sequence<caf::type_id_t, mesoscaf_messages::end - mesoscaf_messages::begin>{});
  auto actors = names_of<mesoscaf_actors::begin>(
    std::make_integer_sequence<caf::type_id_t, mesoscaf_actors::end - mesoscaf_actors::begin>{});
  out.insert(out.end(), actors.begin(), actors.end());
  return out;
}

} // namespace

TEST(every protocol type travels under a mesoscaf name so that a user library cannot collide with it) {
  node_config cfg;
  caf::actor_system sys{cfg};
  auto names = wire_names();
  REQUIRE(names.size() > 40u);
  for (auto& name : names) {
    MESSAGE("type " << name);
    CHECK(name.rfind("mesoscaf.", 0) == 0);
    // Registered under that name in a configured system (the name is what crosses the wire).
    if (name != "mesoscaf.vector<string>") // a CAF builtin: it travels by CAF's own number
      CHECK(sys.types().make_value(name) != nullptr);
  }
  CHECK(sys.types().make_value("mesoscaf::offer") == nullptr);
}
