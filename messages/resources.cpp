// Resource arithmetic. Hot path (+=, -=, contains) is a merge walk over two sorted small vectors;
// it allocates only when new (name, role) entries appear or range lists change shape.
#include "messages/resources.hpp"

#include "messages/compact_codec.hpp"

#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>
#include <caf/serializer.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace mesoscaf {

// ---------------------------------------------------------------------------------------------------------
// Fixed point
// ---------------------------------------------------------------------------------------------------------

std::optional<milli> to_milli(double value) {
  if (std::isnan(value) || std::isinf(value) || value < 0)
    return std::nullopt;
  double scaled = std::round(value * 1000.0);
  if (scaled > static_cast<double>(max_scalar_milli))
    return std::nullopt;
  return static_cast<milli>(scaled);
}

double from_milli(milli value) {
  return static_cast<double>(value) / 1000.0;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers: names, comparisons, ranges
// ---------------------------------------------------------------------------------------------------------

namespace {

// Names, roles and set items share one conservative alphabet so the text form never needs escaping.
// ASCII only (what isalnum accepts in the C locale), without a libc call per character.
bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
         || c == '.' || c == '/';
}

bool valid_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), valid_name_char);
}

bool valid_role(std::string_view s) {
  return valid_role_name(s);
}

// Components of a '/'-separated path: none empty, "." or "..", each of name characters except '/'.
bool valid_path_components(std::string_view s) {
  if (s.empty())
    return false;
  for (;;) {
    auto pos = s.find('/');
    auto part = s.substr(0, pos);
    if (part.empty() || part == "." || part == ".." || !valid_name(part) || part.find('/') != std::string_view::npos)
      return false;
    if (pos == std::string_view::npos)
      return true;
    s.remove_prefix(pos + 1);
  }
}

bool valid_volume_id(std::string_view s) {
  return valid_name(s) && s.find('/') == std::string_view::npos && s != "." && s != "..";
}

// Reservation and volume metadata of one entry; returns an error text or "".
std::string metadata_error(const resource& r) {
  if (r.role == "*" && r.dynamic)
    return "unreserved resource marked dynamic";
  if (r.volume_id.empty() != r.volume_path.empty())
    return "volume needs both an ID and a path";
  if (!r.volume_id.empty()) {
    if (r.name != "disk")
      return "only disk can be a persistent volume";
    if (r.role == "*")
      return "a persistent volume needs reserved disk";
    if (r.type != value_type::scalar)
      return "a persistent volume must be a scalar";
    if (!valid_volume_id(r.volume_id))
      return "bad volume ID '" + r.volume_id + "'";
    if (!valid_volume_path(r.volume_path))
      return "bad volume path '" + r.volume_path + "' (relative, no '..')";
  }
  return {};
}

bool valid_item(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return valid_name_char(c) || c == ':' || c == '@';
  });
}

// Orders entries by (name, role, dynamic, volume_id, volume_path): returns <0, 0, >0.
int compare_key(const resource& a, const resource& b) {
  if (int c = a.name.compare(b.name); c != 0)
    return c;
  if (int c = a.role.compare(b.role); c != 0)
    return c;
  if (a.dynamic != b.dynamic)
    return a.dynamic ? 1 : -1;
  if (int c = a.volume_id.compare(b.volume_id); c != 0)
    return c;
  return a.volume_path.compare(b.volume_path);
}

bool key_less(const resource& a, const resource& b) {
  return compare_key(a, b) < 0;
}

constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();

// Sorts and merges overlapping or adjacent ranges in place.
void normalize(std::vector<value_range>& rs) {
  if (rs.size() < 2)
    return;
  std::sort(rs.begin(), rs.end(), [](const value_range& a, const value_range& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  size_t out = 0;
  for (size_t i = 1; i < rs.size(); ++i) {
    auto& cur = rs[out];
    // Adjacent ranges merge too ([1-2] + [3-4] == [1-4]); guard the +1 against overflow.
    if (cur.end == u64_max || rs[i].begin <= cur.end + 1) {
      cur.end = std::max(cur.end, rs[i].end);
    } else {
      rs[++out] = rs[i];
    }
  }
  rs.resize(out + 1);
}

// a += b for normalized range lists.
void add_ranges(std::vector<value_range>& a, const std::vector<value_range>& b) {
  if (b.empty())
    return;
  a.insert(a.end(), b.begin(), b.end());
  normalize(a);
}

// a -= b for normalized range lists; splits ranges where b punches holes.
void subtract_ranges(std::vector<value_range>& a, const std::vector<value_range>& b) {
  if (a.empty() || b.empty())
    return;
  // Nothing overlapping: leave `a` untouched and allocate nothing.
  bool overlap = false;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size() && !overlap;) {
    if (a[i].end < b[j].begin)
      ++i;
    else if (b[j].end < a[i].begin)
      ++j;
    else
      overlap = true;
  }
  if (!overlap)
    return;
  std::vector<value_range> out;
  out.reserve(a.size() + b.size());
  size_t j = 0;
  for (auto r : a) {
    // Skip b ranges entirely below r.
    while (j < b.size() && b[j].end < r.begin)
      ++j;
    size_t k = j;
    bool alive = true;
    while (k < b.size() && b[k].begin <= r.end) {
      if (b[k].begin > r.begin)
        out.push_back({r.begin, b[k].begin - 1});
      if (b[k].end >= r.end) {
        alive = false;
        break;
      }
      r.begin = b[k].end + 1;
      ++k;
    }
    if (alive)
      out.push_back(r);
  }
  a.swap(out);
}

// True iff every range of b lies inside one range of a (both normalized, so one range must cover).
bool contains_ranges(const std::vector<value_range>& a, const std::vector<value_range>& b) {
  size_t i = 0;
  for (const auto& r : b) {
    while (i < a.size() && a[i].end < r.begin)
      ++i;
    if (i == a.size() || a[i].begin > r.begin || a[i].end < r.end)
      return false;
  }
  return true;
}

milli saturating_add(milli a, milli b) {
  return a > max_scalar_milli - b ? max_scalar_milli : a + b;
}

// Adds the value of `src` into `dst` (same key, same type).
void add_value(resource& dst, const resource& src) {
  switch (dst.type) {
    case value_type::scalar:
      dst.scalar = saturating_add(dst.scalar, src.scalar);
      break;
    case value_type::ranges:
      add_ranges(dst.ranges, src.ranges);
      break;
    case value_type::set:
      dst.items.insert(src.items.begin(), src.items.end());
      break;
  }
}

void subtract_value(resource& dst, const resource& src) {
  switch (dst.type) {
    case value_type::scalar:
      dst.scalar = dst.scalar > src.scalar ? dst.scalar - src.scalar : 0;
      break;
    case value_type::ranges:
      subtract_ranges(dst.ranges, src.ranges);
      break;
    case value_type::set:
      for (const auto& x : src.items)
        dst.items.erase(x);
      break;
  }
}

bool contains_value(const resource& a, const resource& b) {
  switch (a.type) {
    case value_type::scalar:
      return a.scalar >= b.scalar;
    case value_type::ranges:
      return contains_ranges(a.ranges, b.ranges);
    case value_type::set:
      return std::includes(a.items.begin(), a.items.end(), b.items.begin(), b.items.end());
  }
  return false;
}

const char* type_name(value_type t) {
  switch (t) {
    case value_type::scalar:
      return "scalar";
    case value_type::ranges:
      return "ranges";
    case value_type::set:
      return "set";
  }
  return "unknown";
}

// Index range [first, last) of entries in sorted `xs` named `name`.
std::pair<size_t, size_t> name_span(const std::vector<resource>& xs, size_t n, std::string_view name) {
  auto lo = std::lower_bound(xs.begin(), xs.begin() + n, name,
                             [](const resource& r, std::string_view nm) { return r.name < nm; });
  auto hi = std::upper_bound(lo, xs.begin() + n, name,
                             [](std::string_view nm, const resource& r) { return nm < r.name; });
  return {static_cast<size_t>(lo - xs.begin()), static_cast<size_t>(hi - xs.begin())};
}

// Type of `name` already present among the first `n` entries of `xs`, if any.
std::optional<value_type> type_of(const std::vector<resource>& xs, size_t n, std::string_view name) {
  auto [lo, hi] = name_span(xs, n, name);
  if (lo == hi)
    return std::nullopt;
  return xs[lo].type;
}

// --- text parsing -----------------------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool set_error(std::string* error, std::string msg) {
  if (error)
    *error = std::move(msg);
  return false;
}

std::string quoted(std::string_view s) {
  std::string r = "'";
  r.append(s.data(), s.size());
  r += '\'';
  return r;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Parses a non-negative decimal ("2", "0.5", "1.2345", "1e3") into thousandths.
// Plain decimals are parsed exactly; digits beyond the third decimal are rounded half-up to the
// nearest thousandth. Exponent notation goes through double and `to_milli`.
bool parse_scalar(std::string_view tok, milli& out, std::string* error) {
  if (tok.empty())
    return set_error(error, "missing scalar value");
  if (tok.front() == '-')
    return set_error(error, "negative value " + quoted(tok));
  if (tok.front() == '+')
    tok.remove_prefix(1);
  auto low = lower(tok);
  if (low == "nan")
    return set_error(error, "value is not a number: " + quoted(tok));
  if (low == "inf" || low == "infinity")
    return set_error(error, "value is infinite: " + quoted(tok));
  if (low.find_first_of("e") != std::string::npos) {
    // Exponent form: strict character check, then strtod over the whole token.
    bool ok = !tok.empty() && std::all_of(tok.begin(), tok.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+'
             || c == '-';
    });
    std::string s(tok);
    char* end = nullptr;
    double d = ok ? std::strtod(s.c_str(), &end) : 0.0;
    if (!ok || end != s.c_str() + s.size())
      return set_error(error, "malformed scalar " + quoted(tok));
    if (d < 0)
      return set_error(error, "negative value " + quoted(tok));
    auto m = to_milli(d);
    if (!m)
      return set_error(error, "scalar out of range (max " + std::to_string(max_scalar_milli / 1000) + "): "
                                + quoted(tok));
    out = *m;
    return true;
  }
  size_t i = 0;
  milli units = 0;
  bool any_digit = false;
  constexpr milli max_units = max_scalar_milli / 1000;
  for (; i < tok.size() && std::isdigit(static_cast<unsigned char>(tok[i])); ++i) {
    any_digit = true;
    units = units * 10 + (tok[i] - '0');
    if (units > max_units)
      return set_error(error, "scalar out of range (max " + std::to_string(max_units) + "): " + quoted(tok));
  }
  milli frac = 0;
  if (i < tok.size() && tok[i] == '.') {
    ++i;
    int digits = 0;
    bool round_up = false;
    for (; i < tok.size() && std::isdigit(static_cast<unsigned char>(tok[i])); ++i) {
      any_digit = true;
      if (digits < 3)
        frac = frac * 10 + (tok[i] - '0');
      else if (digits == 3)
        round_up = tok[i] >= '5';
      ++digits;
    }
    for (; digits < 3; ++digits)
      frac *= 10;
    if (round_up)
      ++frac; // may reach 1000, which simply carries into the units below
  }
  if (!any_digit || i != tok.size())
    return set_error(error, "malformed scalar " + quoted(tok));
  milli total = units * 1000 + frac;
  if (total > max_scalar_milli)
    return set_error(error, "scalar out of range (max " + std::to_string(max_units) + "): " + quoted(tok));
  out = total;
  return true;
}

bool parse_u64(std::string_view tok, uint64_t& out, std::string* error) {
  tok = trim(tok);
  if (tok.empty())
    return set_error(error, "missing range bound");
  uint64_t v = 0;
  for (char c : tok) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return set_error(error, "malformed range bound " + quoted(tok));
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (u64_max - d) / 10)
      return set_error(error, "range bound overflows 64 bits: " + quoted(tok));
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// Splits `s` on ',' calling f(piece) for each; an all-blank body yields no pieces.
template <class F>
bool for_each_piece(std::string_view body, F f) {
  if (trim(body).empty())
    return true;
  for (;;) {
    auto pos = body.find(',');
    if (!f(trim(body.substr(0, pos))))
      return false;
    if (pos == std::string_view::npos)
      return true;
    body.remove_prefix(pos + 1);
  }
}

bool parse_ranges(std::string_view body, std::vector<value_range>& out, std::string* error) {
  return for_each_piece(body, [&](std::string_view piece) {
    if (piece.empty())
      return set_error(error, "empty range in list");
    value_range r;
    auto dash = piece.find('-');
    if (dash == std::string_view::npos) {
      // A single value "31000" means [31000-31000].
      if (!parse_u64(piece, r.begin, error))
        return false;
      r.end = r.begin;
    } else {
      if (!parse_u64(piece.substr(0, dash), r.begin, error)
          || !parse_u64(piece.substr(dash + 1), r.end, error))
        return false;
      if (r.begin > r.end)
        return set_error(error, "range begins after it ends: " + quoted(piece));
    }
    out.push_back(r);
    return true;
  });
}

bool parse_items(std::string_view body, std::set<std::string>& out, std::string* error) {
  return for_each_piece(body, [&](std::string_view piece) {
    if (!valid_item(piece))
      return set_error(error, "bad set item " + quoted(piece)
                                + " (allowed: letters, digits, '_', '-', '.', '/', ':', '@')");
    out.emplace(piece);
    return true;
  });
}

// Parses one `name(role[,dynamic])[volume:path]:value` segment into `r`.
bool parse_segment(std::string_view seg, resource& r, std::string* error) {
  // The key ends at the first ':' outside parentheses and brackets (a volume spec contains one).
  size_t colon = std::string_view::npos;
  int depth = 0;
  for (size_t i = 0; i < seg.size() && colon == std::string_view::npos; ++i) {
    char c = seg[i];
    if (c == '(' || c == '[')
      ++depth;
    else if ((c == ')' || c == ']') && depth > 0)
      --depth;
    else if (c == ':' && depth == 0)
      colon = i;
  }
  if (colon == std::string_view::npos)
    return set_error(error, (depth > 0 ? "unterminated '(' or '[' in " : "missing ':' in ") + quoted(seg));
  auto key = trim(seg.substr(0, colon));
  auto val = trim(seg.substr(colon + 1));
  if (auto bracket = key.find('['); bracket != std::string_view::npos) {
    if (key.back() != ']')
      return set_error(error, "unterminated volume in " + quoted(key));
    auto spec = key.substr(bracket + 1, key.size() - bracket - 2);
    auto sep = spec.find(':');
    if (sep == std::string_view::npos)
      return set_error(error, "volume needs [id:path] in " + quoted(key));
    r.volume_id = std::string(trim(spec.substr(0, sep)));
    r.volume_path = std::string(trim(spec.substr(sep + 1)));
    key = trim(key.substr(0, bracket));
  }
  std::string_view name = key;
  std::string_view role = "*";
  if (auto paren = key.find('('); paren != std::string_view::npos) {
    if (key.back() != ')')
      return set_error(error, "unterminated role in " + quoted(key));
    name = trim(key.substr(0, paren));
    role = trim(key.substr(paren + 1, key.size() - paren - 2));
    if (auto comma = role.find(','); comma != std::string_view::npos) {
      auto kind = trim(role.substr(comma + 1));
      role = trim(role.substr(0, comma));
      if (kind != "dynamic")
        return set_error(error, "bad reservation kind " + quoted(kind) + " in " + quoted(key)
                                  + " (only 'dynamic')");
      r.dynamic = true;
    }
    if (!valid_role(role))
      return set_error(error, (role.empty() ? std::string{"empty role in "} : "bad role " + quoted(role) + " in ")
                                + quoted(key));
  }
  if (name.empty())
    return set_error(error, "empty resource name in " + quoted(seg));
  if (!valid_name(name))
    return set_error(error, "bad resource name " + quoted(name)
                              + " (allowed: letters, digits, '_', '-', '.', '/')");
  r.name.assign(name.data(), name.size());
  r.role.assign(role.data(), role.size());
  r.type = !val.empty() && val.front() == '[' ? value_type::ranges
           : !val.empty() && val.front() == '{' ? value_type::set
                                                 : value_type::scalar;
  if (auto meta = metadata_error(r); !meta.empty())
    return set_error(error, "resource " + quoted(key) + ": " + meta);
  std::string inner;
  std::string* err = error ? &inner : nullptr;
  auto fail = [&] { return set_error(error, "resource " + quoted(name) + ": " + inner); };
  if (!val.empty() && val.front() == '[') {
    if (val.back() != ']')
      return set_error(error, "unterminated range list in " + quoted(seg));
    r.type = value_type::ranges;
    if (!parse_ranges(val.substr(1, val.size() - 2), r.ranges, err))
      return fail();
    normalize(r.ranges);
  } else if (!val.empty() && val.front() == '{') {
    if (val.back() != '}')
      return set_error(error, "unterminated set in " + quoted(seg));
    r.type = value_type::set;
    if (!parse_items(val.substr(1, val.size() - 2), r.items, err))
      return fail();
  } else {
    r.type = value_type::scalar;
    if (!parse_scalar(val, r.scalar, err))
      return fail();
  }
  return true;
}

} // namespace

std::optional<value_type> known_value_type(std::string_view name) {
  if (name == "cpus" || name == "mem" || name == "disk" || name == "gpus")
    return value_type::scalar;
  if (name == "ports")
    return value_type::ranges;
  return std::nullopt;
}

std::string known_resource_error(const resource& r) {
  auto expected = known_value_type(r.name);
  if (!expected)
    return {};
  if (r.type != *expected)
    return "'" + r.name + "' must be " + (*expected == value_type::scalar ? "a scalar such as " + r.name + ":2"
                                                                          : "a range list such as ports:[31000-32000]")
           + ", not " + (r.type == value_type::set ? "a set" : r.type == value_type::ranges ? "a range list" : "a scalar");
  if (r.type == value_type::ranges)
    for (const auto& x : r.ranges)
      if (x.end > max_port)
        return "ports must lie within 0-" + std::to_string(max_port) + ", not " + std::to_string(x.begin) + "-"
               + std::to_string(x.end);
  return {};
}

bool valid_role_name(std::string_view role) {
  if (role == "*")
    return true;
  return valid_path_components(role) && role.front() != '-';
}

bool is_role_or_ancestor(std::string_view ancestor, std::string_view role) {
  if (ancestor == "*" || role == "*" || ancestor.empty() || ancestor.size() > role.size()
      || role.compare(0, ancestor.size(), ancestor) != 0)
    return false;
  return ancestor.size() == role.size() || role[ancestor.size()] == '/';
}

bool valid_volume_path(std::string_view path) {
  return valid_path_components(path);
}

// ---------------------------------------------------------------------------------------------------------
// resource
// ---------------------------------------------------------------------------------------------------------

bool resource::empty() const {
  switch (type) {
    case value_type::scalar:
      return scalar == 0;
    case value_type::ranges:
      return ranges.empty();
    case value_type::set:
      return items.empty();
  }
  return true;
}

bool operator==(const resource& a, const resource& b) {
  if (a.type != b.type || compare_key(a, b) != 0)
    return false;
  switch (a.type) {
    case value_type::scalar:
      return a.scalar == b.scalar;
    case value_type::ranges:
      return a.ranges == b.ranges;
    case value_type::set:
      return a.items == b.items;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// resource_set
// ---------------------------------------------------------------------------------------------------------

std::optional<resource_set> resource_set::parse(std::string_view text, std::string* error) {
  resource_set result;
  size_t start = 0;
  while (start <= text.size()) {
    auto pos = text.find(';', start);
    auto seg = trim(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    bool last = pos == std::string_view::npos;
    if (seg.empty()) {
      // Empty text and a single trailing ';' are fine; an empty segment in the middle is a typo.
      if (!last && !trim(text.substr(pos + 1)).empty()) {
        set_error(error, "empty resource entry (stray ';') in " + quoted(text));
        return std::nullopt;
      }
    } else {
      resource r;
      if (!parse_segment(seg, r, error))
        return std::nullopt;
      if (auto t = type_of(result.items_, result.items_.size(), r.name); t && *t != r.type) {
        set_error(error, "resource " + quoted(r.name) + " used as both " + type_name(*t) + " and "
                           + type_name(r.type) + " in " + quoted(seg));
        return std::nullopt;
      }
      if (auto msg = known_resource_error(r); !msg.empty()) {
        set_error(error, msg + " in " + quoted(seg));
        return std::nullopt;
      }
      result.add(r);
    }
    if (last)
      break;
    start = pos + 1;
  }
  return result;
}

resource_set resource_set::scalar(std::string name, double value, std::string role) {
  resource_set result;
  auto m = to_milli(value);
  if (!m)
    return result;
  resource r;
  r.name = std::move(name);
  r.role = std::move(role);
  r.type = value_type::scalar;
  r.scalar = *m;
  result.add(r);
  return result;
}

resource_set resource_set::range(std::string name, uint64_t begin, uint64_t end, std::string role) {
  resource_set result;
  if (begin > end)
    return result;
  resource r;
  r.name = std::move(name);
  r.role = std::move(role);
  r.type = value_type::ranges;
  r.ranges.push_back({begin, end});
  result.add(r);
  return result;
}

resource_set resource_set::set(std::string name, std::set<std::string> items, std::string role) {
  resource_set result;
  resource r;
  r.name = std::move(name);
  r.role = std::move(role);
  r.type = value_type::set;
  r.items = std::move(items);
  result.add(r);
  return result;
}

std::string resource_set::validate() const {
  for (size_t i = 0; i < items_.size(); ++i) {
    const auto& r = items_[i];
    // Built only for an error: this runs on every resource that arrives from outside.
    auto where = [&] { return "resource #" + std::to_string(i) + " " + quoted(r.name) + ": "; };
    if (r.name.empty())
      return "resource #" + std::to_string(i) + ": empty name";
    if (!valid_name(r.name))
      return where() + "bad characters in name";
    if (r.role.empty())
      return where() + "empty role";
    if (!valid_role(r.role))
      return where() + "bad role " + quoted(r.role);
    if (auto meta = metadata_error(r); !meta.empty())
      return where() + meta;
    if (auto known = known_resource_error(r); !known.empty())
      return where() + known;
    if (i > 0 && !key_less(items_[i - 1], r))
      return where() + "entries not sorted by key or duplicated";
    if (i > 0 && items_[i - 1].name == r.name && items_[i - 1].type != r.type)
      return where() + "same name with different types";
    switch (r.type) {
      case value_type::scalar:
        if (r.scalar < 0)
          return where() + "negative scalar";
        if (r.scalar > max_scalar_milli)
          return where() + "scalar above limit";
        if (!r.ranges.empty() || !r.items.empty())
          return where() + "scalar carries range or set values";
        break;
      case value_type::ranges:
        if (r.scalar != 0 || !r.items.empty())
          return where() + "ranges carry scalar or set values";
        for (size_t k = 0; k < r.ranges.size(); ++k) {
          if (r.ranges[k].begin > r.ranges[k].end)
            return where() + "range begins after it ends";
          // Normalized: strictly increasing with a gap (adjacent ranges would have been merged).
          if (k > 0 && (r.ranges[k - 1].end == u64_max || r.ranges[k].begin <= r.ranges[k - 1].end + 1))
            return where() + "ranges not sorted/merged";
        }
        break;
      case value_type::set:
        if (r.scalar != 0 || !r.ranges.empty())
          return where() + "set carries scalar or range values";
        for (const auto& x : r.items)
          if (!valid_item(x))
            return where() + "bad set item " + quoted(x);
        break;
      default:
        return where() + "unknown value type " + std::to_string(static_cast<int>(r.type));
    }
    if (r.empty())
      return where() + "empty entry";
  }
  return {};
}

bool resource_set::add(const resource& r) {
  if (!valid_name(r.name) || !valid_role(r.role))
    return false;
  if (!metadata_error(r).empty())
    return false;
  resource x;
  x.name = r.name;
  x.role = r.role;
  x.dynamic = r.dynamic;
  x.volume_id = r.volume_id;
  x.volume_path = r.volume_path;
  x.type = r.type;
  switch (r.type) {
    case value_type::scalar:
      if (r.scalar < 0 || r.scalar > max_scalar_milli)
        return false;
      x.scalar = r.scalar;
      break;
    case value_type::ranges:
      for (const auto& v : r.ranges)
        if (v.begin > v.end)
          return false;
      x.ranges = r.ranges;
      normalize(x.ranges);
      break;
    case value_type::set:
      for (const auto& s : r.items)
        if (!valid_item(s))
          return false;
      x.items = r.items;
      break;
    default:
      return false;
  }
  if (auto t = type_of(items_, items_.size(), x.name); t && *t != x.type)
    return false;
  if (x.empty())
    return true;
  auto it = std::lower_bound(items_.begin(), items_.end(), x, key_less);
  if (it != items_.end() && compare_key(*it, x) == 0)
    add_value(*it, x);
  else
    items_.insert(it, std::move(x));
  return true;
}

resource_set& resource_set::operator+=(const resource_set& other) {
  if (&other == this) {
    // Pass 1 appends to items_ while reading other.items_; work on a copy when they alias.
    resource_set copy = other;
    return *this += copy;
  }
  const size_t n = items_.size();
  size_t i = 0;
  size_t fresh = 0;
  // Pass 1: merge matching keys in place; append new keys at the end (still sorted among themselves).
  for (const auto& o : other.items_) {
    while (i < n && key_less(items_[i], o))
      ++i;
    if (i < n && compare_key(items_[i], o) == 0) {
      if (items_[i].type == o.type)
        add_value(items_[i], o);
      // A type mismatch cannot be reported here; the mismatching part is ignored (parse/add reject it).
      continue;
    }
    if (auto t = type_of(items_, n, o.name); t && *t != o.type)
      continue;
    items_.push_back(o);
    ++fresh;
  }
  if (fresh > 0)
    std::inplace_merge(items_.begin(), items_.begin() + n, items_.end(), key_less);
  return *this;
}

resource_set& resource_set::operator-=(const resource_set& other) {
  if (&other == this) {
    items_.clear();
    return *this;
  }
  size_t i = 0;
  bool emptied = false;
  for (const auto& o : other.items_) {
    while (i < items_.size() && key_less(items_[i], o))
      ++i;
    if (i == items_.size())
      break;
    if (compare_key(items_[i], o) == 0 && items_[i].type == o.type) {
      subtract_value(items_[i], o);
      emptied |= items_[i].empty();
    }
  }
  if (emptied)
    items_.erase(std::remove_if(items_.begin(), items_.end(), [](const resource& r) { return r.empty(); }),
                 items_.end());
  return *this;
}

bool resource_set::contains(const resource_set& other) const {
  size_t i = 0;
  for (const auto& o : other.items_) {
    while (i < items_.size() && key_less(items_[i], o))
      ++i;
    if (i == items_.size() || compare_key(items_[i], o) != 0) {
      if (o.empty())
        continue;
      return false;
    }
    if (items_[i].type != o.type || !contains_value(items_[i], o))
      return false;
  }
  return true;
}

milli resource_set::scalar_milli(std::string_view name) const {
  auto [lo, hi] = name_span(items_, items_.size(), name);
  milli sum = 0;
  for (size_t i = lo; i < hi; ++i)
    if (items_[i].type == value_type::scalar)
      sum += items_[i].scalar;
  return sum;
}

const resource* resource_set::find(std::string_view name, std::string_view role) const {
  auto [lo, hi] = name_span(items_, items_.size(), name);
  for (size_t i = lo; i < hi; ++i)
    if (items_[i].role == role)
      return &items_[i];
  return nullptr;
}

resource_set resource_set::unreserved() const {
  return reserved("*");
}

resource_set resource_set::reserved(std::string_view role) const {
  resource_set result;
  for (const auto& r : items_)
    if (r.role == role)
      result.items_.push_back(r); // stays sorted: a subsequence of a sorted vector
  return result;
}

resource_set resource_set::reserved_part() const {
  resource_set result;
  for (const auto& r : items_)
    if (r.role != "*")
      result.items_.push_back(r);
  return result;
}

resource_set resource_set::allocatable_to(std::string_view role) const {
  resource_set result;
  for (const auto& r : items_)
    if (r.role == "*" || is_role_or_ancestor(r.role, role))
      result.items_.push_back(r);
  return result;
}

resource_set resource_set::with_role(const std::string& role) const {
  resource_set result;
  if (!valid_role(role))
    return result;
  result.items_.reserve(items_.size());
  for (const auto& r : items_) {
    // Entries of one name are contiguous, so merged entries only ever meet the last output entry.
    if (!result.items_.empty() && result.items_.back().name == r.name) {
      add_value(result.items_.back(), r);
    } else {
      result.items_.push_back(r);
      auto& x = result.items_.back();
      x.role = role;
      x.dynamic = false;
      x.volume_id.clear();
      x.volume_path.clear();
    }
  }
  return result;
}

resource_set resource_set::without_volumes() const {
  resource_set result;
  for (const auto& r : items_) {
    // add() merges each volume into the plain reserved disk entry of the same role and kind.
    resource x = r;
    x.volume_id.clear();
    x.volume_path.clear();
    result.add(x);
  }
  return result;
}

resource_set resource_set::volumes() const {
  resource_set result;
  for (const auto& r : items_)
    if (!r.volume_id.empty())
      result.items_.push_back(r);
  return result;
}

bool resource_set::has_volume(std::string_view id) const {
  return std::any_of(items_.begin(), items_.end(), [&](const resource& r) { return r.volume_id == id; });
}

std::string resource_set::to_string() const {
  std::string out;
  for (const auto& r : items_) {
    if (!out.empty())
      out += ';';
    out += r.name;
    if (r.role != "*") {
      out += '(';
      out += r.role;
      if (r.dynamic)
        out += ",dynamic";
      out += ')';
    }
    if (!r.volume_id.empty()) {
      out += '[';
      out += r.volume_id;
      out += ':';
      out += r.volume_path;
      out += ']';
    }
    out += ':';
    switch (r.type) {
      case value_type::scalar: {
        out += std::to_string(r.scalar / 1000);
        if (auto frac = r.scalar % 1000; frac != 0) {
          char buf[4] = {char('0' + frac / 100), char('0' + frac / 10 % 10), char('0' + frac % 10), 0};
          std::string f(buf);
          while (f.back() == '0')
            f.pop_back();
          out += '.';
          out += f;
        }
        break;
      }
      case value_type::ranges: {
        out += '[';
        bool first = true;
        for (const auto& v : r.ranges) {
          if (!first)
            out += ',';
          first = false;
          out += std::to_string(v.begin);
          out += '-';
          out += std::to_string(v.end);
        }
        out += ']';
        break;
      }
      case value_type::set: {
        out += '{';
        bool first = true;
        for (const auto& x : r.items) {
          if (!first)
            out += ',';
          first = false;
          out += x;
        }
        out += '}';
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Binary form
// ---------------------------------------------------------------------------------------------------------

namespace {

constexpr uint8_t wire_type_mask = 0x03;   // value_type
constexpr uint8_t wire_dynamic = 0x04;
constexpr uint8_t wire_volume = 0x08;

} // namespace

namespace {

uint8_t wire_flags(const resource& x) {
  auto flags = static_cast<uint8_t>(static_cast<uint8_t>(x.type) & wire_type_mask);
  if (x.dynamic)
    flags |= wire_dynamic;
  if (!x.volume_id.empty() || !x.volume_path.empty())
    flags |= wire_volume;
  return flags;
}

bool known_flags(uint8_t flags) {
  return (flags & ~(wire_type_mask | wire_dynamic | wire_volume)) == 0 && (flags & wire_type_mask) <= 2;
}

/// Sets what the flags say and clears every value field (the object may be reused).
void apply_flags(resource& x, uint8_t flags) {
  x.type = static_cast<value_type>(flags & wire_type_mask);
  x.dynamic = (flags & wire_dynamic) != 0;
  x.volume_id.clear();
  x.volume_path.clear();
  x.scalar = 0;
  x.ranges.clear();
  x.items.clear();
}

/// The value of the entry's type (flags are known by then: anything else is a scalar). Returns what `f` does:
/// an error for CAF's (de)serializers, nothing for the compact codec.
template <class Inspector>
auto apply_value(Inspector& f, resource& x) {
  switch (x.type) {
    case value_type::ranges:
      return f(x.ranges);
    case value_type::set:
      return f(x.items);
    default:
      return f(x.scalar);
  }
}

} // namespace

caf::error inspect(caf::serializer& f, resource& x) {
  auto flags = wire_flags(x);
  if (auto err = f(flags, x.name, x.role))
    return err;
  if ((flags & wire_volume) != 0)
    if (auto err = f(x.volume_id, x.volume_path))
      return err;
  return apply_value(f, x);
}

caf::error inspect(caf::deserializer& f, resource& x) {
  uint8_t flags = 0;
  if (auto err = f(flags, x.name, x.role))
    return err;
  if (!known_flags(flags))
    return caf::make_error(caf::sec::invalid_argument,
                           "resource " + x.name + ": unknown flags " + std::to_string(static_cast<int>(flags)));
  apply_flags(x, flags);
  if ((flags & wire_volume) != 0)
    if (auto err = f(x.volume_id, x.volume_path))
      return err;
  return apply_value(f, x);
}

void inspect(compact_writer& f, resource& x) {
  auto flags = wire_flags(x);
  f(flags, x.name, x.role);
  if ((flags & wire_volume) != 0)
    f(x.volume_id, x.volume_path);
  apply_value(f, x);
}

void inspect(compact_reader& f, resource& x) {
  uint8_t flags = 0;
  f(flags, x.name, x.role);
  if (!f.ok())
    return;
  if (!known_flags(flags)) {
    f.fail();
    return;
  }
  apply_flags(x, flags);
  if ((flags & wire_volume) != 0)
    f(x.volume_id, x.volume_path);
  apply_value(f, x);
}

} // namespace mesoscaf
