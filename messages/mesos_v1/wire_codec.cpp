#include "messages/mesos_v1/wire_codec.hpp"

#include "config/support/utf8.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace mesoscaf::mesos_v1 {

namespace pb = google::protobuf;
using json = nlohmann::ordered_json;

const char* content_type(codec c) {
  return c == codec::json ? "application/json" : "application/x-protobuf";
}

std::optional<codec> codec_of(std::string_view type) {
  auto semi = type.find(';');
  auto base = type.substr(0, semi);
  while (!base.empty() && base.back() == ' ')
    base.remove_suffix(1);
  while (!base.empty() && base.front() == ' ')
    base.remove_prefix(1);
  if (base == "application/json")
    return codec::json;
  if (base == "application/x-protobuf")
    return codec::protobuf;
  return std::nullopt;
}

// -- base64 --------------------------------------------------------------------------------------------------

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string padded{text};
  std::size_t pad = 0;
  while (!padded.empty() && padded.back() == '=' && pad < 2) {
    padded.pop_back();
    ++pad;
  }
  for (unsigned char c : padded)
    if (!std::isalnum(c) && c != '+' && c != '/')
      return std::nullopt;
  if (padded.size() % 4 == 1)
    return std::nullopt;
  pad = (4 - padded.size() % 4) % 4;
  padded.append(pad, '=');
  std::string out(padded.size() / 4 * 3 + 1, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(padded.data()), static_cast<int>(padded.size()));
  if (n < 0)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

// -- protobuf -> Mesos JSON -----------------------------------------------------------------------------------

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Strings are whatever bytes a client sent: invalid UTF-8 becomes U+FFFD, so the answer stays valid JSON.
void write_string(json_writer& w, const std::string& s) {
  if (is_ascii(s)) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  auto clean = utf8_clean(s);
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void write_message(json_writer& w, const pb::Message& m);

void write_double(json_writer& w, double v) {
  if (std::isfinite(v))
    w.Double(v);
  else
    w.Null();   // JSON has no NaN or infinity
}

void write_value(json_writer& w, const pb::Message& m, const pb::Reflection* r, const pb::FieldDescriptor* f,
                 int index) {
  bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      w.Int(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      w.Int64(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      w.Uint(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      w.Uint64(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      write_double(w, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      write_double(w, rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      w.Bool(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const auto& name = (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
      w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      return;
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const auto& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch) : r->GetStringReference(m, f, &scratch);
      if (f->type() == pb::FieldDescriptor::TYPE_BYTES) {
        auto b64 = base64_encode(s);
        w.String(b64.data(), static_cast<rapidjson::SizeType>(b64.size()));
      } else {
        write_string(w, s);
      }
      return;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      write_message(w, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
      return;
  }
  w.Null();
}

void write_message(json_writer& w, const pb::Message& m) {
  w.StartObject();
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_map()) {
      // A map is a JSON object (its entries' keys are strings in every map Mesos has).
      int n = r->FieldSize(m, f);
      if (n == 0)
        continue;
      w.Key(f->name().data(), static_cast<rapidjson::SizeType>(f->name().size()));
      w.StartObject();
      for (int k = 0; k < n; ++k) {
        const auto& entry = r->GetRepeatedMessage(m, f, k);
        const auto* er = entry.GetReflection();
        const auto* key = entry.GetDescriptor()->map_key();
        auto name = key->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING ? er->GetString(entry, key)
                                                                           : std::string{};
        w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        write_value(w, entry, er, entry.GetDescriptor()->map_value(), 0);
      }
      w.EndObject();
    } else if (f->is_repeated()) {
      int n = r->FieldSize(m, f);
      if (n == 0)
        continue;
      w.Key(f->name().data(), static_cast<rapidjson::SizeType>(f->name().size()));
      w.StartArray();
      for (int k = 0; k < n; ++k)
        write_value(w, m, r, f, k);
      w.EndArray();
    } else if (r->HasField(m, f) || (f->has_default_value() && !f->options().deprecated())) {
      // Mesos writes a field with an explicit default even when unset (its readers rely on that).
      w.Key(f->name().data(), static_cast<rapidjson::SizeType>(f->name().size()));
      write_value(w, m, r, f, 0);
    }
  }
  w.EndObject();
}

// -- Mesos JSON -> protobuf -----------------------------------------------------------------------------------

constexpr int max_depth = 64;

std::string read_message(const json& j, pb::Message& m, const std::string& path, int depth);

template <class T>
std::optional<T> integer_of(const json& v) {
  if (v.is_number_unsigned()) {
    auto x = v.get<uint64_t>();
    if (x <= static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return static_cast<T>(x);
    return std::nullopt;
  }
  if (v.is_number_integer()) {
    auto x = v.get<int64_t>();
    if (std::numeric_limits<T>::is_signed ? (x >= static_cast<int64_t>(std::numeric_limits<T>::min())
                                               && x <= static_cast<int64_t>(std::numeric_limits<T>::max()))
                                          : (x >= 0 && static_cast<uint64_t>(x) <= std::numeric_limits<T>::max()))
      return static_cast<T>(x);
    return std::nullopt;
  }
  if (v.is_string()) {
    // Mesos accepts a number written as a string.
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 21)
      return std::nullopt;
    char* end = nullptr;
    errno = 0;
    if (std::numeric_limits<T>::is_signed) {
      auto x = std::strtoll(s.c_str(), &end, 10);
      if (errno != 0 || *end != '\0' || x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max())
        return std::nullopt;
      return static_cast<T>(x);
    }
    if (s[0] == '-')
      return std::nullopt;
    auto x = std::strtoull(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || x > std::numeric_limits<T>::max())
      return std::nullopt;
    return static_cast<T>(x);
  }
  return std::nullopt;
}

std::optional<double> double_of(const json& v) {
  if (v.is_number())
    return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "Infinity")
      return std::numeric_limits<double>::infinity();
    if (s == "-Infinity")
      return -std::numeric_limits<double>::infinity();
    if (s.empty() || s.size() > 64)
      return std::nullopt;
    char* end = nullptr;
    auto x = std::strtod(s.c_str(), &end);
    if (*end != '\0')
      return std::nullopt;
    return x;
  }
  return std::nullopt;
}

/// Sets (or adds, for a repeated field) one value. "" or why not.
std::string read_value(const json& v, pb::Message& m, const pb::FieldDescriptor* f, const std::string& path,
                       int depth) {
  const auto* r = m.GetReflection();
  bool rep = f->is_repeated();
  auto wrong = [&](const char* expected) { return path + ": expected " + expected; };
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      auto x = integer_of<int32_t>(v);
      if (!x)
        return wrong("a 32-bit integer");
      rep ? r->AddInt32(&m, f, *x) : r->SetInt32(&m, f, *x);
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      auto x = integer_of<int64_t>(v);
      if (!x)
        return wrong("a 64-bit integer");
      rep ? r->AddInt64(&m, f, *x) : r->SetInt64(&m, f, *x);
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      auto x = integer_of<uint32_t>(v);
      if (!x)
        return wrong("an unsigned 32-bit integer");
      rep ? r->AddUInt32(&m, f, *x) : r->SetUInt32(&m, f, *x);
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      auto x = integer_of<uint64_t>(v);
      if (!x)
        return wrong("an unsigned 64-bit integer");
      rep ? r->AddUInt64(&m, f, *x) : r->SetUInt64(&m, f, *x);
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
    case pb::FieldDescriptor::CPPTYPE_FLOAT: {
      auto x = double_of(v);
      if (!x)
        return wrong("a number");
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_FLOAT)
        rep ? r->AddFloat(&m, f, static_cast<float>(*x)) : r->SetFloat(&m, f, static_cast<float>(*x));
      else
        rep ? r->AddDouble(&m, f, *x) : r->SetDouble(&m, f, *x);
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      bool b = false;
      if (v.is_boolean())
        b = v.get<bool>();
      else if (v.is_string() && (v == "true" || v == "false"))
        b = v == "true";
      else
        return wrong("true or false");
      rep ? r->AddBool(&m, f, b) : r->SetBool(&m, f, b);
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      if (!v.is_string())
        return wrong("an enum name (a string)");
      const auto* e = f->enum_type()->FindValueByName(v.get_ref<const std::string&>());
      if (e == nullptr) {
        // As Mesos: an optional or repeated field with a name it does not know stays unset.
        if (f->is_required())
          return path + ": unknown value '" + v.get<std::string>().substr(0, 64) + "'";
        return {};
      }
      rep ? r->AddEnum(&m, f, e) : r->SetEnum(&m, f, e);
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      if (!v.is_string())
        return wrong("a string");
      auto s = v.get<std::string>();
      if (f->type() == pb::FieldDescriptor::TYPE_BYTES) {
        auto bytes = base64_decode(s);
        if (!bytes)
          return wrong("base64");
        s = std::move(*bytes);
      }
      rep ? r->AddString(&m, f, std::move(s)) : r->SetString(&m, f, std::move(s));
      return {};
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
      auto* sub = rep ? r->AddMessage(&m, f) : r->MutableMessage(&m, f);
      return read_message(v, *sub, path, depth + 1);
    }
  }
  return path + ": unsupported field type";
}

std::string read_message(const json& j, pb::Message& m, const std::string& path, int depth) {
  if (depth > max_depth)
    return path + ": nested more than " + std::to_string(max_depth) + " levels";
  if (!j.is_object())
    return (path.empty() ? std::string{"the body"} : path) + ": expected an object";
  const auto* d = m.GetDescriptor();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto* f = d->FindFieldByName(it.key());
    if (f == nullptr || it.value().is_null())
      continue;   // unknown keys are ignored, null is unset (Mesos' reader)
    auto field_path = path.empty() ? it.key() : path + "." + it.key();
    if (f->is_map()) {
      if (!it.value().is_object())
        return field_path + ": expected an object";
      const auto* r = m.GetReflection();
      for (auto e = it.value().begin(); e != it.value().end(); ++e) {
        auto* entry = r->AddMessage(&m, f);
        const auto* key = entry->GetDescriptor()->map_key();
        if (key->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING)
          return field_path + ": only maps keyed by strings are read";
        entry->GetReflection()->SetString(entry, key, e.key());
        if (auto err = read_value(e.value(), *entry, entry->GetDescriptor()->map_value(),
                                  field_path + "." + e.key().substr(0, 64), depth + 1);
            !err.empty())
          return err;
      }
    } else if (f->is_repeated()) {
      if (!it.value().is_array())
        return field_path + ": expected an array";
      std::size_t k = 0;
      for (const auto& v : it.value()) {
        auto err = read_value(v, m, f, field_path + "[" + std::to_string(k++) + "]", depth);
        if (!err.empty())
          return err;
      }
    } else if (auto err = read_value(it.value(), m, f, field_path, depth); !err.empty()) {
      return err;
    }
  }
  return {};
}

} // namespace

std::string to_json(const pb::Message& msg) {
  // Written straight into one buffer (no document tree): a GET_STATE of 200,000 tasks is 100 MB of JSON.
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  write_message(w, msg);
  return std::string{buffer.GetString(), buffer.GetSize()};
}

std::string decode(codec c, std::string_view body, pb::Message& out) {
  out.Clear();
  if (c == codec::protobuf) {
    if (!out.ParsePartialFromArray(body.data(), static_cast<int>(body.size())))
      return "the body is not a protobuf " + out.GetDescriptor()->full_name();
  } else {
    auto j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded())
      return "the body is not JSON";
    if (auto err = read_message(j, out, "", 0); !err.empty())
      return err;
  }
  if (!out.IsInitialized())
    return "missing required fields: " + out.InitializationErrorString();
  return {};
}

std::string encode(codec c, const pb::Message& msg) {
  return c == codec::json ? to_json(msg) : msg.SerializeAsString();
}

} // namespace mesoscaf::mesos_v1
