#pragma once
// Strongly typed identifiers. Each kind of ID is its own type, so a task ID can never be passed where an
// agent ID is expected. Generated IDs are random UUIDs (Boost.Uuid); task IDs are chosen by frameworks.
#include <caf/meta/type_name.hpp>

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace mesoscaf {

template <class Tag>
struct basic_id {
  std::string value;

  basic_id() = default;
  explicit basic_id(std::string v) : value(std::move(v)) {}

  bool empty() const { return value.empty(); }
  const std::string& str() const { return value; }

  friend bool operator==(const basic_id& a, const basic_id& b) { return a.value == b.value; }
  friend bool operator!=(const basic_id& a, const basic_id& b) { return a.value != b.value; }
  friend bool operator<(const basic_id& a, const basic_id& b) { return a.value < b.value; }
  friend std::ostream& operator<<(std::ostream& os, const basic_id& x) { return os << x.value; }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, basic_id& x) {
    return f(caf::meta::type_name(Tag::name), x.value);
  }
};

struct framework_id_tag { static constexpr const char* name = "framework_id"; };
struct agent_id_tag { static constexpr const char* name = "agent_id"; };
struct offer_id_tag { static constexpr const char* name = "offer_id"; };
struct task_id_tag { static constexpr const char* name = "task_id"; };
struct executor_id_tag { static constexpr const char* name = "executor_id"; };
struct container_id_tag { static constexpr const char* name = "container_id"; };

using framework_id = basic_id<framework_id_tag>;
using agent_id = basic_id<agent_id_tag>;
using offer_id = basic_id<offer_id_tag>;
using task_id = basic_id<task_id_tag>;
using executor_id = basic_id<executor_id_tag>;
using container_id = basic_id<container_id_tag>;

/// Longest ID accepted where an ID becomes a path component (sandbox directories).
constexpr std::size_t max_id_length = 200;

/// True iff `id` is safe as one path component: [A-Za-z0-9._-], not empty, not "." or "..", <= 200 chars.
bool is_safe_id(std::string_view id);

/// Empty if `id` is safe (see is_safe_id), else a message naming `what` (e.g. "task ID").
std::string check_safe_id(std::string_view what, std::string_view id);

/// True iff `text` holds a control character (a byte below 0x20, or 0x7f): in a name or ID it would break log
/// lines, tables and terminals.
bool has_control_chars(std::string_view text);

/// Empty if `text` has no control character, else a message naming `what` (e.g. "task name") and the first one.
std::string check_no_control_chars(std::string_view what, std::string_view text);

/// A fresh random UUID in its canonical text form.
std::string new_uuid();

/// A fresh ID of kind `Id` (a random UUID).
template <class Id>
Id new_id() {
  return Id{new_uuid()};
}

} // namespace mesoscaf

namespace std {
template <class Tag>
struct hash<mesoscaf::basic_id<Tag>> {
  size_t operator()(const mesoscaf::basic_id<Tag>& x) const noexcept {
    return std::hash<std::string>{}(x.value);
  }
};
#if defined(__GLIBCXX__)
// libstdc++ keeps hash codes in unordered containers only for hashes it knows to be slow (std::string's); without
// them every bucket walk re-hashes the strings it passes (the master's task table after a failover: 7% of it).
template <class Tag>
struct __is_fast_hash<hash<mesoscaf::basic_id<Tag>>> : false_type {};
#endif
} // namespace std
