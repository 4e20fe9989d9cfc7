#pragma once
// An optional value kept on the heap: a task's command and executor are large and not needed by most of the
// master's work, and a task record is moved several times on its way into the master's tables (decoded message,
// re-registration, task table). Boxed, those moves and the task table's nodes stay small (a node is written once
// per task after a failover, so its size is paid in cache misses). Same interface and same serialized form as
// caf::optional (a flag, then the value if set), so messages, checkpoints and registry records keep their bytes.
#include <caf/none.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace mesoscaf {

template <class T>
class boxed_optional {
public:
  using type = T;

  boxed_optional() = default;
  boxed_optional(caf::none_t) {
  }
  boxed_optional(const T& x) : ptr_(std::make_unique<T>(x)) {
  }
  boxed_optional(T&& x) : ptr_(std::make_unique<T>(std::move(x))) {
  }
  boxed_optional(const boxed_optional& other) : ptr_(other.ptr_ ? std::make_unique<T>(*other.ptr_) : nullptr) {
  }
  boxed_optional(boxed_optional&&) noexcept = default;

  boxed_optional& operator=(const boxed_optional& other) {
    if (this != &other)
      ptr_ = other.ptr_ ? std::make_unique<T>(*other.ptr_) : nullptr;
    return *this;
  }
  boxed_optional& operator=(boxed_optional&&) noexcept = default;
  boxed_optional& operator=(caf::none_t) {
    ptr_.reset();
    return *this;
  }
  boxed_optional& operator=(const T& x) {
    if (ptr_)
      *ptr_ = x;
    else
      ptr_ = std::make_unique<T>(x);
    return *this;
  }
  boxed_optional& operator=(T&& x) {
    if (ptr_)
      *ptr_ = std::move(x);
    else
      ptr_ = std::make_unique<T>(std::move(x));
    return *this;
  }

  template <class... Ts>
  T& emplace(Ts&&... xs) {
    ptr_ = std::make_unique<T>(std::forward<Ts>(xs)...);
    return *ptr_;
  }
  void reset() {
    ptr_.reset();
  }

  explicit operator bool() const {
    return ptr_ != nullptr;
  }
  bool operator!() const {
    return !ptr_;
  }
  bool valid() const {
    return ptr_ != nullptr;
  }
  bool empty() const {
    return !ptr_;
  }

  T& operator*() {
    return *ptr_;
  }
  const T& operator*() const {
    return *ptr_;
  }
  T* operator->() {
    return ptr_.get();
  }
  const T* operator->() const {
    return ptr_.get();
  }
  T& value() {
    return *ptr_;
  }
  const T& value() const {
    return *ptr_;
  }

  friend bool operator==(const boxed_optional& a, const boxed_optional& b) {
    if (!a || !b)
      return !a && !b;
    return *a == *b;
  }
  friend bool operator!=(const boxed_optional& a, const boxed_optional& b) {
    return !(a == b);
  }

private:
  std::unique_ptr<T> ptr_;
};

/// Saving (and CAF's other read-only inspectors): the flag, then the value if there is one.
template <class Inspector, class T>
typename std::enable_if<!Inspector::writes_state, typename Inspector::result_type>::type
inspect(Inspector& f, boxed_optional<T>& x) {
  return x ? f(true, *x) : f(false);
}

namespace detail {

/// Loads the value only if the flag read before it is set (the flag is read first by the same call).
template <class T>
struct boxed_load_helper {
  bool& enabled;
  boxed_optional<T>& target;
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, boxed_load_helper& x) {
    if (!x.enabled) {
      x.target = caf::none;
      return f();
    }
    // Decoded in place: a fresh box, or the old value reused.
    auto& value = x.target ? *x.target : x.target.emplace();
    return f(value);
  }
};

} // namespace detail

/// Loading: the same layout.
template <class Inspector, class T>
typename std::enable_if<Inspector::writes_state, typename Inspector::result_type>::type
inspect(Inspector& f, boxed_optional<T>& x) {
  bool flag = false;
  detail::boxed_load_helper<T> helper{flag, x};
  return f(flag, helper);
}

} // namespace mesoscaf
