#pragma once
// The master's tunables from its flags: the one conversion that `mesoscaf master` and `mesoscaf local` share
// (config/ must not know the master layer, and the master layer must not know flags).
#include "actors/master/master.hpp"
#include "config/daemon_config.hpp"

namespace mesoscaf {

/// Call after validation (it takes the parsed weights and removal rate limit).
master_tuning to_master_tuning(const master_flags& flags);

} // namespace mesoscaf
