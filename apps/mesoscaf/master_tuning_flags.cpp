#include "apps/mesoscaf/master_tuning_flags.hpp"

namespace mesoscaf {

master_tuning to_master_tuning(const master_flags& flags) {
  master_tuning t;
  t.allocation_interval = flags.allocation_interval;
  t.offer_timeout = flags.offer_timeout;
  t.weights = flags.parsed_weights;
  t.agent_ping_timeout = flags.agent_ping_timeout;
  t.max_agent_ping_timeouts = flags.max_agent_ping_timeouts;
  t.removal_limit_count = flags.removal_limit_count;
  t.removal_limit_period = flags.removal_limit_period;
  t.agent_reregister_timeout = flags.agent_reregister_timeout;
  return t;
}

} // namespace mesoscaf
