#include "actors/http/prometheus.hpp"

#include <cmath>
#include <cstdio>

namespace mesoscaf::http {

std::string prometheus_name(const std::string& name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (auto c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9'))
    out.insert(out.begin(), '_');
  return out;
}

std::string prometheus_text(const std::vector<metric_sample>& samples) {
  std::string out;
  for (auto& m : samples) {
    auto name = prometheus_name(m.name);
    char value[64];
    if (std::isnan(m.value))
      std::snprintf(value, sizeof value, "NaN");
    else if (std::isinf(m.value))
      std::snprintf(value, sizeof value, m.value > 0 ? "+Inf" : "-Inf");
    else if (m.value == std::floor(m.value) && std::fabs(m.value) < 1e15)
      std::snprintf(value, sizeof value, "%.0f", m.value);
    else
      std::snprintf(value, sizeof value, "%.17g", m.value);
    out += "# TYPE " + name + " gauge\n" + name + " " + value + "\n";
  }
  return out;
}

} // namespace mesoscaf::http
