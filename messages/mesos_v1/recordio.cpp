#include "messages/mesos_v1/recordio.hpp"

namespace mesoscaf::mesos_v1 {

std::string recordio_frame(std::string_view record) {
  auto out = std::to_string(record.size());
  out += '\n';
  out.append(record.data(), record.size());
  return out;
}

bool recordio_reader::feed(std::string_view bytes, std::vector<std::string>& out) {
  return feed(bytes, out, ~std::size_t{0});
}

bool recordio_reader::feed(std::string_view bytes, std::vector<std::string>& out, std::size_t max_records) {
  if (!error_.empty())
    return false;
  buffer_.append(bytes.data(), bytes.size());
  std::size_t pos = 0;
  for (std::size_t taken = 0; taken < max_records;) {
    auto nl = buffer_.find('\n', pos);
    if (nl == std::string::npos) {
      // Still reading the length: it may not grow past 20 digits (2^64 has 20).
      if (buffer_.size() - pos > 20) {
        error_ = "RecordIO length longer than 20 digits";
        return false;
      }
      break;
    }
    auto digits = std::string_view{buffer_}.substr(pos, nl - pos);
    if (digits.empty() || digits.size() > 20 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      error_ = "RecordIO length '" + std::string{digits.substr(0, 24)} + "' is not a decimal number";
      return false;
    }
    // 20 digits may overflow 64 bits: compare as text against the bound first.
    unsigned long long length = 0;
    bool too_large = false;
    for (char c : digits) {
      if (length > (~0ULL - 9) / 10) {
        too_large = true;
        break;
      }
      length = length * 10 + static_cast<unsigned>(c - '0');
    }
    if (too_large || length > max_) {
      error_ = "RecordIO record of " + std::string{digits} + " bytes is larger than the limit of "
               + std::to_string(max_);
      return false;
    }
    if (buffer_.size() - (nl + 1) < length)
      break;
    out.emplace_back(buffer_, nl + 1, length);
    pos = nl + 1 + length;
    ++taken;
  }
  buffer_.erase(0, pos);
  return true;
}

} // namespace mesoscaf::mesos_v1
