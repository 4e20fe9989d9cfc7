#pragma once
// RecordIO, the framing of the v1 APIs' event streams: "<length in decimal>\n<length bytes>", repeated.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mesoscaf::mesos_v1 {

/// One record: its length, a newline, the bytes.
std::string recordio_frame(std::string_view record);

/// Splits a byte stream into records, whatever the chunks it arrives in. A length that is not decimal digits, has
/// more than 20 of them, or exceeds `max_record` is an error: the stream cannot be resynchronised after it.
class recordio_reader {
public:
  explicit recordio_reader(std::size_t max_record = 16 << 20) : max_(max_record) {}

  /// Appends `bytes` and moves every complete record into `out`. False (and error() says why) on a bad length;
  /// the reader then stays failed.
  bool feed(std::string_view bytes, std::vector<std::string>& out);
  /// The same, taking at most `max_records` records this call (the rest stays buffered): a reader that wants one
  /// record does not split a body of a million tiny ones.
  bool feed(std::string_view bytes, std::vector<std::string>& out, std::size_t max_records);
  const std::string& error() const { return error_; }
  /// Bytes of an incomplete record still buffered.
  std::size_t pending() const { return buffer_.size(); }

private:
  std::size_t max_;
  std::string buffer_;
  std::string error_;
};

} // namespace mesoscaf::mesos_v1
