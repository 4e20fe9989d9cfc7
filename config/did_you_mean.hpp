#pragma once
// Suggestions for mistyped names (`--prot` → `--port`): the closest candidate by edit distance, if close enough.
#include <string>
#include <string_view>
#include <vector>

namespace mesoscaf {

/// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`.
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, or "" when none is close: at most 1 edit for words of up to 3 characters,
/// 2 up to 10, else 3 (further away a suggestion misleads more than it helps).
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

} // namespace mesoscaf
