#pragma once
// A fast binary form for the bulkiest messages (an agent's re-registration: every task it runs), driven by the
// same `inspect` functions CAF uses, so the field lists stay in one place.
//
// Why: CAF 0.17's binary serializer costs ~100 ns per field (a virtual call and several caf::error temporaries
// each); a re-registration of 10 tasks took ~20 us to encode and ~30 us to decode, the largest part of a
// master's work after a failover. These two inspectors write and read the same fields straight into / out of
// a byte string (~10x faster); CAF then carries that string as one field (see `compact_inspect`).
//
// Format: integers and enums little-endian in their own width, bool one byte, double its IEEE bits, strings and
// containers a u32 length followed by the elements, optionals a presence byte (CAF's own inspect). Reading
// never trusts a length: each is checked against the bytes left, so a malformed message is an error, never a
// huge allocation.
#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/meta/annotation.hpp>
#include <caf/optional.hpp>
#include <caf/sec.hpp>
#include <caf/serializer.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace mesoscaf {

namespace compact_detail {

template <class Inspector, class T, class = void>
struct has_inspect : std::false_type {};
template <class Inspector, class T>
struct has_inspect<Inspector, T, std::void_t<decltype(inspect(std::declval<Inspector&>(), std::declval<T&>()))>>
  : std::true_type {};

template <class T>
constexpr bool is_annotation = caf::meta::is_annotation<T>::value;

} // namespace compact_detail

/// Writes the fields it is given to `out`.
class compact_writer {
public:
  using result_type = void;
  static constexpr bool reads_state = true;
  static constexpr bool writes_state = false;

  explicit compact_writer(std::string& out) : out_(out) {}

  /// False if something could not be written (a string or container of 4 GiB or more).
  bool ok() const { return ok_; }

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (apply(xs), ...);
  }

private:
  void put_u32(size_t n) {
    if (n > UINT32_MAX) {
      ok_ = false;
      n = 0;
    }
    put_int(static_cast<uint32_t>(n));
  }

  template <class I>
  void put_int(I x) {
    using U = std::make_unsigned_t<I>;
    auto u = static_cast<U>(x);
    char bytes[sizeof(U)];
    for (size_t i = 0; i < sizeof(U); ++i)
      bytes[i] = static_cast<char>((u >> (8 * i)) & 0xff);
    out_.append(bytes, sizeof(U));
  }

  template <class T>
  void apply(T& x) {
    using type = std::remove_const_t<T>;
    if constexpr (compact_detail::is_annotation<type>) {
      // type names and the like carry nothing
    } else if constexpr (std::is_same_v<type, bool>) {
      out_.push_back(x ? 1 : 0);
    } else if constexpr (std::is_enum_v<type>) {
      put_int(static_cast<std::underlying_type_t<type>>(x));
    } else if constexpr (std::is_integral_v<type>) {
      put_int(x);
    } else if constexpr (std::is_same_v<type, double>) {
      uint64_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      put_int(bits);
    } else if constexpr (std::is_same_v<type, std::string>) {
      put_u32(x.size());
      out_.append(x);
    } else if constexpr (compact_detail::has_inspect<compact_writer, type>::value) {
      inspect(*this, const_cast<type&>(x));
    } else {
      apply_container(const_cast<type&>(x));
    }
  }

  template <class T>
  void apply_container(std::vector<T>& xs) {
    put_u32(xs.size());
    for (auto& x : xs)
      apply(x);
  }

  template <class T>
  void apply_container(std::set<T>& xs) {
    put_u32(xs.size());
    for (auto& x : xs)
      apply(x);
  }

  template <class K, class V>
  void apply_container(std::map<K, V>& xs) {
    put_u32(xs.size());
    for (auto& [k, v] : xs) {
      apply(k);
      apply(v);
    }
  }

  std::string& out_;
  bool ok_ = true;
};

/// Reads fields from a byte range; after the first error it reads nothing more (`ok()` is false).
class compact_reader {
public:
  using result_type = void;
  static constexpr bool reads_state = false;
  static constexpr bool writes_state = true;

  compact_reader(const char* data, size_t size) : pos_(data), end_(data + size) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  /// For a type's own checks (e.g. a value out of range): reading stops with an error.
  void fail() { ok_ = false; }

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (apply(xs), ...);
  }

private:
  bool take(size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  template <class I>
  bool get_int(I& x) {
    using U = std::make_unsigned_t<I>;
    if (!take(sizeof(U)))
      return false;
    U u = 0;
    for (size_t i = 0; i < sizeof(U); ++i)
      u |= static_cast<U>(static_cast<U>(static_cast<unsigned char>(pos_[i])) << (8 * i));
    pos_ += sizeof(U);
    x = static_cast<I>(u);
    return true;
  }

  /// A length that the rest of the input can hold (every element takes at least one byte).
  bool get_length(size_t& n) {
    uint32_t len = 0;
    if (!get_int(len) || len > remaining()) {
      ok_ = false;
      return false;
    }
    n = len;
    return true;
  }

  template <class T>
  void apply(T& x) {
    if (!ok_)
      return;
    if constexpr (compact_detail::is_annotation<T>) {
    } else if constexpr (std::is_same_v<T, bool>) {
      uint8_t b = 0;
      if (get_int(b)) {
        if (b > 1)
          ok_ = false;
        x = b == 1;
      }
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> u{};
      if (get_int(u))
        x = static_cast<T>(u);
    } else if constexpr (std::is_integral_v<T>) {
      get_int(x);
    } else if constexpr (std::is_same_v<T, double>) {
      // Only finite values (messages/finite_doubles.cpp says why).
      uint64_t bits = 0;
      double value = 0;
      if (get_int(bits)) {
        std::memcpy(&value, &bits, sizeof value);
        if (std::isfinite(value))
          x = value;
        else
          ok_ = false;
      }
    } else if constexpr (std::is_same_v<T, std::string>) {
      size_t n = 0;
      if (get_length(n)) {
        x.assign(pos_, n);
        pos_ += n;
      }
    } else if constexpr (compact_detail::has_inspect<compact_reader, T>::value) {
      inspect(*this, x);
    } else {
      apply_container(x);
    }
  }

  template <class T>
  void apply_container(std::vector<T>& xs) {
    size_t n = 0;
    if (!get_length(n))
      return;
    xs.clear();
    xs.resize(n);
    for (auto& x : xs)
      apply(x);
  }

  template <class T>
  void apply_container(std::set<T>& xs) {
    size_t n = 0;
    if (!get_length(n))
      return;
    xs.clear();
    for (size_t i = 0; i < n && ok_; ++i) {
      T x{};
      apply(x);
      xs.insert(xs.end(), std::move(x));
    }
  }

  template <class K, class V>
  void apply_container(std::map<K, V>& xs) {
    size_t n = 0;
    if (!get_length(n))
      return;
    xs.clear();
    for (size_t i = 0; i < n && ok_; ++i) {
      K k{};
      V v{};
      apply(k);
      apply(v);
      xs.insert_or_assign(std::move(k), std::move(v));
    }
  }

  const char* pos_;
  const char* end_;
  bool ok_ = true;
};

/// CAF's binary form of `x`: its compact encoding as one string. For the non-template `inspect` overloads of
/// the bulky message types (which CAF prefers over their generic `inspect` for its binary (de)serializer).
template <class T>
caf::error compact_inspect(caf::serializer& f, T& x, const char* what) {
  std::string bytes;
  compact_writer w{bytes};
  inspect(w, x);
  if (!w.ok())
    return caf::make_error(caf::sec::invalid_argument, std::string{what} + ": too large to encode");
  return f(bytes);
}

template <class T>
caf::error compact_inspect(caf::deserializer& f, T& x, const char* what) {
  std::string bytes;
  if (auto err = f(bytes))
    return err;
  compact_reader r{bytes.data(), bytes.size()};
  T tmp;
  inspect(r, tmp);
  if (!r.ok() || r.remaining() != 0)
    return caf::make_error(caf::sec::invalid_argument, std::string{"malformed "} + what);
  x = std::move(tmp);
  return caf::none;
}

} // namespace mesoscaf
