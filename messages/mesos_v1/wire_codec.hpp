#pragma once
// The two codecs of Mesos' v1 HTTP APIs: binary protobuf and JSON as Mesos maps protobuf (proto field names,
// enum names as strings, 64-bit integers as JSON numbers, bytes in base64, explicit defaults written out). Not
// protobuf's own JSON mapping, which differs in each of those. Includes the protobuf runtime: for the v1 API
// code only.
#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>

namespace mesoscaf::mesos_v1 {

enum class codec { json, protobuf };

/// "application/json" or "application/x-protobuf".
const char* content_type(codec c);
/// The codec of a Content-Type value (parameters such as "; charset=utf-8" ignored); none if neither.
std::optional<codec> codec_of(std::string_view content_type);

/// Reads `body` into `out` (cleared first). "" or why not: not JSON or not protobuf, a value of the wrong type,
/// an enum name that a required field does not know, a required field missing. As Mesos: unknown keys are
/// ignored, JSON null is an unset field, numbers may come as strings, an unknown enum name in an optional or
/// repeated field leaves it unset.
std::string decode(codec c, std::string_view body, google::protobuf::Message& out);
/// `msg` in the codec's form.
std::string encode(codec c, const google::protobuf::Message& msg);

/// Mesos' JSON of `msg` (what encode(codec::json, msg) sends).
std::string to_json(const google::protobuf::Message& msg);

std::string base64_encode(std::string_view bytes);
/// None if `text` is not standard base64 (padding optional).
std::optional<std::string> base64_decode(std::string_view text);

} // namespace mesoscaf::mesos_v1
