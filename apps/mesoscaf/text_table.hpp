#pragma once
// Aligned text tables for people (`mesoscaf tasks`, `agents`, ...): a header row and left-aligned columns two
// spaces apart; lines carry no trailing blanks.
#include <ostream>
#include <string>
#include <vector>

namespace mesoscaf {

struct text_table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;   // each as long as `header`
};

/// Writes the header and the rows. Control characters in cells are shown as '?' (names come from frameworks).
void write_table(std::ostream& os, const text_table& table);

} // namespace mesoscaf
