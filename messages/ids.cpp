#include "messages/ids.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace mesoscaf {

namespace {

bool safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
         || c == '-';
}

bool control_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

} // namespace

bool is_safe_id(std::string_view id) {
  if (id.empty() || id.size() > max_id_length || id == "." || id == "..")
    return false;
  for (char c : id)
    if (!safe_char(c))
      return false;
  return true;
}

std::string check_safe_id(std::string_view what, std::string_view id) {
  if (is_safe_id(id))
    return {};
  std::string msg{what};
  if (id.empty())
    return msg + " is empty";
  if (id.size() > max_id_length)
    return msg + " is longer than " + std::to_string(max_id_length) + " characters";
  // Quote the ID but keep the message printable even for hostile input.
  std::string shown;
  for (char c : id.substr(0, 64))
    shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  return msg + " '" + shown + "' is not a safe path component (allowed: A-Z a-z 0-9 . _ -, not '.' or '..')";
}

bool has_control_chars(std::string_view text) {
  for (char c : text)
    if (control_char(c))
      return true;
  return false;
}

std::string check_no_control_chars(std::string_view what, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (control_char(text[i])) {
      static const char hex[] = "0123456789abcdef";
      auto u = static_cast<unsigned char>(text[i]);
      return std::string{what} + " has a control character (0x" + hex[u >> 4] + hex[u & 15] + ") at byte "
             + std::to_string(i);
    }
  }
  return {};
}

std::string new_uuid() {
  // One generator per thread: constructing it seeds from the OS, which is too slow per call.
  thread_local boost::uuids::random_generator gen;
  return boost::uuids::to_string(gen());
}

} // namespace mesoscaf
