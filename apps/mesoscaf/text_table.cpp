#include "apps/mesoscaf/text_table.hpp"

#include <algorithm>

namespace mesoscaf {

namespace {

std::string printable(const std::string& cell) {
  std::string result = cell;
  for (auto& c : result)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return result;
}

/// Columns are as wide as their widest cell in characters, not bytes: UTF-8 continuation bytes take no room.
size_t display_width(const std::string& text) {
  return static_cast<size_t>(
    std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

} // namespace

void write_table(std::ostream& os, const text_table& table) {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(table.rows.size() + 1);
  lines.push_back(table.header);
  for (const auto& row : table.rows)
    lines.push_back(row);
  std::vector<size_t> widths(table.header.size(), 0);
  for (auto& line : lines) {
    line.resize(table.header.size());
    for (size_t i = 0; i < line.size(); ++i) {
      line[i] = printable(line[i]);
      widths[i] = std::max(widths[i], display_width(line[i]));
    }
  }
  for (const auto& line : lines) {
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size())
        out += std::string(widths[i] - display_width(line[i]) + 2, ' ');
    }
    // Empty cells at the end leave the padding of the ones before.
    out.erase(out.find_last_not_of(' ') + 1);
    os << out << '\n';
  }
}

} // namespace mesoscaf
