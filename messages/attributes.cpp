#include "messages/attributes.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace mesoscaf {

namespace {

constexpr size_t max_attributes = 64;
constexpr size_t max_value_length = 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty())
    return std::nullopt;
  std::string copy{s};
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v))
    return std::nullopt;
  // strtod also takes hex and "inf"; an attribute scalar is a plain decimal.
  for (char c : copy)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return std::nullopt;
  return v;
}

std::optional<uint64_t> parse_unsigned(std::string_view s) {
  s = trim(s);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size())
    return std::nullopt;
  return v;
}

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// "[1-10, 20-30]" -> "[1-10,20-30]", or "" if malformed.
std::string normalise_ranges(std::string_view s) {
  s.remove_prefix(1);
  s.remove_suffix(1);
  std::string out = "[";
  bool first = true;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto part = trim(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    auto dash = part.find('-');
    if (dash == std::string_view::npos)
      return {};
    auto lo = parse_unsigned(part.substr(0, dash));
    auto hi = parse_unsigned(part.substr(dash + 1));
    if (!lo || !hi || *lo > *hi)
      return {};
    if (!first)
      out += ',';
    first = false;
    out += std::to_string(*lo) + "-" + std::to_string(*hi);
  }
  return first ? std::string{} : out + "]";
}

std::vector<std::string> set_items(std::string_view s) {
  s.remove_prefix(1);
  s.remove_suffix(1);
  std::vector<std::string> items;
  while (!s.empty()) {
    auto comma = s.find(',');
    items.emplace_back(trim(s.substr(0, comma)));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return items;
}

bool valid_text(std::string_view s) {
  if (s.empty())
    return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == '@'))
      return false;
  return true;
}

} // namespace

std::optional<std::map<std::string, std::string>> parse_attributes(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<std::map<std::string, std::string>> {
    if (error)
      *error = std::move(why);
    return std::nullopt;
  };
  std::map<std::string, std::string> out;
  text = trim(text);
  while (!text.empty()) {
    auto semi = text.find(';');
    auto item = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (item.empty())
      continue;
    auto colon = item.find(':');
    if (colon == std::string_view::npos)
      return fail("'" + std::string{item} + "': expected NAME:VALUE");
    auto name = trim(item.substr(0, colon));
    auto value = trim(item.substr(colon + 1));
    if (!valid_text(name))
      return fail("'" + std::string{name} + "': an attribute name is 1+ characters of [A-Za-z0-9_./@-]");
    if (value.empty() || value.size() > max_value_length)
      return fail("attribute '" + std::string{name} + "': a value is 1.." + std::to_string(max_value_length)
                  + " characters");
    std::string normal;
    if (value.front() == '[') {
      normal = value.back() == ']' ? normalise_ranges(value) : std::string{};
      if (normal.empty())
        return fail("attribute '" + std::string{name} + "': '" + std::string{value}
                    + "' is not a list of ranges such as [1-10,20-30]");
    } else if (value.front() == '{') {
      if (value.back() != '}')
        return fail("attribute '" + std::string{name} + "': '" + std::string{value} + "' is not a set such as {a,b}");
      normal = "{";
      for (auto& i : set_items(value)) {
        if (!valid_text(i))
          return fail("attribute '" + std::string{name} + "': set item '" + i + "' is not text");
        normal += (normal.size() > 1 ? "," : "") + i;
      }
      normal += "}";
    } else if (auto v = parse_number(value)) {
      normal = format_number(*v);
    } else if (valid_text(value)) {
      normal = std::string{value};
    } else {
      return fail("attribute '" + std::string{name} + "': '" + std::string{value}
                  + "' is not a number, ranges, a set or text ([A-Za-z0-9_./@-])");
    }
    if (!out.emplace(std::string{name}, std::move(normal)).second)
      return fail("attribute '" + std::string{name} + "' appears twice");
    if (out.size() > max_attributes)
      return fail("more than " + std::to_string(max_attributes) + " attributes");
  }
  return out;
}

attribute_type type_of_attribute(const std::string& value) {
  if (!value.empty() && value.front() == '[')
    return attribute_type::ranges;
  if (!value.empty() && value.front() == '{')
    return attribute_type::set;
  if (parse_number(value))
    return attribute_type::scalar;
  return attribute_type::text;
}

bool attribute_matches(const std::map<std::string, std::string>& attributes, const std::string& name,
                       const std::string& value) {
  auto i = attributes.find(name);
  if (i == attributes.end())
    return false;
  const auto& have = i->second;
  switch (type_of_attribute(have)) {
    case attribute_type::scalar: {
      auto a = parse_number(have);
      auto b = parse_number(value);
      return a && b && *a == *b;
    }
    case attribute_type::ranges: {
      auto n = parse_unsigned(value);
      if (!n)
        return have == value;
      std::string_view s{have};
      for (auto& r : set_items(s)) {  // "[a-b,c-d]": same shape as a set of "a-b" items
        auto dash = r.find('-');
        auto lo = parse_unsigned(std::string_view{r}.substr(0, dash));
        auto hi = parse_unsigned(std::string_view{r}.substr(dash + 1));
        if (lo && hi && *lo <= *n && *n <= *hi)
          return true;
      }
      return false;
    }
    case attribute_type::set:
      if (have == value)
        return true;
      for (auto& item : set_items(have))
        if (item == value)
          return true;
      return false;
    case attribute_type::text:
      return have == value;
  }
  return false;
}

std::string check_attribute_change(const std::map<std::string, std::string>& before,
                                   const std::map<std::string, std::string>& after, const std::string& policy) {
  if (before == after)
    return {};
  auto shown = [](const std::map<std::string, std::string>& a) {
    return a.empty() ? std::string{"(none)"} : format_attributes(a);
  };
  auto what = "the attributes changed from " + shown(before) + " to " + shown(after);
  if (policy != "additive")
    return what + " (--reconfiguration-policy=equal allows no change)";
  for (auto& [name, value] : before) {
    auto i = after.find(name);
    if (i == after.end())
      return what + ": attribute '" + name + "' was removed (--reconfiguration-policy=additive only adds)";
    if (i->second != value)
      return what + ": attribute '" + name + "' changed (--reconfiguration-policy=additive only adds)";
  }
  return {};
}

std::string format_attributes(const std::map<std::string, std::string>& attributes) {
  std::string out;
  for (auto& [k, v] : attributes) {
    if (!out.empty())
      out += ';';
    out += k + ":" + v;
  }
  return out;
}

} // namespace mesoscaf
