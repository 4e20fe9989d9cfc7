#pragma once
// Metrics in Prometheus' text exposition format (version 0.0.4): `/` and every other character a metric name
// may not hold become `_`, so `master/tasks_running` is `master_tasks_running`.
#include "messages/state_view.hpp"

#include <string>
#include <vector>

namespace mesoscaf::http {

std::string prometheus_name(const std::string& name);
std::string prometheus_text(const std::vector<metric_sample>& samples);

} // namespace mesoscaf::http
