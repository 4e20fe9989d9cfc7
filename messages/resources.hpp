#pragma once
// Agent resources (class resource_set): named scalars (fixed point, three decimals, as in Mesos, so sums never drift), ranges
// (ports) and sets, each with a role ("*" = unreserved; "eng" = statically or dynamically reserved).
// Pure value types with arithmetic; no actor code.
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mesoscaf {

/// Scalars are stored in thousandths: 1.5 cpus == 1500.
using milli = int64_t;

/// Largest scalar accepted anywhere (in thousandths): 2^53, far above any real machine and safe in a double.
constexpr milli max_scalar_milli = milli{1} << 53;

/// Converts a double to fixed point. Rejects NaN, infinities, negative values and values above
/// `max_scalar_milli`; rounds to the nearest thousandth.
std::optional<milli> to_milli(double value);
double from_milli(milli value);

/// An inclusive range [begin, end].
struct value_range {
  uint64_t begin = 0;
  uint64_t end = 0;
  friend bool operator==(const value_range& a, const value_range& b) {
    return a.begin == b.begin && a.end == b.end;
  }
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, value_range& x) {
    return f(caf::meta::type_name("value_range"), x.begin, x.end);
  }
};

enum class value_type : uint8_t { scalar = 0, ranges = 1, set = 2 };

/// True for "*" and for role paths such as `eng/prod`: components of letters, digits, '_', '-', '.', not "."
/// or "..", none empty, no leading '-'.
bool valid_role_name(std::string_view role);
/// True iff `ancestor` is `role` itself or one of its parents ("eng" for "eng/prod"). "*" is nobody's parent.
bool is_role_or_ancestor(std::string_view ancestor, std::string_view role);
/// True for a relative path inside a sandbox: '/'-separated components of letters, digits, '_', '-', '.', none
/// empty, "." or "..".
bool valid_volume_path(std::string_view path);

/// One named resource of one role. Reserved resources (role != "*") are static (agent flags) or dynamic (a
/// RESERVE operation); reserved disk may be a persistent volume (volume_id), seen by tasks at volume_path
/// inside their sandbox.
struct resource {
  std::string name;
  std::string role = "*";
  bool dynamic = false;               // role != "*" only
  std::string volume_id;              // disk only, reserved only; empty = not a volume
  std::string volume_path;            // set iff volume_id is
  value_type type = value_type::scalar;
  milli scalar = 0;                   // type == scalar
  std::vector<value_range> ranges;    // type == ranges: sorted, disjoint, non-adjacent
  std::set<std::string> items;        // type == set

  bool empty() const;
  friend bool operator==(const resource& a, const resource& b);
  /// Every field, for CAF's other inspectors (e.g. to_string); the binary form is the compact one below.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, resource& x) {
    return f(caf::meta::type_name("resource"), x.name, x.role, x.dynamic, x.volume_id, x.volume_path, x.type,
             x.scalar, x.ranges, x.items);
  }
};

/// Highest port number: `ports` ranges lie within 0..max_port.
constexpr uint64_t max_port = 65535;

/// The value type a well-known resource must have: cpus, mem, disk and gpus are scalars, ports are ranges.
/// Other names may have any type (nullopt).
std::optional<value_type> known_value_type(std::string_view name);

/// "" or why `r` breaks the rules of the well-known resources: the value type above, ports within 0..max_port.
/// The one rule behind `resource_set::parse` and `resource_set::validate`, so the agent's --resources, the
/// master's checks of what agents and frameworks send, and `mesoscaf execute` refuse the same things.
std::string known_resource_error(const resource& r);

/// The binary form of a resource (messages, checkpoints, registry records): a flags byte (value type, dynamic,
/// volume), name, role, the volume fields only for a volume, and only the value of its type. A task carries
/// several resources and a re-registering agent sends every task, so this is a third of the fields per resource.
/// Loading refuses unknown flags.
caf::error inspect(caf::serializer& f, resource& x);
caf::error inspect(caf::deserializer& f, resource& x);
/// The same layout in the compact codec (messages/compact_codec.hpp).
class compact_writer;
class compact_reader;
void inspect(compact_writer& f, resource& x);
void inspect(compact_reader& f, resource& x);

/// A bag of resources. Invariant (kept by every member function): at most one entry per key
/// (name, role, dynamic, volume_id, volume_path), entries sorted by key, no empty entries, ranges normalized.
class resource_set {
public:
  resource_set() = default;

  /// Parses `cpus:2;mem:1024;ports:[31000-31009,32000-32000];disks:{a,b};cpus(eng):1`.
  /// Reservations: `cpus(eng):1` static, `cpus(eng,dynamic):1` dynamic; a persistent volume:
  /// `disk(eng,dynamic)[vol1:data]:100` (volume ID vol1, seen by tasks at <sandbox>/data).
  /// Returns nullopt and sets `*error` (if given) to a message naming the bad part.
  /// Whitespace around tokens is ignored; empty text is the empty set. Names, roles and set items use
  /// letters, digits, '_', '-', '.', '/' (items also ':' and '@'); role "*" means unreserved.
  /// Scalars: non-negative decimals (or exponent form), more than three decimals are ROUNDED to the
  /// nearest thousandth (half up); zero scalars and empty range lists/sets are dropped. A single number
  /// in a range list means [n-n]. Repeated (name, role) entries are summed; one name with two value
  /// types is an error.
  static std::optional<resource_set> parse(std::string_view text, std::string* error = nullptr);

  /// Convenience for code and tests: a scalar resource.
  /// Invalid input (negative, NaN, bad name) yields an empty set.
  static resource_set scalar(std::string name, double value, std::string role = "*");
  /// Convenience: one range resource [begin, end] (empty set if begin > end or the name is bad).
  static resource_set range(std::string name, uint64_t begin, uint64_t end, std::string role = "*");
  /// Convenience: one set resource (empty set if an item or the name is bad).
  static resource_set set(std::string name, std::set<std::string> items, std::string role = "*");

  /// Checks the invariant, value limits and the well-known resources' rules (known_resource_error) of a value
  /// that arrived from outside (e.g. deserialized).
  /// Returns an empty string if valid, else a message.
  std::string validate() const;

  bool empty() const { return items_.empty(); }
  const std::vector<resource>& items() const { return items_; }

  /// Adds one resource, merging with an existing entry of the same name and role.
  /// Mismatched types for the same name, bad names/roles/items, negative or over-limit scalars and
  /// inverted ranges are rejected (returns false, nothing changes). Empty values are accepted and dropped.
  bool add(const resource& r);

  /// Union/sum. Scalars saturate at `max_scalar_milli`. An entry of `other` whose name already exists
  /// here with a different value type is ignored (it cannot come out of `parse`/`add`).
  resource_set& operator+=(const resource_set& other);
  /// Subtracts what is contained; parts of `other` that are not contained are ignored
  /// (callers check `contains` first when that matters).
  resource_set& operator-=(const resource_set& other);
  friend resource_set operator+(resource_set a, const resource_set& b) { return a += b; }
  friend resource_set operator-(resource_set a, const resource_set& b) { return a -= b; }

  /// True iff every resource in `other` is present here in at least that amount (same role).
  bool contains(const resource_set& other) const;

  /// Sum of the scalar named `name` over all roles, in thousandths / as double.
  milli scalar_milli(std::string_view name) const;
  double scalar_value(std::string_view name) const { return from_milli(scalar_milli(name)); }

  /// The entry for (name, role), or nullptr.
  const resource* find(std::string_view name, std::string_view role = "*") const;

  /// The subset with role "*".
  resource_set unreserved() const;
  /// The subset reserved to `role` (static, dynamic and volumes).
  resource_set reserved(std::string_view role) const;
  /// Every reserved entry (role != "*").
  resource_set reserved_part() const;
  /// What a client of `role` may be offered: unreserved entries and those reserved to `role` or an ancestor.
  resource_set allocatable_to(std::string_view role) const;
  /// All resources with their role changed to `role`, reservation kind and volume information dropped
  /// (`with_role("*")` is the plain quantity form: same amounts, no metadata).
  resource_set with_role(const std::string& role) const;
  /// The same resources with volume information dropped (a destroyed volume is plain reserved disk again).
  resource_set without_volumes() const;
  /// The entries that are persistent volumes.
  resource_set volumes() const;
  bool has_volume(std::string_view id) const;

  /// The canonical text form, parseable by `parse`.
  std::string to_string() const;

  friend bool operator==(const resource_set& a, const resource_set& b) { return a.items_ == b.items_; }
  friend bool operator!=(const resource_set& a, const resource_set& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const resource_set& r) { return os << r.to_string(); }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, resource_set& x) {
    return f(caf::meta::type_name("resource_set"), x.items_);
  }

private:
  std::vector<resource> items_;
};

} // namespace mesoscaf
