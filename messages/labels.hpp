#pragma once
// Labels: free key/value pairs on tasks, executors, frameworks and discovery info.
#include <caf/meta/type_name.hpp>

#include <string>
#include <vector>

namespace mesoscaf {

/// A key/value pair, as Mesos' `Label`: frameworks attach them to tasks, executors and themselves; the cluster only
/// carries them (state, status) and never interprets them.
struct label {
  std::string key;
  std::string value;

  friend bool operator==(const label& a, const label& b) { return a.key == b.key && a.value == b.value; }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, label& x) {
    return f(caf::meta::type_name("label"), x.key, x.value);
  }
};

using labels = std::vector<label>;

} // namespace mesoscaf
