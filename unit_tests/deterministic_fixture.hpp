#pragma once
// A deterministic actor system (CAF's test coordinator: no threads, manual clock) with our types registered.
#include "test.hpp"

#include "actors/interfaces.hpp"

#include <caf/test/dsl.hpp>

namespace mesoscaf::test {

struct test_config : caf::actor_system_config {
  test_config() {
    mesoscaf::add_message_types(*this);
  }
};

using deterministic_fixture = test_coordinator_fixture<test_config>;

} // namespace mesoscaf::test
