#pragma once
// Agent attributes (`--attributes="rack:r1;zone:z2;gpus:4;slots:[1-8]"`), as Mesos parses them: each value is a
// scalar (a number), ranges (`[a-b,c-d]`), a set (`{a,b}`) or text. They travel as a name -> value map in
// agent_info and in every offer; this file gives that map its grammar and the matching `mesoscaf execute
// --constraint=ATTR:VALUE` uses.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mesoscaf {

enum class attribute_type { scalar, ranges, set, text };

/// Parses the flag's text into a name -> value map (values normalised: scalars printed back as numbers without
/// trailing zeros, ranges and sets without spaces). Empty text: no attributes. nullopt and `*error` on malformed
/// text, a duplicate name, or more than 64 attributes / 1024 characters per value.
std::optional<std::map<std::string, std::string>> parse_attributes(std::string_view text, std::string* error);

/// The type a (normalised) value has.
attribute_type type_of_attribute(const std::string& value);

/// A constraint `ATTR:VALUE` holds for these attributes: text and sets compare exactly (a set also matches one of
/// its elements), a scalar numerically, ranges contain VALUE (a number). An absent attribute never holds.
bool attribute_matches(const std::map<std::string, std::string>& attributes, const std::string& name,
                       const std::string& value);

/// "" or why an agent that restarts (same agent ID) may not go from `before` to `after` (Mesos'
/// --reconfiguration_policy): "equal" allows no change; "additive" allows new attributes but no changed or removed
/// one.
std::string check_attribute_change(const std::map<std::string, std::string>& before,
                                   const std::map<std::string, std::string>& after, const std::string& policy);

/// "rack:r1;zone:z2" (the flag's form) from a map.
std::string format_attributes(const std::map<std::string, std::string>& attributes);

} // namespace mesoscaf
